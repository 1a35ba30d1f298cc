"""Celery tasks of the fulfilment lifecycle: thin, idempotent wrappers over services.

Registered by ``OrdersConfig.ready()`` (Celery's autodiscovery only looks at ``tasks.py``).
"""

from celery import shared_task

from orders.services import pickup_expiry, shortfall_repair


@shared_task
def repair_stock_shortfall(shortfall_id: int, reservations: list[list]) -> int:
    """Repair the orders behind one inventory stock shortfall. ``reservations`` are the
    notice's ``[reservation_id, reference, units]``. Idempotent per shortfall and fulfilment,
    so a redelivered message is harmless."""
    return shortfall_repair.repair_shortfall(
        shortfall_id=shortfall_id,
        reservations=[(int(pk), reference, int(units)) for pk, reference, units in reservations],
    )


@shared_task
def cancel_uncollected_pickups() -> int:
    """The daily job: cancel pickups past their hold period. Returns how many."""
    return len(pickup_expiry.cancel_uncollected_pickups())
