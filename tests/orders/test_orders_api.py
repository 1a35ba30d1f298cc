"""Reading orders (each caller its own scope), cancelling them, their history, and the
routing dry run."""

from decimal import Decimal

import pytest
from django.core import mail

from config.api.roles import Role
from inventory.models import Reservation
from loyalty.models import LoyaltyAccount
from orders.models import (
    Fulfilment,
    FulfilmentStatus,
    Notification,
    Order,
    OrderStatus,
    PaymentStatus,
)
from orders.services import refresh_status
from tests.orders.conftest import fund, level, pickup_body, ship_body, stock

ORDERS = "/api/v1/orders/"
PLAN = "/api/v1/routing/plan/"


def place(client, body) -> dict:
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def orders(network, storefront, me, them, customer):
    """Anna's pickup at STORE-AMS (by her own token), a guest ship order from WH-NEAR by the
    storefront, and Bram's ship order from WH-FAR."""
    stock("TEE", "STORE-AMS", 10)
    stock("TEE", "WH-NEAR", 10)
    stock("MUG", "WH-FAR", 10)
    anna = pickup_body("STORE-AMS", ("TEE", 1))
    del anna["email"]  # hers, from her profile
    return {
        "anna": place(me, anna),
        "guest": place(storefront, ship_body(("TEE", 1))),
        "bram": place(them, ship_body(("MUG", 1))),
    }


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {o["number"] for o in response.json()["results"]}


# --- Reading -------------------------------------------------------------------------------


def test_each_caller_lists_its_own_scope(orders, api_for, me, them, storefront):
    anna, guest, bram = (orders[k]["number"] for k in ("anna", "guest", "bram"))
    assert numbers(me.get(ORDERS)) == {anna}
    assert numbers(them.get(ORDERS)) == {bram}
    # The storefront: the guest order it placed, and every named customer's.
    assert numbers(storefront.get(ORDERS)) == {anna, guest, bram}
    other_storefront = api_for(Role.STOREFRONT, name="another shop")
    assert numbers(other_storefront.get(ORDERS)) == {anna, bram}
    assert numbers(api_for(Role.MERCHANDISER).get(ORDERS)) == {anna, guest, bram}
    assert numbers(api_for(Role.POS, locations=["STORE-AMS"]).get(ORDERS)) == {anna}
    assert numbers(api_for(Role.STORE_STAFF, locations=["WH-NEAR"]).get(ORDERS)) == {guest}
    assert numbers(api_for(Role.STORE_STAFF, locations=["STORE-UTR"]).get(ORDERS)) == set()


def test_list_filters(orders, api_for, customer):
    merchandiser = api_for(Role.MERCHANDISER)
    anna = orders["anna"]["number"]
    assert numbers(merchandiser.get(ORDERS, {"customer": customer.pk})) == {anna}
    assert numbers(merchandiser.get(ORDERS, {"location": "STORE-AMS"})) == {anna}
    assert numbers(merchandiser.get(ORDERS, {"email": "ANNA@example.com"})) == {anna}
    assert len(numbers(merchandiser.get(ORDERS, {"status": "placed", "channel": "web"}))) == 3
    assert numbers(merchandiser.get(ORDERS, {"status": "cancelled"})) == set()
    assert numbers(merchandiser.get(ORDERS, {"created_after": "2999-01-01T00:00:00Z"})) == set()
    for bad in ({"status": "lost"}, {"customer": "x"}, {"created_after": "yesterday"}):
        response = merchandiser.get(ORDERS, bad)
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == next(iter(bad))


