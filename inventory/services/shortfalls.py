"""Shortfalls a merchandiser has dealt with."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from inventory.models import StockShortfall

logger = logging.getLogger(__name__)


def resolve_shortfalls(*, shortfall_ids: Iterable[int], now: datetime | None = None) -> int:
    """Mark shortfalls resolved: someone has followed up the orders behind them.

    One UPDATE, so atomic. Idempotent: a shortfall already resolved keeps its first
    ``resolved_at``. Returns how many were newly resolved. Stock is not touched (the level was
    corrected when the shortfall was recorded; a count clears ``needs_count``)."""
    resolved = StockShortfall.objects.filter(
        pk__in=list(shortfall_ids), resolved_at__isnull=True
    ).update(resolved_at=now or timezone.now())
    if resolved:
        logger.info("%d stock shortfall(s) marked resolved", resolved)
    return resolved
