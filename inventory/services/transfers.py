"""Moving stock between locations: out at dispatch, in at receipt, in transit between."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.errors import InsufficientStock, InvalidState, NotFound, ValidationFailed
from inventory.models import MovementKind, StockLevel, Transfer
from inventory.services.stock import Entry, add_on_hand, level_for, write_movement

logger = logging.getLogger(__name__)


@transaction.atomic
def dispatch_transfer(
    *, sku: str, from_location: str, to_location: str, quantity: int, entry: Entry = Entry()
) -> Transfer:
    """Send ``quantity`` units that are not promised to anyone from one location to another.
    They leave the source's on hand now and show as in transit at the destination."""
    if from_location == to_location:
        raise ValidationFailed.field("to_location", "A transfer goes to another location.")
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed.field("quantity", "Must be a whole number above zero.")
    source = level_for(sku=sku, location=from_location, location_attr="from_location")
    target = level_for(sku=sku, location=to_location, location_attr="to_location")
    transfer = Transfer.objects.create(
        sku_id=source.sku_id,
        from_location_id=source.location_id,
        to_location_id=target.location_id,
        quantity=quantity,
        reference=entry.reference,
        created_by=entry.actor,
    )
    entry = Entry(
        entry.reason or f"transfer {transfer.pk} to {to_location}",
        f"transfer:{transfer.pk}",
        entry.actor,
    )
    # Both rows in primary-key order, each with one conditional UPDATE.
    for level in sorted((source, target), key=lambda level: level.pk):
        if level is source:
            taken = StockLevel.objects.filter(
                pk=source.pk, on_hand__gte=F("reserved") + quantity
            ).update(on_hand=F("on_hand") - quantity)
            if not taken:
                free = (
                    StockLevel.objects.filter(pk=source.pk)
                    .values_list(F("on_hand") - F("reserved"), flat=True)
                    .get()
                )
                raise InsufficientStock(
                    f"Only {max(free, 0)} unreserved units of {sku} at {from_location}.",
                    errors=[
                        {
                            "attr": "quantity",
                            "code": "insufficient_stock",
                            "detail": f"Only {max(free, 0)} free.",
                        }
                    ],
                )
        else:
            StockLevel.objects.filter(pk=target.pk).update(in_transit=F("in_transit") + quantity)
    write_movement(
        level_id=source.pk, kind=MovementKind.TRANSFER_OUT, quantity=-quantity, entry=entry
    )
    logger.info(
        "transfer %s: %d %s %s → %s dispatched",
        transfer.pk,
        quantity,
        sku,
        from_location,
        to_location,
    )
    return transfer


@transaction.atomic
def receive_transfer(*, transfer_id: int, entry: Entry = Entry()) -> Transfer:
    """The units arrived: on hand at the destination goes up, in transit down. Receiving a
    received transfer is 409 ``invalid_state``."""
    transfer = Transfer.objects.select_related("sku", "to_location").filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id}.")
    now = timezone.now()
    if not Transfer.objects.filter(pk=transfer.pk, status=Transfer.Status.IN_TRANSIT).update(
        status=Transfer.Status.RECEIVED, received_at=now
    ):
        raise InvalidState(f"Transfer {transfer_id} was already received.")
    level = StockLevel.objects.get(sku_id=transfer.sku_id, location_id=transfer.to_location_id)
    StockLevel.objects.filter(pk=level.pk).update(in_transit=F("in_transit") - transfer.quantity)
    entry = Entry(
        entry.reason or f"transfer {transfer.pk} received", f"transfer:{transfer.pk}", entry.actor
    )
    add_on_hand(
        level_id=level.pk, quantity=transfer.quantity, kind=MovementKind.TRANSFER_IN, entry=entry
    )
    transfer.refresh_from_db()
    logger.info("transfer %s received at %s", transfer.pk, transfer.to_location.code)
    return transfer
