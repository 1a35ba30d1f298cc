"""Pricing's use cases: quoting a cart (read only, used by quotes, carts, orders and POS),
claiming and releasing coupons for orders, and the merchandiser's writes."""

from pricing.services.catalog import (
    PriceChanges,
    PriceEntry,
    check_promotion,
    create_coupon,
    create_price_list,
    create_promotion,
    replace_prices,
    set_price,
    set_tax_rate,
    update_coupon,
    update_price_list,
    update_promotion,
)
from pricing.services.coupons import (
    Claim,
    claim_coupons,
    recount_coupon_usage,
    recount_promotion_usage,
    release_coupons,
)
from pricing.services.quotes import (
    MAX_LINES,
    CartItem,
    active_price_lists,
    build_snapshot,
    quote,
    tier_of,
)

__all__ = [
    "MAX_LINES",
    "CartItem",
    "Claim",
    "PriceChanges",
    "PriceEntry",
    "active_price_lists",
    "build_snapshot",
    "check_promotion",
    "claim_coupons",
    "create_coupon",
    "create_price_list",
    "create_promotion",
    "quote",
    "recount_coupon_usage",
    "recount_promotion_usage",
    "release_coupons",
    "replace_prices",
    "set_price",
    "set_tax_rate",
    "tier_of",
    "update_coupon",
    "update_price_list",
    "update_promotion",
]
