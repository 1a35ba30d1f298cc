"""Pickups nobody collects are cancelled after the channel's hold period: stock released,
money and points given back, coupons released, the customer told; the job and its command
are safe to run twice."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from config.api.roles import Role
from inventory.models import Reservation
from loyalty.models import LoyaltyAccount
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from orders.services import cancel_uncollected_pickups
from orders.tasks_fulfilment import cancel_uncollected_pickups as nightly_task
from pricing import services as pricing_services
from tests.orders.conftest import fund, level, pickup_body, ship_body, stock

ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"


@pytest.fixture
def staff(api_for, network):
    return api_for(Role.STORE_STAFF, locations=["STORE-AMS", "WH-NEAR"], name="staff")


def ready_pickup(client, staff, body) -> tuple[dict, Fulfilment]:
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    fid = order["fulfilments"][0]["id"]
    lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in order["lines"]]
    assert (
        staff.post(f"{FULFILMENTS}{fid}/pick/", {"lines": lines}, format="json").status_code == 200
    )
    assert staff.post(f"{FULFILMENTS}{fid}/ready/", format="json").status_code == 200
    return order, Fulfilment.objects.get(pk=fid)


def test_an_uncollected_pickup_is_cancelled_after_seven_days(
    network, me, customer, staff, django_capture_on_commit_callbacks
):
    promotion = pricing_services.create_promotion(
        name="5 off", kind="amount_off", value=Decimal("5.00"), requires_coupon=True
    )
    coupon = pricing_services.create_coupon(promotion=promotion, code="FIVE", usage_limit=10)
    fund(customer, 1000)
    stock("TEE", "STORE-AMS", 5)
    body = pickup_body(
        "STORE-AMS",
        ("TEE", 2),
        email=customer.email,
        coupon_codes=["FIVE"],
        loyalty={"card_number": customer.account.card_number, "redeem_points": 500},
    )
    order, fulfilment = ready_pickup(me, staff, body)
    number = order["number"]
    assert level("TEE", "STORE-AMS").reserved == 2
    assert LoyaltyAccount.objects.get(customer=customer).points == 500

    almost = fulfilment.ready_at + timedelta(days=7) - timedelta(seconds=1)
    assert cancel_uncollected_pickups(now=almost) == []
    assert Fulfilment.objects.get(pk=fulfilment.pk).status == FulfilmentStatus.READY_FOR_PICKUP

    due = fulfilment.ready_at + timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        [done] = cancel_uncollected_pickups(now=due)
    assert (done.order, done.fulfilment, done.location, done.hold_days, done.units) == (
        number,
        fulfilment.pk,
        "STORE-AMS",
        7,
        2,
    )
    assert done.cancelled
    assert (done.refunded, done.points) == (Decimal("25.00"), 500)  # 5.00 off per TEE

    row = Order.objects.get(number=number)
    assert row.status == OrderStatus.CANCELLED
    assert row.cancelled_at == due
    assert Fulfilment.objects.get(pk=fulfilment.pk).status == FulfilmentStatus.CANCELLED
    assert Reservation.objects.get(pk=fulfilment.reservation_id).status == "released"
    assert (level("TEE", "STORE-AMS").on_hand, level("TEE", "STORE-AMS").reserved) == (5, 0)
    payment = Payment.objects.get(order=row)
    assert (payment.status, payment.captured_amount) == (PaymentStatus.VOIDED, Decimal("0.00"))
    coupon.refresh_from_db()
    assert coupon.used_count == 0
    assert LoyaltyAccount.objects.get(customer=customer).points == 1000
    notification = Notification.objects.get(order=row, kind=NotificationKind.CANCELLED)
    assert notification.context["reason"] == "Not collected within 7 days."
    assert mail.outbox[-1].subject == f"Order {number} is cancelled"
    assert "Not collected within 7 days." in mail.outbox[-1].body
    kinds = set(row.events.values_list("kind", flat=True))
    assert {
        EventKind.PICKUP_EXPIRED,
        EventKind.LINES_CANCELLED,
        EventKind.COUPONS_RELEASED,
    } <= kinds
    expired = row.events.get(kind=EventKind.PICKUP_EXPIRED)
    assert expired.actor == "system:pickup-expiry"

    # Twice is harmless: nothing is due any more.
    events = row.events.count()
    assert cancel_uncollected_pickups(now=due + timedelta(days=1)) == []
    assert row.events.count() == events
    assert Notification.objects.filter(order=row, kind=NotificationKind.CANCELLED).count() == 1
    # And it cannot be collected any more.
    code = order["fulfilments"][0]["pickup_code"]
    late = staff.post(
        f"{FULFILMENTS}{fulfilment.pk}/collect/", {"pickup_code": code}, format="json"
    )
    assert late.status_code == 409
    assert late.json()["code"] == "invalid_state"


def test_hold_days_per_channel(network, storefront, staff, settings):
    settings.ORDERS_PICKUP_HOLD_DAYS = 10
    settings.ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL = {"web": 3}
    stock("TEE", "STORE-AMS", 5)
    _, fulfilment = ready_pickup(storefront, staff, pickup_body("STORE-AMS", ("TEE", 1)))
    assert cancel_uncollected_pickups(now=fulfilment.ready_at + timedelta(days=2)) == []
    [done] = cancel_uncollected_pickups(now=fulfilment.ready_at + timedelta(days=3))
    assert done.hold_days == 3


def test_only_pickups_ready_and_not_collected_are_touched(network, storefront, staff):
    stock("TEE", "STORE-AMS", 5)
    stock("TEE", "WH-NEAR", 5)
    pending = storefront.post(ORDERS, pickup_body("STORE-AMS", ("TEE", 1)), format="json").json()
    _, collected = ready_pickup(storefront, staff, pickup_body("STORE-AMS", ("TEE", 1)))
    code = Fulfilment.objects.get(pk=collected.pk).pickup_code
    staff.post(f"{FULFILMENTS}{collected.pk}/collect/", {"pickup_code": code}, format="json")
    storefront.post(ORDERS, ship_body(("TEE", 1)), format="json")
    later = timezone.now() + timedelta(days=30)
    assert cancel_uncollected_pickups(now=later) == []
    assert Order.objects.get(number=pending["number"]).status == OrderStatus.PLACED
    assert Fulfilment.objects.get(pk=collected.pk).status == FulfilmentStatus.COLLECTED


def test_the_command_prints_what_it_did_and_a_dry_run_changes_nothing(
    network, storefront, staff, settings
):
    settings.ORDERS_PICKUP_HOLD_DAYS = 0  # everything ready is due at once
    stock("TEE", "STORE-AMS", 5)
    order, fulfilment = ready_pickup(storefront, staff, pickup_body("STORE-AMS", ("TEE", 2)))

    out = StringIO()
    call_command("cancel_uncollected_pickups", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"Would cancel pickup {fulfilment.pk} of order {order['number']} at STORE-AMS" in text
    assert "2 unit(s)" in text
    assert "1 uncollected pickup(s) would be cancelled." in text
    assert Fulfilment.objects.get(pk=fulfilment.pk).status == FulfilmentStatus.READY_FOR_PICKUP
    assert level("TEE", "STORE-AMS").reserved == 2

    out = StringIO()
    call_command("cancel_uncollected_pickups", stdout=out)
    text = out.getvalue()
    assert f"Cancelled pickup {fulfilment.pk} of order {order['number']} at STORE-AMS" in text
    assert "40.00 given back" in text
    assert "1 uncollected pickup(s) cancelled." in text
    assert level("TEE", "STORE-AMS").reserved == 0

    out = StringIO()
    call_command("cancel_uncollected_pickups", stdout=out)
    assert out.getvalue() == "0 uncollected pickup(s) cancelled.\n"


def test_the_nightly_task_runs_the_same_job(network, storefront, staff, settings):
    settings.ORDERS_PICKUP_HOLD_DAYS = 0
    stock("TEE", "STORE-AMS", 5)
    ready_pickup(storefront, staff, pickup_body("STORE-AMS", ("TEE", 1)))
    assert nightly_task.delay().get() == 1
    assert nightly_task.delay().get() == 0


def test_the_beat_schedule_runs_it_daily():
    from config.celery import app

    entry = app.conf.beat_schedule["orders-cancel-uncollected-pickups"]
    assert entry["task"] == "orders.tasks_fulfilment.cancel_uncollected_pickups"
    assert entry["task"] in app.tasks
