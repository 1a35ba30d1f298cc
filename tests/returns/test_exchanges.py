"""Exchanges: another size at the price paid, anything else at its current price with the
difference charged or refunded; handed over at the till, or shipped through the normal
checkout and DOM when an online return is received."""

from decimal import Decimal

import pytest

from inventory.models import SKU, StockLevel
from loyalty.models import StoreCreditAccount
from orders.models import Fulfilment, Order, OrderStatus, Payment
from pricing import services as pricing_services
from pricing.models import PriceList
from returns.models import Exchange, Refund, Return
from tests.factories import SKUFactory
from tests.orders.conftest import level, ship_body, stock
from tests.returns.conftest import RETURNS, hand_over, place, return_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def sizes(network):
    """TEE-L: another size of the TEE product, at the same list price."""
    tee = SKU.objects.get(sku="TEE")
    SKUFactory(sku="TEE-L", name="Tee L", product=tee.product)
    for code in ("WEB", "POS"):
        pricing_services.set_price(
            price_list=PriceList.objects.get(code=code), sku="TEE-L", amount=Decimal("20.00")
        )


def _web_order(client, staff, *lines, **extra):
    for sku, quantity in lines:
        stock(sku, "WH-NEAR", quantity)
    order = place(client, ship_body(*lines, **extra))
    hand_over(staff, order)
    return order


def _exchange(order, index, *lines, **extra):
    """``lines``: (sku, quantity[, replaces the order line at this index])."""
    return {
        "lines": [
            {
                "sku": spec[0],
                "quantity": spec[1],
                "replaces": order["lines"][spec[2]]["id"] if len(spec) > 2 else None,
            }
            for spec in lines
        ],
        **extra,
    }


def _online(client, order, *lines, **extra):
    """Ask online to return one unit of the order's first line, with an exchange."""
    return client.post(
        RETURNS,
        return_body(order, (0, 1), location=None, exchange=_exchange(order, 0, *lines, **extra)),
        format="json",
    )


