"""Cancelling a whole order while nothing has been handed over."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.money import ZERO
from inventory import services as inventory_services
from loyalty import services as loyalty_services
from orders.errors import InvalidState
from orders.models import (
    HANDED_OVER,
    EventKind,
    Fulfilment,
    FulfilmentStatus,
    NotificationKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from orders.services.checkout import points_reference
from orders.services.events import record_event, refresh_status
from orders.services.notifications import notify
from orders.services.payments import refund_payment, void_payments
from pricing import services as pricing_services

logger = logging.getLogger(__name__)


def points_refunded(order: Order) -> int:
    """Points of the order's redemption already given back (by earlier partial refunds)."""
    return sum(
        int(detail.get("points", 0))
        for detail in order.events.filter(kind=EventKind.POINTS_REFUNDED).values_list(
            "detail", flat=True
        )
    )


def cancel_order(*, order: Order, reason: str = "", actor: str = "") -> Order:
    """Cancel the whole order: release every reservation, give back coupon use and the
    points redeemed, void the payment authorisation, record the history and tell the
    customer (after the commit).

    Atomic; the order row is locked first, so a cancellation and a hand-over (which locks
    it too) cannot both win. Allowed while no unit has been handed over (collected or
    shipped) or returned; otherwise, and for an order already cancelled, 409
    ``invalid_state``. Each step it calls is idempotent on the order's references.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == OrderStatus.CANCELLED:
            raise InvalidState(f"Order {order.number} is already cancelled.")
        fulfilments = list(
            Fulfilment.objects.filter(order=order).select_related("location").order_by("id")
        )
        handed_over = [f for f in fulfilments if f.status in HANDED_OVER]
        if handed_over or order.lines.filter(returned_quantity__gt=0).exists():
            raise InvalidState(
                f"Order {order.number} has goods handed over already; return them instead."
            )
        now = timezone.now()
        released = {}
        for fulfilment in fulfilments:
            if fulfilment.status == FulfilmentStatus.CANCELLED:
                continue
            if fulfilment.reservation_id is not None:
                released[fulfilment.location.code] = inventory_services.release(
                    reservation_id=fulfilment.reservation_id
                )
        Fulfilment.objects.filter(order=order).exclude(status=FulfilmentStatus.CANCELLED).update(
            status=FulfilmentStatus.CANCELLED, cancelled_at=now
        )
        OrderLine.objects.filter(order=order).update(
            cancelled_quantity=F("quantity") - F("returned_quantity")
        )
        events = [
            OrderEvent(order=order, kind=EventKind.STOCK_RELEASED, actor=actor, detail=released)
        ]
        claim = pricing_services.release_coupons(order_reference=order.number)
        if claim.promotions:
            events.append(
                OrderEvent(
                    order=order,
                    kind=EventKind.COUPONS_RELEASED,
                    actor=actor,
                    detail={"coupons": list(claim.coupons), "promotions": list(claim.promotions)},
                )
            )
        points_back = 0
        left = order.points_redeemed - points_refunded(order)
        if left > 0:
            refund = loyalty_services.refund_redemption(
                reference=points_reference(order),
                refund_reference=f"{points_reference(order)}:cancel",
                points=left,
                actor=actor,
            )
            points_back = refund.points
            events.append(
                OrderEvent(
                    order=order,
                    kind=EventKind.POINTS_REFUNDED,
                    actor=actor,
                    detail={
                        "points": refund.points,
                        "amount": str(refund.amount),
                        "reference": refund.reference,
                    },
                )
            )
        OrderEvent.objects.bulk_create(events)
        void_payments(order=order, actor=actor)
        _refund_captured_money(order=order, reason=reason, actor=actor)
        Order.objects.filter(pk=order.pk).update(cancel_reason=reason[:300], cancelled_at=now)
        order.cancel_reason, order.cancelled_at = reason[:300], now
        record_event(
            order=order,
            kind=EventKind.CANCELLED,
            actor=actor,
            detail={"reason": reason, "points_refunded": points_back},
        )
        refresh_status(order=order, actor=actor)
        notify(
            order=order,
            kind=NotificationKind.CANCELLED,
            context={"reason": reason, "points": points_back},
        )
    logger.info("order %s cancelled by %s", order.number, actor or "system")
    return order


def _refund_captured_money(*, order: Order, reason: str, actor: str) -> None:
    """Money already taken before any hand-over (an exchange paid from its return's
    refund) goes back with the cancellation: store credit for such tenders."""
    captured = sum(
        (
            p.captured_amount - p.refunded_amount
            for p in order.payments.exclude(status=PaymentStatus.VOIDED)
        ),
        ZERO,
    )
    if captured > 0:
        refund_payment(
            order=order,
            amount=captured,
            reference=f"cancel:{order.number}",
            reason=reason or "Order cancelled",
            actor=actor,
            notify_customer=False,
        )
