"""Short picks and stock shortfalls: the units not there are recorded in the ledger, planned
again elsewhere (ship) or cancelled and refunded (pickup, or nowhere has them), and the
customer is told; a count that undercuts an order's hold is repaired the same way, once."""

from decimal import Decimal

import pytest
from django.core import mail

from config.api.roles import Role
from inventory import services as inventory_services
from inventory.models import MovementKind, Reservation, StockMovement, StockShortfall
from inventory.signals import ShortfallNotice, ShortReservation, stock_shortfall
from loyalty.models import Earning, LoyaltyAccount
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from orders.services import repair_fulfilment, repair_shortfall
from pricing import services as pricing_services
from tests.orders.conftest import fund, level, pickup_body, ship_body, stock

ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"
MOVEMENTS = "/api/v1/stock/movements/"


def place(client, body) -> dict:
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def pick(client, fid, **found):
    response = client.post(
        f"{FULFILMENTS}{fid}/pick/",
        {"lines": [{"sku": sku, "quantity": n} for sku, n in found.items()]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def ship(client, fid):
    response = client.post(
        f"{FULFILMENTS}{fid}/ship/",
        {"carrier": "PostNL", "tracking_number": f"T{fid}"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def collect(client, fid, code):
    response = client.post(f"{FULFILMENTS}{fid}/collect/", {"pickup_code": code}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def fulfilment_lines(fid):
    return [
        (line.order_line.sku, line.quantity, line.picked_quantity, line.short_quantity)
        for line in Fulfilment.objects.get(pk=fid).lines.select_related("order_line")
    ]


def ledger(sku, location):
    return [
        (m.kind, m.quantity)
        for m in StockMovement.objects.filter(sku__sku=sku, location__code=location).order_by("id")
    ]


@pytest.fixture
def staff(api_for, network):
    """Store staff at every location of the network."""
    return api_for(
        Role.STORE_STAFF, locations=["WH-NEAR", "WH-FAR", "STORE-AMS", "STORE-UTR"], name="staff"
    )


# --- Short picks ---------------------------------------------------------------------------


def test_a_short_pick_is_rerouted_to_another_location(
    network, storefront, customer, staff, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 2)
    stock("TEE", "WH-FAR", 5)
    order = place(storefront, ship_body(("TEE", 2), customer=customer.pk, email=customer.email))
    number = order["number"]
    [first] = order["fulfilments"]
    assert first["location"] == "WH-NEAR"

    with django_capture_on_commit_callbacks(execute=True):
        body = pick(staff, first["id"], TEE=1)
    assert body["status"] == "picking"
    assert [(li["picked_quantity"], li["short_quantity"]) for li in body["lines"]] == [(1, 1)]
    [rerouted] = body["rerouted_to"]
    assert (rerouted["location"], rerouted["status"]) == ("WH-FAR", "pending")
    new = Fulfilment.objects.get(pk=rerouted["id"])
    assert new.rerouted_from_id == first["id"]
    assert fulfilment_lines(new.pk) == [("TEE", 1, 0, 0)]
    # The hold moved: 1 found at WH-NEAR, 1 at WH-FAR; the unit not found is in the ledger.
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (1, 1)
    assert (level("TEE", "WH-FAR").on_hand, level("TEE", "WH-FAR").reserved) == (5, 1)
    assert ledger("TEE", "WH-NEAR") == [(MovementKind.RECEIPT, 2), (MovementKind.ADJUSTMENT, -1)]
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert "Short pick" in adjustment.reason
    assert adjustment.reference == f"fulfilment:{first['id']}"
    assert StockShortfall.objects.count() == 0  # a short pick never undercuts anyone's hold
    assert Reservation.objects.get(pk=new.reservation_id).reference == f"fulfilment:{new.pk}"
    assert OrderLine.objects.get(order__number=number).cancelled_quantity == 0
    assert Order.objects.get(number=number).status == OrderStatus.IN_PROGRESS
    rerouted_event = OrderEvent.objects.get(order__number=number, kind=EventKind.REROUTED)
    assert rerouted_event.detail["location"] == "WH-FAR"
    assert rerouted_event.detail["from_location"] == "WH-NEAR"
    assert not Notification.objects.filter(kind=NotificationKind.REFUNDED).exists()

    # The customer still sees one order: two fulfilments, no code, nothing cancelled.
    seen = storefront.get(f"{ORDERS}{number}/").json()
    assert sorted(f["location"] for f in seen["fulfilments"]) == ["WH-FAR", "WH-NEAR"]

    ship(staff, first["id"])
    payment = Payment.objects.get(order__number=number)
    assert payment.captured_amount == Decimal("20.00")  # one of two TEEs
    assert Order.objects.get(number=number).status == OrderStatus.IN_PROGRESS
    pick(staff, new.pk, TEE=1)
    ship(staff, new.pk)
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CAPTURED, Decimal("40.00"))
    assert Order.objects.get(number=number).status == OrderStatus.COMPLETED
    assert ledger("TEE", "WH-NEAR") == [
        (MovementKind.RECEIPT, 2),
        (MovementKind.ADJUSTMENT, -1),
        (MovementKind.SALE, -1),
    ]
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (0, 0)
    assert (level("TEE", "WH-FAR").on_hand, level("TEE", "WH-FAR").reserved) == (4, 0)
    # Points per hand-over: 33.06 net for two → 16.53 each → 16 + 16.
    assert sorted(Earning.objects.values_list("reference", "points")) == sorted(
        [(f"fulfilment:{first['id']}", 16), (f"fulfilment:{new.pk}", 16)]
    )


def test_a_short_pick_nobody_can_serve_is_cancelled_and_refunded(
    network, storefront, staff, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 2)
    stock("MUG", "WH-NEAR", 1)
    order = place(storefront, ship_body(("TEE", 2), ("MUG", 1)))
    number = order["number"]
    fid = order["fulfilments"][0]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        body = pick(staff, fid, TEE=1, MUG=1)
    assert body["rerouted_to"] == []
    assert [li["short_quantity"] for li in body["lines"]] == [1, 0]
    assert list(
        OrderLine.objects.filter(order__number=number).values_list("sku", "cancelled_quantity")
    ) == [("TEE", 1), ("MUG", 0)]
    payment = Payment.objects.get(order__number=number)
    # The hold is reduced by what one TEE cost: 48.50 → 28.50; nothing was captured yet.
    assert (payment.status, payment.amount, payment.captured_amount) == (
        PaymentStatus.AUTHORISED,
        Decimal("28.50"),
        Decimal("0.00"),
    )
    refunded = Notification.objects.get(order__number=number, kind=NotificationKind.REFUNDED)
    assert refunded.context["amount"] == "20.00"
    assert mail.outbox[-1].subject == f"A refund for order {number}"
    assert "We refunded 20.00 EUR" in mail.outbox[-1].body
    cancelled = OrderEvent.objects.get(order__number=number, kind=EventKind.LINES_CANCELLED)
    assert cancelled.detail["lines"][0]["sku"] == "TEE"
    assert cancelled.detail["amount"] == "20.00"
    assert level("TEE", "WH-NEAR").on_hand == 1

    ship(staff, fid)
    order_row = Order.objects.get(number=number)
    assert order_row.status == OrderStatus.PARTIALLY_CANCELLED
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CAPTURED, Decimal("28.50"))
    detail = storefront.get(f"{ORDERS}{number}/").json()
    assert detail["status"] == "partially_cancelled"


def test_part_of_a_short_pick_is_rerouted_and_the_rest_cancelled(network, storefront, staff):
    stock("TEE", "WH-NEAR", 4)
    stock("TEE", "WH-FAR", 1)
    order = place(storefront, ship_body(("TEE", 4)))
    fid = order["fulfilments"][0]["id"]
    body = pick(staff, fid, TEE=1)
    [rerouted] = body["rerouted_to"]
    assert fulfilment_lines(rerouted["id"]) == [("TEE", 1, 0, 0)]
    assert OrderLine.objects.get(order__number=order["number"]).cancelled_quantity == 2
    assert Payment.objects.get(order__number=order["number"]).amount == Decimal("40.00")


def test_nothing_found_cancels_the_fulfilment_and_an_order_with_nothing_left(
    network, storefront, staff, django_capture_on_commit_callbacks
):
    promotion = pricing_services.create_promotion(
        name="5 off", kind="amount_off", value=Decimal("5.00"), requires_coupon=True
    )
    coupon = pricing_services.create_coupon(promotion=promotion, code="FIVE", usage_limit=10)
    stock("TEE", "WH-NEAR", 1)
    order = place(storefront, ship_body(("TEE", 1), coupon_codes=["FIVE"]))
    coupon.refresh_from_db()
    assert coupon.used_count == 1
    fid = order["fulfilments"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        body = pick(staff, fid, TEE=0)
    assert body["status"] == "cancelled"
    order_row = Order.objects.get(number=order["number"])
    assert order_row.status == OrderStatus.CANCELLED
    assert order_row.cancelled_at is not None
    payment = Payment.objects.get(order=order_row)
    assert (payment.status, payment.amount) == (PaymentStatus.VOIDED, Decimal("0.00"))
    coupon.refresh_from_db()
    assert coupon.used_count == 0
    assert Reservation.objects.get().status == Reservation.Status.RELEASED
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (0, 0)
    assert (
        Notification.objects.get(order=order_row, kind=NotificationKind.REFUNDED).context["amount"]
        == "15.00"
    )
    kinds = set(order_row.events.values_list("kind", flat=True))
    assert {
        EventKind.SHORT_PICK,
        EventKind.LINES_CANCELLED,
        EventKind.FULFILMENT_CANCELLED,
    } <= kinds
    assert EventKind.COUPONS_RELEASED in kinds


def test_a_pickup_short_is_cancelled_and_refunded_never_sent_to_another_store(
    network, storefront, staff, django_capture_on_commit_callbacks
):
    stock("TEE", "STORE-AMS", 2)
    stock("MUG", "STORE-AMS", 1)
    stock("TEE", "STORE-UTR", 3)
    order = place(storefront, pickup_body("STORE-AMS", ("TEE", 2), ("MUG", 1)))
    number = order["number"]
    fid, code = order["fulfilments"][0]["id"], order["fulfilments"][0]["pickup_code"]

    with django_capture_on_commit_callbacks(execute=True):
        body = pick(staff, fid, TEE=1, MUG=1)
    assert body["rerouted_to"] == []
    assert Fulfilment.objects.filter(order__number=number).count() == 1
    assert OrderLine.objects.get(order__number=number, sku="TEE").cancelled_quantity == 1
    cancelled = OrderEvent.objects.get(order__number=number, kind=EventKind.LINES_CANCELLED)
    assert cancelled.detail["alternatives"] == ["STORE-UTR"]
    assert Notification.objects.get(kind=NotificationKind.REFUNDED).context["amount"] == "20.00"
    assert level("TEE", "STORE-UTR").reserved == 0

    assert staff.post(f"{FULFILMENTS}{fid}/ready/", format="json").status_code == 200
    collect(staff, fid, code)
    assert Order.objects.get(number=number).status == OrderStatus.PARTIALLY_CANCELLED
    payment = Payment.objects.get(order__number=number)
    assert (payment.amount, payment.captured_amount) == (Decimal("28.50"), Decimal("28.50"))
    assert (level("TEE", "STORE-AMS").on_hand, level("TEE", "STORE-AMS").reserved) == (0, 0)


def test_redeemed_points_come_back_in_proportion(
    network, me, customer, staff, django_capture_on_commit_callbacks
):
    fund(customer, 1000)
    stock("TEE", "STORE-AMS", 2)
    body = pickup_body(
        "STORE-AMS",
        ("TEE", 2),
        email=customer.email,
        loyalty={"card_number": customer.account.card_number, "redeem_points": 1000},
    )
    order = place(me, body)
    assert order["points_value"] == "10.00"
    assert LoyaltyAccount.objects.get(customer=customer).points == 0
    fid, code = order["fulfilments"][0]["id"], order["fulfilments"][0]["pickup_code"]

    with django_capture_on_commit_callbacks(execute=True):
        pick(staff, fid, TEE=1)
    # One TEE of two: 20.00, of which 5.00 paid with points (500 points) and 15.00 with money.
    assert LoyaltyAccount.objects.get(customer=customer).points == 500
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.amount == Decimal("15.00")
    refunded = Notification.objects.get(kind=NotificationKind.REFUNDED)
    assert (refunded.context["amount"], refunded.context["points"]) == ("15.00", 500)
    assert "500 points are back" in mail.outbox[-1].body
    event = OrderEvent.objects.get(order__number=order["number"], kind=EventKind.POINTS_REFUNDED)
    assert event.detail["points"] == 500

    staff.post(f"{FULFILMENTS}{fid}/ready/", format="json")
    collect(staff, fid, code)
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("15.00")
    # Earned on the net of one TEE: 33.06 / 2 = 16.53 → 16 points.
    assert LoyaltyAccount.objects.get(customer=customer).points == 516


def test_a_short_pick_leaves_other_orders_holds_alone(network, storefront, staff):
    stock("TEE", "WH-NEAR", 3)
    first = place(storefront, ship_body(("TEE", 2)))
    second = place(storefront, ship_body(("TEE", 1)))  # the newest hold at WH-NEAR
    pick(staff, first["fulfilments"][0]["id"], TEE=1)
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (2, 2)
    second_hold = Reservation.objects.get(
        pk=Fulfilment.objects.get(pk=second["fulfilments"][0]["id"]).reservation_id
    )
    assert [(line.quantity, line.shorted) for line in second_hold.lines.all()] == [(1, 0)]
    assert StockShortfall.objects.count() == 0
    assert OrderLine.objects.get(order__number=second["number"]).cancelled_quantity == 0


def test_below_safety_stock_the_original_hold_is_kept_and_settled_at_the_hand_over(
    network, storefront, staff
):
    stock("TEE", "WH-NEAR", 3)
    order = place(storefront, ship_body(("TEE", 3)))
    # Safety stock raised after the order: the 2 units found cannot be held again.
    inventory_services.set_stock_parameters(sku="TEE", location="WH-NEAR", safety_stock=2)
    fid = order["fulfilments"][0]["id"]
    pick(staff, fid, TEE=2)
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (2, 2)
    assert OrderLine.objects.get(order__number=order["number"]).cancelled_quantity == 1
    ship(staff, fid)
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (0, 0)
    assert sum(q for _, q in ledger("TEE", "WH-NEAR")) == 0


# --- Stock shortfalls ----------------------------------------------------------------------


def test_a_count_that_undercuts_an_order_is_repaired_by_rerouting(
    network, storefront, merchandiser, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 2)
    stock("TEE", "WH-FAR", 5)
    order = place(storefront, ship_body(("TEE", 2)))
    number = order["number"]
    fid = order["fulfilments"][0]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        counted = merchandiser.post(
            MOVEMENTS,
            {
                "sku": "TEE",
                "location": "WH-NEAR",
                "kind": "count",
                "quantity": 1,
                "reason": "cycle",
            },
            format="json",
        )
    assert counted.status_code == 201, counted.json()
    shortfall = StockShortfall.objects.get()
    assert shortfall.resolved_at is not None
    assert fulfilment_lines(fid) == [("TEE", 2, 0, 1)]
    [new] = Fulfilment.objects.filter(rerouted_from_id=fid)
    assert (new.location.code, new.status) == ("WH-FAR", FulfilmentStatus.PENDING)
    assert fulfilment_lines(new.pk) == [("TEE", 1, 0, 0)]
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (1, 1)
    assert level("TEE", "WH-FAR").reserved == 1
    event = OrderEvent.objects.get(order__number=number, kind=EventKind.SHORTFALL)
    assert event.detail == {
        "shortfall": shortfall.pk,
        "fulfilment": fid,
        "location": "WH-NEAR",
        "lines": {"TEE": 1},
    }
    assert event.actor == "system:shortfall"
    assert OrderLine.objects.get(order__number=number).cancelled_quantity == 0

    # The same notice again (a redelivered message) changes nothing.
    events = OrderEvent.objects.count()
    notice = ShortfallNotice(
        shortfall_id=shortfall.pk,
        sku="TEE",
        location="WH-NEAR",
        quantity=1,
        reservations=(ShortReservation(Fulfilment.objects.get(pk=fid).reservation_id, None, 1),),
    )
    with django_capture_on_commit_callbacks(execute=True):
        stock_shortfall.send(sender=None, notice=notice)
    assert OrderEvent.objects.count() == events
    assert Fulfilment.objects.filter(order__number=number).count() == 2
    assert repair_fulfilment(fulfilment_id=fid) is None


def test_a_shortfall_nobody_can_serve_is_cancelled_and_refunded_once(
    network, storefront, merchandiser, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 3)
    order = place(storefront, ship_body(("TEE", 3)))
    number = order["number"]
    fid = order["fulfilments"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        merchandiser.post(
            MOVEMENTS,
            {"sku": "TEE", "location": "WH-NEAR", "kind": "damage", "quantity": 2, "reason": "wet"},
            format="json",
        )
    assert OrderLine.objects.get(order__number=number).cancelled_quantity == 2
    assert Payment.objects.get(order__number=number).amount == Decimal("20.00")
    refunds = Notification.objects.filter(order__number=number, kind=NotificationKind.REFUNDED)
    assert [n.context["amount"] for n in refunds] == ["40.00"]
    assert "No longer in stock" in refunds[0].context["reason"]
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.PENDING

    shortfall = StockShortfall.objects.get()
    again = repair_shortfall(
        shortfall_id=shortfall.pk,
        reservations=[(Fulfilment.objects.get(pk=fid).reservation_id, "order:x", 2)],
    )
    assert again == 0
    assert OrderLine.objects.get(order__number=number).cancelled_quantity == 2
    assert refunds.count() == 1


def test_a_shortfall_after_the_pickup_is_ready_cancels_those_units(
    network, storefront, staff, merchandiser, django_capture_on_commit_callbacks
):
    stock("TEE", "STORE-AMS", 2)
    order = place(storefront, pickup_body("STORE-AMS", ("TEE", 2)))
    fid, code = order["fulfilments"][0]["id"], order["fulfilments"][0]["pickup_code"]
    pick(staff, fid, TEE=2)
    staff.post(f"{FULFILMENTS}{fid}/ready/", format="json")
    with django_capture_on_commit_callbacks(execute=True):
        merchandiser.post(
            MOVEMENTS,
            {"sku": "TEE", "location": "STORE-AMS", "kind": "count", "quantity": 1},
            format="json",
        )
    assert fulfilment_lines(fid) == [("TEE", 2, 1, 1)]
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.READY_FOR_PICKUP
    collect(staff, fid, code)
    assert Order.objects.get(number=order["number"]).status == OrderStatus.PARTIALLY_CANCELLED
    assert (level("TEE", "STORE-AMS").on_hand, level("TEE", "STORE-AMS").reserved) == (0, 0)


def test_an_unrepaired_shortfall_is_repaired_before_the_hand_over(network, storefront, staff):
    """Without the signal's repair (a broker that was down), the next step repairs first."""
    stock("TEE", "WH-NEAR", 2)
    order = place(storefront, ship_body(("TEE", 2)))
    fid = order["fulfilments"][0]["id"]
    pick(staff, fid, TEE=2)
    # No on-commit callbacks run in this test: the shortfall is recorded but not repaired.
    inventory_services.count_stock(sku="TEE", location="WH-NEAR", counted=1)
    assert fulfilment_lines(fid) == [("TEE", 2, 2, 0)]
    ship(staff, fid)
    assert fulfilment_lines(fid) == [("TEE", 2, 1, 1)]
    assert OrderLine.objects.get(order__number=order["number"]).cancelled_quantity == 1
    assert (level("TEE", "WH-NEAR").on_hand, level("TEE", "WH-NEAR").reserved) == (0, 0)
    assert Order.objects.get(number=order["number"]).status == OrderStatus.PARTIALLY_CANCELLED


def test_a_shortfall_on_a_hold_that_is_not_an_orders_stays_for_a_person(
    network, storefront, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 2)
    inventory_services.reserve(
        channel="web",
        lines=[inventory_services.HoldLine("TEE", "WH-NEAR", 1)],
        reference="cart:42",
        owner="someone",
    )
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.count_stock(sku="TEE", location="WH-NEAR", counted=0)
    assert StockShortfall.objects.get().resolved_at is None


def test_the_ready_mail_lists_what_is_handed_over_after_a_short_pick(
    network, storefront, staff, django_capture_on_commit_callbacks
):
    stock("TEE", "STORE-AMS", 2)
    stock("MUG", "STORE-AMS", 1)
    order = place(storefront, pickup_body("STORE-AMS", ("TEE", 2), ("MUG", 1)))
    fid = order["fulfilments"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        pick(staff, fid, TEE=1, MUG=0)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(f"{FULFILMENTS}{fid}/ready/", format="json").status_code == 200
    (ready,) = mail.outbox
    lines = [line.strip() for line in ready.body.splitlines() if "×" in line]
    assert len(lines) == 1
    assert lines[0].startswith("1 × ")
    assert lines[0].endswith("(TEE)")
