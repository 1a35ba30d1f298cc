"""A fulfilment's work at its location: pick (what was found), ready for pickup.

States (``orders.models``): ``pending → picking → ready_for_pickup → collected`` for pickup,
``pending → picking → shipped`` for ship; the hand-over is :mod:`orders.services.handover`.
Every transition locks the order row, then the fulfilment row, and checks the state it starts
from, so a repeated or concurrent request finds the work done and gets 409 ``invalid_state``
instead of doing it twice (the API's ``Idempotency-Key`` replays the first answer instead).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orders.errors import InvalidState, ValidationFailed
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
)
from orders.services.events import record_event, refresh_status
from orders.services.notifications import notify
from orders.services.pickup_times import local_text, pickup_hold_days, pickup_ready_by
from orders.services.short_picks import ShortOutcome, give_up_units, release_missing_units
from orders.services.shortfall_repair import repair_fulfilment
from orders.services.unit_changes import (
    fulfilment_lines,
    lock_fulfilment,
    open_units,
    pick_recorded,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PickedLine:
    sku: str
    quantity: int  # units found


@dataclass
class PickResult:
    fulfilment: Fulfilment
    short: ShortOutcome | None = None


def _start_picking(*, order, fulfilment: Fulfilment, actor: str, now: datetime) -> None:
    fulfilment.status = FulfilmentStatus.PICKING
    update = {"status": FulfilmentStatus.PICKING}
    if fulfilment.method == FulfilmentMethod.PICKUP:
        fulfilment.ready_by = update["ready_by"] = pickup_ready_by(
            now=now,
            opening_hours=fulfilment.location.opening_hours,
            timezone_name=fulfilment.location.timezone,
        )
    Fulfilment.objects.filter(pk=fulfilment.pk).update(**update)
    record_event(
        order=order,
        kind=EventKind.PICKING,
        actor=actor,
        detail={
            "fulfilment": fulfilment.pk,
            "location": fulfilment.location.code,
            "ready_by": fulfilment.ready_by.isoformat() if fulfilment.ready_by else None,
        },
    )


def start_picking(
    *, fulfilment_id: int, actor: str = "", now: datetime | None = None
) -> Fulfilment:
    """``pending → picking`` without saying yet what was found; a pickup's ``ready_by`` is
    set again from now (:func:`orders.services.pickup_times.pickup_ready_by`). Atomic. 409
    ``invalid_state`` from any other state."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        if fulfilment.status != FulfilmentStatus.PENDING:
            raise InvalidState(f"Fulfilment {fulfilment.pk} is {fulfilment.status}, not pending.")
        _start_picking(order=order, fulfilment=fulfilment, actor=actor, now=now)
        refresh_status(order=order, actor=actor)
    return fulfilment


def _found(lines: Sequence[FulfilmentLine], picked: Sequence[PickedLine]) -> dict[int, int]:
    """Fulfilment line id → units found, checked against the lines (400 naming the field):
    every SKU of the fulfilment once, none other, no more than is still to be picked."""
    by_sku = {line.order_line.sku: line for line in lines}
    found: dict[int, int] = {}
    problems = []
    for index, item in enumerate(picked):
        line = by_sku.get(item.sku)
        if line is None:
            problems.append(
                (f"lines.{index}.sku", f"SKU {item.sku} is not part of this fulfilment.", "invalid")
            )
        elif line.pk in found:
            problems.append((f"lines.{index}.sku", f"SKU {item.sku} is listed twice.", "duplicate"))
        elif item.quantity > open_units(line):
            problems.append(
                (
                    f"lines.{index}.quantity",
                    f"Only {open_units(line)} of {item.sku} are to be picked here.",
                    "max_value",
                )
            )
        else:
            found[line.pk] = item.quantity
    if not problems:
        for line in lines:
            if line.pk not in found and open_units(line) > 0:
                problems.append(
                    (
                        "lines",
                        f"Say how many of {line.order_line.sku} were found (0 if none).",
                        "required",
                    )
                )
    if problems:
        errors = [{"attr": a, "code": c, "detail": d} for a, d, c in problems]
        raise ValidationFailed(f"{errors[0]['attr']}: {errors[0]['detail']}", errors=errors)
    return found


