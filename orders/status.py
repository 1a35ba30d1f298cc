"""An order's status, derived from its lines and fulfilments by one pure function.

Nobody sets ``Order.status`` by hand: services change lines and fulfilments, then call
:func:`orders.services.refresh_status`, which stores what :func:`derive_status` says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orders.models import HANDED_OVER, FulfilmentStatus, OrderStatus


@dataclass(frozen=True)
class LineState:
    quantity: int
    cancelled: int = 0
    returned: int = 0


def derive_status(lines: Iterable[LineState], fulfilments: Iterable[str]) -> OrderStatus:
    """The order's status, in this order of precedence:

    1. every unit cancelled → ``cancelled``;
    2. some units returned → ``returned`` when every unit not cancelled came back, else
       ``partially_returned``;
    3. every fulfilment not cancelled handed over (collected or shipped) → ``completed``, or
       ``partially_cancelled`` when some units were cancelled (a short pick nobody could
       serve, for instance);
    4. every open fulfilment ready for pickup → ``ready_for_pickup``;
    5. some fulfilment being picked, ready or handed over → ``in_progress``;
    6. otherwise ``placed``.
    """
    lines = list(lines)
    statuses = [FulfilmentStatus(s) for s in fulfilments]
    ordered = sum(line.quantity for line in lines)
    cancelled = sum(line.cancelled for line in lines)
    returned = sum(line.returned for line in lines)
    if ordered and cancelled >= ordered:
        return OrderStatus.CANCELLED
    if returned:
        return (
            OrderStatus.RETURNED
            if returned >= ordered - cancelled
            else (OrderStatus.PARTIALLY_RETURNED)
        )
    live = [s for s in statuses if s != FulfilmentStatus.CANCELLED]
    if not live:
        # Units still open but no fulfilment serves them: only while an order is being
        # re-routed inside one transaction; it is not finished, so it is "placed".
        return OrderStatus.PLACED
    if all(s in HANDED_OVER for s in live):
        return OrderStatus.PARTIALLY_CANCELLED if cancelled else OrderStatus.COMPLETED
    waiting = [s for s in live if s not in HANDED_OVER]
    if all(s == FulfilmentStatus.READY_FOR_PICKUP for s in waiting):
        return OrderStatus.READY_FOR_PICKUP
    if any(s != FulfilmentStatus.PENDING for s in live):
        return OrderStatus.IN_PROGRESS
    return OrderStatus.PLACED
