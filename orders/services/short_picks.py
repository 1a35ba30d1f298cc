"""Units a fulfilment cannot serve: a short pick (staff found fewer than planned) or a stock
shortfall (a count, damage or adjustment took held units away). One path for both:

1. the units leave the fulfilment (``FulfilmentLine.short_quantity``) and its hold;
2. a ship fulfilment's missing units are planned again by the DOM without the locations that
   already came up short for them (``plan_order(exclude=...)``), and each location chosen gets
   a new fulfilment (``rerouted_from``) with its own reservation; what no location can serve
   is cancelled: ``OrderLine.cancelled_quantity``, the money given back, redeemed points back
   in proportion, the customer told (``refunded``);
3. a fulfilment with nothing left to serve is cancelled.

Policy for pickup: the customer chose the store, so missing units are never sent to another
store (a ship-to-store transfer is out of scope, and collecting half an order in one town and
half in another is worse than a refund). They are cancelled and refunded at once, and the
customer collects the rest. The event says which stores nearby have the missing units, so
that staff can offer a new order there.

Stock, for a short pick: the units not found leave the fulfilment's reservation first (the
hold is released and the units found are held again under ``fulfilment:<id>:picked``), then
the ledger records them as an ``adjustment`` at that location. In that order the adjustment
cannot undercut any reservation, so a short pick never raises a shortfall on anyone. (If the
units found cannot be held again because the location is below its safety stock, the
original hold is kept and the adjustment goes ahead; a shortfall it causes is repaired by the
same path, and the hold's extra units are released at the hand-over.)

For a shortfall, inventory has already corrected the level and taken the units from the
newest reservations: :mod:`orders.services.shortfall_repair` finds what a hold lacks and
sends it down the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from inventory import services as inventory_services
from inventory.errors import InsufficientStock as StockTaken
from inventory.models import Location
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    Order,
)
from orders.routing import Method, Plan, PlanLine, Point, plan_order
from orders.routing.service import local_date
from orders.services.checkout import RESERVATION_OWNER
from orders.services.events import explanation_for_history, record_event
from orders.services.unit_changes import (
    CancelledUnits,
    cancel_units,
    open_units,
)

logger = logging.getLogger(__name__)

REROUTE_ATTEMPTS = 3  # plans tried when someone else takes the stock between plan and hold


@dataclass
class ShortOutcome:
    """What became of units a fulfilment could not serve."""

    rerouted: list[Fulfilment] = field(default_factory=list)
    cancelled: CancelledUnits | None = None
    fulfilment_cancelled: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "rerouted": [
                {
                    "fulfilment": f.pk,
                    "location": f.location.code,
                    "lines": {line.order_line.sku: line.quantity for line in f.lines.all()},
                }
                for f in self.rerouted
            ],
            "cancelled": dict(self.cancelled.lines) if self.cancelled else {},
            "refunded": str(self.cancelled.amount) if self.cancelled else "0.00",
            "points_refunded": self.cancelled.points if self.cancelled else 0,
            "fulfilment_cancelled": self.fulfilment_cancelled,
        }


# --- Stock for a short pick ----------------------------------------------------------------


def release_missing_units(
    *,
    order: Order,
    fulfilment: Fulfilment,
    keep: Mapping[str, int],
    missing: Mapping[str, int],
    actor: str,
) -> None:
    """Take ``missing`` units (SKU → units) out of the fulfilment's hold, keeping ``keep``
    held, then record them as not there (an ``adjustment`` at the location). Inside the
    caller's transaction; see the module docstring for the order of the steps."""
    code = fulfilment.location.code
    old = fulfilment.reservation_id
    new = old
    try:
        with transaction.atomic():
            if old is not None:
                inventory_services.release(reservation_id=old)
            holds = [
                inventory_services.HoldLine(sku, code, units)
                for sku, units in sorted(keep.items())
                if units > 0
            ]
            new = None
            if holds:
                new = inventory_services.reserve(
                    channel=order.channel,
                    lines=holds,
                    reference=f"fulfilment:{fulfilment.pk}:picked",
                    owner=RESERVATION_OWNER,
                    expires_at=None,
                ).pk
    except StockTaken:
        # Below safety stock at the location: keep the original hold (see module docstring).
        new = old
        logger.warning(
            "fulfilment %s: the units found could not be held again; keeping hold %s",
            fulfilment.pk,
            old,
        )
    entry = inventory_services.Entry(
        reason=f"Short pick: not found for order {order.number}",
        reference=f"fulfilment:{fulfilment.pk}",
        actor=actor,
    )
    for sku, units in sorted(missing.items()):
        if units > 0:
            inventory_services.adjust_stock(sku=sku, location=code, quantity=-units, entry=entry)
    if new != old:
        Fulfilment.objects.filter(pk=fulfilment.pk).update(reservation_id=new)
        fulfilment.reservation_id = new


