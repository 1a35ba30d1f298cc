"""Store credit: a balance per customer (or guest e-mail) and its ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F

from returns.models import Return, StoreCreditAccount, StoreCreditEntry


def credit_store_credit(*, order, ret: Return, amount: Decimal) -> StoreCreditEntry:
    """Add ``amount`` to the store credit of the order's customer (by e-mail for a guest).
    Runs inside the caller's transaction; idempotent on the return (one entry per return)."""
    existing = StoreCreditEntry.objects.filter(reference=f"return:{ret.number}").first()
    if existing is not None:
        return existing
    email = order.email.strip().lower()
    account, _ = StoreCreditAccount.objects.get_or_create(
        email=email, defaults={"customer_id": order.customer_id, "currency": order.currency}
    )
    StoreCreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    return StoreCreditEntry.objects.create(
        account=account, amount=amount, reference=f"return:{ret.number}", ret=ret
    )
