"""Inventory's reads, shared by the API, the admin, the screens and the other apps."""

from inventory.selectors.audit import stock_discrepancies
from inventory.selectors.catalog import (
    categories,
    category_by_code,
    channel_by_code,
    channels,
    location_by_code,
    locations,
    products,
    sku_by_code,
    skus,
    sort_by_distance,
)
from inventory.selectors.stock import (
    LocationAvailability,
    SKUAvailability,
    available_to_promise,
    locations_for_channel,
    movements,
    promisable_stock,
    reservation_by_id,
    stock_levels,
    transfer_by_id,
    transfers,
    with_available,
)

__all__ = [
    "LocationAvailability",
    "SKUAvailability",
    "available_to_promise",
    "categories",
    "category_by_code",
    "channel_by_code",
    "channels",
    "location_by_code",
    "locations",
    "locations_for_channel",
    "movements",
    "products",
    "promisable_stock",
    "reservation_by_id",
    "sku_by_code",
    "skus",
    "sort_by_distance",
    "stock_discrepancies",
    "stock_levels",
    "transfer_by_id",
    "transfers",
    "with_available",
]
