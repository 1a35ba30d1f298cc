"""Tiers follow qualifying spend: net spend (after discounts, without tax, less what was
returned) of the earnings in the rolling window of ``LoyaltyProgram.qualifying_months``.

A tier is recomputed when points are earned or reversed, and nightly for everyone (spend
leaves the window as time passes: ``recompute_tiers``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from config.money import CENT
from loyalty.models import Earning, LoyaltyAccount, Tier
from loyalty.services.ledger import program

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TierChange:
    account_id: int
    old_tier: str | None
    new_tier: str | None
    qualifying_spend: Decimal

    @property
    def changed(self) -> bool:
        return self.old_tier != self.new_tier


def months_before(at: dt.datetime, months: int) -> dt.datetime:
    """The same moment ``months`` calendar months earlier (31 March − 1 month = 28/29 Feb)."""
    month_index = at.year * 12 + (at.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


def qualifying_spend(*, account_id: int, now: dt.datetime | None = None) -> Decimal:
    """Net spend of the account's earnings in the window ending at ``now``."""
    now = now or timezone.now()
    start = months_before(now, program().qualifying_months)
    total = Earning.objects.filter(
        account_id=account_id, occurred_at__gt=start, occurred_at__lte=now
    ).aggregate(spend=Sum(F("net_amount") - F("reversed_amount")))["spend"]
    return Decimal(total or 0).quantize(CENT)


def tier_for_spend(spend: Decimal, tiers: list[Tier] | None = None) -> Tier | None:
    """The best active tier whose threshold ``spend`` reaches (None without tiers)."""
    if tiers is None:
        tiers = list(Tier.objects.filter(active=True))
    reached = [tier for tier in tiers if tier.active and tier.qualifying_spend <= spend]
    return max(reached, key=lambda tier: tier.rank, default=None)


def recompute_tier(
    *, account_id: int, now: dt.datetime | None = None, tiers: list[Tier] | None = None
) -> TierChange:
    """Store the account's qualifying spend and the tier it reaches. Writers of points call
    it inside their transaction, holding the account row."""
    now = now or timezone.now()
    with transaction.atomic():
        old_code = (
            LoyaltyAccount.objects.filter(pk=account_id).values_list("tier__code", flat=True).get()
        )
        spend = qualifying_spend(account_id=account_id, now=now)
        tier = tier_for_spend(spend, tiers)
        LoyaltyAccount.objects.filter(pk=account_id).update(
            tier=tier, qualifying_spend=spend, tier_computed_at=now
        )
    change = TierChange(account_id, old_code, tier.code if tier else None, spend)
    if change.changed:
        logger.info("account %s: tier %s -> %s", account_id, old_code, change.new_tier)
    return change


def recompute_tiers(*, now: dt.datetime | None = None) -> int:
    """The nightly job: spend leaves the rolling window as time passes, so tiers can drop.
    Reads every account's spend in one grouped query and updates only the accounts whose
    tier or spend changed, each with a conditional UPDATE on the values it read (an account
    that earned meanwhile was recomputed by its writer and is left alone). Safe to run twice.
    Returns how many tiers changed."""
    now = now or timezone.now()
    tiers = list(Tier.objects.filter(active=True))
    start = months_before(now, program().qualifying_months)
    spends = dict(
        Earning.objects.filter(occurred_at__gt=start, occurred_at__lte=now)
        .values("account_id")
        .annotate(spend=Sum(F("net_amount") - F("reversed_amount")))
        .values_list("account_id", "spend")
    )
    changed = 0
    rows = LoyaltyAccount.objects.order_by("pk").values_list("pk", "tier_id", "qualifying_spend")
    for account_id, tier_id, stored_spend in rows.iterator(chunk_size=2000):
        spend = Decimal(spends.get(account_id) or 0).quantize(CENT)
        tier = tier_for_spend(spend, tiers)
        new_tier_id = tier.pk if tier else None
        if new_tier_id == tier_id and spend == stored_spend:
            continue
        LoyaltyAccount.objects.filter(
            pk=account_id, tier_id=tier_id, qualifying_spend=stored_spend
        ).update(tier_id=new_tier_id, qualifying_spend=spend, tier_computed_at=now)
        changed += new_tier_id != tier_id
    logger.info("tiers recomputed: %d changed", changed)
    return changed
