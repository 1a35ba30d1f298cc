"""POST /api/v1/orders/: guests and customers, ship and pickup, and every way it says no."""

from decimal import Decimal

import pytest
from django.core import mail

from config.api.roles import Role
from inventory.models import Reservation, StockLevel
from loyalty.models import LoyaltyAccount
from orders.models import (
    EventKind,
    Fulfilment,
    Notification,
    NotificationStatus,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)
from tests.orders.conftest import ADDRESS, level, pickup_body, ship_body, stock

ORDERS = "/api/v1/orders/"


def nothing_written():
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert Fulfilment.objects.count() == 0
    assert Payment.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Reservation.objects.count() == 0
    assert all(r == 0 for r in StockLevel.objects.values_list("reserved", flat=True))


# --- Guests and customers ------------------------------------------------------------------


def test_guest_ship_order_is_priced_planned_reserved_and_announced(
    storefront, network, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-NEAR", 5)
    with django_capture_on_commit_callbacks(execute=True):
        response = storefront.post(ORDERS, ship_body(("TEE", 2), ("MUG", 1)), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("W-")
    assert body["status"] == "placed"
    assert body["channel"] == "web"
    assert body["customer"] is None
    assert body["email"] == "guest@example.com"
    assert body["currency"] == "EUR"
    # 21 % VAT included: 40.00 → 6.94 tax, 8.50 → 1.48 tax.
    assert [
        (li["sku"], li["quantity"], li["unit_price"], li["tax_total"], li["total"])
        for li in body["lines"]
    ] == [
        ("TEE", 2, "20.00", "6.94", "40.00"),
        ("MUG", 1, "8.50", "1.48", "8.50"),
    ]
    assert (body["subtotal"], body["discount_total"], body["tax_total"], body["total"]) == (
        "48.50",
        "0.00",
        "8.42",
        "48.50",
    )
    assert body["amount_due"] == "48.50"
    [fulfilment] = body["fulfilments"]
    assert fulfilment["location"] == "WH-NEAR"
    assert fulfilment["method"] == "ship"
    assert fulfilment["status"] == "pending"
    assert fulfilment["pickup_code"] is None
    assert [(li["sku"], li["quantity"]) for li in fulfilment["lines"]] == [("TEE", 2), ("MUG", 1)]
    assert body["payments"] == [
        {
            "id": body["payments"][0]["id"],
            "method": "card",
            "provider": "manual",
            "reference": "psp-1",
            "amount": "48.50",
            "captured_amount": "0.00",
            "refunded_amount": "0.00",
            "status": "authorised",
        }
    ]

    order = Order.objects.get(number=body["number"])
    assert order.shipping_address["postal_code"] == "1012LG"
    assert order.destination_latitude == Decimal("52.370200")
    assert level("TEE", "WH-NEAR").reserved == 2
    assert level("MUG", "WH-NEAR").reserved == 1
    reservation = Reservation.objects.get()
    assert reservation.reference == f"order:{order.number}:WH-NEAR"
    assert reservation.expires_at is None
    assert order.fulfilments.get().reservation_id == reservation.pk
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.PAYMENT_AUTHORISED,
        EventKind.PLACED,
        EventKind.STOCK_RESERVED,
    ]
    placed = order.events.get(kind=EventKind.PLACED)
    assert placed.actor.startswith("client:")
    assert any(e["outcome"] == "chosen" for e in placed.detail["explanation"])
    notification = Notification.objects.get()
    assert (notification.kind, notification.status, notification.to) == (
        "placed",
        NotificationStatus.SENT,
        "guest@example.com",
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"Your order {order.number} is placed"
    assert "2 × Tee item (TEE)" in mail.outbox[0].body


def test_customer_orders_for_itself_and_gets_its_email(me, customer, network):
    stock("TEE", "WH-NEAR", 5)
    body = ship_body(("TEE", 1))
    del body["email"]
    response = me.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["customer"] == customer.pk
    assert response.json()["email"] == "anna@example.com"


def test_customer_may_not_order_for_someone_else(me, other_customer, network):
    stock("TEE", "WH-NEAR", 5)
    response = me.post(ORDERS, ship_body(("TEE", 1), customer=other_customer.pk), format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    nothing_written()


def test_storefront_may_name_any_customer_but_not_an_unknown_one(storefront, customer, network):
    stock("TEE", "WH-NEAR", 5)
    response = storefront.post(ORDERS, ship_body(("TEE", 1), customer=customer.pk), format="json")
    assert response.status_code == 201
    assert response.json()["customer"] == customer.pk
    assert response.json()["email"] == "guest@example.com"  # the one given wins
    response = storefront.post(ORDERS, ship_body(("TEE", 1), customer=999999), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "attr": "customer",
        "code": "unknown_customer",
        "detail": "No customer 999999.",
    }


def test_pos_places_an_endless_aisle_order_at_its_store_prices(api_for, network):
    stock("TEE", "WH-NEAR", 5)
    pos = api_for(Role.POS, locations=["STORE-AMS"])
    response = pos.post(ORDERS, ship_body(("TEE", 1), channel="pos"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("P-")
    assert body["fulfilments"][0]["location"] == "WH-NEAR"
    # The POS sees the order it placed, without pickup codes.
    assert pos.get(f"{ORDERS}{body['number']}/").status_code == 200


# --- Routing -------------------------------------------------------------------------------


def test_split_shipment_when_no_location_has_everything(storefront, network):
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-FAR", 5)
    response = storefront.post(ORDERS, ship_body(("TEE", 2), ("MUG", 3)), format="json")
    assert response.status_code == 201, response.json()
    fulfilments = {f["location"]: f for f in response.json()["fulfilments"]}
    assert set(fulfilments) == {"WH-NEAR", "WH-FAR"}
    assert [(li["sku"], li["quantity"]) for li in fulfilments["WH-NEAR"]["lines"]] == [("TEE", 2)]
    assert [(li["sku"], li["quantity"]) for li in fulfilments["WH-FAR"]["lines"]] == [("MUG", 3)]
    references = set(Reservation.objects.values_list("reference", flat=True))
    number = response.json()["number"]
    assert references == {f"order:{number}:WH-FAR", f"order:{number}:WH-NEAR"}
    assert level("TEE", "WH-NEAR").reserved == 2
    assert level("MUG", "WH-FAR").reserved == 3


def test_one_farther_location_with_everything_beats_a_split(storefront, network):
    stock("TEE", "WH-NEAR", 5)
    stock("TEE", "WH-FAR", 5)
    stock("MUG", "WH-FAR", 5)
    response = storefront.post(ORDERS, ship_body(("TEE", 2), ("MUG", 1)), format="json")
    assert [f["location"] for f in response.json()["fulfilments"]] == ["WH-FAR"]


def test_a_ship_from_store_at_its_daily_capacity_is_passed_over(storefront, network):
    store = network.store
    store.ship_enabled = True
    store.daily_capacity = 1
    store.handling_cost = Decimal("0.00")
    store.save()
    stock("CAP", "STORE-AMS", 5)
    stock("CAP", "WH-FAR", 5)
    first = storefront.post(ORDERS, ship_body(("CAP", 1)), format="json")
    assert [f["location"] for f in first.json()["fulfilments"]] == ["STORE-AMS"]
    second = storefront.post(ORDERS, ship_body(("CAP", 1)), format="json")
    assert [f["location"] for f in second.json()["fulfilments"]] == ["WH-FAR"]


def test_not_enough_stock_anywhere_names_the_lines_and_writes_nothing(storefront, network):
    stock("TEE", "WH-NEAR", 1)
    stock("MUG", "WH-NEAR", 5)
    response = storefront.post(ORDERS, ship_body(("MUG", 1), ("TEE", 3)), format="json")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "insufficient_stock"
    assert problem["errors"] == [
        {
            "attr": "lines.1.quantity",
            "code": "insufficient_stock",
            "detail": "Only 1 of SKU TEE can be promised.",
        }
    ]
    nothing_written()


def test_checkout_plans_again_when_the_stock_moved_after_the_plan(storefront, network, monkeypatch):
    """The first plan picks WH-NEAR; before the reservation someone takes its units; the
    reservation fails, the transaction rolls back, and the second plan picks WH-FAR."""
    from inventory import services as inventory_services
    from orders.services import checkout_request as checkout

    stock("TEE", "WH-NEAR", 2)
    stock("TEE", "WH-FAR", 2)
    real_plan = checkout.plan_order
    calls = []

    def plan_then_lose_the_stock(**kwargs):
        result = real_plan(**kwargs)
        if not calls:
            inventory_services.reserve(
                channel="web",
                lines=[inventory_services.HoldLine("TEE", "WH-NEAR", 2)],
                reference="someone-else",
            )
        calls.append(result)
        return result

    monkeypatch.setattr(checkout, "plan_order", plan_then_lose_the_stock)
    response = storefront.post(ORDERS, ship_body(("TEE", 2)), format="json")
    assert response.status_code == 201, response.json()
    assert [p.fulfilments[0].location for p in calls] == ["WH-NEAR", "WH-FAR"]
    assert [f["location"] for f in response.json()["fulfilments"]] == ["WH-FAR"]
    assert Order.objects.count() == 1
    assert Reservation.objects.filter(reference__startswith="order:").count() == 1


def test_checkout_gives_up_after_three_lost_races(storefront, network, monkeypatch):
    from orders.routing import Method, Plan, PlannedFulfilment, PlannedLine
    from orders.services import checkout_request as checkout

    stock("TEE", "WH-NEAR", 1)
    stale = Plan(
        True,
        Method.SHIP,
        (
            PlannedFulfilment(
                "WH-NEAR", Method.SHIP, (PlannedLine(0, "TEE", 2),), 1.0, Decimal("1.00")
            ),
        ),
    )
    calls = []
    monkeypatch.setattr(checkout, "plan_order", lambda **kw: calls.append(1) or stale)
    response = storefront.post(ORDERS, ship_body(("TEE", 2)), format="json")
    assert response.status_code == 409
    assert len(calls) == 3
    assert response.json()["errors"][0]["attr"] == "lines.0.quantity"
    nothing_written()


# --- Pickup (BOPIS) ------------------------------------------------------------------------


def test_pickup_at_the_chosen_store_with_a_code_and_a_ready_by_time(storefront, network):
    stock("TEE", "STORE-AMS", 3)
    stock("TEE", "WH-NEAR", 100)  # never used for pickup
    response = storefront.post(ORDERS, pickup_body("STORE-AMS", ("TEE", 2)), format="json")
    assert response.status_code == 201, response.json()
    [fulfilment] = response.json()["fulfilments"]
    assert fulfilment["location"] == "STORE-AMS"
    assert fulfilment["method"] == "pickup"
    assert len(fulfilment["pickup_code"]) == 6
    assert fulfilment["pickup_code"].isdigit()
    assert fulfilment["ready_by"] is not None
    assert level("TEE", "STORE-AMS").reserved == 2
    assert level("TEE", "WH-NEAR").reserved == 0
    assert Payment.objects.get().method == "manual"  # no payment given: recorded as manual


def test_pickup_store_lacking_something_names_the_stores_that_have_everything(storefront, network):
    stock("TEE", "STORE-AMS", 1)
    stock("TEE", "STORE-UTR", 5)
    stock("TEE", "WH-NEAR", 100)  # a warehouse is no pickup alternative
    response = storefront.post(ORDERS, pickup_body("STORE-AMS", ("TEE", 2)), format="json")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "insufficient_stock"
    assert problem["errors"] == [
        {
            "attr": "lines.0.quantity",
            "code": "insufficient_stock",
            "detail": "Only 1 of SKU TEE can be promised at the pickup store.",
        }
    ]
    assert problem["alternatives"] == [
        {"location": "STORE-UTR", "name": "Location STORE-UTR", "distance_km": 35.06}
    ]
    nothing_written()


def test_pickup_with_no_store_that_has_everything_has_no_alternatives(storefront, network):
    response = storefront.post(ORDERS, pickup_body("STORE-AMS", ("TEE", 1)), format="json")
    assert response.status_code == 409
    assert response.json()["alternatives"] == []


# --- Prices, coupons and points ------------------------------------------------------------


def test_expected_total_that_differs_is_price_changed_and_nothing_is_written(storefront, network):
    stock("TEE", "WH-NEAR", 5)
    response = storefront.post(ORDERS, ship_body(("TEE", 2), expected_total="39.99"), format="json")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "price_changed"
    assert problem["total"] == "40.00"
    assert problem["errors"][0]["attr"] == "expected_total"
    nothing_written()
    response = storefront.post(ORDERS, ship_body(("TEE", 2), expected_total="40.00"), format="json")
    assert response.status_code == 201


@pytest.fixture
def coupon(network):
    from pricing import services as pricing_services

    promotion = pricing_services.create_promotion(
        name="10% with a code",
        kind="percent_off",
        value=Decimal("10"),
        requires_coupon=True,
        usage_limit=5,
    )
    return pricing_services.create_coupon(promotion=promotion, code="SPRING", usage_limit=2)


def test_a_coupon_discount_is_allocated_to_the_lines_and_its_use_counted(
    storefront, network, coupon
):
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-NEAR", 5)
    response = storefront.post(
        ORDERS, ship_body(("TEE", 1), ("MUG", 1), coupon_codes=["spring"]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["discount_total"] == "2.85"
    assert [li["discount_total"] for li in body["lines"]] == ["2.00", "0.85"]
    assert body["lines"][0]["discounts"] == [
        {"promotion": coupon.promotion_id, "name": "10% with a code", "amount": "2.00"}
    ]
    assert sum(Decimal(li["total"]) for li in body["lines"]) == Decimal(body["total"])
    assert body["coupon_codes"] == ["SPRING"]
    coupon.refresh_from_db()
    assert coupon.used_count == 1


def test_a_coupon_that_does_nothing_is_refused(storefront, network, coupon):
    stock("TEE", "WH-NEAR", 5)
    response = storefront.post(ORDERS, ship_body(("TEE", 1), coupon_codes=["NOPE"]), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "coupon_unavailable"
    assert response.json()["errors"][0]["attr"] == "coupon_codes.0"
    assert response.json()["errors"][0]["code"] == "unknown"
    nothing_written()


def test_points_pay_part_of_the_order_allocated_to_the_lines(me, customer, network):
    from tests.orders.conftest import fund

    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-NEAR", 5)
    fund(customer, 1000)
    card = customer.account.card_number
    response = me.post(
        ORDERS,
        ship_body(("TEE", 1), ("MUG", 1), loyalty={"card_number": card, "redeem_points": 700}),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total"], body["points_redeemed"], body["points_value"], body["amount_due"]) == (
        "28.50",
        700,
        "7.00",
        "21.50",
    )
    # 7.00 over 20.00 and 8.50 by largest remainder: 4.912… → 4.91, 2.087… → 2.09.
    assert [li["points_value"] for li in body["lines"]] == ["4.91", "2.09"]
    assert body["payments"][0]["amount"] == "21.50"
    assert LoyaltyAccount.objects.get(customer=customer).points == 300


def test_more_points_than_the_balance_is_refused_and_nothing_written(me, customer, network):
    from tests.orders.conftest import fund

    stock("TEE", "WH-NEAR", 5)
    fund(customer, 100)
    response = me.post(
        ORDERS,
        ship_body(
            ("TEE", 1),
            loyalty={"card_number": customer.account.card_number, "redeem_points": 500},
        ),
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_points"
    assert response.json()["errors"][0]["attr"] == "loyalty.redeem_points"
    nothing_written()
    assert LoyaltyAccount.objects.get(customer=customer).points == 100


def test_points_worth_more_than_the_order_are_refused(me, customer, network):
    from tests.orders.conftest import fund

    stock("MUG", "WH-NEAR", 5)
    fund(customer, 5000)
    response = me.post(
        ORDERS,
        ship_body(
            ("MUG", 1),
            loyalty={"card_number": customer.account.card_number, "redeem_points": 900},
        ),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "exceeds_total"


def test_a_customer_may_not_spend_another_customers_points(me, other_customer, network):
    from tests.orders.conftest import fund

    stock("TEE", "WH-NEAR", 5)
    fund(other_customer, 1000)
    response = me.post(
        ORDERS,
        ship_body(
            ("TEE", 1),
            loyalty={"card_number": other_customer.account.card_number, "redeem_points": 100},
        ),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_customers_card"
    nothing_written()


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "attr", "code"),
    [
        (lambda b: b["lines"][0].update(sku="NOPE"), "lines.0.sku", "unknown_sku"),
        (lambda b: b["lines"][0].update(quantity=0), "lines.0.quantity", "min_value"),
        (lambda b: b["lines"][0].update(quantity=-1), "lines.0.quantity", "min_value"),
        (lambda b: b["lines"][0].update(quantity="two"), "lines.0.quantity", "invalid"),
        (lambda b: b["lines"].append({"sku": "TEE", "quantity": 1}), "lines.1.sku", "duplicate"),
        (lambda b: b.update(lines=[]), "lines", "required"),
        (lambda b: b.pop("lines"), "lines", "required"),
        (lambda b: b["fulfilment"].pop("address"), "fulfilment.address", "required"),
        (
            lambda b: b["fulfilment"]["address"].pop("latitude"),
            "fulfilment.address.latitude",
            "required",
        ),
        (
            lambda b: b["fulfilment"]["address"].update(latitude=91),
            "fulfilment.address.latitude",
            "max_value",
        ),
        (lambda b: b["fulfilment"].update(method="drone"), "fulfilment.method", "invalid_choice"),
        (lambda b: b.update(channel="nope"), "channel", "unknown_channel"),
        (lambda b: b.pop("email"), "email", "required"),
        (lambda b: b.update(email="not-an-email"), "email", "invalid"),
        (lambda b: b.update(payment={"method": "Card!"}), "payment.method", "invalid"),
        (
            lambda b: b.update(loyalty={"card_number": "123", "redeem_points": 100}),
            "loyalty.card_number",
            "invalid_card_number",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_is_written(
    storefront, network, change, attr, code
):
    stock("TEE", "WH-NEAR", 5)
    body = ship_body(("TEE", 1))
    change(body)
    response = storefront.post(ORDERS, body, format="json")
    assert response.status_code == 400, response.json()
    problem = response.json()
    assert problem["code"] in {"invalid", code}  # loyalty says invalid_card_number
    assert response["Content-Type"] == "application/problem+json"
    assert {"attr": attr, "code": code} in [
        {"attr": e["attr"], "code": e["code"]} for e in problem["errors"]
    ], problem
    nothing_written()


@pytest.mark.parametrize(
    ("store", "code"),
    [("WH-NEAR", "not_pickup_location"), ("NOWHERE", "unknown_location"), (None, "required")],
)
def test_pickup_needs_a_store_that_offers_pickup(storefront, network, store, code):
    stock("TEE", "WH-NEAR", 5)
    response = storefront.post(ORDERS, pickup_body(store, ("TEE", 1)), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "fulfilment.pickup_location"
    assert response.json()["errors"][0]["code"] == code
    nothing_written()


def test_ten_thousand_lines_are_refused_at_once(storefront, network):
    body = ship_body(*[(f"SKU-{i}", 1) for i in range(10_000)])
    response = storefront.post(ORDERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "lines"
    assert response.json()["errors"][0]["code"] == "max_length"
    nothing_written()


def test_malformed_json_is_400(storefront, network):
    response = storefront.post(ORDERS, "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_an_sku_without_a_price_is_400(storefront, network):
    from tests.factories import SKUFactory

    SKUFactory(sku="UNPRICED")
    stock("UNPRICED", "WH-NEAR", 5)
    response = storefront.post(ORDERS, ship_body(("UNPRICED", 1)), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "attr": "lines.0.sku",
        "code": "no_price",
        "detail": "SKU UNPRICED has no price on channel web.",
    }
    nothing_written()


def test_the_address_is_kept_as_given(storefront, network):
    stock("TEE", "WH-NEAR", 5)
    response = storefront.post(ORDERS, ship_body(("TEE", 1)), format="json")
    assert response.json()["shipping_address"] == {
        **{k: v for k, v in ADDRESS.items() if k not in ("latitude", "longitude")},
        "latitude": "52.370200",
        "longitude": "4.895200",
    }
