"""The order's history and its derived status."""

from __future__ import annotations

from typing import Any

from orders.models import EventKind, Order, OrderEvent, OrderStatus
from orders.status import LineState, derive_status


def record_event(
    *, order: Order, kind: EventKind | str, actor: str = "", detail: dict[str, Any] | None = None
) -> OrderEvent:
    """Append one event to the order's history (inside the caller's transaction)."""
    return OrderEvent.objects.create(
        order=order, kind=EventKind(kind), actor=actor, detail=detail or {}
    )


def refresh_status(*, order: Order, actor: str = "") -> OrderStatus:
    """Store the status :func:`orders.status.derive_status` gives for the order's lines and
    fulfilments as they are in the database now (two queries, three when it changed, plus an
    event ``status_changed``). Call it inside the transaction that changed them, after the
    change; lock the order row first (``select_for_update``) when several writers may race."""
    lines = [
        LineState(quantity, cancelled, returned)
        for quantity, cancelled, returned in order.lines.values_list(
            "quantity", "cancelled_quantity", "returned_quantity"
        )
    ]
    status = derive_status(lines, order.fulfilments.values_list("status", flat=True))
    if status != order.status:
        before = order.status
        Order.objects.filter(pk=order.pk).update(status=status)
        order.status = status
        record_event(
            order=order,
            kind=EventKind.STATUS_CHANGED,
            actor=actor,
            detail={"from": before, "to": str(status)},
        )
    return status
