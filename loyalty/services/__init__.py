"""Loyalty's writes: one function per use case, one transaction each.

Other apps (orders, returns, the POS) call these, never the models, to change customers or
points. Each docstring says what the function guarantees: atomicity, the key it is
idempotent on, and the errors it raises.
"""

from loyalty.contact import normalise_email, normalise_phone
from loyalty.services.adjustments import adjust_points, expire_points
from loyalty.services.customers import (
    create_customer,
    issue_customer_token,
    set_customer_password,
    sign_in_retry_after,
    update_customer,
)
from loyalty.services.earning import EarnResult, earn_points
from loyalty.services.redemption import (
    RedemptionResult,
    RefundResult,
    points_value,
    redeem_points,
    refund_redemption,
)
from loyalty.services.reversal import ReversalResult, reverse_earning
from loyalty.services.store_credit import (
    issue_store_credit,
    refund_store_credit_spend,
    spend_store_credit,
)
from loyalty.services.tiers import TierChange, recompute_tier, recompute_tiers

__all__ = [
    "EarnResult",
    "RedemptionResult",
    "RefundResult",
    "ReversalResult",
    "TierChange",
    "adjust_points",
    "create_customer",
    "earn_points",
    "expire_points",
    "issue_customer_token",
    "issue_store_credit",
    "normalise_email",
    "normalise_phone",
    "points_value",
    "recompute_tier",
    "recompute_tiers",
    "redeem_points",
    "refund_redemption",
    "refund_store_credit_spend",
    "reverse_earning",
    "set_customer_password",
    "sign_in_retry_after",
    "spend_store_credit",
    "update_customer",
]
