"""Properties of the engine over random carts and promotion sets (hypothesis): totals never
negative, no line below zero, line discounts adding up to the order's exactly, and the same
answer twice, whatever the order the promotions come in."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine import price_cart
from tests.pricing.engine_helpers import NOW, line, promo, snap

ZERO = Decimal("0.00")
SKUS = ["A", "B", "C", "D", "E"]
PATHS = ["apparel/tees/", "apparel/shirts/", "shoes/", "food/fruit/"]

cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)
rates = st.sampled_from(["0", "9", "21", "8.875"])

lines = st.lists(
    st.builds(
        line,
        sku=st.sampled_from(SKUS),
        quantity=st.integers(min_value=1, max_value=20),
        price=cents.map(str),
        path=st.sampled_from(PATHS),
        tax=rates,
    ),
    min_size=1,
    max_size=12,
)


@st.composite
def promotions(draw):
    rules = []
    for pid in range(1, draw(st.integers(min_value=0, max_value=8)) + 1):
        kind = draw(
            st.sampled_from(["percent_off", "amount_off", "buy_x_get_y", "spend_threshold"])
        )
        if kind in ("percent_off", "buy_x_get_y"):
            value = str(draw(st.integers(min_value=1, max_value=10_000)) / Decimal(100))
        else:
            value = str(draw(cents))
        fields = {
            "priority": draw(st.integers(min_value=-2, max_value=2)),
            "exclusive": draw(st.booleans()),
            "min_quantity": draw(st.integers(min_value=1, max_value=4)),
        }
        target = draw(st.sampled_from(["all", "skus", "categories"]))
        if target == "skus":
            fields["skus"] = draw(st.sets(st.sampled_from(SKUS), min_size=1))
        elif target == "categories":
            fields["category_paths"] = draw(
                st.lists(st.sampled_from(["apparel/", "apparel/tees/", "shoes/"]), min_size=1)
            )
        if kind == "buy_x_get_y":
            fields["buy_quantity"] = draw(st.integers(min_value=1, max_value=3))
            fields["get_quantity"] = draw(st.integers(min_value=1, max_value=2))
        if kind == "spend_threshold" or draw(st.booleans()):
            fields["min_subtotal"] = str(draw(st.integers(min_value=0, max_value=500)))
        rules.append(promo(pid, kind, value, **fields))
    return rules


@settings(max_examples=300, deadline=None)
@given(cart=lines, rules=promotions(), inclusive=st.booleans(), order=st.randoms())
def test_random_carts_keep_the_money_rules(cart, rules, inclusive, order):
    snapshot = snap(cart, rules, prices_include_tax=inclusive)
    quote = price_cart(snapshot)

    assert quote.total >= 0
    for q in quote.lines:
        assert 0 <= q.discount_total <= q.subtotal  # no line below zero
        assert q.net >= 0
        assert q.tax_total >= 0
        assert q.total >= 0
        assert q.discount_total == sum((d.amount for d in q.discounts), ZERO)
        assert all(
            d.amount > 0 and d.amount == d.amount.quantize(Decimal("0.01")) for d in q.discounts
        )
        assert q.total == (q.net if inclusive else q.net + q.tax_total)
    # Line discounts add up to the order's discount, and to each promotion's amount, exactly.
    assert quote.discount_total == sum((q.discount_total for q in quote.lines), ZERO)
    assert quote.discount_total == sum((p.amount for p in quote.applied_promotions), ZERO)
    for applied in quote.applied_promotions:
        per_line = [
            d.amount for q in quote.lines for d in q.discounts if d.promotion == applied.promotion
        ]
        assert sum(per_line, ZERO) == applied.amount
    assert (
        quote.subtotal - quote.discount_total + (ZERO if inclusive else quote.tax_total)
        == quote.total
    )
    # An exclusive winner is alone.
    applied_ids = {p.promotion for p in quote.applied_promotions}
    exclusive_ids = {r.id for r in rules if r.exclusive}
    assert not (applied_ids & exclusive_ids) or len(applied_ids) == 1

    # The same snapshot, and the same promotions in another order, give the same quote.
    assert price_cart(snapshot) == quote
    shuffled = list(rules)
    order.shuffle(shuffled)
    assert price_cart(replace(snapshot, promotions=tuple(shuffled))) == quote


@settings(max_examples=200, deadline=None)
@given(cart=lines, rules=promotions())
def test_the_best_candidate_for_the_customer_wins(cart, rules):
    """The customer gets at least every exclusive on its own and the whole non-exclusive
    stack; and, since minimums are measured at shelf price, at least any one non-exclusive
    promotion on its own (give or take a cent a line of rounding)."""
    quote = price_cart(snap(cart, rules))
    stack = price_cart(snap(cart, [r for r in rules if not r.exclusive]))
    assert quote.discount_total >= stack.discount_total
    for rule in rules:
        alone = price_cart(snap(cart, [replace(rule, exclusive=False)]))
        if rule.exclusive:
            assert quote.discount_total >= alone.discount_total
        else:
            cents = Decimal("0.01") * len(cart) * len(rules)
            assert stack.discount_total >= alone.discount_total - cents


def test_now_is_part_of_the_snapshot():
    assert price_cart(snap([line()])).priced_at == NOW
