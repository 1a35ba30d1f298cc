"""Goods coming back from customers (the returns app calls this)."""

from __future__ import annotations

from django.db import transaction

from inventory.models import MovementKind, StockMovement
from inventory.services.stock import Entry, _positive, _take_physical, add_on_hand, level_for


@transaction.atomic
def receive_return(
    *, sku: str, location: str, quantity: int, resellable: bool, entry: Entry = Entry()
) -> list[StockMovement]:
    """``quantity`` returned units of ``sku`` arrive at ``location``.

    Resellable: on hand goes up with one ``return`` movement. Damaged: the ``return``
    movement is followed by a ``damage`` movement of the same units in the same transaction,
    so the ledger shows they came back and that they left sellable stock at once; on hand
    (and so what can be sold or reserved) never includes them. Atomic; not idempotent (the
    caller holds the return's own lock). Errors: 400 unknown SKU or location, bad quantity.
    """
    _positive(quantity)
    level = level_for(sku=sku, location=location)
    movements = [
        add_on_hand(level_id=level.pk, quantity=quantity, kind=MovementKind.RETURN, entry=entry)
    ]
    if not resellable:
        movements.append(
            _take_physical(
                level_id=level.pk, delta=-quantity, kind=MovementKind.DAMAGE, entry=entry
            )
        )
    return movements
