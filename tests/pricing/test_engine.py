"""The pricing engine, table by table: kinds, targeting, stacking, exclusivity, eligibility,
coupon reasons and tax. Pure: no database."""

import pytest

from pricing.engine import CartLine, price_cart
from tests.pricing.engine_helpers import HOUR, NOW, D, coupon, line, promo, snap


def discounts(quote) -> list[list[tuple[int, str]]]:
    """Per line: [(promotion, amount)], amounts as strings for readable tables."""
    return [[(d.promotion, str(d.amount)) for d in q.discounts] for q in quote.lines]


# --- Kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "rule", "expected"),
    [
        pytest.param([line(quantity=2)], promo(value="10"), [[(1, "2.00")]], id="percent"),
        pytest.param(
            [line(quantity=3, price="3.33")],
            promo(value="15"),
            [[(1, "1.50")]],  # 9.99 × 15 % = 1.4985, half up
            id="percent-rounds-half-up-per-line",
        ),
        pytest.param(
            [line(quantity=2)], promo(value="100"), [[(1, "20.00")]], id="percent-100-is-free"
        ),
        pytest.param(
            [line(quantity=3)],
            promo(kind="amount_off", value="1.50"),
            [[(1, "4.50")]],
            id="amount-per-unit",
        ),
        pytest.param(
            [line(quantity=2, price="3.00")],
            promo(kind="amount_off", value="5"),
            [[(1, "6.00")]],
            id="amount-capped-at-line",
        ),
        pytest.param(
            [line(quantity=3)],
            promo(kind="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1),
            [[(1, "10.00")]],
            id="buy-2-get-1-free",
        ),
        pytest.param(
            [line(quantity=5)],
            promo(kind="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1),
            [[(1, "10.00")]],
            id="buy-2-get-1-five-units-one-free",
        ),
        pytest.param(
            [line(quantity=6)],
            promo(kind="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1),
            [[(1, "20.00")]],
            id="buy-2-get-1-six-units-two-free",
        ),
        pytest.param(
            [line(quantity=2)],
            promo(kind="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1),
            [[]],
            id="buy-2-get-1-two-units-nothing",
        ),
        pytest.param(
            [line("A", 2, "10.00"), line("B", 1, "4.00")],
            promo(kind="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1),
            [[], [(1, "4.00")]],
            id="buy-x-get-y-mixes-items-cheapest-free",
        ),
        pytest.param(
            [line(quantity=2, price="9.99")],
            promo(kind="buy_x_get_y", value="50", buy_quantity=1, get_quantity=1),
            [[(1, "5.00")]],  # 4.995 half up
            id="buy-1-get-1-half-price",
        ),
        pytest.param(
            [line("A", 1, "30.00"), line("B", 1, "25.00")],
            promo(kind="spend_threshold", value="10", min_subtotal="50"),
            [[(1, "5.45")], [(1, "4.55")]],  # 5.4545 / 4.5454: the larger remainder gets the cent
            id="spend-threshold-largest-remainder",
        ),
        pytest.param(
            [line("A", 1, "10.00"), line("B", 1, "10.00"), line("C", 1, "10.00")],
            promo(kind="spend_threshold", value="10", min_subtotal="30"),
            [[(1, "3.34")], [(1, "3.33")], [(1, "3.33")]],  # a tie goes to the earlier line
            id="spend-threshold-tie-to-earlier-line",
        ),
        pytest.param(
            [line("A", 1, "30.00"), line("B", 1, "19.99")],
            promo(kind="spend_threshold", value="10", min_subtotal="50"),
            [[], []],
            id="spend-threshold-below-minimum",
        ),
        pytest.param(
            [line("A", 1, "6.00"), line("B", 1, "4.00")],
            promo(kind="spend_threshold", value="25", min_subtotal="0"),
            [[(1, "6.00")], [(1, "4.00")]],
            id="spend-threshold-capped-at-the-items",
        ),
    ],
)
def test_kinds(lines, rule, expected):
    quote = price_cart(snap(lines, [rule]))
    assert discounts(quote) == expected
    assert quote.discount_total == sum(
        (D(amount) for per_line in expected for _, amount in per_line), D("0.00")
    )


# --- Targeting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        pytest.param({}, [[(1, "1.00")], [(1, "1.00")], [(1, "1.00")]], id="everything"),
        pytest.param({"skus": {"B"}}, [[], [(1, "1.00")], []], id="by-sku"),
        pytest.param(
            {"category_paths": ["apparel/"]},
            [[(1, "1.00")], [(1, "1.00")], []],
            id="category-subtree",
        ),
        pytest.param(
            {"category_paths": ["apparel/tees/"]}, [[(1, "1.00")], [], []], id="subcategory-only"
        ),
        pytest.param({"category_paths": ["app/"]}, [[], [], []], id="prefix-of-a-code-is-no-match"),
        pytest.param(
            {"skus": {"C"}, "category_paths": ["apparel/tees/"]},
            [[(1, "1.00")], [], [(1, "1.00")]],
            id="skus-or-categories",
        ),
    ],
)
def test_targeting(targets, expected):
    lines = [
        line("A", path="apparel/tees/"),
        line("B", path="apparel/shirts/"),
        line("C", path="shoes/"),
    ]
    assert discounts(price_cart(snap(lines, [promo(**targets)]))) == expected


# --- Stacking and exclusivity --------------------------------------------------------------


def total_discount(rules, lines=None) -> str:
    return str(price_cart(snap(lines or [line(price="100.00")], rules)).discount_total)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            [promo(1, value="20", priority=10), promo(2, value="10")],
            "28.00",  # 20 off 100, then 10 % of the 80 left
            id="percent-compounds-in-priority-order",
        ),
        pytest.param(
            [promo(1, "amount_off", "5", priority=10), promo(2, value="10")],
            "14.50",  # 5, then 10 % of 95
            id="amount-first",
        ),
        pytest.param(
            [promo(1, "amount_off", "5"), promo(2, value="10", priority=10)],
            "15.00",  # 10 % of 100, then 5
            id="percent-first",
        ),
        pytest.param(
            [promo(2, value="10"), promo(1, "amount_off", "5")],
            "14.50",  # equal priority: lower id first, whatever the order given
            id="equal-priority-by-id",
        ),
        pytest.param(
            [
                promo(1, value="50", priority=10),
                promo(2, "spend_threshold", "10", min_subtotal="60"),
            ],
            "60.00",  # the minimum is measured at shelf price, not on what the 50 % left
            id="minimum-at-shelf-price",
        ),
        pytest.param(
            [promo(1, value="10"), promo(2, value="10"), promo(3, value="30", exclusive=True)],
            "30.00",
            id="exclusive-beats-the-stack",
        ),
        pytest.param(
            [promo(1, value="10"), promo(2, value="10"), promo(3, value="15", exclusive=True)],
            "19.00",
            id="stack-beats-the-exclusive",
        ),
        pytest.param(
            [promo(1, value="20", exclusive=True), promo(2, value="25", exclusive=True)],
            "25.00",
            id="best-exclusive-alone",
        ),
        pytest.param(
            [
                promo(1, value="25", exclusive=True, priority=5),
                promo(2, value="25", exclusive=True),
            ],
            "25.00",
            id="exclusives-never-combine",
        ),
        pytest.param(
            [promo(1, value="10", exclusive=True, channels={"pos"}), promo(2, value="5")],
            "5.00",
            id="ineligible-exclusive-ignored",
        ),
        pytest.param(
            [promo(1, "amount_off", "80"), promo(2, "amount_off", "80")],
            "100.00",
            id="never-below-zero",
        ),
    ],
)
def test_stacking(rules, expected):
    assert total_discount(rules) == expected


