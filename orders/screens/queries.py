"""Reads for the screens, always through the store-scoped principal of
:mod:`orders.screens.access` (:func:`orders.fulfilment_selectors.fulfilments`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from config.api.errors import DomainError
from config.api.roles import Principal
from inventory import selectors as inventory_selectors
from loyalty.contact import normalise_phone
from orders import fulfilment_selectors
from orders.errors import NotFound
from orders.models import EventKind, Fulfilment, FulfilmentMethod, FulfilmentStatus, OrderEvent
from orders.services.pickup_times import pickup_hold_days

NEAR_DEADLINE = timedelta(days=1)  # a ready pickup this close to its deadline is marked
TO_PICK = (FulfilmentStatus.PENDING, FulfilmentStatus.PICKING)


def _pickups(principal: Principal) -> QuerySet[Fulfilment]:
    return fulfilment_selectors.fulfilments(
        principal=principal, method=FulfilmentMethod.PICKUP
    ).select_related("order__customer", "order__channel")


@dataclass
class QueueRow:
    fulfilment: Fulfilment
    lines: int
    units: int
    age: timedelta
    overdue: bool


def pick_queue(principal: Principal, *, now: datetime) -> list[QueueRow]:
    """Pickups to pick at the store, soonest ready-by first (then oldest)."""
    queryset = (
        _pickups(principal)
        .filter(status__in=TO_PICK)
        .order_by(F("ready_by").asc(nulls_last=True), "created_at", "id")
    )
    rows = []
    for fulfilment in queryset:
        lines = [line for line in fulfilment.lines.all() if line.units > 0]
        rows.append(
            QueueRow(
                fulfilment=fulfilment,
                lines=len(lines),
                units=sum(line.units for line in lines),
                age=now - fulfilment.order.created_at,
                overdue=fulfilment.ready_by is not None and fulfilment.ready_by < now,
            )
        )
    return rows


@dataclass
class ShelfRow:
    fulfilment: Fulfilment
    days_waiting: int
    collect_by: datetime
    near_deadline: bool
    units: int


def shelf_row(fulfilment: Fulfilment, *, now: datetime) -> ShelfRow:
    ready_at = fulfilment.ready_at or fulfilment.created_at
    collect_by = ready_at + timedelta(days=pickup_hold_days(fulfilment.order.channel.code))
    return ShelfRow(
        fulfilment=fulfilment,
        days_waiting=max(0, (now - ready_at).days),
        collect_by=collect_by,
        near_deadline=collect_by - now <= NEAR_DEADLINE,
        units=sum(line.units for line in fulfilment.lines.all()),
    )


def ready_shelf(principal: Principal, *, now: datetime, search: str = "") -> list[ShelfRow]:
    """Pickups waiting for their customer, longest waiting first; ``search`` narrows them to
    an order number, customer name, email or phone."""
    queryset = _pickups(principal).filter(status=FulfilmentStatus.READY_FOR_PICKUP)
    search = search.strip()
    if search:
        queryset = queryset.filter(_matching(search))
    queryset = queryset.order_by(F("ready_at").asc(nulls_first=True), "id")
    return [shelf_row(fulfilment, now=now) for fulfilment in queryset]


def _matching(search: str) -> Q:
    condition = (
        Q(order__number__iexact=search)
        | Q(order__email__iexact=search)
        | Q(order__customer__email__iexact=search)
    )
    words = search.split()
    if words and not any(ch.isdigit() for ch in search):
        name = Q()
        for word in words:
            name &= Q(order__customer__first_name__icontains=word) | Q(
                order__customer__last_name__icontains=word
            )
        condition |= name
    if sum(ch.isdigit() for ch in search) >= 6:
        try:
            phone = normalise_phone(search)
        except DomainError:
            phone = ""
        if phone:
            condition |= Q(order__customer__phone=phone)
    return condition


def pickup(principal: Principal, fulfilment_id: int) -> Fulfilment:
    """One pickup at the store (404 :class:`config.api.errors.NotFound` otherwise)."""
    found = fulfilment_selectors.fulfilment_by_id(fulfilment_id, principal=principal)
    if found.method != FulfilmentMethod.PICKUP:
        raise NotFound(f"No pickup {fulfilment_id}.")
    return found


@dataclass
class PickLine:
    sku: str
    name: str
    attributes: dict
    barcode: str
    quantity: int  # units to pick here
    scanned: int
    missing: bool  # staff could not find the rest

    @property
    def done(self) -> bool:
        return self.missing or self.scanned >= self.quantity


def pick_lines(fulfilment: Fulfilment, *, scanned: dict, missing: list) -> list[PickLine]:
    lines = [line for line in fulfilment.lines.all() if line.units > 0]
    skus = {
        sku.sku: sku
        for sku in inventory_selectors.skus().filter(
            sku__in=[line.order_line.sku for line in lines]
        )
    }
    result = []
    for line in lines:
        code = line.order_line.sku
        sku = skus.get(code)
        result.append(
            PickLine(
                sku=code,
                name=line.order_line.name or (sku.name if sku else code),
                attributes=(sku.attributes if sku else {}) or {},
                barcode=(sku.barcode if sku else "") or "",
                quantity=line.units,
                scanned=min(int(scanned.get(code, 0)), line.units),
                missing=code in missing,
            )
        )
    return result


def points_earned(fulfilment: Fulfilment) -> int | None:
    """Points the hand-over of ``fulfilment`` earned (None: no loyalty card)."""
    for event in OrderEvent.objects.filter(
        order_id=fulfilment.order_id, kind=EventKind.POINTS_EARNED
    ).order_by("-id"):
        if event.detail.get("fulfilment") == fulfilment.pk:
            return int(event.detail.get("points", 0)) + int(event.detail.get("bonus_points", 0))
    return None
