"""Inventory's periodic jobs: thin wrappers over services, safe to run twice.

Beat schedules them in ``config/celery.py``; the management commands of the same names run
them from a shell or cron.
"""

import logging

from celery import shared_task
from django.utils import timezone

from inventory import services

logger = logging.getLogger(__name__)


@shared_task
def release_expired_reservations() -> int:
    """Give back the stock of holds past their expiry. Idempotent: a hold is released once
    (the service only closes reservations that are still active). Returns how many."""
    return services.release_expired_reservations()


@shared_task
def record_low_stock_report() -> int | None:
    """Record today's low-stock report. Idempotent per UTC day, so a redelivered message
    (``acks_late``) or a second beat does not record a duplicate. Returns the report's id, or
    None when today's report already exists."""
    report = services.record_low_stock_report(key=timezone.now().date().isoformat())
    return report.pk if report else None