def test_another_size_at_the_till_is_at_the_price_paid_and_moves_no_money(
    network, sizes, storefront, staff, till
):
    promo = pricing_services.create_promotion(
        name="Tees 25% off", kind="percent_off", value=Decimal("25"), skus=["TEE"]
    )
    order = _web_order(storefront, staff, ("TEE", 2))
    assert Decimal(order["total"]) == Decimal("30.00")  # 2 × 15.00 after the promotion
    # The promotion is over; a new one would discount the new size again: it must not.
    pricing_services.update_promotion(promotion=promo, active=False)
    pricing_services.create_promotion(
        name="Everything 50% off", kind="percent_off", value=Decimal("50")
    )
    stock("TEE-L", "STORE-UTR", 3)

    response = till.post(
        RETURNS,
        return_body(order, (0, 1), exchange=_exchange(order, 0, ("TEE-L", 1, 0))),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    exchange = body["exchange"]
    assert exchange["status"] == "placed"
    assert exchange["method"] == "in_store"
    assert exchange["lines"] == [
        {
            "sku": "TEE-L",
            "quantity": 1,
            "replaces": order["lines"][0]["id"],
            "unit_price": "15.00",
        }
    ]
    assert Decimal(exchange["total"]) == Decimal("15.00")
    assert Decimal(exchange["paid_from_refund"]) == Decimal("15.00")
    assert Decimal(exchange["charged"]) == Decimal("0.00")
    # No money back to the card: the refund paid the replacement.
    assert Decimal(body["refund_total"]) == Decimal("15.00")
    assert Decimal(body["refunded_to_tender"]) == Decimal("0.00")
    assert [(r["kind"], r["amount"]) for r in body["refunds"]] == [("exchange", "15.00")]
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == 0
    # The replacement: a POS sale handed over at the till, paid by the exchange credit.
    replacement = Order.objects.get(number=exchange["order"])
    assert replacement.channel.code == "pos"
    assert replacement.status == OrderStatus.COMPLETED
    assert replacement.email == order["email"]
    assert list(replacement.payments.values_list("method", "captured_amount")) == [
        ("exchange", Decimal("15.00"))
    ]
    assert level("TEE-L", "STORE-UTR").on_hand == 2  # handed over
    assert level("TEE", "STORE-UTR").on_hand == 1  # the returned tee, back on the shelf


def test_something_dearer_at_the_till_charges_the_difference(network, storefront, staff, till):
    order = _web_order(storefront, staff, ("TEE", 1))
    stock("SHOE", "STORE-UTR", 1)
    exchange = _exchange(order, 0, ("SHOE", 1))

    # Without a tender for the difference: 400 naming it, and nothing is written.
    refused = till.post(RETURNS, return_body(order, (0, 1), exchange=exchange), format="json")
    assert refused.status_code == 400, refused.json()
    assert refused.json()["errors"][0]["attr"] == "exchange.tenders"
    assert not Return.objects.exists()
    assert Order.objects.count() == 1
    assert level("SHOE", "STORE-UTR").on_hand == 1
    assert not StockLevel.objects.filter(sku__sku="TEE", location__code="STORE-UTR").exists()

    exchange["tenders"] = [{"method": "card", "amount": "60.00", "reference": "T-9"}]
    response = till.post(RETURNS, return_body(order, (0, 1), exchange=exchange), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()["exchange"]
    assert (body["total"], body["paid_from_refund"], body["charged"]) == (
        "80.00",
        "20.00",
        "60.00",
    )
    replacement = Order.objects.get(number=body["order"])
    assert sorted(replacement.payments.values_list("method", "captured_amount")) == [
        ("card", Decimal("60.00")),
        ("exchange", Decimal("20.00")),
    ]


def test_something_cheaper_at_the_till_refunds_the_difference_to_the_card(
    network, storefront, staff, till
):
    order = _web_order(storefront, staff, ("SHOE", 1))
    stock("MUG", "STORE-UTR", 1)
    response = till.post(
        RETURNS,
        return_body(order, (0, 1), exchange=_exchange(order, 0, ("MUG", 1))),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["exchange"]["paid_from_refund"] == "8.50"
    assert body["refunded_to_tender"] == "71.50"
    card = Payment.objects.get(order__number=order["number"])
    assert card.refunded_amount == Decimal("71.50")
    assert sorted((r["kind"], r["amount"]) for r in body["refunds"]) == [
        ("exchange", "8.50"),
        ("tender", "71.50"),
    ]


def test_an_online_exchange_ships_through_the_dom_when_the_return_is_received(
    network, sizes, me, customer, staff
):
    order = _web_order(me, staff, ("TEE", 1), email=customer.email)
    stock("TEE-L", "WH-FAR", 2)
    response = _online(me, order, ("TEE-L", 1, 0))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested"
    assert body["exchange"]["status"] == "pending"
    assert body["exchange"]["method"] == "ship"  # online: shipped by default
    assert body["exchange"]["total"] == "20.00"  # the estimate
    assert Order.objects.count() == 1  # nothing ordered before the goods come back

    received = staff.post(
        f"{RETURNS}{body['number']}/receive/", {"location": "WH-NEAR"}, format="json"
    )
    assert received.status_code == 200, received.json()
    exchange = received.json()["exchange"]
    assert exchange["status"] == "placed"
    replacement = Order.objects.get(number=exchange["order"])
    assert replacement.channel.code == "web"
    assert replacement.customer_id == customer.pk
    assert replacement.shipping_address["postal_code"] == order["shipping_address"]["postal_code"]
    # Routed by the DOM to the warehouse that has the new size, and held there.
    fulfilment = Fulfilment.objects.get(order=replacement)
    assert fulfilment.location.code == "WH-FAR"
    assert level("TEE-L", "WH-FAR").reserved == 1
    assert exchange["paid_from_refund"] == "20.00"
    assert received.json()["refunded_to_tender"] == "0.00"


def test_an_online_exchange_out_of_stock_at_receipt_is_refunded_in_full(
    network, sizes, me, customer, staff
):
    order = _web_order(me, staff, ("TEE", 1), email=customer.email)
    response = _online(me, order, ("TEE-L", 1, 0))
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    received = staff.post(f"{RETURNS}{number}/receive/", {"location": "WH-NEAR"}, format="json")
    assert received.status_code == 200, received.json()
    body = received.json()
    assert body["exchange"]["status"] == "unavailable"
    assert body["exchange"]["order"] is None
    assert body["refunded_to_tender"] == "20.00"
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == Decimal("20.00")
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("lines", "extra", "attr", "code"),
    [
        ([("MUG", 1, 0)], {}, "exchange.lines.0.sku", "not_same_product"),
        ([("TEE-L", 2, 0)], {}, "exchange.lines.0.quantity", "more_than_returned"),
        ([("TEE-L", 1, 1)], {}, "exchange.lines.0.replaces", "not_returned"),
        ([("NOPE", 1)], {}, "exchange.lines.0.sku", "unknown_sku"),
        ([("TEE-L", 1, 0)], {"method": "teleport"}, "exchange.method", "invalid"),
        ([("TEE-L", 1, 0)], {"method": "pickup"}, "exchange.pickup_location", "required"),
        (
            [("TEE-L", 1, 0)],
            {
                "address": {
                    "line1": "Nowhere 1",
                    "city": "Nowhere",
                    "postal_code": "9999",
                    "country": "NL",
                }
            },
            "exchange.address.postal_code",
            "unknown_postal_code",
        ),
    ],
)
def test_a_bad_exchange_is_refused_and_nothing_is_written(
    network, sizes, me, customer, staff, lines, extra, attr, code
):
    order = _web_order(me, staff, ("TEE", 1), ("MUG", 1), email=customer.email)
    response = _online(me, order, *lines, **extra)
    assert response.status_code == 400, response.json()
    assert (response.json()["errors"][0]["attr"], response.json()["errors"][0]["code"]) == (
        attr,
        code,
    )
    assert not Return.objects.exists()
    assert not Exchange.objects.exists()


def test_only_a_till_hands_the_replacement_over_in_store(network, sizes, me, customer, staff):
    order = _web_order(me, staff, ("TEE", 1), email=customer.email)
    response = _online(me, order, ("TEE-L", 1, 0), method="in_store")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_at_a_till"


def test_a_cancelled_return_cancels_its_exchange(network, sizes, me, customer, staff):
    order = _web_order(me, staff, ("TEE", 1), email=customer.email)
    number = _online(me, order, ("TEE-L", 1, 0)).json()["number"]
    assert me.post(f"{RETURNS}{number}/cancel/", format="json").status_code == 200
    assert Exchange.objects.get(ret__number=number).status == "cancelled"
    assert not Refund.objects.exists()


def test_the_admin_shows_the_exchange_inline_and_lists_exchanges(
    network, storefront, staff, till, admin_client
):
    order = _web_order(storefront, staff, ("SHOE", 1))
    stock("MUG", "STORE-UTR", 1)
    body = till.post(
        RETURNS,
        return_body(order, (0, 1), exchange=_exchange(order, 0, ("MUG", 1))),
        format="json",
    ).json()
    ret = Return.objects.get(number=body["number"])
    page = admin_client.get(f"/admin/returns/return/{ret.pk}/change/")
    assert page.status_code == 200
    assert b"Replacement goods" in page.content
    assert b"1 \xc3\x97 MUG" in page.content
    listing = admin_client.get("/admin/returns/exchange/", {"q": "MUG"})
    assert listing.status_code == 200
    assert body["exchange"]["order"].encode() in listing.content


def test_a_cancelled_replacement_gives_its_exchange_credit_back_as_store_credit(
    network, sizes, me, customer, staff
):
    order = _web_order(me, staff, ("TEE", 1), email=customer.email)
    stock("TEE-L", "WH-FAR", 1)
    number = _online(me, order, ("TEE-L", 1, 0)).json()["number"]
    received = staff.post(f"{RETURNS}{number}/receive/", {"location": "WH-NEAR"}, format="json")
    replacement = received.json()["exchange"]["order"]
    cancelled = me.post(f"/api/v1/orders/{replacement}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    exchange_payment = Payment.objects.get(order__number=replacement, method="exchange")
    assert exchange_payment.refunded_amount == Decimal("20.00")
    assert StoreCreditAccount.objects.get(email=customer.email).balance == Decimal("20.00")
    assert level("TEE-L", "WH-FAR").reserved == 0
