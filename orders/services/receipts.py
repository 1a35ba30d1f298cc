"""Receipts of POS sales: one dict (lines, discounts, tax, tenders, change, points earned
and balance) rendered as JSON, as a printable page and in the receipt mail."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from orders.errors import NotFound
from orders.models import Notification, Order, PosSale
from orders.services.notifications import _enqueue

RECEIPT_KIND = "receipt"


def sale_for(number: str, *, store_codes=None) -> Order:
    """The POS sale's order; 404 for an unknown number, an order that is not a POS sale, or
    (``store_codes``) a sale of another store."""
    queryset = Order.objects.select_related("pos_sale__location", "channel").filter(
        number=number, pos_sale__isnull=False
    )
    if store_codes is not None:
        queryset = queryset.filter(pos_sale__location__code__in=store_codes)
    order = queryset.first()
    if order is None:
        raise NotFound(f"No POS sale {number}.")
    return order


def _m(value) -> str:
    return f"{value:.2f}"


def receipt_data(order: Order) -> dict[str, Any]:
    sale: PosSale = order.pos_sale
    lines = list(order.lines.all())
    tenders = list(sale.tenders.all())
    overrides = {o.order_line_id: o for o in order.price_overrides.all()}
    return {
        "number": order.number,
        "store": {"code": sale.location.code, "name": sale.location.name},
        "occurred_at": sale.occurred_at.isoformat(),
        "customer": order.customer_id,
        "currency": order.currency,
        "prices_include_tax": order.prices_include_tax,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _m(line.unit_price),
                "list_price": _m(overrides[line.pk].list_price) if line.pk in overrides else None,
                "override_reason": overrides[line.pk].reason if line.pk in overrides else "",
                "discounts": line.discounts,
                "discount_total": _m(line.discount_total),
                "tax_rate": f"{line.tax_rate:.3f}",
                "tax_total": _m(line.tax_total),
                "total": _m(line.total),
            }
            for line in lines
        ],
        "subtotal": _m(order.subtotal),
        "discount_total": _m(order.discount_total),
        "tax_total": _m(order.tax_total),
        "total": _m(order.total),
        "coupon_codes": list(order.coupon_codes),
        "tenders": [
            {"method": t.method, "amount": _m(t.amount), "reference": t.reference} for t in tenders
        ],
        "tendered": _m(sale.tendered),
        "change": _m(sale.change),
        "points_redeemed": order.points_redeemed,
        "points_earned": sale.points_earned,
        "points_balance": sale.points_balance,
    }


@transaction.atomic
def email_receipt(*, order: Order, to: str) -> Notification:
    """Record the receipt mail to ``to`` and send it (Celery) after the commit. Idempotent
    per sale and address: asking twice sends one mail."""
    notification, created = Notification.objects.get_or_create(
        key=f"{order.number}:{RECEIPT_KIND}:{to.lower()}",
        defaults={
            "order": order,
            "kind": RECEIPT_KIND,
            "to": to,
            "context": {"receipt": receipt_data(order)},
        },
    )
    if created:
        pk = notification.pk
        transaction.on_commit(lambda: _enqueue(pk))
    return notification