# --- Units a fulfilment gives up -----------------------------------------------------------


def give_up_units(
    *,
    order: Order,
    fulfilment: Fulfilment,
    lines: Sequence[FulfilmentLine],
    missing: Mapping[int, int],
    cause: str,
    reference: str,
    actor: str,
    now: datetime,
) -> ShortOutcome:
    """``missing`` maps fulfilment line ids to units this fulfilment will not serve (their
    stock is already dealt with). Marks them short, re-routes (ship) or cancels them, and
    cancels the fulfilment when nothing is left. Inside the caller's transaction, order row
    locked. ``reference`` names the event for refunds (idempotent on it)."""
    outcome = ShortOutcome()
    short: dict[FulfilmentLine, int] = {}
    for line in lines:
        units = missing.get(line.pk, 0)
        if units <= 0:
            continue
        units = min(units, open_units(line))
        line.short_quantity += units
        line.picked_quantity = min(line.picked_quantity, line.quantity - line.short_quantity)
        FulfilmentLine.objects.filter(pk=line.pk).update(
            short_quantity=line.short_quantity, picked_quantity=line.picked_quantity
        )
        short[line] = units
    if not short:
        return outcome

    wanted = {line.order_line: units for line, units in short.items()}
    unserved = dict(wanted)
    extra: dict[str, Any] = {"fulfilment": fulfilment.pk, "location": fulfilment.location.code}
    if fulfilment.method == FulfilmentMethod.SHIP:
        outcome.rerouted, unserved = _reroute(
            order=order, source=fulfilment, wanted=wanted, actor=actor, now=now
        )
    else:
        extra["alternatives"] = _pickup_alternatives(order, fulfilment, wanted)
    if unserved:
        outcome.cancelled = cancel_units(
            order=order,
            units=sorted(unserved.items(), key=lambda item: item[0].position),
            reason=_reason(cause, fulfilment),
            reference=reference,
            actor=actor,
            detail=extra,
            now=now,
        )
    if all(open_units(line) == 0 for line in lines):
        close_fulfilment(fulfilment=fulfilment, now=now)
        outcome.fulfilment_cancelled = True
        record_event(
            order=order,
            kind=EventKind.FULFILMENT_CANCELLED,
            actor=actor,
            detail={"fulfilment": fulfilment.pk, "reason": cause},
        )
    return outcome


def _reason(cause: str, fulfilment: Fulfilment) -> str:
    where = fulfilment.location.name or fulfilment.location.code
    if cause == "short_pick":
        return f"Not in stock at {where} when your order was picked."
    return f"No longer in stock at {where}."


def close_fulfilment(*, fulfilment: Fulfilment, now: datetime) -> None:
    """Cancel the fulfilment and let go of whatever its reservation still holds."""
    if fulfilment.reservation_id is not None:
        inventory_services.release(reservation_id=fulfilment.reservation_id)
    Fulfilment.objects.filter(pk=fulfilment.pk).update(
        status=FulfilmentStatus.CANCELLED, cancelled_at=now
    )
    fulfilment.status, fulfilment.cancelled_at = FulfilmentStatus.CANCELLED, now


def _tried_locations(source: Fulfilment) -> set[str]:
    """The source's location and those of the fulfilments it was re-routed from."""
    codes = {source.location.code}
    parent_id = source.rerouted_from_id
    while parent_id is not None:
        parent = (
            Fulfilment.objects.filter(pk=parent_id)
            .values_list("location__code", "rerouted_from_id")
            .first()
        )
        if parent is None:
            break
        codes.add(parent[0])
        parent_id = parent[1]
    return codes


def _destination(order: Order) -> Point | None:
    if order.destination_latitude is None or order.destination_longitude is None:
        return None
    return Point(float(order.destination_latitude), float(order.destination_longitude))


