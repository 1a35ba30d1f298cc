"""Hypothesis: for random orders (discounts of every kind, tax-inclusive and tax-exclusive
channels, points redeemed) and random sequences of partial returns, the refunds add up
exactly to what was paid for everything returned, and never more."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.money import ZERO
from inventory import services as inventory_services
from loyalty.models import LoyaltyAccount
from orders.models import Order, OrderLine, Payment
from orders.services import units_value
from pricing import services as pricing_services
from pricing.services import PriceEntry
from returns import services
from returns.models import Return
from tests.orders.conftest import PRICES, fund, ship_body, stock
from tests.returns.conftest import hand_over, place

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@pytest.fixture
def promotions(network):
    """Every kind of discount, and a channel whose prices exclude tax."""
    inventory_services.create_channel(
        code="trade", name="Trade", currency="EUR", prices_include_tax=False
    )
    trade = pricing_services.create_price_list(code="TRADE", name="Trade", channel="trade")
    pricing_services.replace_prices(
        price_list=trade,
        prices=[PriceEntry(sku, Decimal(amount)) for sku, amount in PRICES.items()],
        actor="test",
    )
    for name, kind, value, extra in (
        ("Tees 15% off", "percent_off", "15", {"skus": ["TEE"]}),
        ("Mugs 1.33 off", "amount_off", "1.33", {"skus": ["MUG"]}),
        (
            "Caps 2+1 at 50%",
            "buy_x_get_y",
            "50",
            {"skus": ["CAP"], "buy_quantity": 2, "get_quantity": 1},
        ),
        ("7.77 off above 60", "spend_threshold", "7.77", {"min_subtotal": Decimal("60")}),
    ):
        pricing_services.create_promotion(name=name, kind=kind, value=Decimal(value), **extra)


orders_ = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["web", "trade"]),
        "lines": st.lists(
            st.tuples(st.sampled_from(sorted(PRICES)), st.integers(1, 4)),
            min_size=1,
            max_size=4,
            unique_by=lambda line: line[0],
        ),
        "points": st.sampled_from([0, 0, 100, 300, 700]),
        "split": st.data(),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=orders_)
def test_refunds_add_up_exactly_to_what_was_paid(promotions, me, customer, staff, spec):
    try:
        with transaction.atomic():
            _one_order(me, customer, staff, spec)
            raise Rollback
    except Rollback:
        pass


def _one_order(me, customer, staff, spec):
    for sku, _ in spec["lines"]:
        stock(sku, "WH-NEAR", 10)
    fund(customer, 1000)
    extra = {"email": customer.email, "channel": spec["channel"]}
    if spec["points"]:
        extra["loyalty"] = {
            "card_number": customer.account.card_number,
            "redeem_points": spec["points"],
        }
    order = place(me, ship_body(*spec["lines"], **extra))
    hand_over(staff, order)
    db_order = Order.objects.get(number=order["number"])
    lines = list(OrderLine.objects.filter(order=db_order).order_by("position"))
    captured = sum((p.captured_amount for p in Payment.objects.filter(order=db_order)), ZERO)
    assert captured == db_order.total - db_order.points_value

    # Random partial returns: each line returned in random chunks, in a random order, some
    # lines only in part; refund to the card or to store credit at random.
    draw = spec["split"].draw
    chunks = []
    for line in lines:
        back = draw(st.integers(0, line.quantity))
        while back:
            n = draw(st.integers(1, back))
            chunks.append((line, n))
            back -= n
    chunks = draw(st.permutations(chunks))
    returned = {line.pk: 0 for line in lines}
    for line, n in chunks:
        services.create_return(
            order=db_order,
            lines=[services.ReturnLineInput(order_line=line.pk, quantity=n, reason="other")],
            return_location="STORE-UTR",
            refund_method=draw(st.sampled_from(["original", "store_credit"])),
            receive_now=True,
            actor="test",
        )
        returned[line.pk] += n
        money = sum((r.refund_total for r in Return.objects.filter(order=db_order)), ZERO)
        points_value = sum((r.points_value for r in Return.objects.filter(order=db_order)), ZERO)
        # Exactly what was paid for the units returned so far (money and points each) ...
        assert money == sum((units_value(x, returned[x.pk]).amount for x in lines), ZERO)
        assert points_value == sum(
            (units_value(x, returned[x.pk]).points_value for x in lines), ZERO
        )
        # ... and never more than was paid.
        assert money <= captured
        # Every cent is given back against the payment that took it, to the tender or as
        # store credit, and the return's own split says which.
        refunded = sum((p.refunded_amount for p in Payment.objects.filter(order=db_order)), ZERO)
        assert refunded == money
        for r in Return.objects.filter(order=db_order):
            assert r.refunded_to_tender + r.refunded_to_store_credit == r.refund_total
            assert sum((x.amount for x in r.refunds.exclude(kind="points")), ZERO) == (
                r.refund_total
            )

    if all(returned[line.pk] == line.quantity for line in lines):
        # Everything back: every cent paid, and every point redeemed.
        assert money == captured
        assert sum(r.points_refunded for r in Return.objects.filter(order=db_order)) == (
            db_order.points_redeemed
        )
    assert LoyaltyAccount.objects.get(customer=customer).points >= 0
