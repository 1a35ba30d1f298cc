"""Inventory's reads, shared by the API, the admin, the screens and the other apps."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from inventory.errors import NotFound
from inventory.geo import distance_km
from inventory.models import SKU, Category, Channel, Location, Product


def category_by_code(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise NotFound(f"No category {code!r}.")
    return category


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def products(
    *, search: str | None = None, category_code: str | None = None, active: bool | None = None
) -> QuerySet[Product]:
    """Products with their category and SKUs in a constant number of queries.
    ``category_code`` matches the category and everything below it."""
    queryset = Product.objects.select_related("category").prefetch_related(
        Prefetch("skus", queryset=SKU.objects.order_by("sku"))
    )
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(description__icontains=search)
            | Q(skus__sku__iexact=search)
            | Q(skus__barcode=search)
        ).distinct()
    if category_code:
        path = _category_path_of(category_code)
        # An unknown category matches nothing rather than everything.
        queryset = (
            queryset.filter(category__path__startswith=path)
            if path is not None
            else queryset.none()
        )
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("name", "id")


def _category_path_of(code: str) -> str | None:
    # Not a NUL sentinel for "unknown": PostgreSQL refuses NUL in text (a 500).
    return Category.objects.filter(code=code).values_list("path", flat=True).first()


def skus(*, barcode: str | None = None, active: bool | None = None) -> QuerySet[SKU]:
    queryset = SKU.objects.select_related("product__category")
    if barcode:
        queryset = queryset.filter(barcode=barcode)
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset


def sku_by_code(code: str) -> SKU:
    sku = skus().filter(sku=code).first()
    if sku is None:
        raise NotFound(f"No SKU {code!r}.")
    return sku


def channels() -> QuerySet[Channel]:
    return Channel.objects.all()


def channel_by_code(code: str) -> Channel:
    channel = Channel.objects.filter(code=code).first()
    if channel is None:
        raise NotFound(f"No channel {code!r}.")
    return channel


def locations(
    *,
    type: str | None = None,
    pickup_enabled: bool | None = None,
    ship_enabled: bool | None = None,
    codes: frozenset[str] | None = None,
) -> QuerySet[Location]:
    queryset = Location.objects.filter(active=True)
    if type:
        queryset = queryset.filter(type=type)
    if pickup_enabled is not None:
        queryset = queryset.filter(pickup_enabled=pickup_enabled)
    if ship_enabled is not None:
        queryset = queryset.filter(ship_enabled=ship_enabled)
    if codes is not None:
        queryset = queryset.filter(code__in=codes)
    return queryset


def sort_by_distance(
    rows: QuerySet[Location] | list[Location], *, lat: float, lng: float
) -> list[Location]:
    """Fetch once, then measure and sort in Python; each row gains ``distance_km``.
    Ties (same spot) fall back to the code, so the order is deterministic."""
    located = list(rows)
    for location in located:
        location.distance_km = round(
            distance_km(lat, lng, float(location.latitude), float(location.longitude)), 3
        )
    located.sort(key=lambda location: (location.distance_km, location.code))
    return located


def location_by_code(code: str) -> Location:
    location = Location.objects.filter(code=code).first()
    if location is None:
        raise NotFound(f"No location {code!r}.")
    return location
