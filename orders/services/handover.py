"""Handing goods over: a pickup collected at the counter, a parcel shipped.

At the hand-over, in one transaction with the order row locked: the fulfilment's hold is
consumed for the units picked (a ``sale`` in the stock ledger, reference
``fulfilment:<id>:handover``, so it happens once) and anything else it held is released; the
payment is captured for those units (their value after discounts, with tax, less points; the
order's last hand-over captures whatever is left, so cents never strand); loyalty points are
earned on them (net of discounts, without tax, reference ``fulfilment:<id>``); the fulfilment
becomes ``collected`` or ``shipped``, the history says so and the order's status is derived
again. A shipped parcel is announced to the customer.

Points are earned on the whole net value of the units, including a part paid with points:
a redemption is a way to pay, not a discount.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.api.errors import DomainError
from config.money import ZERO
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from loyalty import services as loyalty_services
from orders.errors import InvalidState, ValidationFailed
from orders.models import (
    OPEN_FULFILMENT,
    EventKind,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
    Order,
)
from orders.services.amounts import units_value
from orders.services.events import record_event, refresh_status
from orders.services.notifications import notify
from orders.services.payments import capture_payment
from orders.services.shortfall_repair import held_units, repair_fulfilment
from orders.services.unit_changes import (
    fulfilment_lines,
    handed_over_units,
    lock_fulfilment,
    pick_recorded,
    portion,
)

logger = logging.getLogger(__name__)


class InvalidPickupCode(DomainError):
    status = 409
    code = "invalid_pickup_code"
    title = "Invalid pickup code"


def collect(
    *, fulfilment_id: int, pickup_code: str, actor: str = "", now: datetime | None = None
) -> Fulfilment:
    """The customer collects a pickup that is ready, showing its code:
    ``ready_for_pickup → collected`` with the hand-over effects (module docstring).

    Atomic; idempotent in effect (a second collect finds it collected: 409, and the stock,
    payment and points steps are idempotent on the fulfilment besides). Errors: 404 unknown
    fulfilment; 409 ``invalid_state`` for a ship fulfilment or one not ready for pickup;
    409 ``invalid_pickup_code`` when the code is not the fulfilment's (nothing changes)."""
    now = now or timezone.now()
    repair_fulfilment(fulfilment_id=fulfilment_id, now=now)
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        if fulfilment.method != FulfilmentMethod.PICKUP:
            raise InvalidState(f"Fulfilment {fulfilment.pk} ships; it is not collected.")
        if fulfilment.status != FulfilmentStatus.READY_FOR_PICKUP:
            raise InvalidState(
                f"Fulfilment {fulfilment.pk} is {fulfilment.status}, not ready for pickup."
            )
        if not fulfilment.pickup_code or not secrets.compare_digest(
            str(pickup_code).encode(), fulfilment.pickup_code.encode()
        ):
            raise InvalidPickupCode("That is not the pickup code of this order.")
        _hand_over(
            order=order,
            fulfilment=fulfilment,
            status=FulfilmentStatus.COLLECTED,
            actor=actor,
            now=now,
        )
    logger.info("fulfilment %s of order %s collected", fulfilment.pk, order.number)
    return fulfilment


def ship(
    *,
    fulfilment_id: int,
    carrier: str,
    tracking_number: str,
    actor: str = "",
    now: datetime | None = None,
) -> Fulfilment:
    """A picked ship fulfilment leaves with ``carrier`` and ``tracking_number``:
    ``picking → shipped`` with the hand-over effects, and the customer gets a ``shipped``
    message (after the commit).

    Atomic. Errors: 404 unknown fulfilment; 400 blank carrier or tracking number; 409
    ``invalid_state`` for a pickup fulfilment, before the pick is recorded, or from any state
    but ``picking``."""
    now = now or timezone.now()
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier:
        raise ValidationFailed.field("carrier", "Name the carrier.", "required")
    if not tracking_number:
        raise ValidationFailed.field("tracking_number", "Give the tracking number.", "required")
    repair_fulfilment(fulfilment_id=fulfilment_id, now=now)
    with transaction.atomic():
        order, fulfilment = lock_fulfilment(fulfilment_id)
        if fulfilment.method != FulfilmentMethod.SHIP:
            raise InvalidState(f"Fulfilment {fulfilment.pk} is a pickup; it is collected.")
        if fulfilment.status != FulfilmentStatus.PICKING:
            raise InvalidState(f"Fulfilment {fulfilment.pk} is {fulfilment.status}, not picking.")
        fulfilment.carrier, fulfilment.tracking_number = carrier[:100], tracking_number[:100]
        _hand_over(
            order=order,
            fulfilment=fulfilment,
            status=FulfilmentStatus.SHIPPED,
            actor=actor,
            now=now,
        )
        notify(order=order, kind=NotificationKind.SHIPPED, fulfilment=fulfilment)
    logger.info("fulfilment %s of order %s shipped", fulfilment.pk, order.number)
    return fulfilment


