"""Store credit: a money balance per customer (or guest e-mail) and its append-only ledger.

Returns issue it (a refund to store credit), tills spend it (a ``store_credit`` tender).
Every function runs in one transaction (the caller's, when there is one) and is idempotent
on its ``reference``: a second call with the same reference changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from loyalty.contact import normalise_email
from loyalty.errors import InsufficientStoreCredit, NotFound, ReferenceConflict, ValidationFailed
from loyalty.models import StoreCreditAccount, StoreCreditEntry

ZERO = Decimal("0.00")


def _positive(amount: Decimal, attr: str = "amount") -> Decimal:
    amount = Decimal(amount)
    if amount <= 0 or amount.quantize(Decimal("0.01")) != amount:
        raise ValidationFailed.field(attr, "An amount above 0.00, in cents.", "invalid")
    return amount


def _email(raw: str, *, attr: str = "email") -> str:
    """The account key: the address trimmed and in lower case (one account per address)."""
    return normalise_email(raw, attr=attr).lower()


def _account(*, email: str | None, customer_id: int | None) -> StoreCreditAccount | None:
    accounts = StoreCreditAccount.objects.all()
    if email:
        found = accounts.filter(email=email).first()
        if found is not None or customer_id is None:
            return found
    if customer_id is not None:
        return accounts.filter(customer_id=customer_id).order_by("pk").first()
    raise ValidationFailed.field("email", "Name the e-mail address or the customer.", "required")


def _balance(account_id: int) -> Decimal:
    return StoreCreditAccount.objects.values_list("balance", flat=True).get(pk=account_id)


@transaction.atomic
def issue_store_credit(
    *,
    email: str,
    customer_id: int | None = None,
    amount: Decimal,
    currency: str,
    reference: str,
) -> Decimal:
    """Add ``amount`` to the store credit of ``email`` (the account is created on first use,
    linked to ``customer_id`` when given) and return the new balance.

    Atomic; idempotent on ``reference`` (a repeat returns the current balance and writes
    nothing). 400 for an amount that is not positive cents; 409 ``reference_conflict`` when
    the reference names a different amount or account.
    """
    amount = _positive(amount)
    email = _email(email)
    existing = StoreCreditEntry.objects.filter(reference=reference).select_related("account")
    entry = existing.first()
    if entry is not None:
        if entry.amount != amount or entry.account.email != email:
            raise ReferenceConflict(f"Store credit {reference!r} was another movement.")
        return entry.account.balance
    account, _ = StoreCreditAccount.objects.get_or_create(
        email=email, defaults={"customer_id": customer_id, "currency": currency}
    )
    if account.currency != currency:
        raise ValidationFailed.field(
            "currency", f"The store credit of {email} is in {account.currency}.", "currency"
        )
    StoreCreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    StoreCreditEntry.objects.create(account=account, amount=amount, reference=reference)
    return _balance(account.pk)


@transaction.atomic
def spend_store_credit(
    *,
    email: str | None = None,
    customer_id: int | None = None,
    amount: Decimal,
    currency: str,
    reference: str,
    attr: str = "amount",
) -> Decimal:
    """Take ``amount`` from the store credit of ``email`` (or, when that address has none, of
    the account linked to ``customer_id``) and return the balance left.

    One conditional UPDATE (``balance >= amount``): two concurrent spends can never take the
    balance below zero. Atomic; idempotent on ``reference`` (a repeat returns the current
    balance). Errors, nothing written: 400 for a bad amount or currency; 409
    ``insufficient_store_credit`` when there is no account or its balance is short (``attr``
    names the field in the problem); 409 ``reference_conflict`` when the reference names a
    different spend.
    """
    amount = _positive(amount, attr)
    entry = StoreCreditEntry.objects.filter(reference=reference).select_related("account").first()
    if entry is not None:
        if entry.amount != -amount:
            raise ReferenceConflict(f"Store credit {reference!r} was another movement.")
        return entry.account.balance
    account = _account(email=email and _email(email, attr=attr), customer_id=customer_id)
    if account is None:
        raise InsufficientStoreCredit(balance=ZERO, wanted=amount, attr=attr)
    if account.currency != currency:
        raise ValidationFailed.field(
            attr, f"The store credit is in {account.currency}, not {currency}.", "currency"
        )
    taken = StoreCreditAccount.objects.filter(pk=account.pk, balance__gte=amount).update(
        balance=F("balance") - amount
    )
    if not taken:
        raise InsufficientStoreCredit(balance=_balance(account.pk), wanted=amount, attr=attr)
    StoreCreditEntry.objects.create(account=account, amount=-amount, reference=reference)
    return _balance(account.pk)


@transaction.atomic
def refund_store_credit_spend(*, reference: str, refund_reference: str, amount: Decimal) -> Decimal:
    """Give back up to what the spend ``reference`` took, to the same account, and return
    the balance. ``refund_reference`` starts with ``f"{reference}:"`` (400 otherwise), which is
    how the refunds of a spend are counted. Atomic; idempotent on ``refund_reference``. 404 for
    an unknown spend; 409 ``reference_conflict`` when the refunds would exceed the spend."""
    amount = _positive(amount)
    if not refund_reference.startswith(f"{reference}:"):
        raise ValidationFailed.field(
            "refund_reference", f"Starts with {reference!r} and a colon.", "invalid"
        )
    spend = StoreCreditEntry.objects.filter(reference=reference, amount__lt=0).first()
    if spend is None:
        raise NotFound(f"No store credit spend {reference!r}.")
    done = StoreCreditEntry.objects.filter(reference=refund_reference).first()
    if done is not None:
        return _balance(done.account_id)
    refunded = sum(
        StoreCreditEntry.objects.filter(
            reference__startswith=f"{reference}:", amount__gt=0
        ).values_list("amount", flat=True),
        ZERO,
    )
    if refunded + amount > -spend.amount:
        raise ReferenceConflict(f"Refunds of {reference!r} would exceed what it took.")
    StoreCreditAccount.objects.filter(pk=spend.account_id).update(balance=F("balance") + amount)
    StoreCreditEntry.objects.create(
        account_id=spend.account_id, amount=amount, reference=refund_reference
    )
    return _balance(spend.account_id)