def test_others_orders_are_404(orders, me, them, api_for):
    anna = orders["anna"]["number"]
    assert me.get(f"{ORDERS}{anna}/").status_code == 200
    for client in (them, api_for(Role.POS, locations=["STORE-UTR"])):
        for path in (f"{ORDERS}{anna}/", f"{ORDERS}{anna}/events/"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
        response = client.post(f"{ORDERS}{anna}/cancel/", {}, format="json")
        assert response.status_code in (403, 404)
    assert me.get(f"{ORDERS}W-999999/").status_code == 404
    assert Order.objects.get(number=anna).status == OrderStatus.PLACED


def test_pickup_code_is_shown_to_the_customer_and_storefront_only(orders, me, storefront, api_for):
    anna = orders["anna"]["number"]
    code = Fulfilment.objects.get(order__number=anna).pickup_code
    assert me.get(f"{ORDERS}{anna}/").json()["fulfilments"][0]["pickup_code"] == code
    assert storefront.get(f"{ORDERS}{anna}/").json()["fulfilments"][0]["pickup_code"] == code
    for client in (
        api_for(Role.POS, locations=["STORE-AMS"]),
        api_for(Role.STORE_STAFF, locations=["STORE-AMS"]),
        api_for(Role.MERCHANDISER),
    ):
        detail = client.get(f"{ORDERS}{anna}/").json()
        assert detail["fulfilments"][0]["pickup_code"] is None
        listed = client.get(ORDERS).json()["results"]
        assert all(f["pickup_code"] is None for o in listed for f in o["fulfilments"])


def test_the_history_lists_what_happened_with_who_and_when(orders, me):
    anna = orders["anna"]["number"]
    response = me.get(f"{ORDERS}{anna}/events/")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["kind"] for e in events] == ["payment_authorised", "placed", "stock_reserved"]
    assert all(e["actor"].startswith("client:") and e["created_at"] for e in events)


def test_order_list_query_count_does_not_grow_with_orders(
    network, storefront, api_for, django_assert_max_num_queries
):
    stock("TEE", "WH-NEAR", 100)
    stock("TEE", "STORE-AMS", 100)
    merchandiser = api_for(Role.MERCHANDISER)
    place(storefront, ship_body(("TEE", 1)))
    with django_assert_max_num_queries(12) as few:
        merchandiser.get(ORDERS)
    one_order = len(few.captured_queries)
    for _ in range(6):
        place(storefront, ship_body(("TEE", 1)))
        place(storefront, pickup_body("STORE-AMS", ("TEE", 1)))
    with django_assert_max_num_queries(one_order):
        response = merchandiser.get(ORDERS)
    assert response.json()["count"] == 13


# --- Cancelling ----------------------------------------------------------------------------


@pytest.fixture
def coupon(network):
    from pricing import services as pricing_services

    promotion = pricing_services.create_promotion(
        name="5 off", kind="amount_off", value=Decimal("5.00"), requires_coupon=True
    )
    return pricing_services.create_coupon(promotion=promotion, code="FIVE", usage_limit=10)


