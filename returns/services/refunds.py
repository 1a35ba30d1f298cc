"""Store credit for a return: the balance itself is loyalty's (:mod:`loyalty.services`)."""

from __future__ import annotations

from decimal import Decimal

from loyalty import services as loyalty_services
from returns.models import Return


def credit_store_credit(*, order, ret: Return, amount: Decimal) -> Decimal:
    """Add ``amount`` to the store credit of the order's customer (by e-mail for a guest) and
    return the balance. Runs inside the caller's transaction; idempotent on the return (one
    entry per return, reference ``return:<number>``)."""
    return loyalty_services.issue_store_credit(
        email=order.email,
        customer_id=order.customer_id,
        amount=amount,
        currency=order.currency,
        reference=f"return:{ret.number}",
    )