def _reroute(*, order: Order, source: Fulfilment, wanted: dict, actor: str, now: datetime):
    """Plan ``wanted`` (order line → units) again without the locations that came up short
    and create the fulfilments. Returns (new fulfilments, units nothing can serve). When the
    network cannot serve everything, the part it can serve is re-routed and the rest
    returned."""
    exclude = _tried_locations(source)
    for attempt in range(1, REROUTE_ATTEMPTS + 1):
        plan, served = _plan(order=order, wanted=wanted, exclude=exclude)
        if plan is None:
            return [], dict(wanted)
        try:
            with transaction.atomic():
                created = _create_fulfilments(
                    order=order, source=source, plan=plan, actor=actor, now=now
                )
        except StockTaken:
            logger.info("re-route of fulfilment %s lost stock (attempt %d)", source.pk, attempt)
            continue
        unserved = {line: units - served.get(line, 0) for line, units in wanted.items()}
        return created, {line: units for line, units in unserved.items() if units > 0}
    return [], dict(wanted)


def _plan(*, order: Order, wanted: dict, exclude: set[str]) -> tuple[Plan | None, dict]:
    """A feasible plan for ``wanted``, or for as much of it as the network has; None when
    nothing can be served."""
    by_position = {line.position: line for line in wanted}
    demand = dict(wanted)
    for _ in range(2):
        plan = plan_order(
            channel=order.channel,
            lines=[PlanLine(line.position, line.sku, units) for line, units in demand.items()],
            method=Method.SHIP,
            destination=_destination(order),
            exclude=exclude,
        )
        if plan.feasible:
            served: dict = {}
            for planned in plan.fulfilments:
                for p in planned.lines:
                    line = by_position[p.index]
                    served[line] = served.get(line, 0) + p.quantity
            return plan, served
        lacking = {p.index: p.quantity for p in plan.short_lines}
        if not lacking:
            return None, {}
        demand = {
            line: units - lacking.get(line.position, 0)
            for line, units in demand.items()
            if units - lacking.get(line.position, 0) > 0
        }
        if not demand:
            return None, {}
    return None, {}


def _create_fulfilments(
    *, order: Order, source: Fulfilment, plan: Plan, actor: str, now: datetime
) -> list[Fulfilment]:
    lines_by_position = {line.position: line for line in order.lines.all()}
    locations = {
        location.code: location
        for location in Location.objects.filter(code__in=[f.location for f in plan.fulfilments])
    }
    created = []
    for planned in sorted(plan.fulfilments, key=lambda f: f.location):
        location = locations[planned.location]
        fulfilment = Fulfilment.objects.create(
            order=order,
            location=location,
            method=FulfilmentMethod.SHIP,
            rerouted_from=source,
            distance_km=Decimal(str(planned.distance_km)),
            cost=planned.cost,
            local_date=local_date(location, now),
        )
        FulfilmentLine.objects.bulk_create(
            FulfilmentLine(
                fulfilment=fulfilment,
                order_line=lines_by_position[p.index],
                quantity=p.quantity,
            )
            for p in planned.lines
        )
        reservation = inventory_services.reserve(
            channel=order.channel,
            lines=[
                inventory_services.HoldLine(p.sku, location.code, p.quantity) for p in planned.lines
            ],
            reference=f"fulfilment:{fulfilment.pk}",
            owner=RESERVATION_OWNER,
            expires_at=None,
        )
        Fulfilment.objects.filter(pk=fulfilment.pk).update(reservation=reservation)
        fulfilment.reservation = reservation
        record_event(
            order=order,
            kind=EventKind.REROUTED,
            actor=actor,
            detail={
                "from": source.pk,
                "from_location": source.location.code,
                "fulfilment": fulfilment.pk,
                "location": location.code,
                "lines": {p.sku: p.quantity for p in planned.lines},
                "reservation": reservation.pk,
                "explanation": explanation_for_history(plan.explanation),
            },
        )
        created.append(fulfilment)
    return created


def _pickup_alternatives(order: Order, fulfilment: Fulfilment, wanted: dict) -> list[str]:
    """Stores near the pickup store that have every missing unit (for staff to offer)."""
    plan = plan_order(
        channel=order.channel,
        lines=[PlanLine(line.position, line.sku, units) for line, units in wanted.items()],
        method=Method.PICKUP,
        pickup_location=fulfilment.location.code,
        exclude=(),
    )
    return list(plan.alternatives)
