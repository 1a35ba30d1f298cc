"""Reads of stock: levels, the ledger, available-to-promise."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Greatest

from inventory.errors import NotFound
from inventory.geo import distance_km
from inventory.models import (
    SKU,
    Channel,
    Location,
    Reservation,
    StockLevel,
    StockMovement,
    Transfer,
)

WEB_CHANNELS_NEED = Q(ship_enabled=True) | Q(pickup_enabled=True)


def with_available(queryset: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    """Annotate ``available_qty`` = on hand − reserved − safety stock, never below zero."""
    return queryset.annotate(
        available_qty=Greatest(F("on_hand") - F("reserved") - F("safety_stock"), Value(0))
    )


def stock_levels(
    *,
    sku: str | None = None,
    location: str | None = None,
    below_reorder_point: bool | None = None,
    location_codes: Collection[str] | None = None,
) -> QuerySet[StockLevel]:
    """Levels with SKU and location, for the API and admin. ``location_codes`` limits what a
    location-bound caller sees."""
    queryset = with_available(StockLevel.objects.select_related("sku", "location"))
    if sku:
        queryset = queryset.filter(sku__sku=sku)
    if location:
        queryset = queryset.filter(location__code=location)
    if location_codes is not None:
        queryset = queryset.filter(location__code__in=location_codes)
    if below_reorder_point is True:
        queryset = queryset.filter(reorder_point__gt=0, available_qty__lte=F("reorder_point"))
    elif below_reorder_point is False:
        queryset = queryset.exclude(reorder_point__gt=0, available_qty__lte=F("reorder_point"))
    return queryset.order_by("location__code", "sku__sku")


def movements(
    *,
    sku: str | None = None,
    location: str | None = None,
    kind: str | None = None,
    location_codes: Collection[str] | None = None,
) -> QuerySet[StockMovement]:
    queryset = StockMovement.objects.select_related("sku", "location")
    if sku:
        queryset = queryset.filter(sku__sku=sku)
    if location:
        queryset = queryset.filter(location__code=location)
    if kind:
        queryset = queryset.filter(kind=kind)
    if location_codes is not None:
        queryset = queryset.filter(location__code__in=location_codes)
    return queryset.order_by("-id")


def transfers(
    *,
    location_codes: Collection[str] | None = None,
    sku: str | None = None,
    status: str | None = None,
) -> QuerySet[Transfer]:
    """Transfers newest first; ``location_codes`` keeps those from or to those locations."""
    queryset = Transfer.objects.select_related("sku", "from_location", "to_location")
    if sku:
        queryset = queryset.filter(sku__sku=sku)
    if status:
        queryset = queryset.filter(status=status)
    if location_codes is not None:
        queryset = queryset.filter(
            Q(from_location__code__in=location_codes) | Q(to_location__code__in=location_codes)
        )
    return queryset


def transfer_by_id(transfer_id: int, *, location_codes: Collection[str] | None = None) -> Transfer:
    transfer = transfers(location_codes=location_codes).filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id}.")
    return transfer


def reservation_by_id(reservation_id: int, *, owner: str | None = None) -> Reservation:
    """A reservation, seen only by the caller that made it when ``owner`` is given."""
    queryset = Reservation.objects.filter(pk=reservation_id)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    reservation = (
        queryset.select_related("channel")
        .prefetch_related("lines__level__sku", "lines__level__location")
        .first()
    )
    if reservation is None:
        raise NotFound(f"No reservation {reservation_id}.")
    return reservation


# --- Available to promise -----------------------------------------------------------------


@dataclass
class LocationAvailability:
    location: str
    type: str
    available: int
    pickup_enabled: bool
    ship_enabled: bool
    distance_km: float | None = None


@dataclass
class SKUAvailability:
    sku: str
    available: int = 0
    locations: list[LocationAvailability] = field(default_factory=list)


def locations_for_channel(
    channel: Channel | None, *, location_codes: Collection[str] | None = None
):
    """Where a channel may promise from: ``pos`` only at the terminal's store(s); every other
    channel at locations that ship or offer pickup."""
    queryset = Location.objects.filter(active=True)
    if location_codes is not None:
        queryset = queryset.filter(code__in=location_codes)
    if channel is None or channel.code != "pos":
        queryset = queryset.filter(WEB_CHANNELS_NEED)
    return queryset


def available_to_promise(
    *,
    skus: Sequence[str],
    channel: Channel | None = None,
    near: tuple[float, float] | None = None,
    location_codes: Collection[str] | None = None,
    max_locations: int | None = None,
) -> list[SKUAvailability]:
    """Network and per-location available-to-promise for ``skus`` in two queries, whatever
    the number of SKUs and locations. With ``near``, locations come nearest first;
    ``max_locations`` lists only the first so many (the network total still counts all)."""
    known = set(SKU.objects.filter(sku__in=skus, active=True).values_list("sku", flat=True))
    results = {code: SKUAvailability(sku=code) for code in skus if code in known}
    eligible = locations_for_channel(channel, location_codes=location_codes)
    rows = (
        with_available(StockLevel.objects.filter(sku__sku__in=known, location__in=eligible))
        .filter(available_qty__gt=0)
        .order_by()  # sorted in Python below, by distance or priority
        .values_list(
            "sku__sku",
            "available_qty",
            "location__code",
            "location__type",
            "location__pickup_enabled",
            "location__ship_enabled",
            "location__latitude",
            "location__longitude",
            "location__priority",
        )
    )
    per_sku: dict[str, list[tuple]] = defaultdict(list)
    for sku, available, code, type_, pickup, ship, lat, lng, priority in rows:
        distance = round(distance_km(near[0], near[1], float(lat), float(lng)), 3) if near else None
        per_sku[sku].append(
            (
                distance,
                -priority,
                code,
                LocationAvailability(code, type_, available, pickup, ship, distance),
            )
        )
    for sku, entries in per_sku.items():
        entries.sort(key=lambda e: (e[0] if e[0] is not None else 0.0, e[1], e[2]))
        results[sku].available = sum(e[3].available for e in entries)
        results[sku].locations = [e[3] for e in entries[:max_locations]]
    return [results[code] for code in skus if code in results]


def promisable_stock(
    *, skus: Collection[str], locations: QuerySet[Location]
) -> dict[str, dict[str, int]]:
    """``{location code: {sku: available}}`` for the given SKUs at the given locations, in one
    query; only positive availability is listed. The router's view of the network."""
    rows = (
        with_available(StockLevel.objects.filter(sku__sku__in=skus, location__in=locations))
        .filter(available_qty__gt=0)
        .order_by()
        .values_list("location__code", "sku__sku", "available_qty")
    )
    stock: dict[str, dict[str, int]] = defaultdict(dict)
    for code, sku, available in rows:
        stock[code][sku] = available
    return dict(stock)
