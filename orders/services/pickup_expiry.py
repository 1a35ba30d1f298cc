"""Pickups nobody collected: cancelled after the channel's hold period.

A fulfilment ``ready_for_pickup`` since more than :func:`pickup_hold_days` days (per channel:
``settings.ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL``, else ``ORDERS_PICKUP_HOLD_DAYS``, 7) is
cancelled: its hold is released, its units are cancelled on the order lines, the money for
them is given back (the authorisation is reduced or voided; nothing was captured before a
hand-over), redeemed points go back in proportion, coupon use is given back when nothing of
the order is left, and the customer gets a ``cancelled`` message. Run daily by Celery beat
(``orders.tasks_fulfilment.cancel_uncollected_pickups``) and by ``manage.py
cancel_uncollected_pickups``; running it twice does nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.money import ZERO
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
)
from orders.services.events import record_event, refresh_status
from orders.services.notifications import notify
from orders.services.pickup_times import pickup_hold_days
from orders.services.short_picks import close_fulfilment
from orders.services.unit_changes import cancel_units, fulfilment_lines, lock_fulfilment, open_units

logger = logging.getLogger(__name__)

ACTOR = "system:pickup-expiry"


@dataclass(frozen=True)
class ExpiredPickup:
    order: str
    fulfilment: int
    location: str
    channel: str
    ready_at: datetime
    hold_days: int
    units: int
    refunded: Decimal = ZERO
    points: int = 0
    cancelled: bool = False  # False in a dry run, or when someone got there first


def _deadline(ready_at: datetime, days: int) -> datetime:
    return ready_at + timedelta(days=days)


def uncollected_pickups(*, now: datetime | None = None) -> list[Fulfilment]:
    """Fulfilments ready for pickup for longer than their channel's hold period, oldest
    first. Reads only."""
    now = now or timezone.now()
    by_channel = getattr(settings, "ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL", None) or {}
    shortest = min([pickup_hold_days(""), *(int(days) for days in by_channel.values())])
    candidates = (
        Fulfilment.objects.filter(
            method=FulfilmentMethod.PICKUP,
            status=FulfilmentStatus.READY_FOR_PICKUP,
            ready_at__lte=now - timedelta(days=shortest),
        )
        .select_related("order__channel", "location")
        .order_by("ready_at", "id")
    )
    return [
        f
        for f in candidates
        if _deadline(f.ready_at, pickup_hold_days(f.order.channel.code)) <= now
    ]


def expire_pickup(
    *, fulfilment_id: int, now: datetime | None = None, actor: str = ACTOR
) -> ExpiredPickup | None:
    """Cancel one uncollected pickup (see the module docstring). Atomic, with the order row
    locked; returns None when it is no longer due (collected, cancelled, or not yet past its
    hold period), so it is safe to call twice."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        days = pickup_hold_days(order.channel.code)
        if (
            fulfilment.status != FulfilmentStatus.READY_FOR_PICKUP
            or fulfilment.ready_at is None
            or _deadline(fulfilment.ready_at, days) > now
        ):
            return None
        lines = fulfilment_lines(fulfilment)
        units = [(line.order_line, open_units(line)) for line in lines if open_units(line) > 0]
        reason = f"Not collected within {days} days."
        close_fulfilment(fulfilment=fulfilment, now=now)
        record_event(
            order=order,
            kind=EventKind.PICKUP_EXPIRED,
            actor=actor,
            detail={
                "fulfilment": fulfilment.pk,
                "location": fulfilment.location.code,
                "ready_at": fulfilment.ready_at.isoformat(),
                "hold_days": days,
            },
        )
        cancelled = cancel_units(
            order=order,
            units=units,
            reason=reason,
            reference=f"fulfilment:{fulfilment.pk}:expired",
            actor=actor,
            notify_refund=False,
            detail={"fulfilment": fulfilment.pk, "location": fulfilment.location.code},
            now=now,
        )
        record_event(
            order=order,
            kind=EventKind.FULFILMENT_CANCELLED,
            actor=actor,
            detail={"fulfilment": fulfilment.pk, "reason": "pickup_expired"},
        )
        refresh_status(order=order, actor=actor)
        notify(
            order=order,
            kind=NotificationKind.CANCELLED,
            fulfilment=fulfilment,
            context={
                "reason": reason,
                "points": cancelled.points,
                "amount": str(cancelled.amount),
            },
        )
    logger.info(
        "pickup %s of order %s cancelled: not collected within %d days",
        fulfilment.pk,
        order.number,
        days,
    )
    return ExpiredPickup(
        order=order.number,
        fulfilment=fulfilment.pk,
        location=fulfilment.location.code,
        channel=order.channel.code,
        ready_at=fulfilment.ready_at,
        hold_days=days,
        units=sum(n for _, n in units),
        refunded=cancelled.amount,
        points=cancelled.points,
        cancelled=True,
    )


def cancel_uncollected_pickups(
    *, now: datetime | None = None, dry_run: bool = False
) -> list[ExpiredPickup]:
    """Cancel every pickup past its hold period, each in its own transaction (one failure
    is logged and does not stop the others). With ``dry_run``, only say which ones would be
    cancelled. Idempotent: a second run finds nothing due."""
    now = now or timezone.now()
    done: list[ExpiredPickup] = []
    for fulfilment in uncollected_pickups(now=now):
        if dry_run:
            done.append(
                ExpiredPickup(
                    order=fulfilment.order.number,
                    fulfilment=fulfilment.pk,
                    location=fulfilment.location.code,
                    channel=fulfilment.order.channel.code,
                    ready_at=fulfilment.ready_at,
                    hold_days=pickup_hold_days(fulfilment.order.channel.code),
                    units=sum(open_units(line) for line in fulfilment_lines(fulfilment)),
                )
            )
            continue
        try:
            expired = expire_pickup(fulfilment_id=fulfilment.pk, now=now)
        except Exception:  # one broken order must not stop the nightly job
            logger.exception("could not cancel uncollected pickup %s", fulfilment.pk)
            continue
        if expired is not None:
            done.append(expired)
    return done
