"""Buy online, pick up in store, end to end through the API: the storefront places the order,
store staff pick it and mark it ready, the customer is told the code, a wrong code is refused,
the right one hands the goods over (stock sold, payment captured, points earned); and a ship
order from pick to shipped. Staff never see pickup codes, nor other stores' fulfilments."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api.roles import Role
from inventory.models import MovementKind, Reservation, StockMovement
from loyalty.models import Earning, LoyaltyAccount
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from tests.orders.conftest import level, pickup_body, ship_body, stock

ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"


def place(client, body) -> dict:
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def no_pickup_code(response, code: str) -> None:
    text = response.content.decode()
    assert '"pickup_code"' not in text
    assert f'"{code}"' not in text


def kinds(order_number: str) -> list[str]:
    return list(
        Order.objects.get(number=order_number).events.order_by("id").values_list("kind", flat=True)
    )


@pytest.fixture
def staff_ams(api_for, network):
    return api_for(Role.STORE_STAFF, locations=["STORE-AMS"], name="ams staff")


@pytest.fixture
def staff_utr(api_for, network):
    return api_for(Role.STORE_STAFF, locations=["STORE-UTR"], name="utrecht staff")


def test_bopis_journey_through_the_api(
    network, storefront, me, customer, staff_ams, django_capture_on_commit_callbacks
):
    stock("TEE", "STORE-AMS", 5)
    stock("MUG", "STORE-AMS", 3)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(
            storefront,
            pickup_body(
                "STORE-AMS", ("TEE", 2), ("MUG", 1), customer=customer.pk, email=customer.email
            ),
        )
    number = order["number"]
    [placed] = order["fulfilments"]
    code = placed["pickup_code"]  # the storefront sees it, to show the customer
    assert len(code) == 6
    fid = placed["id"]
    assert Fulfilment.objects.get(pk=fid).ready_by is not None

    # The store's pick list: pending work, without the code.
    listed = staff_ams.get(FULFILMENTS, {"location": "STORE-AMS", "status": "pending"})
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["results"]] == [fid]
    assert listed.json()["results"][0]["order"] == number
    no_pickup_code(listed, code)

    picked = staff_ams.post(
        f"{FULFILMENTS}{fid}/pick/",
        {"lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}]},
        format="json",
    )
    assert picked.status_code == 200, picked.json()
    assert picked.json()["status"] == "picking"
    assert [
        (li["sku"], li["picked_quantity"], li["short_quantity"]) for li in picked.json()["lines"]
    ] == [
        ("TEE", 2, 0),
        ("MUG", 1, 0),
    ]
    no_pickup_code(picked, code)
    assert Order.objects.get(number=number).status == OrderStatus.IN_PROGRESS

    with django_capture_on_commit_callbacks(execute=True):
        ready = staff_ams.post(f"{FULFILMENTS}{fid}/ready/", format="json")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["status"] == "ready_for_pickup"
    no_pickup_code(ready, code)
    notification = Notification.objects.get(
        order__number=number, kind=NotificationKind.READY_FOR_PICKUP
    )
    assert notification.fulfilment_id == fid
    assert notification.status == NotificationStatus.SENT
    assert code not in notification.body  # the record staff can read is masked
    assert mail.outbox[-1].subject == f"Order {number} is ready for pickup"
    assert code in mail.outbox[-1].body
    assert "Please collect it by" in mail.outbox[-1].body

    # The customer sees the code and the status through the order.
    mine = me.get(f"{ORDERS}{number}/").json()
    assert mine["status"] == "ready_for_pickup"
    assert mine["fulfilments"][0]["pickup_code"] == code

    wrong = "000000" if code != "000000" else "111111"
    refused = staff_ams.post(f"{FULFILMENTS}{fid}/collect/", {"pickup_code": wrong}, format="json")
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "invalid_pickup_code"
    no_pickup_code(refused, code)
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.READY_FOR_PICKUP
    assert (level("TEE", "STORE-AMS").on_hand, level("TEE", "STORE-AMS").reserved) == (5, 2)
    assert Payment.objects.get(order__number=number).captured_amount == Decimal("0.00")

    collected = staff_ams.post(f"{FULFILMENTS}{fid}/collect/", {"pickup_code": code}, format="json")
    assert collected.status_code == 200, collected.json()
    assert collected.json()["status"] == "collected"
    assert collected.json()["handed_over_at"] is not None
    no_pickup_code(collected, code)

    assert Order.objects.get(number=number).status == OrderStatus.COMPLETED
    assert me.get(f"{ORDERS}{number}/").json()["status"] == "completed"
    # Stock: sold from the store, nothing held any more.
    assert (level("TEE", "STORE-AMS").on_hand, level("TEE", "STORE-AMS").reserved) == (3, 0)
    assert (level("MUG", "STORE-AMS").on_hand, level("MUG", "STORE-AMS").reserved) == (2, 0)
    sales = StockMovement.objects.filter(kind=MovementKind.SALE).order_by("sku__sku")
    assert [(m.sku.sku, m.location.code, m.quantity, m.reference) for m in sales] == [
        ("MUG", "STORE-AMS", -1, f"fulfilment:{fid}:handover"),
        ("TEE", "STORE-AMS", -2, f"fulfilment:{fid}:handover"),
    ]
    assert Reservation.objects.get(pk=Fulfilment.objects.get(pk=fid).reservation_id).status == (
        Reservation.Status.CONSUMED
    )
    # Payment: 2 × 20.00 + 8.50 captured at the hand-over.
    payment = Payment.objects.get(order__number=number)
    assert (payment.status, payment.amount, payment.captured_amount) == (
        PaymentStatus.CAPTURED,
        Decimal("48.50"),
        Decimal("48.50"),
    )
    # Points: on the net of tax (40.00 − 6.94) + (8.50 − 1.48) = 40.08 → 40 points.
    earning = Earning.objects.get(reference=f"fulfilment:{fid}")
    assert (earning.net_amount, earning.points) == (Decimal("40.08"), 40)
    assert LoyaltyAccount.objects.get(customer=customer).points == 40
    history = kinds(number)
    for kind in (
        EventKind.PICKING,
        EventKind.PICKED,
        EventKind.READY_FOR_PICKUP,
        EventKind.PAYMENT_CAPTURED,
        EventKind.POINTS_EARNED,
        EventKind.COLLECTED,
    ):
        assert kind in history
    collected_event = Order.objects.get(number=number).events.get(kind=EventKind.COLLECTED)
    assert collected_event.actor.startswith("client:")

    again = staff_ams.post(f"{FULFILMENTS}{fid}/collect/", {"pickup_code": code}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"
    assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 2
    assert LoyaltyAccount.objects.get(customer=customer).points == 40


def test_ship_journey_pick_then_ship(
    network, storefront, customer, api_for, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 5)
    order = place(storefront, ship_body(("TEE", 3), customer=customer.pk, email=customer.email))
    number = order["number"]
    [f] = order["fulfilments"]
    assert f["location"] == "WH-NEAR"
    warehouse = api_for(Role.STORE_STAFF, locations=["WH-NEAR"], name="warehouse")

    early = warehouse.post(
        f"{FULFILMENTS}{f['id']}/ship/",
        {"carrier": "PostNL", "tracking_number": "3S1"},
        format="json",
    )
    assert early.status_code == 409
    assert early.json()["code"] == "invalid_state"

    started = warehouse.post(f"{FULFILMENTS}{f['id']}/pick/", {}, format="json")
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "picking"
    assert warehouse.post(f"{FULFILMENTS}{f['id']}/ready/", format="json").status_code == 409
    not_yet = warehouse.post(
        f"{FULFILMENTS}{f['id']}/ship/",
        {"carrier": "PostNL", "tracking_number": "3S1"},
        format="json",
    )
    assert not_yet.status_code == 409  # what was found is not recorded yet

    picked = warehouse.post(
        f"{FULFILMENTS}{f['id']}/pick/", {"lines": [{"sku": "TEE", "quantity": 3}]}, format="json"
    )
    assert picked.status_code == 200, picked.json()
    twice = warehouse.post(
        f"{FULFILMENTS}{f['id']}/pick/", {"lines": [{"sku": "TEE", "quantity": 3}]}, format="json"
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "invalid_state"

    with django_capture_on_commit_callbacks(execute=True):
        shipped = warehouse.post(
            f"{FULFILMENTS}{f['id']}/ship/",
            {"carrier": "PostNL", "tracking_number": "3SABC123"},
            format="json",
        )
    assert shipped.status_code == 200, shipped.json()
    body = shipped.json()
    assert (body["status"], body["carrier"], body["tracking_number"]) == (
        "shipped",
        "PostNL",
        "3SABC123",
    )
    assert Order.objects.get(number=number).status == OrderStatus.COMPLETED
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (2, 0)
    assert StockMovement.objects.get(kind=MovementKind.SALE).quantity == -3
    payment = Payment.objects.get(order__number=number)
    assert payment.captured_amount == payment.amount == Decimal("60.00")
    assert Earning.objects.get(reference=f"fulfilment:{f['id']}").points == 49  # 60.00 − 10.41 tax
    shipped_mail = Notification.objects.get(order__number=number, kind=NotificationKind.SHIPPED)
    assert shipped_mail.status == NotificationStatus.SENT
    assert "3SABC123" in shipped_mail.body


def test_ship_needs_a_carrier_and_a_tracking_number(network, storefront, merchandiser):
    stock("TEE", "WH-NEAR", 5)
    [f] = place(storefront, ship_body(("TEE", 1)))["fulfilments"]
    merchandiser.post(
        f"{FULFILMENTS}{f['id']}/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json"
    )
    response = merchandiser.post(
        f"{FULFILMENTS}{f['id']}/ship/", {"carrier": " ", "tracking_number": ""}, format="json"
    )
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"carrier", "tracking_number"}
    assert Fulfilment.objects.get(pk=f["id"]).status == FulfilmentStatus.PICKING


def test_another_stores_fulfilment_is_404_and_untouched(network, storefront, staff_utr, api_for):
    stock("TEE", "STORE-AMS", 5)
    order = place(storefront, pickup_body("STORE-AMS", ("TEE", 1)))
    fid = order["fulfilments"][0]["id"]
    assert staff_utr.get(f"{FULFILMENTS}{fid}/").status_code == 404
    for action, body in (
        ("pick", {"lines": [{"sku": "TEE", "quantity": 1}]}),
        ("ready", {}),
        ("collect", {"pickup_code": order["fulfilments"][0]["pickup_code"]}),
        ("ship", {"carrier": "x", "tracking_number": "y"}),
    ):
        response = staff_utr.post(f"{FULFILMENTS}{fid}/{action}/", body, format="json")
        assert response.status_code == 404, action
        assert response.json()["code"] == "not_found"
    assert staff_utr.get(FULFILMENTS).json()["results"] == []
    assert staff_utr.get(FULFILMENTS, {"location": "STORE-AMS"}).json()["count"] == 0
    pos_utr = api_for(Role.POS, locations=["STORE-UTR"], name="utrecht till")
    assert pos_utr.get(f"{FULFILMENTS}{fid}/").status_code == 404
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.PENDING
    assert (
        Order.objects.get(number=order["number"]).events.filter(kind=EventKind.PICKING).count() == 0
    )


def test_pos_at_the_store_hands_over_and_merchandisers_see_everything(
    network, storefront, api_for, merchandiser
):
    stock("TEE", "STORE-AMS", 5)
    stock("MUG", "WH-NEAR", 5)
    pickup = place(storefront, pickup_body("STORE-AMS", ("TEE", 1)))
    place(storefront, ship_body(("MUG", 1)))
    fid, code = pickup["fulfilments"][0]["id"], pickup["fulfilments"][0]["pickup_code"]
    till = api_for(Role.POS, locations=["STORE-AMS"], name="ams till")
    assert (
        till.post(
            f"{FULFILMENTS}{fid}/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json"
        ).status_code
        == 200
    )
    assert till.post(f"{FULFILMENTS}{fid}/ready/", format="json").status_code == 200
    detail = till.get(f"{FULFILMENTS}{fid}/")
    no_pickup_code(detail, code)
    collected = till.post(f"{FULFILMENTS}{fid}/collect/", {"pickup_code": code}, format="json")
    assert collected.status_code == 200
    everything = merchandiser.get(FULFILMENTS)
    assert {f["location"] for f in everything.json()["results"]} == {"STORE-AMS", "WH-NEAR"}
    no_pickup_code(everything, code)
    assert [
        f["id"] for f in merchandiser.get(FULFILMENTS, {"status": "collected"}).json()["results"]
    ] == [fid]


def test_storefront_and_customers_follow_fulfilments_through_orders_only(network, storefront, me):
    assert storefront.get(FULFILMENTS).status_code == 403
    assert me.get(FULFILMENTS).status_code == 403


def test_pick_input_is_checked_against_the_fulfilment(network, storefront, staff_ams):
    stock("TEE", "STORE-AMS", 5)
    stock("MUG", "STORE-AMS", 5)
    fid = place(storefront, pickup_body("STORE-AMS", ("TEE", 2), ("MUG", 1)))["fulfilments"][0][
        "id"
    ]
    url = f"{FULFILMENTS}{fid}/pick/"
    cases = [
        ({"lines": [{"sku": "TEE", "quantity": 2}]}, "lines", "required"),
        (
            {"lines": [{"sku": "TEE", "quantity": 3}, {"sku": "MUG", "quantity": 1}]},
            "lines.0.quantity",
            "max_value",
        ),
        (
            {"lines": [{"sku": "CAP", "quantity": 1}, {"sku": "MUG", "quantity": 1}]},
            "lines.0.sku",
            "invalid",
        ),
        (
            {"lines": [{"sku": "MUG", "quantity": 1}, {"sku": "MUG", "quantity": 1}]},
            "lines.1.sku",
            "duplicate",
        ),
        ({"lines": [{"sku": "TEE", "quantity": -1}]}, "lines.0.quantity", "min_value"),
        ({"lines": "TEE"}, "lines", "not_a_list"),
    ]
    for body, attr, code in cases:
        response = staff_ams.post(url, body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert response.json()["code"] == "invalid"
        assert (response.json()["errors"][0]["attr"], response.json()["errors"][0]["code"]) == (
            attr,
            code,
        ), body
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.PENDING
    assert level("TEE", "STORE-AMS").reserved == 2


def test_a_missing_fulfilment_is_404(network, merchandiser):
    assert merchandiser.get(f"{FULFILMENTS}999999/").status_code == 404
    response = merchandiser.post(f"{FULFILMENTS}999999/pick/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_cancelled_order_cannot_be_picked_or_collected(network, storefront, staff_ams):
    stock("TEE", "STORE-AMS", 5)
    order = place(storefront, pickup_body("STORE-AMS", ("TEE", 1)))
    fid, code = order["fulfilments"][0]["id"], order["fulfilments"][0]["pickup_code"]
    assert (
        storefront.post(f"{ORDERS}{order['number']}/cancel/", {}, format="json").status_code == 200
    )
    for action, body in (
        ("pick", {"lines": [{"sku": "TEE", "quantity": 1}]}),
        ("ready", {}),
        ("collect", {"pickup_code": code}),
    ):
        response = staff_ams.post(f"{FULFILMENTS}{fid}/{action}/", body, format="json")
        assert response.status_code == 409, action
        assert response.json()["code"] == "invalid_state"


def test_a_ship_fulfilment_is_not_collected_and_a_pickup_not_shipped(
    network, storefront, merchandiser
):
    stock("TEE", "STORE-AMS", 5)
    stock("TEE", "WH-NEAR", 5)
    pickup = place(storefront, pickup_body("STORE-AMS", ("TEE", 1)))["fulfilments"][0]
    parcel = place(storefront, ship_body(("TEE", 1)))["fulfilments"][0]
    for f in (pickup, parcel):
        merchandiser.post(
            f"{FULFILMENTS}{f['id']}/pick/",
            {"lines": [{"sku": "TEE", "quantity": 1}]},
            format="json",
        )
    shipped = merchandiser.post(
        f"{FULFILMENTS}{pickup['id']}/ship/",
        {"carrier": "x", "tracking_number": "y"},
        format="json",
    )
    assert shipped.status_code == 409
    assert (
        merchandiser.post(f"{FULFILMENTS}{parcel['id']}/ready/", format="json").status_code == 409
    )
    collected = merchandiser.post(
        f"{FULFILMENTS}{parcel['id']}/collect/", {"pickup_code": "123456"}, format="json"
    )
    assert collected.status_code == 409
    assert collected.json()["code"] == "invalid_state"


def test_replaying_a_pick_with_its_idempotency_key_answers_the_first_response(
    network, storefront, staff_ams
):
    stock("TEE", "STORE-AMS", 5)
    fid = place(storefront, pickup_body("STORE-AMS", ("TEE", 2)))["fulfilments"][0]["id"]
    body = {"lines": [{"sku": "TEE", "quantity": 1}]}
    first = staff_ams.post(
        f"{FULFILMENTS}{fid}/pick/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = staff_ams.post(
        f"{FULFILMENTS}{fid}/pick/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 1


def test_list_query_count_does_not_grow_with_fulfilments(network, storefront, staff_ams):
    stock("TEE", "STORE-AMS", 50)
    stock("MUG", "STORE-AMS", 50)
    place(storefront, pickup_body("STORE-AMS", ("TEE", 1), ("MUG", 1)))
    with CaptureQueriesContext(connection) as one:
        staff_ams.get(FULFILMENTS)
    for _ in range(5):
        place(storefront, pickup_body("STORE-AMS", ("TEE", 1), ("MUG", 1)))
    with CaptureQueriesContext(connection) as six:
        response = staff_ams.get(FULFILMENTS)
    assert response.json()["count"] == 6
    assert len(six.captured_queries) == len(one.captured_queries) <= 8
