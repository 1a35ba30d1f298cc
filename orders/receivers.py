"""The orders app listens to inventory's one extension point, ``stock_shortfall``.

Inventory sends it after the commit of a count, damage or negative adjustment that took
held units away from reservations. The repair runs as a Celery task (in-process when no
broker is configured), so the stock movement that caused it is never held up or failed by
the orders it affects. Connected in :meth:`orders.apps.OrdersConfig.ready`.
"""

from __future__ import annotations

import logging

from inventory.signals import ShortfallNotice

logger = logging.getLogger(__name__)


def repair_orders_after_shortfall(sender, notice: ShortfallNotice, **kwargs) -> None:
    from orders.tasks_fulfilment import repair_stock_shortfall

    reservations = [[r.reservation_id, r.reference, r.quantity] for r in notice.reservations]
    try:
        repair_stock_shortfall.delay(notice.shortfall_id, reservations)
    except Exception:
        # The stock change is committed already; the shortfall stays unresolved in
        # inventory, and the next pick or hand-over of each fulfilment repairs it.
        logger.exception("could not repair the orders behind shortfall %s", notice.shortfall_id)
