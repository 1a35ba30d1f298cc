"""Return rates for a date range: units returned over units sold, by SKU, category, reason,
channel or location. Sold: units handed over in the range (by the fulfilment's location);
returned: units of returns received in the range (by the receiving location)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from orders.models import HANDED_OVER, FulfilmentLine
from returns.models import ReturnLine, ReturnStatus
from returns.services.policy import sku_facts

DIMENSIONS = ("sku", "category", "reason", "channel", "location")


def return_rates(*, start: datetime, end: datetime, by: str) -> list[dict]:
    """Rows ``{"key", "sold", "returned", "rate", "refunded"}`` sorted by rate, highest
    first; ``rate`` is a percentage with one decimal (None when nothing was sold). By reason,
    ``sold`` is every unit sold in the range."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    sold_rows = (
        FulfilmentLine.objects.filter(
            fulfilment__status__in=list(HANDED_OVER),
            fulfilment__handed_over_at__gte=start,
            fulfilment__handed_over_at__lt=end,
        )
        .values_list(
            "order_line__sku",
            "fulfilment__order__channel__code",
            "fulfilment__location__code",
        )
        .annotate(units=Sum("picked_quantity"))
    )
    returned_rows = (
        ReturnLine.objects.filter(
            ret__status=ReturnStatus.REFUNDED, ret__received_at__gte=start, ret__received_at__lt=end
        )
        .values_list("sku", "ret__order__channel__code", "ret__received_location__code", "reason")
        .annotate(units=Sum("quantity"), refunded=Sum("refund_amount"))
    )
    skus = {row[0] for row in sold_rows} | {row[0] for row in returned_rows}
    facts = sku_facts(skus)

    def category(sku: str) -> str:
        fact = facts.get(sku)
        return fact.categories[0] if fact and fact.categories else "-"

    sold: dict[str, int] = defaultdict(int)
    returned: dict[str, int] = defaultdict(int)
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    total_sold = 0
    for sku, channel, location, units in sold_rows:
        key = {"sku": sku, "category": category(sku), "channel": channel, "location": location}
        total_sold += units or 0
        if by != "reason":
            sold[key[by]] += units or 0
    for sku, channel, location, reason, units, amount in returned_rows:
        key = {
            "sku": sku,
            "category": category(sku),
            "channel": channel,
            "location": location,
            "reason": reason,
        }[by]
        returned[key] += units or 0
        refunded[key] += amount or Decimal("0")
    rows = []
    for key in sorted(set(sold) | set(returned)):
        base = total_sold if by == "reason" else sold.get(key, 0)
        rate = (
            (Decimal(returned.get(key, 0) * 100) / base).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            if base
            else None
        )
        rows.append(
            {
                "key": key,
                "sold": base,
                "returned": returned.get(key, 0),
                "rate": rate,
                "refunded": refunded.get(key, Decimal("0.00")).quantize(Decimal("0.01")),
            }
        )
    rows.sort(key=lambda row: (-(row["rate"] or 0), row["key"]))
    return rows