def record_pick(
    *,
    fulfilment_id: int,
    lines: Sequence[PickedLine],
    actor: str = "",
    now: datetime | None = None,
) -> PickResult:
    """Staff picked the fulfilment and say what they found (every SKU, 0 when none).

    From ``pending`` this also starts picking (see :func:`start_picking`); from ``picking``
    it records the pick once. Units not found go the short-pick way
    (:mod:`orders.services.short_picks`): out of the hold and into the ledger as an
    adjustment, then re-routed (ship) or cancelled and refunded (pickup, or nowhere else has
    them); a fulfilment where nothing was found is cancelled. The order's status is derived
    again.

    Atomic (a repair of an earlier stock shortfall runs first, in its own transaction).
    Errors: 404 unknown fulfilment; 400 lines that do not match the fulfilment (``lines.N.*``);
    409 ``invalid_state`` when the pick was already recorded or the fulfilment is past
    picking."""
    now = now or timezone.now()
    repair_fulfilment(fulfilment_id=fulfilment_id, now=now)
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        current = fulfilment_lines(fulfilment)
        if fulfilment.status not in (FulfilmentStatus.PENDING, FulfilmentStatus.PICKING) or (
            fulfilment.status == FulfilmentStatus.PICKING and pick_recorded(current)
        ):
            raise InvalidState(
                f"Fulfilment {fulfilment.pk} is {fulfilment.status}"
                + (" and its pick is recorded." if pick_recorded(current) else ".")
            )
        found = _found(current, lines)
        if fulfilment.status == FulfilmentStatus.PENDING:
            _start_picking(order=order, fulfilment=fulfilment, actor=actor, now=now)
        missing: dict[int, int] = {}
        for line in current:
            line.picked_quantity = found.get(line.pk, 0)
            FulfilmentLine.objects.filter(pk=line.pk).update(picked_quantity=line.picked_quantity)
            if open_units(line) > line.picked_quantity:
                missing[line.pk] = open_units(line) - line.picked_quantity
        record_event(
            order=order,
            kind=EventKind.PICKED,
            actor=actor,
            detail={
                "fulfilment": fulfilment.pk,
                "found": {line.order_line.sku: line.picked_quantity for line in current},
            },
        )
        short = None
        if missing:
            by_id = {line.pk: line for line in current}
            release_missing_units(
                order=order,
                fulfilment=fulfilment,
                keep={by_id[pk].order_line.sku: by_id[pk].picked_quantity for pk in by_id},
                missing={by_id[pk].order_line.sku: units for pk, units in missing.items()},
                actor=actor,
            )
            record_event(
                order=order,
                kind=EventKind.SHORT_PICK,
                actor=actor,
                detail={
                    "fulfilment": fulfilment.pk,
                    "location": fulfilment.location.code,
                    "missing": {by_id[pk].order_line.sku: units for pk, units in missing.items()},
                },
            )
            short = give_up_units(
                order=order,
                fulfilment=fulfilment,
                lines=current,
                missing=missing,
                cause="short_pick",
                reference=f"fulfilment:{fulfilment.pk}:short-pick",
                actor=actor,
                now=now,
            )
        refresh_status(order=order, actor=actor)
    if short is not None:
        logger.info("fulfilment %s picked short: %s", fulfilment.pk, short.as_json())
    return PickResult(fulfilment=fulfilment, short=short)


def mark_ready(*, fulfilment_id: int, actor: str = "", now: datetime | None = None) -> Fulfilment:
    """A picked pickup fulfilment waits at the counter: ``picking → ready_for_pickup``;
    the customer is told, with the pickup code and the date it is held until (a
    ``ready_for_pickup`` notification, sent after the commit, once per fulfilment).

    Atomic. 409 ``invalid_state`` for a ship fulfilment, before the pick is recorded, or
    from any other state."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        if fulfilment.method != FulfilmentMethod.PICKUP:
            raise InvalidState(f"Fulfilment {fulfilment.pk} ships; it is never ready for pickup.")
        if fulfilment.status != FulfilmentStatus.PICKING:
            raise InvalidState(f"Fulfilment {fulfilment.pk} is {fulfilment.status}, not picking.")
        if not pick_recorded(fulfilment_lines(fulfilment)):
            raise InvalidState(f"Record what was found for fulfilment {fulfilment.pk} first.")
        fulfilment.status, fulfilment.ready_at = FulfilmentStatus.READY_FOR_PICKUP, now
        Fulfilment.objects.filter(pk=fulfilment.pk).update(status=fulfilment.status, ready_at=now)
        days = pickup_hold_days(order.channel.code)
        collect_by = local_text(now + timedelta(days=days), fulfilment.location.timezone)
        record_event(
            order=order,
            kind=EventKind.READY_FOR_PICKUP,
            actor=actor,
            detail={"fulfilment": fulfilment.pk, "location": fulfilment.location.code},
        )
        notify(
            order=order,
            kind=NotificationKind.READY_FOR_PICKUP,
            fulfilment=fulfilment,
            context={"collect_by": collect_by, "hold_days": days},
        )
        refresh_status(order=order, actor=actor)
    return fulfilment
