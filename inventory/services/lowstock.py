"""The daily low-stock report merchandisers open in admin."""

import logging

from django.db import IntegrityError, transaction

from inventory.models import LowStockReport, StockOperation
from inventory.selectors.stock import stock_levels

logger = logging.getLogger(__name__)


def record_low_stock_report(*, key: str | None = None) -> LowStockReport | None:
    """Snapshot every level at or below its reorder point (available stock, not on hand:
    units promised to customers are not there to sell).

    Idempotent on ``key`` (the scheduled job passes one per UTC day): a second call with a key
    already used records nothing and returns None. Without a key every call records a report.
    """
    with transaction.atomic():
        if key:
            try:
                with transaction.atomic():
                    StockOperation.objects.create(key=f"low-stock-report:{key}")
            except IntegrityError:
                logger.info("low-stock report %r already recorded", key)
                return None
        rows = (
            stock_levels(below_reorder_point=True)
            .values(
                "sku__sku",
                "location__code",
                "on_hand",
                "reserved",
                "available_qty",
                "reorder_point",
            )
            .order_by("location__code", "sku__sku")
        )
        lines = [
            {
                "sku": row["sku__sku"],
                "location": row["location__code"],
                "on_hand": row["on_hand"],
                "reserved": row["reserved"],
                "available": row["available_qty"],
                "reorder_point": row["reorder_point"],
            }
            for row in rows
        ]
        report = LowStockReport.objects.create(lines=lines)
    logger.info("low-stock report %s: %d level(s) at or below reorder point", report.pk, len(lines))
    return report
