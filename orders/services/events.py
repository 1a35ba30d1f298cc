"""The order's history and its derived status."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
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


# The history keeps the plan's own notes and the chosen locations, and this many of the
# rejected ones; the rest are counted by reason. A network of a thousand locations wrote
# 30 KB of rejections into every order, which no one reads there: the dry run
# (POST /routing/plan/) explains every candidate.
REJECTIONS_KEPT = 10


def explanation_for_history(explanation: Iterable[Any]) -> list[dict[str, Any]]:
    """A plan's explanation as the order's history keeps it (see ``REJECTIONS_KEPT``)."""
    kept: list[dict[str, Any]] = []
    rest: Counter[str] = Counter()
    rejected = 0
    for note in explanation:
        entry = {"location": note.location, "outcome": note.outcome, "reason": note.reason}
        if note.outcome == "rejected":
            rejected += 1
            if rejected > REJECTIONS_KEPT:
                rest[re.sub(r"\d+(?:\.\d+)?", "…", note.reason)] += 1
                continue
        kept.append(entry)
    if rest:
        counts = "; ".join(f"{reason} ({n})" for reason, n in rest.most_common())
        kept.append(
            {
                "location": None,
                "outcome": "rejected",
                "reason": f"{sum(rest.values())} more locations rejected: {counts}",
            }
        )
    return kept


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
