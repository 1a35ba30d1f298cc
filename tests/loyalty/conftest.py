"""Loyalty fixtures: a known programme (the migration's row may have been flushed by a
transactional test), three tiers, and customers made through the services."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from config.api.roles import Role
from loyalty import services
from loyalty.models import LoyaltyAccount, LoyaltyProgram, Tier
from tests.loyalty.factories import CustomerFactory

TIERS = [
    ("member", "Member", 0, Decimal("0.00"), Decimal("1")),
    ("silver", "Silver", 1, Decimal("500.00"), Decimal("1.25")),
    ("gold", "Gold", 2, Decimal("1500.00"), Decimal("1.5")),
]


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def programme(db):
    """100 points = 1.00, minimum 100, step 100, 1 point per 1.00, points valid 365 days."""
    cache.clear()  # sign-in failure counters and throttle buckets
    LoyaltyProgram.objects.update_or_create(
        pk=1,
        defaults={
            "points_per_unit": Decimal("1"),
            "points_valid_days": 365,
            "qualifying_months": 12,
            "redemption_points": 100,
            "redemption_value": Decimal("1.00"),
            "redemption_minimum": 100,
            "redemption_step": 100,
        },
    )
    Tier.objects.all().delete()
    for code, name, rank, spend, multiplier in TIERS:
        Tier.objects.create(
            code=code, name=name, rank=rank, qualifying_spend=spend, points_multiplier=multiplier
        )
    return LoyaltyProgram.objects.get()


@pytest.fixture
def customer(programme):
    return CustomerFactory(email="anna@example.com", first_name="Anna", last_name="de Vries")


@pytest.fixture
def other_customer(programme):
    return CustomerFactory(email="bram@example.com", first_name="Bram", last_name="Bakker")


@pytest.fixture
def account(customer) -> LoyaltyAccount:
    return customer.account


@pytest.fixture
def me(api_for, customer):
    """An API client holding the customer's own token."""
    return api_for(Role.CUSTOMER, customer_id=customer.pk, name="anna")


def fund(account: LoyaltyAccount, points: int, *, reference: str = "") -> None:
    """Give an account points through the service, as a merchandiser would."""
    services.adjust_points(
        card_number=account.card_number,
        points=points,
        reason="test funds",
        actor="test",
        reference=reference,
    )


def balance_and_ledger(account: LoyaltyAccount) -> tuple[int, int, int]:
    """(balance, Σ ledger, Σ open lots): the three must agree."""
    account.refresh_from_db()
    ledger = sum(account.entries.values_list("points", flat=True))
    lots = sum(account.lots.values_list("remaining", flat=True))
    return account.points, ledger, lots
