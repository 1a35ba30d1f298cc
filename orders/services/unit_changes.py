"""What the fulfilment services share: locking a fulfilment with its order, the value of a
range of a line's units, and cancelling units of an order (refund, points, coupons).

Units of an order line are valued as ranges so that the parts add up to the line exactly:
units handed over take the line's value from the bottom (units ``0 .. h``), cancelled units
from the top (``quantity - cancelled .. quantity``). Both ranges never overlap (``h +
cancelled <= quantity``), so what is captured plus what is refunded for cancellations never
exceeds what the line costs, and the last hand-over captures whatever is left.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, Sum

from config.money import ZERO, to_cents
from loyalty import services as loyalty_services
from orders.errors import InvalidState, NotFound
from orders.models import (
    HANDED_OVER,
    EventKind,
    Fulfilment,
    FulfilmentLine,
    Order,
    OrderLine,
)
from orders.services.amounts import units_value
from orders.services.cancel import points_refunded
from orders.services.checkout import points_reference
from orders.services.events import record_event
from orders.services.payments import refund_payment, void_payments
from pricing import services as pricing_services

logger = logging.getLogger(__name__)


def lock_fulfilment(fulfilment_id: int) -> tuple[Order, Fulfilment]:
    """Lock the fulfilment's order row, then the fulfilment row (404 if there is none).

    The order row first, always: cancelling an order locks it too, so a cancellation, a
    hand-over, a pick and a shortfall repair of the same order run one after another."""
    order_id = (
        Fulfilment.objects.filter(pk=fulfilment_id).values_list("order_id", flat=True).first()
    )
    if order_id is None:
        raise NotFound(f"No fulfilment {fulfilment_id}.")
    order = Order.objects.select_for_update(of=("self",)).select_related("channel").get(pk=order_id)
    fulfilment = (
        Fulfilment.objects.select_for_update(of=("self",))
        .select_related("location")
        .get(pk=fulfilment_id)
    )
    return order, fulfilment


def fulfilment_lines(fulfilment: Fulfilment) -> list[FulfilmentLine]:
    return list(
        FulfilmentLine.objects.filter(fulfilment=fulfilment)
        .select_related("order_line")
        .order_by("order_line__position")
    )


def open_units(line: FulfilmentLine) -> int:
    """Units of the line still to be served here (planned less those found missing)."""
    return line.quantity - line.short_quantity


def pick_recorded(lines: Sequence[FulfilmentLine]) -> bool:
    """Whether staff have said what they found: every unit is either picked or short."""
    return bool(lines) and all(
        line.picked_quantity + line.short_quantity == line.quantity for line in lines
    )


def portion(whole: Decimal, quantity: int, start: int, units: int) -> Decimal:
    """The cents of ``whole`` that units ``start .. start + units`` of ``quantity`` carry."""
    if units <= 0:
        return ZERO
    return to_cents(whole * (start + units) / quantity) - to_cents(whole * start / quantity)


def handed_over_units(order: Order, *, exclude_fulfilment: int | None = None) -> dict[int, int]:
    """Order line id → units already handed over (collected or shipped)."""
    rows = (
        FulfilmentLine.objects.filter(
            fulfilment__order=order, fulfilment__status__in=list(HANDED_OVER)
        )
        .exclude(fulfilment_id=exclude_fulfilment)
        .values("order_line_id")
        .annotate(units=Sum("picked_quantity"))
        .values_list("order_line_id", "units")
    )
    return {line_id: units or 0 for line_id, units in rows}


# --- Cancelling units ----------------------------------------------------------------------


@dataclass(frozen=True)
class CancelledUnits:
    lines: tuple[tuple[str, int], ...]  # (sku, units)
    amount: Decimal  # money given back (authorisation reduced or refunded)
    points: int  # redeemed points given back
    order_cancelled: bool  # every unit of the order is cancelled now


def _top_points_value(line: OrderLine, cancelled: int) -> Decimal:
    """The points value carried by the line's top ``cancelled`` units."""
    return line.points_value - to_cents(
        line.points_value * (line.quantity - cancelled) / line.quantity
    )


