"""What the engine reads and what it answers: frozen dataclasses, no Django, no database.

Money is ``Decimal`` throughout; percentages (promotion values of the percent kinds, tax
rates) are ``Decimal`` percentages (``Decimal("21")`` is 21 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0.00")


class Kind(StrEnum):
    """The promotion kinds of API.md (the same values as ``pricing.models.PromotionKind``)."""

    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    BUY_X_GET_Y = "buy_x_get_y"
    SPEND_THRESHOLD = "spend_threshold"


class RejectReason(StrEnum):
    """Why a coupon given with a quote does nothing."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIMIT_REACHED = "limit_reached"
    NOT_APPLICABLE = "not_applicable"
    MINIMUM_NOT_MET = "minimum_not_met"


def normalize_code(code: str) -> str:
    """Coupon codes are case-insensitive: stored and compared upper case, without spaces."""
    return code.strip().upper()


# --- Input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int
    unit_price: Decimal
    category_path: str = ""  # "apparel/tops/": the SKU's category and its ancestors
    tax_rate: Decimal = Decimal(0)  # percentage that applies to this line where it is sold
    # False for a line at a price agreed beforehand (an exchange at the price paid): no
    # promotion touches it, nor counts it towards a threshold.
    promotable: bool = True


@dataclass(frozen=True)
class PromotionRule:
    """A promotion as the engine sees it, with its usage counts at the time of the snapshot."""

    id: int
    name: str
    kind: str
    value: Decimal
    skus: frozenset[str] = frozenset()
    category_paths: tuple[str, ...] = ()
    channels: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    min_quantity: int = 1
    min_subtotal: Decimal | None = None
    buy_quantity: int | None = None
    get_quantity: int | None = None
    tiers: frozenset[str] = frozenset()
    requires_coupon: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 0
    exclusive: bool = False
    active: bool = True
    usage_limit: int | None = None
    used_count: int = 0
    per_customer_limit: int | None = None
    customer_used_count: int = 0  # by the snapshot's customer


@dataclass(frozen=True)
class CouponInfo:
    """A coupon found for one of the codes given (``code`` upper case)."""

    code: str
    promotion_id: int
    usage_limit: int | None = None
    used_count: int = 0
    active: bool = True


@dataclass(frozen=True)
class PricingSnapshot:
    """Everything a price depends on, fetched beforehand: the engine reads nothing else."""

    currency: str
    prices_include_tax: bool
    now: datetime
    lines: tuple[CartLine, ...]
    channel: str = ""
    location: str | None = None
    customer_id: int | None = None
    tier: str | None = None
    promotions: tuple[PromotionRule, ...] = ()
    coupons: tuple[CouponInfo, ...] = ()  # the coupons found for ``coupon_codes``
    coupon_codes: tuple[str, ...] = ()  # as the customer typed them


# --- Output --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineDiscount:
    promotion: int
    name: str
    amount: Decimal


@dataclass(frozen=True)
class QuoteLine:
    sku: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal  # unit_price × quantity
    discounts: tuple[LineDiscount, ...]
    discount_total: Decimal
    tax_rate: Decimal
    tax_total: Decimal
    total: Decimal  # what the customer pays for this line, tax included

    @property
    def net(self) -> Decimal:
        """The shelf amount after discounts (tax included on tax-inclusive channels)."""
        return self.subtotal - self.discount_total


@dataclass(frozen=True)
class AppliedPromotion:
    promotion: int
    name: str
    amount: Decimal
    coupon: str | None = None  # the code that unlocked it, if one did


@dataclass(frozen=True)
class RejectedCoupon:
    code: str
    reason: RejectReason


@dataclass(frozen=True)
class Quote:
    """A priced cart: per line the allocated discounts and tax an order stores, and what an
    order must claim (promotions with their coupons) when it is placed."""

    currency: str
    prices_include_tax: bool
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    applied_promotions: tuple[AppliedPromotion, ...]
    rejected_coupons: tuple[RejectedCoupon, ...]
    channel: str = ""
    location: str | None = None
    customer_id: int | None = None
    tier: str | None = None
    priced_at: datetime | None = None

    @property
    def applied_coupons(self) -> tuple[str, ...]:
        return tuple(p.coupon for p in self.applied_promotions if p.coupon)
