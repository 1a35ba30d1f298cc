"""Loyalty's reads, shared by the API, the admin and the other apps (pricing reads tiers,
orders and the POS find customers and accounts, returns read earnings and redemptions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.functions import Lower

from config.money import to_cents
from config.rawsql import columns, table
from loyalty.cards import is_valid_card_number, normalise_card_number
from loyalty.contact import normalise_phone
from loyalty.errors import InvalidCardNumber, NotFound, ValidationFailed
from loyalty.models import (
    Customer,
    Earning,
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
    Redemption,
    StoreCreditAccount,
    StoreCreditEntry,
    Tier,
)


@dataclass(frozen=True)
class TierInfo:
    code: str
    name: str
    rank: int


@dataclass(frozen=True)
class NextTier:
    code: str
    name: str
    rank: int
    qualifying_spend: Decimal  # the threshold
    spend_needed: Decimal  # still to spend within the window


@dataclass(frozen=True)
class ExpiringPoints:
    points: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class RedemptionRules:
    points: int  # this many points …
    value: Decimal  # … are worth this much
    minimum: int
    step: int


# --- Card numbers ---------------------------------------------------------------------------


def valid_card_number(raw: str, *, attr: str = "card_number") -> str:
    """The card number without spaces or dashes, or 400 ``invalid_card_number`` when its
    length or check digit is wrong (a typo, not somebody else's card)."""
    number = normalise_card_number(raw or "")
    if not is_valid_card_number(number):
        raise InvalidCardNumber(raw, attr=attr)
    return number


# --- Customers ------------------------------------------------------------------------------


def customers(
    *, email: str | None = None, phone: str | None = None, card_number: str | None = None
) -> QuerySet[Customer]:
    """Customers with their account and tier (one query), filtered by email (any case),
    phone (any way of writing it: compared in E.164) or card number (400 on a bad check
    digit or phone)."""
    queryset = Customer.objects.select_related("account__tier").order_by("id")
    if email is not None:
        queryset = queryset.alias(email_lower=Lower("email")).filter(
            email_lower=email.strip().lower()
        )
    if phone is not None:
        queryset = queryset.filter(phone=normalise_phone(phone))
    if card_number is not None:
        queryset = queryset.filter(account__card_number=valid_card_number(card_number))
    return queryset


def customer_by_id(customer_id: int) -> Customer:
    customer = customers().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"No customer {customer_id}.")
    return customer


def customer_by_email(email: str) -> Customer:
    customer = customers(email=email).first()
    if customer is None:
        raise NotFound("No customer with this email.")
    return customer


def customers_by_phone(phone: str) -> QuerySet[Customer]:
    """Phones are not unique (households share one): a list."""
    return customers(phone=phone)


def customer_by_card(card_number: str) -> Customer:
    customer = customers(card_number=card_number).first()
    if customer is None:
        raise NotFound("No customer with this card number.")
    return customer


# --- Accounts -------------------------------------------------------------------------------


def accounts() -> QuerySet[LoyaltyAccount]:
    return LoyaltyAccount.objects.select_related("customer", "tier")


def account_by_card_number(card_number: str, *, attr: str = "card_number") -> LoyaltyAccount:
    """The account with its customer and tier. 400 ``invalid_card_number`` for a number
    that cannot be a card (wrong check digit), 404 for a valid one nobody holds."""
    number = valid_card_number(card_number, attr=attr)
    account = accounts().filter(card_number=number).first()
    if account is None:
        raise NotFound("No loyalty account with this card number.")
    return account


def account_for_customer(customer_id: int) -> LoyaltyAccount:
    account = accounts().filter(customer_id=customer_id).first()
    if account is None:
        raise NotFound(f"No customer {customer_id}.")
    return account


def account_for(
    *, customer_id: int | None = None, card_number: str | None = None
) -> LoyaltyAccount:
    """By customer id or card number, exactly one of them."""
    if (customer_id is None) == (card_number is None):
        raise ValidationFailed.field("customer", "Name the customer or the card number.")
    if customer_id is not None:
        return account_for_customer(customer_id)
    return account_by_card_number(card_number)


def balance(*, customer_id: int | None = None, card_number: str | None = None) -> int:
    """Spendable points."""
    return account_for(customer_id=customer_id, card_number=card_number).points


def store_credit_balance(*, email: str | None = None, customer_id: int | None = None) -> Decimal:
    """The store credit of an e-mail address (case-insensitive) or, without one, of the
    customer's account; 0.00 when there is none."""
    if email:
        found = StoreCreditAccount.objects.filter(email=email.strip().lower())
    elif customer_id is not None:
        found = StoreCreditAccount.objects.filter(customer_id=customer_id).order_by("pk")
    else:
        raise ValidationFailed.field(
            "email", "Name the e-mail address or the customer.", "required"
        )
    return found.values_list("balance", flat=True).first() or Decimal("0.00")


def points_expiring(account_id: int, *, limit: int = 12) -> list[ExpiringPoints]:
    """Open points by expiry date, soonest first (points that never expire left out). One
    query."""
    rows = (
        PointsLot.objects.filter(account_id=account_id, remaining__gt=0, expires_at__isnull=False)
        .values("expires_at")
        .annotate(points=Sum("remaining"))
        .order_by("expires_at")[:limit]
    )
    return [ExpiringPoints(points=row["points"], expires_at=row["expires_at"]) for row in rows]


def ledger(account_id: int, *, kind: str | None = None) -> QuerySet[PointsEntry]:
    """The account's entries, newest first."""
    queryset = PointsEntry.objects.filter(account_id=account_id).order_by("-id")
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


# --- Tiers ----------------------------------------------------------------------------------


