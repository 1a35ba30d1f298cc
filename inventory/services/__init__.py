"""Inventory's writes: one function per use case, one transaction each.

Other apps call these (never the models) to change catalog or stock.
"""

from inventory.services.catalog import (
    create_category,
    create_channel,
    create_location,
    create_product,
    update_category,
    update_location,
    update_product,
)
from inventory.services.lowstock import record_low_stock_report
from inventory.services.reservations import (
    HoldLine,
    consume,
    release,
    release_expired_reservations,
    reserve,
)
from inventory.services.returns import receive_return
from inventory.services.shortfalls import resolve_shortfalls
from inventory.services.stock import (
    Entry,
    adjust_stock,
    count_stock,
    receive_stock,
    record_damage,
    record_movement,
    set_stock_parameters,
)
from inventory.services.stock_batch import StockLine, count_stock_batch, receive_stock_batch
from inventory.services.transfers import dispatch_transfer, receive_transfer

__all__ = [
    "Entry",
    "HoldLine",
    "StockLine",
    "adjust_stock",
    "consume",
    "count_stock",
    "count_stock_batch",
    "create_category",
    "create_channel",
    "create_location",
    "create_product",
    "dispatch_transfer",
    "receive_return",
    "receive_stock",
    "receive_stock_batch",
    "receive_transfer",
    "record_damage",
    "record_low_stock_report",
    "record_movement",
    "release",
    "release_expired_reservations",
    "reserve",
    "resolve_shortfalls",
    "set_stock_parameters",
    "update_category",
    "update_location",
    "update_product",
]