def test_a_tie_between_stack_and_exclusive_goes_to_the_stack():
    quote = price_cart(
        snap([line(price="100.00")], [promo(1, value="10"), promo(2, value="10", exclusive=True)])
    )
    assert [p.promotion for p in quote.applied_promotions] == [1]


def test_a_tie_between_exclusives_goes_to_the_first_in_priority_order():
    rules = [promo(1, value="10", exclusive=True), promo(2, value="10", exclusive=True, priority=1)]
    quote = price_cart(snap([line(price="100.00")], rules))
    assert [p.promotion for p in quote.applied_promotions] == [2]


def test_the_winning_exclusive_is_the_only_discount_on_every_line():
    lines = [line("A", price="100.00"), line("B", price="50.00", path="shoes/")]
    rules = [
        promo(1, value="10"),
        promo(2, value="40", exclusive=True, category_paths=["apparel/"]),
    ]
    quote = price_cart(snap(lines, rules))
    assert discounts(quote) == [[(2, "40.00")], []]


# --- Eligibility ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "context", "applies"),
    [
        pytest.param({}, {}, True, id="plain"),
        pytest.param({"active": False}, {}, False, id="inactive"),
        pytest.param({"starts_at": NOW + HOUR}, {}, False, id="not-started"),
        pytest.param({"starts_at": NOW}, {}, True, id="starts-now"),
        pytest.param({"ends_at": NOW}, {}, False, id="ends-now"),
        pytest.param({"ends_at": NOW - HOUR}, {}, False, id="ended"),
        pytest.param({"starts_at": NOW - HOUR, "ends_at": NOW + HOUR}, {}, True, id="running"),
        pytest.param({"channels": {"pos"}}, {}, False, id="other-channel"),
        pytest.param({"channels": {"pos", "web"}}, {}, True, id="this-channel"),
        pytest.param({"locations": {"STORE-1"}}, {}, False, id="location-unknown"),
        pytest.param({"locations": {"STORE-1"}}, {"location": "STORE-2"}, False, id="other-store"),
        pytest.param({"locations": {"STORE-1"}}, {"location": "STORE-1"}, True, id="this-store"),
        pytest.param({"tiers": {"gold"}}, {}, False, id="tier-anonymous"),
        pytest.param({"tiers": {"gold"}}, {"tier": "silver"}, False, id="other-tier"),
        pytest.param({"tiers": {"gold", "silver"}}, {"tier": "silver"}, True, id="this-tier"),
        pytest.param({"requires_coupon": True}, {}, False, id="coupon-missing"),
        pytest.param({"usage_limit": 5, "used_count": 5}, {}, False, id="usage-limit-reached"),
        pytest.param({"usage_limit": 5, "used_count": 4}, {}, True, id="usage-left"),
        pytest.param({"per_customer_limit": 1}, {}, False, id="per-customer-needs-customer"),
        pytest.param(
            {"per_customer_limit": 2, "customer_used_count": 2},
            {"customer_id": 7},
            False,
            id="customer-limit-reached",
        ),
        pytest.param(
            {"per_customer_limit": 2, "customer_used_count": 1},
            {"customer_id": 7},
            True,
            id="customer-limit-left",
        ),
        pytest.param({"min_quantity": 3}, {}, False, id="min-quantity-not-met"),
        pytest.param({"min_quantity": 2}, {}, True, id="min-quantity-met"),
        pytest.param({"min_subtotal": "20.01"}, {}, False, id="min-subtotal-not-met"),
        pytest.param({"min_subtotal": "20.00"}, {}, True, id="min-subtotal-met"),
        pytest.param({"skus": {"NOT-IN-CART"}}, {}, False, id="targets-nothing-here"),
    ],
)
def test_eligibility(rule, context, applies):
    quote = price_cart(snap([line(quantity=2)], [promo(**rule)], **context))
    assert quote.discount_total == (D("2.00") if applies else D("0.00"))


