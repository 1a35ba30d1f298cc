"""The planner fed from the database: candidates and their available-to-promise in a
constant number of queries, whatever the number of lines and locations."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from django.conf import settings

from inventory import selectors as inventory
from inventory.models import Channel, Location
from orders.routing.planner import plan_fulfilment
from orders.routing.types import Candidate, Method, Plan, PlanLine, PlannerSettings, Point


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
    ``capacity_used`` maps location codes to ship orders already taken today."""
    if method == Method.PICKUP:
        # The chosen store, plus the other pickup stores to name as alternatives.
        locations = Location.objects.filter(active=True, pickup_enabled=True)
    else:
        locations = Location.objects.filter(active=True, ship_enabled=True)
    locations = locations.exclude(code__in=exclude)
    skus = {line.sku for line in lines}
    stock = inventory.promisable_stock(skus=skus, locations=locations)
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
        for location in locations.only(
            "code",
            "latitude",
            "longitude",
            "priority",
            "handling_cost",
            "daily_capacity",
            "pickup_enabled",
        )
    ]
    return plan_fulfilment(
        lines=lines,
        candidates=candidates,
        method=method,
        destination=destination,
        pickup_location=pickup_location,
        settings=planner_settings(),
    )
