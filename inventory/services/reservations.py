"""Holding stock for carts, checkouts and pickup orders: reserve, release, consume, expire.

Concurrency (DESIGN.md): a hold is one conditional UPDATE per stock row, so the database
decides who gets the last unit in the statement that takes it; rows are touched in primary
key order so that two multi-line holds cannot deadlock. Every path that changes a held
quantity locks in the same order: reservation row, then stock rows by primary key, then
reservation lines.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from inventory.errors import (
    InsufficientStock,
    InvalidState,
    NotFound,
    UnknownLocation,
    UnknownSKU,
    ValidationFailed,
)
from inventory.models import (
    SKU,
    Channel,
    Location,
    MovementKind,
    Reservation,
    ReservationLine,
    StockLevel,
    StockOperation,
)
from inventory.services.stock import Entry, write_movement

logger = logging.getLogger(__name__)

MAX_TTL_SECONDS = 60 * 60 * 24 * 30


@dataclass(frozen=True)
class HoldLine:
    sku: str
    location: str
    quantity: int


@dataclass(frozen=True)
class _ResolvedLine:
    index: int
    line: HoldLine
    level_id: int | None


class _Short(Exception):
    def __init__(self, index: int):
        self.index = index


def reserve(
    *,
    channel: Channel | str,
    lines: Sequence[HoldLine],
    ttl_seconds: int | None = None,
    expires_at: datetime | None = None,
    reference: str | None = None,
    owner: str = "",
) -> Reservation:
    """Hold every line or none (409 ``insufficient_stock`` naming the short lines).

    Idempotent on ``reference``: a second call with the same reference returns the first
    reservation (and 400 if its lines or its owner differ). ``expires_at`` or
    ``ttl_seconds`` set the expiry; neither means held until released or consumed.
    """
    channel = _channel(channel)
    resolved = _resolve(lines)
    if expires_at is None and ttl_seconds is not None:
        if not isinstance(ttl_seconds, int) or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
            raise ValidationFailed.field("ttl_seconds", f"Between 1 and {MAX_TTL_SECONDS} seconds.")
        expires_at = timezone.now() + timedelta(seconds=ttl_seconds)
    if reference:
        existing = Reservation.objects.filter(reference=reference).first()
        if existing is not None:
            return _same_reservation(existing, resolved, owner=owner)
    try:
        return _hold(
            channel=channel,
            resolved=resolved,
            expires_at=expires_at,
            reference=reference,
            owner=owner,
        )
    except _Short as short:
        raise _insufficient(resolved, short.index) from None
    except IntegrityError:
        if not reference:
            raise
        existing = Reservation.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return _same_reservation(existing, resolved, owner=owner)


def _channel(channel: Channel | str) -> Channel:
    if isinstance(channel, Channel):
        return channel
    found = Channel.objects.filter(code=channel).first()
    if found is None:
        raise ValidationFailed.field(
            "channel", f"Unknown channel {channel!r}.", code="unknown_channel"
        )
    return found


def _resolve(lines: Sequence[HoldLine]) -> list[_ResolvedLine]:
    """Find the stock rows of all lines in one query; unknown SKUs or locations are 400."""
    if not lines:
        raise ValidationFailed.field("lines", "At least one line.")
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise ValidationFailed.field(
                f"lines.{index}.quantity", "Must be a whole number above zero."
            )
        if (line.sku, line.location) in seen:
            raise ValidationFailed.field(
                f"lines.{index}", "The same SKU and location twice; add them up."
            )
        seen.add((line.sku, line.location))
    levels = {
        (sku, code): pk
        for pk, sku, code in StockLevel.objects.filter(
            sku__sku__in={line.sku for line in lines},
            location__code__in={line.location for line in lines},
        ).values_list("pk", "sku__sku", "location__code")
    }
    resolved = [
        _ResolvedLine(i, line, levels.get((line.sku, line.location)))
        for i, line in enumerate(lines)
    ]
    if any(r.level_id is None for r in resolved):
        _check_known(resolved)
    return resolved


def _check_known(resolved: list[_ResolvedLine]) -> None:
    known_skus = set(
        SKU.objects.filter(sku__in={r.line.sku for r in resolved}).values_list("sku", flat=True)
    )
    known_locations = set(
        Location.objects.filter(code__in={r.line.location for r in resolved}).values_list(
            "code", flat=True
        )
    )
    for r in resolved:
        if r.line.sku not in known_skus:
            raise UnknownSKU(r.line.sku, attr=f"lines.{r.index}.sku")
        if r.line.location not in known_locations:
            raise UnknownLocation(r.line.location, attr=f"lines.{r.index}.location")


@transaction.atomic
def _hold(
    *, channel: Channel, resolved: list[_ResolvedLine], expires_at, reference, owner: str
) -> Reservation:
    reservation = Reservation.objects.create(
        channel=channel, reference=reference or None, expires_at=expires_at, owner=owner
    )
    ReservationLine.objects.bulk_create(
        ReservationLine(
            reservation=reservation,
            level_id=r.level_id,
            quantity=r.line.quantity,
            requested=r.line.quantity,
        )
        for r in resolved
        if r.level_id is not None
    )
    # The stock rows last, in primary-key order: the hot rows stay locked for the least time.
    for r in sorted(resolved, key=lambda r: r.level_id or 0):
        if r.level_id is None:
            raise _Short(r.index)
        taken = StockLevel.objects.filter(
            pk=r.level_id, on_hand__gte=F("reserved") + F("safety_stock") + r.line.quantity
        ).update(reserved=F("reserved") + r.line.quantity)
        if not taken:
            raise _Short(r.index)
    return reservation


def _insufficient(resolved: list[_ResolvedLine], first_short: int) -> InsufficientStock:
    """Name every line that cannot be held right now (the first one for certain)."""
    available = {
        pk: max(0, on_hand - reserved - safety)
        for pk, on_hand, reserved, safety in StockLevel.objects.filter(
            pk__in=[r.level_id for r in resolved if r.level_id]
        ).values_list("pk", "on_hand", "reserved", "safety_stock")
    }
    errors = []
    for r in resolved:
        can = available.get(r.level_id, 0)
        if r.index == first_short:
            can = min(can, r.line.quantity - 1)  # it was short when we tried
        if can < r.line.quantity:
            detail = f"Only {can} of SKU {r.line.sku} can be promised at {r.line.location}."
            errors.append(
                {
                    "attr": f"lines.{r.index}.quantity",
                    "code": "insufficient_stock",
                    "detail": detail,
                }
            )
    return InsufficientStock(errors[0]["detail"], errors=errors)


def _same_reservation(
    existing: Reservation, resolved: list[_ResolvedLine], *, owner: str
) -> Reservation:
    held = {(line.level_id, line.requested) for line in existing.lines.all()}
    asked = {(r.level_id, r.line.quantity) for r in resolved}
    # Another caller's reference is "taken", never a way to read that caller's reservation.
    if held != asked or existing.owner != owner:
        raise ValidationFailed.field(
            "reference", "This reference is already used for other lines.", code="unique"
        )
    return existing


def _lock_levels(level_ids) -> None:
    """Lock stock rows in primary-key order (a no-op on SQLite, which serialises writers)."""
    list(
        StockLevel.objects.select_for_update()
        .filter(pk__in=set(level_ids))
        .order_by("pk")
        .values_list("pk")
    )


def release(*, reservation_id: int, expired: bool = False, now: datetime | None = None) -> bool:
    """Give back everything the reservation still holds. Idempotent: releasing a reservation
    that is no longer active changes nothing and returns False. With ``expired``, only a
    reservation whose expiry is at or before ``now`` (default: the current time) is
    released, as ``expired``."""
    with transaction.atomic():
        status = Reservation.Status.EXPIRED if expired else Reservation.Status.RELEASED
        closed = Reservation.objects.filter(pk=reservation_id, status=Reservation.Status.ACTIVE)
        if expired:
            closed = closed.filter(expires_at__lte=now or timezone.now())
        if not closed.update(status=status, closed_at=timezone.now()):
            return False
        level_ids = ReservationLine.objects.filter(reservation_id=reservation_id).values_list(
            "level_id", flat=True
        )
        _lock_levels(level_ids)
        for line in ReservationLine.objects.filter(
            reservation_id=reservation_id, quantity__gt=0
        ).order_by("level_id"):
            StockLevel.objects.filter(pk=line.level_id).update(
                reserved=F("reserved") - line.quantity
            )
        ReservationLine.objects.filter(reservation_id=reservation_id).update(quantity=0)
    logger.info("reservation %s %s", reservation_id, status)
    return True


def consume(
    *,
    reservation_id: int,
    reference: str,
    quantities: Mapping[tuple[str, str], int] | None = None,
    entry: Entry = Entry(),
) -> bool:
    """Goods handed over: on hand and reserved both go down, with a ``sale`` in the ledger.

    ``quantities`` maps (sku, location) to units handed over; omitted, everything still held.
    Idempotent on ``reference``: a second call with it changes nothing and returns False.
    The reservation is ``consumed`` once nothing is held any more.
    """
    if not reference:
        raise ValidationFailed.field("reference", "consume() needs a reference.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                StockOperation.objects.create(key=f"consume:{reference}")
        except IntegrityError:
            return False
        reservation = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
        if reservation is None:
            raise NotFound(f"No reservation {reservation_id}.")
        if reservation.status != Reservation.Status.ACTIVE:
            raise InvalidState(f"Reservation {reservation_id} is {reservation.status}.")
        lines = list(
            ReservationLine.objects.filter(reservation=reservation).select_related(
                "level__sku", "level__location"
            )
        )
        _lock_levels(line.level_id for line in lines)
        plan = _consumption_plan(lines, quantities)
        entry = Entry(
            entry.reason or "handed over",
            entry.reference or reference,
            entry.actor,
            entry.occurred_at,
        )
        for line, quantity in plan:
            StockLevel.objects.filter(pk=line.level_id).update(
                on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity
            )
            ReservationLine.objects.filter(pk=line.pk).update(
                quantity=F("quantity") - quantity, consumed=F("consumed") + quantity
            )
            write_movement(
                level_id=line.level_id, kind=MovementKind.SALE, quantity=-quantity, entry=entry
            )
        if not ReservationLine.objects.filter(reservation=reservation, quantity__gt=0).exists():
            Reservation.objects.filter(pk=reservation.pk).update(
                status=Reservation.Status.CONSUMED, closed_at=timezone.now()
            )
    return True


def _consumption_plan(
    lines: list[ReservationLine], quantities
) -> list[tuple[ReservationLine, int]]:
    fresh = {
        line.pk: line.quantity
        for line in ReservationLine.objects.filter(pk__in=[line.pk for line in lines])
    }
    by_key = {(line.level.sku.sku, line.level.location.code): line for line in lines}
    if quantities is None:
        return [
            (line, fresh[line.pk])
            for line in sorted(lines, key=lambda held: held.level_id)
            if fresh[line.pk]
        ]
    plan = []
    for key, quantity in quantities.items():
        line = by_key.get(key)
        if line is None:
            raise ValidationFailed.field(
                "lines", f"{key[0]} at {key[1]} is not part of this reservation."
            )
        if not isinstance(quantity, int) or not 0 < quantity <= fresh[line.pk]:
            raise InvalidState(f"Only {fresh[line.pk]} of {key[0]} held at {key[1]}.")
        plan.append((line, quantity))
    return sorted(plan, key=lambda item: item[0].level_id)


def release_expired_reservations(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Release every active reservation past its expiry, each in its own short transaction.
    Returns how many were released."""
    now = now or timezone.now()
    released = 0
    while True:
        ids = list(
            Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        done = sum(release(reservation_id=pk, expired=True, now=now) for pk in ids)
        released += done
        if not done or len(ids) < batch_size:
            break
    if released:
        logger.info("released %d expired reservation(s)", released)
    return released
