"""The planner fed from the database: candidates and their available-to-promise in a
constant number of queries, whatever the number of lines and locations."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from inventory import selectors as inventory
from inventory.models import Channel, Location
from orders.models import Fulfilment, FulfilmentMethod, FulfilmentStatus
from orders.routing.planner import plan_fulfilment
from orders.routing.types import Candidate, Method, Plan, PlanLine, PlannerSettings, Point


class _Row(NamedTuple):
    """The columns of a location the router needs (names as on :class:`Location`)."""

    pk: int
    code: str
    latitude: Decimal
    longitude: Decimal
    priority: int
    handling_cost: Decimal
    daily_capacity: int | None
    pickup_enabled: bool
    timezone: str


def planner_settings() -> PlannerSettings:
    return PlannerSettings(
        cost_per_km=settings.ROUTING_COST_PER_KM,
        max_splits=settings.ROUTING_MAX_SPLITS,
        exact_budget=settings.ROUTING_EXACT_BUDGET,
    )


def plan_order(
    *,
    channel: Channel,
    lines: Sequence[PlanLine],
    method: Method,
    destination: Point | None = None,
    pickup_location: str | None = None,
    exclude: Collection[str] = (),
    capacity_used: Mapping[str, int] | None = None,
) -> Plan:
    """Plan an order (checkout, re-routing after a short pick, or a dry run). Reserves
    nothing. ``exclude`` leaves locations out (the store that came up short);
    ``capacity_used`` maps location codes to ship orders already taken today (default: read
    from the orders' fulfilments, see :func:`ship_orders_today`)."""
    if method == Method.PICKUP:
        # The chosen store, plus the other pickup stores to name as alternatives.
        locations = Location.objects.filter(active=True, pickup_enabled=True)
    else:
        locations = Location.objects.filter(active=True, ship_enabled=True)
    locations = locations.exclude(code__in=exclude)
    skus = {line.sku for line in lines}
    stock = inventory.promisable_stock(skus=skus, locations=locations)
    # Plain tuples, not model instances: a thousand locations cost a few milliseconds.
    rows = [_Row(*values) for values in locations.order_by().values_list(*_Row._fields)]
    if capacity_used is None and method == Method.SHIP:
        capacity_used = ship_orders_today(
            [location for location in rows if location.daily_capacity is not None]
        )
    used = capacity_used or {}
    candidates = [
        Candidate(
            code=location.code,
            latitude=float(location.latitude),
            longitude=float(location.longitude),
            priority=location.priority,
            handling_cost=location.handling_cost,
            available=stock.get(location.code, {}),
            capacity_left=(
                None
                if location.daily_capacity is None or method == Method.PICKUP
                else location.daily_capacity - used.get(location.code, 0)
            ),
            pickup_enabled=location.pickup_enabled,
        )
        for location in rows
    ]
    return plan_fulfilment(
        lines=lines,
        candidates=candidates,
        method=method,
        destination=destination,
        pickup_location=pickup_location,
        settings=planner_settings(),
    )


def local_date(location: Location | _Row, now: datetime | None = None) -> date:
    """The date at ``location`` now (its own time zone): the day its capacity counts."""
    return (now or timezone.now()).astimezone(ZoneInfo(location.timezone)).date()


def ship_orders_today(
    locations: Iterable[Location | _Row], *, now: datetime | None = None
) -> dict[str, int]:
    """Location code → orders it ships from today, in its own local day: orders with a ship
    fulfilment there created today (``Fulfilment.local_date``), cancelled ones left out
    (their work is given back). One query whatever the number of locations; none when no
    location is given. Not locked: two checkouts at the same moment may both take a store's
    last slot, so the capacity is a soft limit by at most the number of concurrent
    checkouts."""
    now = now or timezone.now()
    today = {location.pk: (location.code, local_date(location, now)) for location in locations}
    if not today:
        return {}
    utc_today = now.astimezone(ZoneInfo("UTC")).date()
    rows = (
        Fulfilment.objects.filter(
            method=FulfilmentMethod.SHIP,
            location_id__in=list(today),
            local_date__gte=utc_today - timedelta(days=1),
            local_date__lte=utc_today + timedelta(days=1),
        )
        .exclude(status=FulfilmentStatus.CANCELLED)
        .values_list("location_id", "local_date")
        .annotate(orders=Count("order_id", distinct=True))
        .order_by()
    )
    used: dict[str, int] = {}
    for location_id, day, orders in rows:
        code, local_today = today[location_id]
        if day == local_today:
            used[code] = orders
    return used