def tiers() -> list[TierInfo]:
    return [
        TierInfo(code=tier.code, name=tier.name, rank=tier.rank)
        for tier in Tier.objects.filter(active=True).order_by("rank")
    ]


def tier_for_customer(customer_id: int) -> TierInfo | None:
    """The customer's tier, for member-only prices and promotions; None for an unknown
    customer or one without a tier. One query."""
    row = (
        LoyaltyAccount.objects.filter(customer_id=customer_id, tier__isnull=False)
        .values_list("tier__code", "tier__name", "tier__rank")
        .first()
    )
    return TierInfo(*row) if row else None


def next_tier(
    account: LoyaltyAccount, *, active_tiers: list[Tier] | None = None
) -> NextTier | None:
    """The next tier up from the account's, with the spend still needed (from the
    qualifying spend stored when the tier was last computed); None at the top."""
    if active_tiers is None:
        active_tiers = list(Tier.objects.filter(active=True).order_by("rank"))
    rank = account.tier.rank if account.tier else -1
    above = [tier for tier in active_tiers if tier.rank > rank]
    if not above:
        return None
    tier = min(above, key=lambda tier: tier.rank)
    return NextTier(
        code=tier.code,
        name=tier.name,
        rank=tier.rank,
        qualifying_spend=tier.qualifying_spend,
        spend_needed=max(Decimal("0.00"), tier.qualifying_spend - account.qualifying_spend),
    )


# --- Earnings and redemptions (for orders and returns) -------------------------------------


def earning_by_reference(reference: str) -> Earning | None:
    """What an order earned (points, bonus, net spend, what is reversed so far), or None."""
    return Earning.objects.filter(reference=reference).first()


def redemption_by_reference(reference: str) -> Redemption | None:
    """What an order redeemed (points, amount, refunded so far), or None."""
    return Redemption.objects.filter(reference=reference).first()


def redemption_rules() -> RedemptionRules:
    settings = LoyaltyProgram.objects.get_or_create(pk=1)[0]
    return RedemptionRules(
        points=settings.redemption_points,
        value=settings.redemption_value,
        minimum=settings.redemption_minimum,
        step=settings.redemption_step,
    )


# --- The books (read only, for ``manage.py check_books``) -----------------------------------
# Aggregate SQL, each ledger summed once and joined to its balances: fast on 100,000s of
# accounts, where a correlated subquery per account would not be.


def points_discrepancies() -> list[str]:
    """One line per broken rule of the points books, empty when they balance: per account,
    balance and points owed are not negative, the balance equals the sum of its ledger and
    the sum of its open lots, points owed equals the sum of its owed changes. One query."""
    account, entry, lot = columns(LoyaltyAccount), columns(PointsEntry), columns(PointsLot)
    sql = f"""
        SELECT a.{account["card_number"]}, a.{account["points"]}, a.{account["points_owed"]},
               coalesce(e.points, 0), coalesce(e.owed, 0), coalesce(o.remaining, 0)
        FROM {table(LoyaltyAccount)} a
        LEFT JOIN (SELECT {entry["account"]} AS account_id, sum({entry["points"]}) AS points,
                          sum({entry["owed_change"]}) AS owed
                   FROM {table(PointsEntry)} GROUP BY {entry["account"]}) e
          ON e.account_id = a.{account["id"]}
        LEFT JOIN (SELECT {lot["account"]} AS account_id, sum({lot["remaining"]}) AS remaining
                   FROM {table(PointsLot)} GROUP BY {lot["account"]}) o
          ON o.account_id = a.{account["id"]}
        WHERE a.{account["points"]} < 0 OR a.{account["points_owed"]} < 0
           OR a.{account["points"]} <> coalesce(e.points, 0)
           OR a.{account["points"]} <> coalesce(o.remaining, 0)
           OR a.{account["points_owed"]} <> coalesce(e.owed, 0)
        ORDER BY a.{account["card_number"]}"""  # noqa: S608 - identifiers from the models
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for card, points, owed, ledger, owed_ledger, lots in cursor.fetchall():
            if points < 0 or owed < 0:
                problems.append(f"account {card}: negative (points {points}, owed {owed})")
            if points != ledger:
                problems.append(f"account {card}: points {points} != sum of its ledger {ledger}")
            if points != lots:
                problems.append(f"account {card}: points {points} != sum of its open lots {lots}")
            if owed != owed_ledger:
                problems.append(
                    f"account {card}: points owed {owed} != sum of its owed changes {owed_ledger}"
                )
    return problems


def store_credit_discrepancies() -> list[str]:
    """One line per broken rule of the store credit books, empty when they balance: per
    account, the balance is not negative and equals the sum of its entries. One query."""
    account, entry = columns(StoreCreditAccount), columns(StoreCreditEntry)
    # round(): SQLite sums decimals as floats (10.10 + 20.20 is not 30.30 there).
    sql = f"""
        SELECT a.{account["email"]}, a.{account["balance"]}, round(coalesce(e.total, 0), 2)
        FROM {table(StoreCreditAccount)} a
        LEFT JOIN (SELECT {entry["account"]} AS account_id, sum({entry["amount"]}) AS total
                   FROM {table(StoreCreditEntry)} GROUP BY {entry["account"]}) e
          ON e.account_id = a.{account["id"]}
        WHERE a.{account["balance"]} < 0
           OR a.{account["balance"]} <> round(coalesce(e.total, 0), 2)
        ORDER BY a.{account["email"]}"""  # noqa: S608 - identifiers from the models
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for email, raw_balance, raw_total in cursor.fetchall():
            balance, total = to_cents(str(raw_balance)), to_cents(str(raw_total))
            if balance < 0:
                problems.append(f"store credit {email}: negative balance {balance}")
            if balance != total:
                problems.append(
                    f"store credit {email}: balance {balance} != sum of its entries {total}"
                )
    return problems
