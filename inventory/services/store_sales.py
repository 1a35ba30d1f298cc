"""Goods sold over a store's counter: taken from on hand at once, never refused.

The goods are in the customer's hand, so the recorded stock gives way: when a level holds
fewer units than were sold, the gap is first booked as a ``discrepancy`` (for the store to
count) and then the ``sale``, so on hand stays equal to the sum of its ledger and never
goes below zero. A sale that eats into units held for reservations (a pickup order's) shorts
the newest of them, like a count would: the ``shortfall`` movement and ``stock_shortfall``
signal let the orders app repair those orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from inventory.errors import UnknownLocation, UnknownSKU
from inventory.models import SKU, Location, MovementKind, StockLevel, StockMovement
from inventory.services.stock import Entry, _set_on_hand, add_on_hand


@dataclass(frozen=True)
class SoldLine:
    sku: str
    quantity: int


@transaction.atomic
def sell_at_store(
    *, location: str, lines: Sequence[SoldLine], entry: Entry = Entry()
) -> list[StockMovement]:
    """Take ``lines`` from ``location``'s on hand (``sale`` movements, ``entry.occurred_at``
    kept), with a ``discrepancy`` before each sale that finds too few units. Atomic; locks
    the levels in primary-key order. Errors: unknown SKU or location (400)."""
    location_id = Location.objects.filter(code=location).values_list("pk", flat=True).first()
    if location_id is None:
        raise UnknownLocation(location)
    sku_ids = dict(
        SKU.objects.filter(sku__in=[line.sku for line in lines]).values_list("sku", "pk")
    )
    for line in lines:
        if line.sku not in sku_ids:
            raise UnknownSKU(line.sku)
    for sku_id in sku_ids.values():
        StockLevel.objects.get_or_create(sku_id=sku_id, location_id=location_id)
    levels = {
        level.sku_id: level
        for level in StockLevel.objects.select_for_update()
        .select_related("sku", "location")
        .filter(location_id=location_id, sku_id__in=sku_ids.values())
        .order_by("pk")
    }
    movements = []
    for line in sorted(lines, key=lambda line: levels[sku_ids[line.sku]].pk):
        level = levels[sku_ids[line.sku]]
        gap = line.quantity - level.on_hand
        if gap > 0:
            add_on_hand(
                level_id=level.pk,
                quantity=gap,
                kind=MovementKind.DISCREPANCY,
                entry=Entry(
                    reason=f"Sold {line.quantity} with {level.on_hand} on record: count this",
                    reference=entry.reference,
                    actor=entry.actor,
                    occurred_at=entry.occurred_at,
                ),
            )
            level.refresh_from_db(fields=["on_hand", "reserved"])
        movements.append(
            _set_on_hand(
                level=level,
                target=level.on_hand - line.quantity,
                kind=MovementKind.SALE,
                entry=entry,
            )
        )
    return movements
