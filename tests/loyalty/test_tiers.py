"""Tiers follow the rolling window of qualifying spend; pricing reads them."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from loyalty import selectors, services
from loyalty.models import Tier
from loyalty.services.tiers import months_before

D = Decimal


def test_months_before_clamps_to_the_end_of_the_month():
    at = dt.datetime(2025, 3, 31, 12, tzinfo=dt.UTC)
    assert months_before(at, 1) == dt.datetime(2025, 2, 28, 12, tzinfo=dt.UTC)
    assert months_before(at, 12) == dt.datetime(2024, 3, 31, 12, tzinfo=dt.UTC)
    assert months_before(dt.datetime(2024, 3, 31, tzinfo=dt.UTC), 1).day == 29
    assert months_before(dt.datetime(2025, 1, 15, tzinfo=dt.UTC), 13) == dt.datetime(
        2023, 12, 15, tzinfo=dt.UTC
    )


def test_spend_that_leaves_the_window_drops_the_tier_at_the_nightly_run(customer, other_customer):
    now = timezone.now()
    services.earn_points(
        customer_id=customer.pk,
        reference="OLD",
        lines=[(None, D("1600"))],
        occurred_at=now - dt.timedelta(days=300),
    )
    assert selectors.tier_for_customer(customer.pk).code == "gold"
    assert services.recompute_tiers(now=now) == 0
    assert services.recompute_tiers(now=now + dt.timedelta(days=100)) == 1
    assert selectors.tier_for_customer(customer.pk).code == "member"
    account = selectors.account_for_customer(customer.pk)
    assert account.qualifying_spend == D("0.00")
    assert services.recompute_tiers(now=now + dt.timedelta(days=100)) == 0  # safe to repeat


def test_the_window_is_configured(customer, programme):
    programme.qualifying_months = 24
    programme.save()
    now = timezone.now()
    services.earn_points(
        customer_id=customer.pk,
        reference="OLD",
        lines=[(None, D("600"))],
        occurred_at=now - dt.timedelta(days=500),
    )
    assert selectors.tier_for_customer(customer.pk).code == "silver"


def test_tier_for_customer_for_the_pricing_engine(customer):
    info = selectors.tier_for_customer(customer.pk)
    assert info == selectors.TierInfo(code="member", name="Member", rank=0)
    assert selectors.tier_for_customer(99999) is None
    assert [t.code for t in selectors.tiers()] == ["member", "silver", "gold"]


def test_inactive_tiers_are_skipped(customer):
    Tier.objects.filter(code="silver").update(active=False)
    services.earn_points(customer_id=customer.pk, reference="A", lines=[(None, D("600"))])
    assert selectors.tier_for_customer(customer.pk).code == "member"
    nxt = selectors.next_tier(selectors.account_for_customer(customer.pk))
    assert (nxt.code, nxt.spend_needed) == ("gold", D("900.00"))