def test_a_coupon_unlocks_its_promotion():
    rules = [promo(requires_coupon=True)]
    quote = price_cart(snap([line()], rules, [coupon("SAVE10")], ["save10"]))
    assert quote.discount_total == D("1.00")
    assert quote.applied_coupons == ("SAVE10",)
    assert quote.applied_promotions[0].coupon == "SAVE10"
    assert quote.rejected_coupons == ()


# --- Coupon reasons ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "coupons", "codes", "context", "expected"),
    [
        pytest.param([promo()], [], ["NOPE"], {}, [("NOPE", "unknown")], id="unknown"),
        pytest.param(
            [promo(ends_at=NOW)], [coupon()], ["save10"], {}, [("save10", "expired")], id="expired"
        ),
        pytest.param(
            [promo(active=False)],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "expired")],
            id="promotion-switched-off",
        ),
        pytest.param(
            [promo()],
            [coupon(active=False)],
            ["SAVE10"],
            {},
            [("SAVE10", "expired")],
            id="coupon-switched-off",
        ),
        pytest.param(
            [promo(starts_at=NOW + HOUR)],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "not_yet_valid")],
            id="not-yet-valid",
        ),
        pytest.param(
            [promo()],
            [coupon(usage_limit=3, used_count=3)],
            ["SAVE10"],
            {},
            [("SAVE10", "limit_reached")],
            id="coupon-limit",
        ),
        pytest.param(
            [promo(usage_limit=3, used_count=3)],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "limit_reached")],
            id="promotion-limit",
        ),
        pytest.param(
            [promo(per_customer_limit=1, customer_used_count=1)],
            [coupon()],
            ["SAVE10"],
            {"customer_id": 9},
            [("SAVE10", "limit_reached")],
            id="customer-limit",
        ),
        pytest.param(
            [promo(channels={"pos"})],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "not_applicable")],
            id="other-channel",
        ),
        pytest.param(
            [promo(tiers={"gold"})],
            [coupon()],
            ["SAVE10"],
            {"tier": "silver"},
            [("SAVE10", "not_applicable")],
            id="other-tier",
        ),
        pytest.param(
            [promo(skus={"OTHER"})],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "not_applicable")],
            id="no-items-it-applies-to",
        ),
        pytest.param(
            [promo(min_subtotal="50")],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "minimum_not_met")],
            id="minimum-subtotal",
        ),
        pytest.param(
            [promo(min_quantity=5)],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "minimum_not_met")],
            id="minimum-quantity",
        ),
        pytest.param(
            [promo(kind="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1)],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "minimum_not_met")],
            id="not-enough-for-buy-x-get-y",
        ),
        pytest.param(
            [promo(1, requires_coupon=True), promo(2, value="50", exclusive=True)],
            [coupon()],
            ["SAVE10"],
            {},
            [("SAVE10", "not_applicable")],
            id="lost-to-a-better-exclusive",
        ),
        pytest.param(
            [promo(requires_coupon=True)],
            [coupon("A"), coupon("B")],
            ["a", "b"],
            {},
            [("b", "not_applicable")],
            id="second-code-for-the-same-promotion",
        ),
        pytest.param(
            [promo(requires_coupon=True)],
            [coupon()],
            ["save10", " SAVE10 "],
            {},
            [],
            id="same-code-twice-counts-once",
        ),
        pytest.param(
            [promo(requires_coupon=True)],
            [coupon("A", usage_limit=1, used_count=1), coupon("B")],
            ["a", "b"],
            {},
            [("a", "limit_reached")],
            id="a-spent-code-then-a-good-one",
        ),
    ],
)
def test_coupon_rejections(rules, coupons, codes, context, expected):
    quote = price_cart(snap([line()], rules, coupons, codes, **context))
    assert [(r.code, str(r.reason)) for r in quote.rejected_coupons] == expected


