"""Stock on hand: receipts, adjustments, counts, damage and their ledger.

Every change of ``on_hand`` is one :class:`StockMovement` written in the same transaction,
so on hand always equals the sum of its ledger. Increases are a single conditional UPDATE.
Decreases that may undercut reservations (count, damage, negative adjustment) lock the
level row, because the truth must win: the level is corrected and the newest reservations
lose the units that are gone (see :mod:`inventory.signals`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.errors import InsufficientStock, UnknownLocation, UnknownSKU, ValidationFailed
from inventory.models import (
    SKU,
    Location,
    MovementKind,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    StockShortfall,
)
from inventory.signals import ShortfallNotice, ShortReservation, stock_shortfall

logger = logging.getLogger(__name__)

MANUAL_KINDS = (
    MovementKind.RECEIPT,
    MovementKind.ADJUSTMENT,
    MovementKind.COUNT,
    MovementKind.DAMAGE,
)


@dataclass(frozen=True)
class Entry:
    """What the ledger should say about a change, besides the numbers."""

    reason: str = ""
    reference: str = ""
    actor: str = ""
    occurred_at: datetime | None = None


def level_for(*, sku: str, location: str, location_attr: str = "location") -> StockLevel:
    """The level row for ``sku`` at ``location``, created empty on first use. An unknown
    location is reported on the field ``location_attr`` of the request."""
    sku_id = SKU.objects.filter(sku=sku).values_list("pk", flat=True).first()
    if sku_id is None:
        raise UnknownSKU(sku)
    location_id = Location.objects.filter(code=location).values_list("pk", flat=True).first()
    if location_id is None:
        raise UnknownLocation(location, attr=location_attr)
    level, _ = StockLevel.objects.get_or_create(sku_id=sku_id, location_id=location_id)
    return level


def write_movement(*, level_id: int, kind: str, quantity: int, entry: Entry) -> StockMovement:
    """Append to the ledger. Call it right after changing on hand in the same transaction:
    the row is locked by that change, so the re-read ``on_hand`` is exactly ours."""
    level = StockLevel.objects.only("on_hand", "sku_id", "location_id").get(pk=level_id)
    return StockMovement.objects.create(
        level_id=level_id,
        sku_id=level.sku_id,
        location_id=level.location_id,
        kind=kind,
        quantity=quantity,
        on_hand_after=level.on_hand,
        reason=entry.reason[:300],
        reference=entry.reference[:120],
        actor=entry.actor[:200],
        occurred_at=entry.occurred_at or timezone.now(),
    )


def _positive(quantity: int, attr: str = "quantity") -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed.field(attr, "Must be a whole number above zero.")


@transaction.atomic
def receive_stock(
    *, sku: str, location: str, quantity: int, entry: Entry = Entry()
) -> StockMovement:
    """Goods arrived: on hand goes up by ``quantity`` (> 0)."""
    _positive(quantity)
    level = level_for(sku=sku, location=location)
    return add_on_hand(level_id=level.pk, quantity=quantity, kind=MovementKind.RECEIPT, entry=entry)


def add_on_hand(*, level_id: int, quantity: int, kind: str, entry: Entry) -> StockMovement:
    """Increase on hand by ``quantity`` with one UPDATE plus its ledger row. Callers hold the
    transaction."""
    StockLevel.objects.filter(pk=level_id).update(on_hand=F("on_hand") + quantity)
    return write_movement(level_id=level_id, kind=kind, quantity=quantity, entry=entry)


@transaction.atomic
def adjust_stock(
    *, sku: str, location: str, quantity: int, entry: Entry = Entry()
) -> StockMovement:
    """A signed correction of on hand. May not take on hand below zero; may undercut
    reservations (the truth wins, see the module docstring)."""
    if not isinstance(quantity, int) or quantity == 0:
        raise ValidationFailed.field("quantity", "Must be a whole number other than zero.")
    level = level_for(sku=sku, location=location)
    if quantity > 0:
        return add_on_hand(
            level_id=level.pk, quantity=quantity, kind=MovementKind.ADJUSTMENT, entry=entry
        )
    return _take_physical(
        level_id=level.pk, delta=quantity, kind=MovementKind.ADJUSTMENT, entry=entry
    )


@transaction.atomic
def record_damage(
    *, sku: str, location: str, quantity: int, entry: Entry = Entry()
) -> StockMovement:
    """``quantity`` units are damaged and leave sellable stock."""
    _positive(quantity)
    level = level_for(sku=sku, location=location)
    return _take_physical(level_id=level.pk, delta=-quantity, kind=MovementKind.DAMAGE, entry=entry)


@transaction.atomic
def count_stock(*, sku: str, location: str, counted: int, entry: Entry = Entry()) -> StockMovement:
    """A physical count: the difference to the recorded on hand becomes a ``count``
    movement (possibly of zero, which still records that someone counted). It clears
    ``needs_count``, unless this count itself found fewer units than were reserved: that
    shortfall flags the level like any other."""
    if not isinstance(counted, int) or counted < 0:
        raise ValidationFailed.field("quantity", "A count is a whole number, zero or more.")
    level = level_for(sku=sku, location=location)
    locked = StockLevel.objects.select_for_update().get(pk=level.pk)
    movement = _set_on_hand(level=locked, target=counted, kind=MovementKind.COUNT, entry=entry)
    if counted >= locked.reserved:
        StockLevel.objects.filter(pk=level.pk).update(needs_count=False)
    return movement


def _take_physical(*, level_id: int, delta: int, kind: str, entry: Entry) -> StockMovement:
    level = StockLevel.objects.select_for_update().get(pk=level_id)
    target = level.on_hand + delta
    if target < 0:
        raise InsufficientStock(
            f"Only {level.on_hand} on hand; cannot take {-delta}.",
            errors=[
                {
                    "attr": "quantity",
                    "code": "insufficient_stock",
                    "detail": f"Only {level.on_hand} on hand.",
                }
            ],
        )
    return _set_on_hand(level=level, target=target, kind=kind, entry=entry)


def _set_on_hand(*, level: StockLevel, target: int, kind: str, entry: Entry) -> StockMovement:
    """Set on hand of a level locked by the caller, shorting reservations that no longer fit."""
    delta = target - level.on_hand
    short = level.reserved - target
    if short > 0:
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=target, reserved=target, needs_count=True
        )
    else:
        StockLevel.objects.filter(pk=level.pk).update(on_hand=target)
    movement = write_movement(level_id=level.pk, kind=kind, quantity=delta, entry=entry)
    if short > 0:
        _short_reservations(level=level, quantity=short, cause=movement, entry=entry)
    return movement


def _short_reservations(
    *, level: StockLevel, quantity: int, cause: StockMovement, entry: Entry
) -> None:
    """Take ``quantity`` held units away from the newest reservations at ``level``."""
    lines = (
        ReservationLine.objects.select_for_update(of=("self",))
        .select_related("reservation")
        .filter(level=level, quantity__gt=0, reservation__status=Reservation.Status.ACTIVE)
        .order_by("-reservation__created_at", "-reservation_id")
    )
    remaining = quantity
    shorted: list[ShortReservation] = []
    for line in lines:
        if remaining == 0:
            break
        take = min(line.quantity, remaining)
        ReservationLine.objects.filter(pk=line.pk).update(
            quantity=F("quantity") - take, shorted=F("shorted") + take
        )
        shorted.append(ShortReservation(line.reservation_id, line.reservation.reference, take))
        remaining -= take
    if remaining:
        # reserved and the lines disagree: an invariant is broken; refuse rather than hide it.
        raise RuntimeError(f"level {level.pk}: {remaining} reserved units have no reservation line")
    write_movement(
        level_id=level.pk,
        kind=MovementKind.SHORTFALL,
        quantity=0,
        entry=Entry(
            reason=f"{quantity} reserved unit(s) no longer on hand, taken from {len(shorted)} reservation(s)",
            reference=entry.reference,
            actor=entry.actor,
            occurred_at=entry.occurred_at,
        ),
    )
    record = StockShortfall.objects.create(
        level=level,
        quantity=quantity,
        cause=cause,
        lines=[
            {"reservation": s.reservation_id, "reference": s.reference, "quantity": s.quantity}
            for s in shorted
        ],
    )
    notice = ShortfallNotice(
        shortfall_id=record.pk,
        sku=level.sku.sku,
        location=level.location.code,
        quantity=quantity,
        reservations=tuple(shorted),
    )
    logger.warning(
        "stock shortfall at %s/%s: %d reserved unit(s) gone", notice.location, notice.sku, quantity
    )
    transaction.on_commit(lambda: stock_shortfall.send(sender=StockLevel, notice=notice))


@transaction.atomic
def record_movement(
    *, kind: str, sku: str, location: str, quantity: int, entry: Entry = Entry()
) -> StockMovement:
    """The movements API in one call: receipt, adjustment, count or damage."""
    if kind == MovementKind.RECEIPT:
        return receive_stock(sku=sku, location=location, quantity=quantity, entry=entry)
    if kind == MovementKind.ADJUSTMENT:
        return adjust_stock(sku=sku, location=location, quantity=quantity, entry=entry)
    if kind == MovementKind.COUNT:
        return count_stock(sku=sku, location=location, counted=quantity, entry=entry)
    if kind == MovementKind.DAMAGE:
        return record_damage(sku=sku, location=location, quantity=quantity, entry=entry)
    raise ValidationFailed.field("kind", f"Must be one of: {', '.join(MANUAL_KINDS)}.")


@transaction.atomic
def set_stock_parameters(
    *, sku: str, location: str, safety_stock: int | None = None, reorder_point: int | None = None
) -> StockLevel:
    """Planning numbers of a level; they do not change on hand and leave no ledger row."""
    changes = {}
    for name, value in (("safety_stock", safety_stock), ("reorder_point", reorder_point)):
        if value is None:
            continue
        if not isinstance(value, int) or value < 0:
            raise ValidationFailed.field(name, "Must be a whole number, zero or more.")
        changes[name] = value
    level = level_for(sku=sku, location=location)
    if changes:
        StockLevel.objects.filter(pk=level.pk).update(**changes, updated_at=timezone.now())
        level.refresh_from_db()
    return level
