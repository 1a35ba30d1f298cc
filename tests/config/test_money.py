from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.money import allocate, to_cents


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("2.345", "2.35"), ("2.344", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01"), ("10", "10.00")],
)
def test_to_cents_rounds_half_up(amount, expected):
    assert to_cents(Decimal(amount)) == Decimal(expected)


def test_allocate_gives_leftover_cents_to_largest_remainders():
    assert allocate(Decimal("10.00"), [1, 1, 1]) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert allocate(Decimal("1.00"), [Decimal("19.99"), Decimal("5.01")]) == [
        Decimal("0.80"),
        Decimal("0.20"),
    ]


def test_allocate_ties_go_to_the_earlier_part():
    assert allocate(Decimal("0.01"), [5, 5]) == [Decimal("0.01"), Decimal("0.00")]


def test_allocate_zero_weights_split_evenly_and_negative_totals_keep_sign():
    assert allocate(Decimal("0.03"), [0, 0]) == [Decimal("0.02"), Decimal("0.01")]
    assert allocate(Decimal("-0.03"), [1, 2]) == [Decimal("-0.01"), Decimal("-0.02")]


@pytest.mark.parametrize(
    ("total", "weights"), [(Decimal("0.005"), [1]), (Decimal("1"), [-1, 2]), (Decimal("1"), [])]
)
def test_allocate_rejects_what_cannot_be_split(total, weights):
    with pytest.raises(ValueError):  # noqa: PT011
        allocate(total, weights)


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: Decimal(c) / 100),
    weights=st.lists(
        st.integers(min_value=0, max_value=10**7).map(lambda c: Decimal(c) / 100),
        min_size=1,
        max_size=40,
    ),
)
def test_allocated_parts_always_add_up_and_stay_within_a_cent_of_fair(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(part == to_cents(part) for part in parts)
    weight_sum = sum(weights) or len(weights)
    for part, weight in zip(parts, weights or [1] * len(parts), strict=True):
        fair = total * (weight if sum(weights) else 1) / weight_sum
        assert abs(part - fair) < Decimal("0.01")
