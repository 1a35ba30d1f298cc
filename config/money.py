"""Money arithmetic, in one place: Decimal only, half-up to the cent, and allocation of a
whole across parts by largest remainder so that the parts always add up to the whole."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal | int | str) -> Decimal:
    """Round half up to the cent (2.345 → 2.35, -2.345 → -2.35)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split ``total`` (a whole number of cents) across ``weights`` in proportion.

    Each part is first rounded down to the cent; the cents left over go one each to the parts
    with the largest remainders, ties to the earlier part, so the result is deterministic and
    ``sum(parts) == total`` exactly. Zero weights get nothing unless every weight is zero, in
    which case the split is even.
    """
    total = Decimal(total)
    if total != to_cents(total):
        raise ValueError(f"{total} is not a whole number of cents")
    if not weights:
        if total:
            raise ValueError("nothing to allocate to")
        return []
    weights = [Decimal(w) for w in weights]
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights = [Decimal(1)] * len(weights)
        weight_sum = Decimal(len(weights))
    sign = -1 if total < 0 else 1
    cents = abs(total) / CENT
    exact = [cents * w / weight_sum for w in weights]
    parts = [e.to_integral_value(rounding=ROUND_DOWN) for e in exact]
    left = int(cents - sum(parts))
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return [sign * p * CENT for p in parts]
