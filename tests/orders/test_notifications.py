"""Notifications: recorded with the change that caused them, sent after the commit by a
Celery task from templates, once per key, failures recorded."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from orders import tasks
from orders.models import Fulfilment, FulfilmentStatus, Notification, NotificationStatus
from orders.services import LineInput, OrderRequest, notify, place_order
from orders.services.notifications import resend_failed_notifications
from tests.orders.conftest import stock


@pytest.fixture
def pickup_order(network, django_capture_on_commit_callbacks):
    stock("TEE", "STORE-AMS", 5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(
            request=OrderRequest(
                channel="web",
                lines=[LineInput("TEE", 2)],
                method="pickup",
                pickup_location="STORE-AMS",
                email="anna@example.com",
            ),
            actor="test",
        )
    return order


def test_placed_is_sent_once_after_the_commit(pickup_order):
    notification = Notification.objects.get(order=pickup_order)
    assert notification.kind == "placed"
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1
    [message] = mail.outbox
    assert message.to == ["anna@example.com"]
    code = pickup_order.fulfilments.get().pickup_code
    assert code in message.body  # the customer gets the code ...
    assert code not in notification.body  # ... staff reading the record do not
    assert "••••••" in notification.body
    # The task again (a redelivered message): nothing more is sent.
    assert tasks.send_notification(notification.pk) is False
    assert len(mail.outbox) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(
    network, django_capture_on_commit_callbacks
):
    stock("TEE", "STORE-AMS", 5)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        place_order(
            request=OrderRequest(
                channel="web",
                lines=[LineInput("TEE", 1)],
                method="pickup",
                pickup_location="STORE-AMS",
                email="anna@example.com",
            )
        )
    assert len(callbacks) == 1  # enqueued on commit, not before
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("kind", "context", "subject", "phrases"),
    [
        ("ready_for_pickup", {}, "is ready for pickup", ["Show this code at the counter"]),
        ("shipped", {}, "is on its way", ["Carrier: PostNL", "Tracking number: 3S123"]),
        ("cancelled", {"reason": "out of stock"}, "is cancelled", ["Reason: out of stock"]),
        (
            "refunded",
            {"amount": "20.00", "points": 300},
            "A refund for order",
            ["20.00 EUR", "300 points"],
        ),
    ],
)
def test_every_kind_renders_from_its_template(
    pickup_order, django_capture_on_commit_callbacks, kind, context, subject, phrases
):
    fulfilment = pickup_order.fulfilments.get()
    Fulfilment.objects.filter(pk=fulfilment.pk).update(
        carrier="PostNL", tracking_number="3S123", status=FulfilmentStatus.READY_FOR_PICKUP
    )
    fulfilment.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notify(order=pickup_order, kind=kind, fulfilment=fulfilment, context=context)
    message = mail.outbox[-1]
    assert subject in message.subject
    assert pickup_order.number in message.subject
    for phrase in phrases:
        assert phrase in message.body
    if kind == "ready_for_pickup":
        assert fulfilment.pickup_code in message.body
    assert "2 × Tee item (TEE)" in message.body or kind in ("cancelled", "refunded")


def test_notify_is_idempotent_on_its_key(pickup_order, django_capture_on_commit_callbacks):
    fulfilment = pickup_order.fulfilments.get()
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(order=pickup_order, kind="ready_for_pickup", fulfilment=fulfilment)
        second = notify(order=pickup_order, kind="ready_for_pickup", fulfilment=fulfilment)
    assert first.pk == second.pk
    assert Notification.objects.filter(kind="ready_for_pickup").count() == 1
    assert len(mail.outbox) == 2  # placed, ready


def test_a_failed_send_is_recorded_and_sent_later(
    pickup_order, monkeypatch, django_capture_on_commit_callbacks
):
    from orders.services import notifications

    def broken(*args, **kwargs):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr(notifications, "send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(order=pickup_order, kind="cancelled", context={"reason": "x"})
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert notification.error == "SMTP server unreachable"
    assert notification.attempts == 1
    monkeypatch.undo()
    Notification.objects.filter(pk=notification.pk).update(
        created_at=notification.created_at - timedelta(minutes=10)
    )
    assert resend_failed_notifications() == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.error == ""
    assert notification.attempts == 2


def test_no_email_address_no_notification(pickup_order):
    pickup_order.email = ""
    assert notify(order=pickup_order, kind="shipped") is None


def test_amount_in_cancelled_mail(pickup_order, django_capture_on_commit_callbacks):
    from orders.services import cancel_order

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=pickup_order, reason="", actor="test")
    assert f"payment of {Decimal('40.00')} EUR was released" in mail.outbox[-1].body