# --- Tax -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inclusive", "price", "rate", "rule", "tax", "total"),
    [
        pytest.param(True, "12.10", "21", None, "2.10", "12.10", id="inclusive-extracts"),
        pytest.param(False, "10.00", "21", None, "2.10", "12.10", id="exclusive-adds"),
        pytest.param(True, "12.10", "0", None, "0.00", "12.10", id="exempt"),
        pytest.param(False, "0.50", "9", None, "0.05", "0.55", id="exclusive-half-up"),
        pytest.param(True, "9.99", "21", None, "1.73", "9.99", id="inclusive-rounds"),
        pytest.param(
            True, "12.10", "21", promo(value="50"), "1.05", "6.05", id="inclusive-after-discount"
        ),
        pytest.param(
            False, "10.00", "21", promo(value="50"), "1.05", "6.05", id="exclusive-after-discount"
        ),
        pytest.param(False, "10.00", "8.875", None, "0.89", "10.89", id="three-decimal-rate"),
    ],
)
def test_tax(inclusive, price, rate, rule, tax, total):
    quote = price_cart(
        snap([line(price=price, tax=rate)], [rule] if rule else [], prices_include_tax=inclusive)
    )
    assert (str(quote.lines[0].tax_total), str(quote.lines[0].total)) == (tax, total)
    assert (str(quote.tax_total), str(quote.total)) == (tax, total)


def test_tax_is_per_line_then_summed():
    # 0.10 at 25 % is 0.025 → 0.03 a line; the order's tax is the sum of its lines (0.09),
    # not the tax of the order's net (0.075 → 0.08), so partial refunds are exact.
    lines = [line(sku, price="0.10", tax="25") for sku in "ABC"]
    quote = price_cart(snap(lines, prices_include_tax=False))
    assert [str(q.tax_total) for q in quote.lines] == ["0.03", "0.03", "0.03"]
    assert quote.tax_total == D("0.09")


def test_order_totals_add_up():
    lines = [line("A", 2, "19.99", tax="21"), line("B", 1, "5.00", path="food/", tax="9")]
    rules = [promo(1, value="10"), promo(2, "spend_threshold", "5", min_subtotal="20")]
    quote = price_cart(snap(lines, rules, prices_include_tax=False))
    assert quote.subtotal == D("44.98")
    assert quote.discount_total == sum((q.discount_total for q in quote.lines), D(0))
    assert quote.discount_total == sum((p.amount for p in quote.applied_promotions), D(0))
    assert quote.total == quote.subtotal - quote.discount_total + quote.tax_total
    assert quote.currency == "EUR"


def test_quantity_below_one_is_a_bug_in_the_caller():
    with pytest.raises(ValueError, match="quantity"):
        price_cart(snap([line(quantity=0)]))


# --- Lines at an agreed price (exchanges) ----------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        promo(kind="percent_off", value="50"),  # every line
        promo(kind="percent_off", value="50", skus=["A", "B"]),
        promo(kind="percent_off", value="50", category_paths=["apparel/"]),
        promo(kind="spend_threshold", value="5.00", min_subtotal="15.00"),
    ],
)
def test_a_line_at_an_agreed_price_takes_no_promotion_and_counts_to_no_threshold(rule):
    agreed = CartLine(
        sku="A", quantity=1, unit_price=D("12.00"), category_path="apparel/tees/", promotable=False
    )
    quote = price_cart(snap([agreed, line(sku="B", price="10.00")], [rule]))
    assert quote.lines[0].discount_total == D("0")
    assert quote.lines[0].total == D("12.00")
    # The other line is discounted as if it were alone: the 15.00 threshold is not reached.
    expected_b = D("0") if rule.kind == "spend_threshold" else D("5.00")
    assert quote.lines[1].discount_total == expected_b