def _hand_over(
    *, order: Order, fulfilment: Fulfilment, status: FulfilmentStatus, actor: str, now: datetime
) -> None:
    lines = fulfilment_lines(fulfilment)
    if not pick_recorded(lines):
        raise InvalidState(f"Record what was found for fulfilment {fulfilment.pk} first.")
    handed = [line for line in lines if line.picked_quantity > 0]
    if not handed:
        raise InvalidState(f"Nothing was found for fulfilment {fulfilment.pk}.")
    held = held_units(fulfilment) or {}
    if any(held.get(line.order_line.sku, 0) < line.picked_quantity for line in handed):
        # A shortfall took held units after the repair above; the next attempt repairs it.
        raise InvalidState(
            f"The stock held for fulfilment {fulfilment.pk} changed just now; try again."
        )

    code = fulfilment.location.code
    inventory_services.consume(
        reservation_id=fulfilment.reservation_id,
        reference=f"fulfilment:{fulfilment.pk}:handover",
        quantities={(line.order_line.sku, code): line.picked_quantity for line in handed},
        entry=inventory_services.Entry(
            reason=f"Order {order.number} {status}", actor=actor, occurred_at=now
        ),
    )
    inventory_services.release(reservation_id=fulfilment.reservation_id)  # anything left over

    before = handed_over_units(order, exclude_fulfilment=fulfilment.pk)
    last = (
        not Fulfilment.objects.filter(order=order, status__in=list(OPEN_FULFILMENT))
        .exclude(pk=fulfilment.pk)
        .exists()
    )
    value = sum(
        (
            units_value(
                line.order_line, line.picked_quantity, before=before.get(line.order_line_id, 0)
            ).amount
            for line in handed
        ),
        ZERO,
    )
    capture_payment(order=order, amount=None if last else value, actor=actor)
    earned = _earn_points(order=order, fulfilment=fulfilment, handed=handed, before=before, now=now)
    if earned is not None:
        record_event(
            order=order,
            kind=EventKind.POINTS_EARNED,
            actor=actor,
            detail={
                "fulfilment": fulfilment.pk,
                "reference": earned.reference,
                "card_number": earned.card_number,
                "net_amount": str(earned.net_amount),
                "points": earned.points,
                "bonus_points": earned.bonus_points,
            },
        )

    fulfilment.status, fulfilment.handed_over_at = status, now
    Fulfilment.objects.filter(pk=fulfilment.pk).update(
        status=status,
        handed_over_at=now,
        carrier=fulfilment.carrier,
        tracking_number=fulfilment.tracking_number,
    )
    detail = {
        "fulfilment": fulfilment.pk,
        "location": code,
        "lines": {line.order_line.sku: line.picked_quantity for line in handed},
        "value": str(value),
    }
    if status == FulfilmentStatus.SHIPPED:
        detail |= {"carrier": fulfilment.carrier, "tracking_number": fulfilment.tracking_number}
    record_event(
        order=order,
        kind=EventKind.COLLECTED if status == FulfilmentStatus.COLLECTED else EventKind.SHIPPED,
        actor=actor,
        detail=detail,
    )
    refresh_status(order=order, actor=actor)


def _earn_points(
    *,
    order: Order,
    fulfilment: Fulfilment,
    handed: list[FulfilmentLine],
    before: dict[int, int],
    now: datetime,
):
    """Points for the units handed over, on the customer's account (or the card the order
    redeemed from); None for a guest without a card."""
    if order.customer_id is None and not order.loyalty_card_number:
        return None
    categories = dict(
        inventory_selectors.skus()
        .filter(sku__in=[line.order_line.sku for line in handed])
        .values_list("sku", "product__category__code")
    )
    lines = []
    for line in handed:
        order_line = line.order_line
        net = order_line.total - order_line.tax_total
        lines.append(
            (
                categories.get(order_line.sku),
                portion(
                    net,
                    order_line.quantity,
                    before.get(order_line.pk, 0),
                    line.picked_quantity,
                ),
            )
        )
    account = (
        {"customer_id": order.customer_id}
        if order.customer_id is not None
        else {"card_number": order.loyalty_card_number}
    )
    return loyalty_services.earn_points(
        reference=f"fulfilment:{fulfilment.pk}",
        lines=lines,
        occurred_at=now,
        actor=f"order:{order.number}",
        **account,
    )
