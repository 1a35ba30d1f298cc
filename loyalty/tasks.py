"""Celery tasks: thin, idempotent wrappers over the services (beat runs them nightly)."""

import logging

from celery import shared_task

from loyalty import services

logger = logging.getLogger(__name__)


@shared_task
def expire_points() -> int:
    """Expire lots past their date, one ledger entry per lot; safe to run twice."""
    return services.expire_points()


@shared_task
def recompute_tiers() -> int:
    """Tiers follow the rolling window of qualifying spend; safe to run twice."""
    return services.recompute_tiers()
