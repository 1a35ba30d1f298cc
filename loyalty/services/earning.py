"""Earning points when goods are handed over, and taking them back when goods come back.

How many points a line earns::

    normal = net × points_per_unit × category multiplier × tier multiplier
    with bonus = normal × the best bonus campaign multiplier that applies to the line

summed over the lines, then rounded down once: ``earn`` = ⌊Σ normal⌋ and ``bonus`` =
⌊Σ with bonus⌋ − ``earn``. The category multiplier is the rule of the deepest category above
the line's (1 without a rule); the tier is the customer's tier before this earning.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.money import to_cents
from inventory import selectors as inventory
from loyalty import selectors
from loyalty.errors import ReferenceConflict, ValidationFailed
from loyalty.models import (
    BonusCampaign,
    Earning,
    EarnRule,
    EntryKind,
    LoyaltyAccount,
    PointsLot,
    Tier,
)
from loyalty.services.ledger import (
    Note,
    credit,
    expire_due_lots,
    expiry_for,
    lock_account,
    program,
    settle_owed,
)
from loyalty.services.tiers import recompute_tier

logger = logging.getLogger(__name__)

ONE = Decimal(1)


@dataclass(frozen=True)
class EarnResult:
    reference: str
    customer_id: int
    card_number: str
    net_amount: Decimal
    points: int
    bonus_points: int
    expires_at: dt.datetime | None
    tier: str | None
    replayed: bool = False

    @property
    def total_points(self) -> int:
        return self.points + self.bonus_points


# --- Earning --------------------------------------------------------------------------------


def earn_points(
    *,
    reference: str,
    lines: Sequence[tuple[str | None, Decimal]],
    customer_id: int | None = None,
    card_number: str | None = None,
    occurred_at: dt.datetime | None = None,
    actor: str = "",
) -> EarnResult:
    """Credit the points a handed-over order earns: ``lines`` are ``(category_code,
    net_amount)`` with the net spend after discounts and without tax (category None: no
    category rule). Points are booked as an ``earn`` entry and, during a bonus campaign, a
    ``bonus`` entry, each a lot expiring ``points_valid_days`` after ``occurred_at``; then
    points owed after earlier returns are settled and the tier is recomputed.

    Atomic. Idempotent on ``reference`` (an order, or a part of one handed over
    separately): a repeat returns the first result (``replayed``) and writes nothing.
    Errors: 404 unknown customer or card; 400 ``invalid_card_number``, bad lines (unknown
    category, negative or non-decimal amount); 409 ``reference_conflict`` when the reference
    already earned for another customer or another amount.
    """
    if not reference:
        raise ValidationFailed.field("reference", "A reference (the order) is required.")
    occurred_at = occurred_at or timezone.now()
    account = selectors.account_for(customer_id=customer_id, card_number=card_number)
    amounts = [
        _amount(value, f"lines.{index}.net_amount") for index, (_, value) in enumerate(lines)
    ]
    existing = Earning.objects.filter(reference=reference).first()
    if existing is not None:
        return _replayed_earning(existing, account, sum(amounts, Decimal("0.00")))
    categories = [code for code, _ in lines]
    settings = program()
    tier = account.tier
    normal, with_bonus = _points_for(
        categories=categories, amounts=amounts, tier=tier, at=occurred_at, settings=settings
    )
    net = sum(amounts, Decimal("0.00"))
    points = int(normal.to_integral_value(rounding=ROUND_FLOOR))
    bonus = int(with_bonus.to_integral_value(rounding=ROUND_FLOOR)) - points
    expires_at = expiry_for(occurred_at, settings)
    try:
        with transaction.atomic():
            Earning.objects.create(
                account=account,
                reference=reference,
                net_amount=net,
                points=points,
                bonus_points=bonus,
                occurred_at=occurred_at,
            )
            lock_account(account.pk)
            expire_due_lots(account_id=account.pk, now=timezone.now(), locked=True)
            note = Note(reference=reference, actor=actor, occurred_at=occurred_at, amount=net)
            if points:
                credit(
                    account_id=account.pk,
                    kind=EntryKind.EARN,
                    points=points,
                    expires_at=expires_at,
                    note=replace(note, reason=f"Earned on {net} net spend"),
                )
            if bonus:
                credit(
                    account_id=account.pk,
                    kind=EntryKind.BONUS,
                    points=bonus,
                    expires_at=expires_at,
                    note=replace(note, reason="Bonus campaign", amount=None),
                )
            settle_owed(account_id=account.pk, note=note)
            change = recompute_tier(account_id=account.pk)
    except IntegrityError:
        existing = Earning.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return _replayed_earning(existing, account, net)
    logger.info("%s earned %d+%d points on %s", account.card_number, points, bonus, reference)
    return EarnResult(
        reference=reference,
        customer_id=account.customer_id,
        card_number=account.card_number,
        net_amount=net,
        points=points,
        bonus_points=bonus,
        expires_at=expires_at if points or bonus else None,
        tier=change.new_tier,
    )


def _amount(value, attr: str) -> Decimal:
    try:
        amount = Decimal(value) if not isinstance(value, float) else None
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise ValidationFailed.field(attr, "A net amount is a decimal, zero or more.")
    return to_cents(amount)


def _replayed_earning(existing: Earning, account: LoyaltyAccount, net: Decimal) -> EarnResult:
    if existing.account_id != account.pk or existing.net_amount != net:
        raise ReferenceConflict(
            f"Reference {existing.reference!r} already earned points for another "
            "customer or amount."
        )
    lot = PointsLot.objects.filter(entry__reference=existing.reference, entry__kind="earn").first()
    return EarnResult(
        reference=existing.reference,
        customer_id=account.customer_id,
        card_number=account.card_number,
        net_amount=existing.net_amount,
        points=existing.points,
        bonus_points=existing.bonus_points,
        expires_at=lot.expires_at if lot else None,
        tier=account.tier.code if account.tier else None,
        replayed=True,
    )


def _points_for(
    *,
    categories: list[str | None],
    amounts: list[Decimal],
    tier: Tier | None,
    at: dt.datetime,
    settings,
) -> tuple[Decimal, Decimal]:
    """Exact (unrounded) normal points and points with bonus for the lines. Reads the
    categories, rules and campaigns in one query each."""
    codes = {code for code in categories if code}
    paths = dict(inventory.categories().filter(code__in=codes).values_list("code", "path"))
    for index, code in enumerate(categories):
        if code and code not in paths:
            raise ValidationFailed.field(
                f"lines.{index}.category", f"Unknown category {code!r}.", code="unknown_category"
            )
    rules = dict(EarnRule.objects.filter(active=True).values_list("category__path", "multiplier"))
    campaigns = [
        (
            campaign.multiplier,
            [category.path for category in campaign.categories.all()],
            {tier.pk for tier in campaign.tiers.all()},
        )
        for campaign in BonusCampaign.objects.filter(
            active=True, starts_at__lte=at, ends_at__gt=at
        ).prefetch_related("categories", "tiers")
    ]
    tier_multiplier = tier.points_multiplier if tier else ONE
    normal = with_bonus = Decimal(0)
    for code, amount in zip(categories, amounts, strict=True):
        path = paths.get(code, "") if code else ""
        category_multiplier = _deepest_rule(path, rules)
        points = amount * settings.points_per_unit * category_multiplier * tier_multiplier
        best = max(
            (
                multiplier
                for multiplier, campaign_paths, tier_ids in campaigns
                if _covers(campaign_paths, path)
                and (not tier_ids or (tier is not None and tier.pk in tier_ids))
            ),
            default=ONE,
        )
        normal += points
        with_bonus += points * max(best, ONE)
    return normal, with_bonus


def _covers(campaign_paths: list[str], path: str) -> bool:
    """A campaign without categories covers every line; one with categories covers the
    lines in them or below them."""
    if not campaign_paths:
        return True
    return bool(path) and any(path.startswith(p) for p in campaign_paths)


def _deepest_rule(path: str, rules: dict[str, Decimal]) -> Decimal:
    best_path = max((p for p in rules if path and path.startswith(p)), key=len, default=None)
    return rules[best_path] if best_path is not None else ONE
