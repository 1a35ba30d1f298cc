"""Repairing orders after an inventory stock shortfall (``inventory.signals.stock_shortfall``).

A count, damage or negative adjustment left fewer units on hand than were held; inventory has
corrected the level and taken the units from the newest reservations. Here each affected
fulfilment is compared with its reservation: what the fulfilment still needs and the hold no
longer has goes down the short-pick path (:func:`orders.services.short_picks.give_up_units`):
re-routed for ship, cancelled and refunded otherwise. The comparison makes the repair
idempotent and safe to run at any time; picks and hand-overs run it first, so a shortfall
whose signal was lost is repaired at the next step anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders.models import OPEN_FULFILMENT, EventKind, Fulfilment, FulfilmentLine, Order, OrderEvent
from orders.services.events import record_event, refresh_status
from orders.services.short_picks import ShortOutcome, give_up_units
from orders.services.unit_changes import fulfilment_lines, lock_fulfilment, open_units

logger = logging.getLogger(__name__)

SHORTFALL_ACTOR = "system:shortfall"
ORDER_REFERENCE_PREFIXES = ("order:", "fulfilment:")  # holds the orders app made


def held_units(fulfilment: Fulfilment) -> dict[str, int] | None:
    """SKU → units the fulfilment's reservation still holds; None when it holds nothing any
    more because it was closed (released or consumed)."""
    if fulfilment.reservation_id is None:
        return None
    reservation = inventory_selectors.reservation_by_id(fulfilment.reservation_id)
    if reservation.status != reservation.Status.ACTIVE:
        return None
    return {line.level.sku.sku: line.quantity for line in reservation.lines.all()}


def missing_from_hold(lines: Sequence[FulfilmentLine], held: Mapping[str, int]) -> dict[int, int]:
    """Fulfilment line id → units the fulfilment still needs and its hold lacks."""
    gaps = {}
    for line in lines:
        gap = open_units(line) - held.get(line.order_line.sku, 0)
        if gap > 0:
            gaps[line.pk] = gap
    return gaps


def _already_repaired(order: Order, fulfilment: Fulfilment, shortfall_id: int) -> bool:
    return OrderEvent.objects.filter(
        order=order,
        kind=EventKind.SHORTFALL,
        detail__shortfall=shortfall_id,
        detail__fulfilment=fulfilment.pk,
    ).exists()


def repair_fulfilment(
    *,
    fulfilment_id: int,
    shortfall_id: int | None = None,
    actor: str = SHORTFALL_ACTOR,
    now: datetime | None = None,
) -> ShortOutcome | None:
    """Bring an open fulfilment back in line with its reservation: units the hold lost to a
    stock shortfall are re-routed (ship) or cancelled and refunded, through the short-pick
    path. Atomic; the order row is locked first.

    Idempotent: it compares what the hold has with what the fulfilment needs, so a second
    run finds nothing to do; with ``shortfall_id`` it also records (event ``shortfall``) that
    this shortfall was dealt with for this fulfilment and skips it when seen again. Returns
    None when there was nothing to repair."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        if shortfall_id is not None and _already_repaired(order, fulfilment, shortfall_id):
            return None
        held = held_units(fulfilment) if fulfilment.status in OPEN_FULFILMENT else None
        lines = fulfilment_lines(fulfilment)
        missing = missing_from_hold(lines, held) if held is not None else {}
        if shortfall_id is not None or missing:
            record_event(
                order=order,
                kind=EventKind.SHORTFALL,
                actor=actor,
                detail={
                    "shortfall": shortfall_id,
                    "fulfilment": fulfilment.pk,
                    "location": fulfilment.location.code,
                    "lines": {
                        line.order_line.sku: missing[line.pk]
                        for line in lines
                        if line.pk in missing
                    },
                },
            )
        if not missing:
            return None
        short_after = sum(line.short_quantity for line in lines) + sum(missing.values())
        outcome = give_up_units(
            order=order,
            fulfilment=fulfilment,
            lines=lines,
            missing=missing,
            cause="shortfall",
            reference=f"fulfilment:{fulfilment.pk}:short:{short_after}",
            actor=actor,
            now=now,
        )
        refresh_status(order=order, actor=actor)
    logger.info("fulfilment %s repaired after a shortfall: %s", fulfilment_id, outcome.as_json())
    return outcome


def repair_shortfall(
    *, shortfall_id: int, reservations: Sequence[tuple[int, str | None, int]]
) -> int:
    """Repair every open fulfilment whose hold lost units in stock shortfall
    ``shortfall_id`` (``reservations``: (id, reference, units) as in the notice), each in its
    own transaction. When every reservation shorted was one of the orders app's, the
    shortfall is marked resolved in inventory. Idempotent. Returns how many fulfilments
    changed."""
    ids = [reservation_id for reservation_id, _, _ in reservations]
    fulfilment_ids = list(
        Fulfilment.objects.filter(reservation_id__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changed = 0
    for fulfilment_id in fulfilment_ids:
        if repair_fulfilment(fulfilment_id=fulfilment_id, shortfall_id=shortfall_id):
            changed += 1
    if all(
        (reference or "").startswith(ORDER_REFERENCE_PREFIXES) for _, reference, _ in reservations
    ):
        inventory_services.resolve_shortfalls(shortfall_ids=[shortfall_id])
    return changed