def _points_for(order: Order, value: Decimal) -> int:
    if not order.points_redeemed or not order.points_value:
        return 0
    exact = Decimal(order.points_redeemed) * value / order.points_value
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cancel_units(
    *,
    order: Order,
    units: Sequence[tuple[OrderLine, int]],
    reason: str,
    reference: str,
    actor: str = "",
    notify_refund: bool = True,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> CancelledUnits:
    """Cancel ``units`` of the order's lines: ``OrderLine.cancelled_quantity`` goes up, the
    money they were paid with is given back (the authorisation is reduced first, captured
    money refunded after; see :func:`orders.services.refund_payment`), redeemed points go
    back in proportion to the points value of those units, and when nothing of the order is
    left, coupon use is given back and what is still authorised is voided.

    Runs inside the caller's transaction with the order row locked (:func:`lock_fulfilment`).
    ``reference`` names this cancellation: the refund and the points refund are idempotent
    on it. With ``notify_refund`` the customer gets a ``refunded`` message. The stock is the
    caller's business. Raises ``InvalidState`` when more units would be cancelled than are
    open on a line."""
    fresh = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    wanted = [(fresh[line.pk], n) for line, n in units if n > 0]
    if not wanted:
        return CancelledUnits((), ZERO, 0, False)
    amount = ZERO
    points_value_before = sum(
        (_top_points_value(line, line.cancelled_quantity) for line in fresh.values()), ZERO
    )
    after = {line.pk: line.cancelled_quantity for line in fresh.values()}
    for line, n in wanted:
        if n > line.open_quantity:
            raise InvalidState(
                f"Only {line.open_quantity} of {line.sku} on order {order.number} are open."
            )
        value = units_value(line, n, before=line.quantity - line.cancelled_quantity - n)
        amount += value.amount
        after[line.pk] += n
    points_value_after = sum(
        (_top_points_value(line, after[line.pk]) for line in fresh.values()), ZERO
    )
    for line, n in wanted:
        OrderLine.objects.filter(pk=line.pk).update(cancelled_quantity=F("cancelled_quantity") + n)

    points_back = _points_for(order, points_value_after) - _points_for(order, points_value_before)
    points_back = max(0, min(points_back, order.points_redeemed - points_refunded(order)))
    if points_back:
        refund = loyalty_services.refund_redemption(
            reference=points_reference(order),
            refund_reference=f"{points_reference(order)}:{reference}",
            points=points_back,
            actor=actor,
        )
        record_event(
            order=order,
            kind=EventKind.POINTS_REFUNDED,
            actor=actor,
            detail={
                "points": refund.points,
                "amount": str(refund.amount),
                "reference": refund.reference,
            },
        )
    if amount or points_back:
        refund_payment(
            order=order,
            amount=amount,
            reference=reference,
            reason=reason,
            actor=actor,
            notify_customer=notify_refund,
            points=points_back,
        )
    cancelled_lines = tuple((line.sku, n) for line, n in wanted)
    record_event(
        order=order,
        kind=EventKind.LINES_CANCELLED,
        actor=actor,
        detail={
            "lines": [
                {"order_line": line.pk, "sku": line.sku, "quantity": n} for line, n in wanted
            ],
            "reason": reason,
            "reference": reference,
            "amount": str(amount),
            "points": points_back,
            **(detail or {}),
        },
    )
    everything = all(after[line.pk] >= line.quantity for line in fresh.values())
    if everything:
        _close_order(order=order, reason=reason, actor=actor, now=now)
    logger.info(
        "order %s: %s cancelled (%s), %s and %d points given back",
        order.number,
        ", ".join(f"{n} × {sku}" for sku, n in cancelled_lines),
        reason,
        amount,
        points_back,
    )
    return CancelledUnits(cancelled_lines, amount, points_back, everything)


def _close_order(*, order: Order, reason: str, actor: str, now: datetime) -> None:
    """Nothing of the order is left: coupon use back, authorisations voided (as
    :func:`orders.services.cancel_order` does for a whole order)."""
    claim = pricing_services.release_coupons(order_reference=order.number)
    if claim.promotions:
        record_event(
            order=order,
            kind=EventKind.COUPONS_RELEASED,
            actor=actor,
            detail={"coupons": list(claim.coupons), "promotions": list(claim.promotions)},
        )
    void_payments(order=order, actor=actor)
    if order.cancelled_at is None:
        Order.objects.filter(pk=order.pk).update(cancel_reason=reason[:300], cancelled_at=now)
        order.cancel_reason, order.cancelled_at = reason[:300], now