def test_cancel_gives_everything_back(
    network, me, customer, coupon, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-FAR", 5)
    fund(customer, 1000)
    body = ship_body(
        ("TEE", 2),
        ("MUG", 1),
        coupon_codes=["five"],
        loyalty={"card_number": customer.account.card_number, "redeem_points": 500},
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = place(me, body)
    coupon.refresh_from_db()
    assert coupon.used_count == 1
    assert LoyaltyAccount.objects.get(customer=customer).points == 500
    assert level("TEE", "WH-NEAR").reserved == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = me.post(
            f"{ORDERS}{order['number']}/cancel/", {"reason": "changed my mind"}, format="json"
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "changed my mind"
    assert body["cancelled_at"] is not None
    assert {f["status"] for f in body["fulfilments"]} == {"cancelled"}
    assert [li["cancelled_quantity"] for li in body["lines"]] == [2, 1]
    assert body["payments"][0]["status"] == PaymentStatus.VOIDED
    assert level("TEE", "WH-NEAR").reserved == 0
    assert level("MUG", "WH-FAR").reserved == 0
    assert set(Reservation.objects.values_list("status", flat=True)) == {"released"}
    coupon.refresh_from_db()
    assert coupon.used_count == 0
    assert LoyaltyAccount.objects.get(customer=customer).points == 1000
    kinds = [e["kind"] for e in me.get(f"{ORDERS}{order['number']}/events/").json()["results"]]
    for kind in (
        "stock_released",
        "coupons_released",
        "points_refunded",
        "payment_voided",
        "cancelled",
        "status_changed",
    ):
        assert kind in kinds
    sent = Notification.objects.filter(order__number=order["number"]).order_by("id")
    assert [(n.kind, n.status) for n in sent] == [("placed", "sent"), ("cancelled", "sent")]
    assert mail.outbox[-1].subject == f"Order {order['number']} is cancelled"
    assert "500 points are back" in mail.outbox[-1].body
    assert "changed my mind" in mail.outbox[-1].body

    again = me.post(f"{ORDERS}{order['number']}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"


def test_nothing_is_cancelled_once_goods_are_handed_over(network, storefront):
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-FAR", 5)
    order = place(storefront, ship_body(("TEE", 1), ("MUG", 1)))
    shipped = Fulfilment.objects.get(order__number=order["number"], location__code="WH-NEAR")
    shipped.status = FulfilmentStatus.SHIPPED  # what the colleague's ship endpoint will do
    shipped.save()
    refresh_status(order=shipped.order)
    response = storefront.post(f"{ORDERS}{order['number']}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    assert level("MUG", "WH-FAR").reserved == 1
    assert Order.objects.get(number=order["number"]).status == OrderStatus.IN_PROGRESS


def test_store_staff_may_not_cancel(network, storefront, api_for):
    stock("TEE", "WH-NEAR", 5)
    order = place(storefront, ship_body(("TEE", 1)))
    staff = api_for(Role.STORE_STAFF, locations=["WH-NEAR"])
    assert staff.post(f"{ORDERS}{order['number']}/cancel/", {}, format="json").status_code == 403


# --- The routing dry run -------------------------------------------------------------------


def test_routing_plan_explains_and_reserves_nothing(network, storefront):
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-FAR", 5)
    body = ship_body(("TEE", 2), ("MUG", 1))
    del body["email"]
    response = storefront.post(PLAN, body, format="json")
    assert response.status_code == 200, response.json()
    plan = response.json()
    assert plan["feasible"] is True
    assert plan["exact"] is True
    assert [
        (f["location"], [(li["line"], li["sku"], li["quantity"]) for li in f["lines"]])
        for f in plan["fulfilments"]
    ] == [
        ("WH-NEAR", [(0, "TEE", 2)]),
        ("WH-FAR", [(1, "MUG", 1)]),
    ]
    assert Decimal(plan["cost"]) == sum(Decimal(f["cost"]) for f in plan["fulfilments"])
    chosen = {e["location"] for e in plan["explanation"] if e["outcome"] == "chosen"}
    assert chosen == {"WH-NEAR", "WH-FAR"}
    assert Reservation.objects.count() == 0
    assert Order.objects.count() == 0


def test_routing_plan_that_cannot_be_served_says_so(network, api_for):
    stock("TEE", "STORE-AMS", 1)
    stock("TEE", "STORE-UTR", 3)
    body = pickup_body("STORE-AMS", ("TEE", 2))
    response = api_for(Role.MERCHANDISER).post(PLAN, body, format="json")
    assert response.status_code == 200
    plan = response.json()
    assert plan["feasible"] is False
    assert plan["fulfilments"] == []
    assert plan["short_lines"] == [{"line": 0, "sku": "TEE", "quantity": 1}]
    assert plan["alternatives"] == ["STORE-UTR"]


def test_routing_plan_bad_input(network, storefront):
    body = ship_body(("NOPE", 1))
    response = storefront.post(PLAN, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_sku"
    body = ship_body(("TEE", 1))
    body["fulfilment"]["address"].pop("longitude")
    response = storefront.post(PLAN, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "fulfilment.address.longitude"
