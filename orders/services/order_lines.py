"""Writing an order's lines from a priced quote: the one place checkout and POS sales share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from orders.models import Order, OrderLine


def write_order_lines(
    *,
    order: Order,
    priced_lines: Sequence,
    names: Mapping[str, str],
    points_shares: Sequence[Decimal],
) -> list[OrderLine]:
    """Store each priced line (unit price, its share of every discount, tax, and its share of
    the points redeemed) in the order they were priced. Part of the caller's transaction."""
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            position=index,
            sku=priced.sku,
            name=names.get(priced.sku, priced.sku)[:200],
            quantity=priced.quantity,
            unit_price=priced.unit_price,
            subtotal=priced.subtotal,
            discount_total=priced.discount_total,
            discounts=[
                {"promotion": d.promotion, "name": d.name, "amount": str(d.amount)}
                for d in priced.discounts
            ],
            tax_rate=priced.tax_rate,
            tax_total=priced.tax_total,
            total=priced.total,
            points_value=points_shares[index],
        )
        for index, priced in enumerate(priced_lines)
    )
    if any(line.pk is None for line in lines):  # a database that cannot return ids
        lines = list(OrderLine.objects.filter(order=order).order_by("position"))
    return lines
