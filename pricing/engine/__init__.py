"""The pricing engine: a pure function from a :class:`PricingSnapshot` (unit prices, the
customer's tier, the promotions and coupons in play, tax rates) to a :class:`Quote`. It reads
no database and no clock, so the same snapshot always gives the same quote, and quotes,
carts, orders and POS sales agree to the cent."""

from pricing.engine.core import line_tax, price_cart
from pricing.engine.types import (
    AppliedPromotion,
    CartLine,
    CouponInfo,
    Kind,
    LineDiscount,
    PricingSnapshot,
    PromotionRule,
    Quote,
    QuoteLine,
    RejectedCoupon,
    RejectReason,
    normalize_code,
)

__all__ = [
    "AppliedPromotion",
    "CartLine",
    "CouponInfo",
    "Kind",
    "LineDiscount",
    "PricingSnapshot",
    "PromotionRule",
    "Quote",
    "QuoteLine",
    "RejectReason",
    "RejectedCoupon",
    "line_tax",
    "normalize_code",
    "price_cart",
]
