"""Builders for engine snapshots: short to read in a table, no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pricing.engine import CartLine, CouponInfo, PricingSnapshot, PromotionRule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def D(value) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


def line(sku="A", quantity=1, price="10.00", path="apparel/tees/", tax="0") -> CartLine:
    return CartLine(
        sku=sku, quantity=quantity, unit_price=D(price), category_path=path, tax_rate=D(tax)
    )


def promo(id=1, kind="percent_off", value="10", **fields) -> PromotionRule:
    for name in ("skus", "channels", "locations", "tiers"):
        if name in fields:
            fields[name] = frozenset(fields[name])
    if "category_paths" in fields:
        fields["category_paths"] = tuple(fields["category_paths"])
    if fields.get("min_subtotal") is not None:
        fields["min_subtotal"] = D(fields["min_subtotal"])
    fields.setdefault("name", f"promo {id}")
    return PromotionRule(id=id, kind=kind, value=D(value), **fields)


def coupon(code="SAVE10", promotion_id=1, **fields) -> CouponInfo:
    return CouponInfo(code=code, promotion_id=promotion_id, **fields)


def snap(lines=(), promotions=(), coupons=(), codes=(), **fields) -> PricingSnapshot:
    fields.setdefault("currency", "EUR")
    fields.setdefault("prices_include_tax", True)
    fields.setdefault("now", NOW)
    fields.setdefault("channel", "web")
    return PricingSnapshot(
        lines=tuple(lines or [line()]),
        promotions=tuple(promotions),
        coupons=tuple(coupons),
        coupon_codes=tuple(codes),
        **fields,
    )
