"""The one write the API has no endpoint for: telling the customer again that a pickup is
waiting. It records a new ``ready_for_pickup`` notification through
:func:`orders.services.notifications.notify` (sent after the commit, by the same task and
template as the first one, with the same collection deadline)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from orders.errors import InvalidState
from orders.models import (
    Fulfilment,
    FulfilmentStatus,
    Notification,
    NotificationKind,
)
from orders.services.notifications import notification_key, notify
from orders.services.pickup_times import local_text, pickup_hold_days

RESEND_PAUSE = timedelta(minutes=2)  # a double tap sends one reminder, not two


def resend_ready_notification(*, fulfilment: Fulfilment, now: datetime) -> bool:
    """Re-send the "ready for pickup" message. Returns False (nothing sent) when one was
    recorded in the last two minutes. 409 ``invalid_state`` unless the pickup is ready.
    Atomic."""
    if fulfilment.status != FulfilmentStatus.READY_FOR_PICKUP:
        raise InvalidState("Only an order on the ready shelf can be announced again.")
    order = fulfilment.order
    base = notification_key(
        order=order, kind=NotificationKind.READY_FOR_PICKUP, fulfilment=fulfilment
    )
    with transaction.atomic():
        recent = Notification.objects.filter(
            fulfilment=fulfilment,
            kind=NotificationKind.READY_FOR_PICKUP,
            created_at__gte=now - RESEND_PAUSE,
        ).exists()
        if recent:
            return False
        days = pickup_hold_days(order.channel.code)
        ready_at = fulfilment.ready_at or now
        sent = notify(
            order=order,
            kind=NotificationKind.READY_FOR_PICKUP,
            fulfilment=fulfilment,
            key=f"{base}:resend:{int(now.timestamp())}",
            context={
                "collect_by": local_text(
                    ready_at + timedelta(days=days), fulfilment.location.timezone
                ),
                "hold_days": days,
            },
        )
    return sent is not None
