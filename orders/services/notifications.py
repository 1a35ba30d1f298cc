"""Messages to the customer: recorded first (inside the transaction that caused them), sent by
a Celery task after the commit, each at most once per ``key``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from orders.models import (
    Fulfilment,
    Notification,
    NotificationKind,
    NotificationStatus,
    Order,
)

logger = logging.getLogger(__name__)


def notification_key(
    *, order: Order, kind: NotificationKind | str, fulfilment: Fulfilment | None = None
) -> str:
    key = f"{order.number}:{kind}"
    return f"{key}:{fulfilment.pk}" if fulfilment is not None else key


def notify(
    *,
    order: Order,
    kind: NotificationKind | str,
    fulfilment: Fulfilment | None = None,
    key: str | None = None,
    context: dict[str, Any] | None = None,
) -> Notification | None:
    """Record a notification and send it once the current transaction commits.

    Idempotent on ``key`` (default: order number, kind and fulfilment id; a refund passes
    its refund reference): a second call returns the first notification and sends nothing
    more. ``context`` adds JSON values to the template (``amount`` for ``refunded``,
    ``reason`` for ``cancelled``). Returns None when the order has no email address."""
    if not order.email:
        return None
    kind = NotificationKind(kind)
    key = key or notification_key(order=order, kind=kind, fulfilment=fulfilment)
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "order": order,
            "fulfilment": fulfilment,
            "kind": kind,
            "to": order.email,
            "context": context or {},
        },
    )
    if created:
        pk = notification.pk
        transaction.on_commit(lambda: _enqueue(pk))
    return notification


def _enqueue(notification_id: int) -> None:
    from orders.tasks import send_notification  # tasks import services, not the reverse

    send_notification.delay(notification_id)


def render_notification(notification: Notification) -> tuple[str, str]:
    """Subject and plain-text body from ``orders/email/<kind>_subject.txt`` and
    ``orders/email/<kind>.txt``."""
    order = (
        Order.objects.select_related("channel", "customer")
        .prefetch_related("lines")
        .get(pk=notification.order_id)
    )
    fulfilment = None
    if notification.fulfilment_id is not None:
        fulfilment = (
            Fulfilment.objects.select_related("location")
            .prefetch_related("lines__order_line")
            .get(pk=notification.fulfilment_id)
        )
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "fulfilment": fulfilment,
        "fulfilments": list(order.fulfilments.select_related("location")),
        **notification.context,
    }
    kind = notification.kind
    subject = render_to_string(f"orders/email/{kind}_subject.txt", context)
    body = render_to_string(f"orders/email/{kind}.txt", context)
    return " ".join(subject.split()), body


def _masked(body: str, order_id: int) -> str:
    """The body as recorded for staff: pickup codes are the customer's alone."""
    codes = Fulfilment.objects.filter(order_id=order_id).exclude(pickup_code="")
    for code in codes.values_list("pickup_code", flat=True):
        body = body.replace(code, "••••••")
    return body


def send_notification(*, notification_id: int) -> bool:
    """Send one recorded notification. Idempotent: a notification already sent is not sent
    again (the row is locked while sending, so two workers cannot both send it). Returns
    whether this call sent it; a failure is recorded on the row (``failed``, ``error``) and
    may be retried by calling again."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status == NotificationStatus.SENT:
            return False
        notification.attempts += 1
        try:
            subject, body = render_notification(notification)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.to])
        except Exception as exc:  # the outside world: record it, never lose the row
            logger.exception("notification %s could not be sent", notification_id)
            notification.status = NotificationStatus.FAILED
            notification.error = str(exc)[:500]
            notification.save(update_fields=["status", "error", "attempts"])
            return False
        notification.subject = subject[:300]
        notification.body = _masked(body, notification.order_id)
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        notification.error = ""
        notification.save(
            update_fields=["subject", "body", "status", "sent_at", "error", "attempts"]
        )
    logger.info("sent %s notification for order %s", notification.kind, notification.order_id)
    return True


def resend_failed_notifications(*, limit: int = 100) -> int:
    """Try the failed (and stuck pending) notifications again; returns how many were sent."""
    settled = timezone.now() - timedelta(minutes=5)  # leave the ones on their way alone
    ids = list(
        Notification.objects.exclude(status=NotificationStatus.SENT)
        .filter(attempts__lt=5, created_at__lt=settled)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(send_notification(notification_id=pk) for pk in ids)
