"""earn_points: net spend × rate × category × tier multipliers, bonus campaigns, lots that
expire, idempotent on the order reference."""

import datetime as dt
from decimal import Decimal

import pytest

from loyalty import selectors, services
from loyalty.errors import NotFound, ReferenceConflict, ValidationFailed
from loyalty.models import BonusCampaign, Earning, EarnRule, PointsEntry, PointsLot, Tier
from tests.factories import CategoryFactory
from tests.loyalty.conftest import balance_and_ledger

D = Decimal
NOW = dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def categories(db):
    apparel = CategoryFactory(code="apparel")
    shoes = CategoryFactory(code="shoes", parent=apparel)
    gifts = CategoryFactory(code="gift-cards")
    return {"apparel": apparel, "shoes": shoes, "gifts": gifts}


def earn(customer, reference="ORD-1", lines=((None, "10.00"),), at=NOW):
    return services.earn_points(
        customer_id=customer.pk,
        reference=reference,
        lines=[(code, D(amount)) for code, amount in lines],
        occurred_at=at,
    )


def test_one_point_per_unit_of_net_spend_rounded_down_once(customer, account):
    result = earn(customer, lines=[(None, "10.60"), (None, "5.60")])
    assert (result.points, result.bonus_points, result.net_amount) == (16, 0, D("16.20"))
    assert result.expires_at == dt.datetime(2027, 3, 14, tzinfo=dt.UTC)
    entry = PointsEntry.objects.get()
    assert (entry.kind, entry.points, entry.balance_after, entry.reference) == (
        "earn",
        16,
        16,
        "ORD-1",
    )
    assert entry.amount == D("16.20")
    assert entry.occurred_at == NOW
    lot = PointsLot.objects.get()
    assert (lot.points, lot.remaining, lot.expires_at) == (16, 16, result.expires_at)
    assert balance_and_ledger(account) == (16, 16, 16)


def test_the_rate_is_configured(customer, programme):
    programme.points_per_unit = D("2.5")
    programme.save()
    assert earn(customer, lines=[(None, "9.99")]).points == 24  # 24.975


def test_the_deepest_category_rule_applies(customer, categories):
    EarnRule.objects.create(category=categories["apparel"], multiplier=D("2"))
    EarnRule.objects.create(category=categories["shoes"], multiplier=D("3"))
    EarnRule.objects.create(category=categories["gifts"], multiplier=D("0"))
    result = earn(
        customer,
        lines=[("apparel", "10.00"), ("shoes", "10.00"), ("gift-cards", "50.00"), (None, "1.00")],
    )
    assert result.points == 20 + 30 + 0 + 1


def test_inactive_rules_do_not_apply(customer, categories):
    EarnRule.objects.create(category=categories["apparel"], multiplier=D("2"), active=False)
    assert earn(customer, lines=[("shoes", "10.00")]).points == 10


def test_the_tier_multiplies(customer, account):
    account.tier = Tier.objects.get(code="gold")
    account.save()
    assert earn(customer, lines=[(None, "10.00")]).points == 15


def test_a_bonus_campaign_books_the_extra_as_a_bonus_entry_while_it_runs(customer, account):
    BonusCampaign.objects.create(
        name="Double points weekend",
        multiplier=D("2"),
        starts_at=NOW - dt.timedelta(days=1),
        ends_at=NOW + dt.timedelta(days=1),
    )
    result = earn(customer, lines=[(None, "10.50")])
    assert (result.points, result.bonus_points) == (10, 11)  # ⌊10.5⌋ and ⌊21⌋ − 10
    kinds = list(PointsEntry.objects.order_by("id").values_list("kind", "points", "balance_after"))
    assert kinds == [("earn", 10, 10), ("bonus", 11, 21)]
    assert PointsLot.objects.count() == 2
    after = earn(customer, reference="ORD-2", at=NOW + dt.timedelta(days=1))  # ended: ends_at excl.
    assert (after.points, after.bonus_points) == (10, 0)
    assert balance_and_ledger(account) == (31, 31, 31)


def test_campaigns_do_not_stack_and_may_be_limited_to_categories_and_tiers(customer, categories):
    window = {"starts_at": NOW - dt.timedelta(hours=1), "ends_at": NOW + dt.timedelta(hours=1)}
    shoes_triple = BonusCampaign.objects.create(name="Shoes ×3", multiplier=D("3"), **window)
    shoes_triple.categories.add(categories["shoes"])
    BonusCampaign.objects.create(name="All ×2", multiplier=D("2"), **window)
    gold_only = BonusCampaign.objects.create(name="Gold ×5", multiplier=D("5"), **window)
    gold_only.tiers.add(Tier.objects.get(code="gold"))
    result = earn(customer, lines=[("shoes", "10.00"), ("apparel", "10.00"), (None, "10.00")])
    # shoes ×3 (the best that applies), apparel ×2, uncategorised ×2; not gold: no ×5.
    assert (result.points, result.bonus_points) == (30, 70 - 30)


def test_earning_is_idempotent_on_the_reference(customer, account):
    first = earn(customer)
    again = earn(customer)
    assert again.replayed is True
    assert (again.points, again.net_amount, again.expires_at) == (10, D("10.00"), first.expires_at)
    assert PointsEntry.objects.count() == 1
    assert Earning.objects.count() == 1
    assert balance_and_ledger(account) == (10, 10, 10)


def test_a_reference_used_for_another_customer_or_amount_is_409(customer, other_customer):
    earn(customer)
    with pytest.raises(ReferenceConflict) as raised:
        earn(other_customer)
    assert (raised.value.status, raised.value.code) == (409, "reference_conflict")
    with pytest.raises(ReferenceConflict):
        earn(customer, lines=[(None, "99.00")])
    assert PointsEntry.objects.count() == 1


def test_a_zero_spend_earns_nothing_and_writes_no_entry(customer, account):
    result = earn(customer, lines=[(None, "0.00")])
    assert (result.points, result.expires_at) == (0, None)
    assert not PointsEntry.objects.exists()
    assert Earning.objects.get().net_amount == D("0.00")


@pytest.mark.parametrize(
    ("lines", "attr", "code"),
    [
        ([("nope", D("10.00"))], "lines.0.category", "unknown_category"),
        ([(None, D("1.00")), (None, D("-1.00"))], "lines.1.net_amount", "invalid"),
        ([(None, "ten")], "lines.0.net_amount", "invalid"),
        ([(None, 1.5)], "lines.0.net_amount", "invalid"),  # floats are not money
        ([(None, D("NaN"))], "lines.0.net_amount", "invalid"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(customer, lines, attr, code):
    with pytest.raises(ValidationFailed) as raised:
        services.earn_points(customer_id=customer.pk, reference="ORD-1", lines=lines)
    assert raised.value.errors[0]["attr"] == attr
    assert raised.value.errors[0]["code"] == code
    assert not Earning.objects.exists()
    assert not PointsEntry.objects.exists()


def test_earning_by_card_number_and_unknown_customers(customer):
    card = customer.account.card_number
    assert services.earn_points(
        card_number=card, reference="POS-1", lines=[(None, D("5"))]
    ).customer_id == (customer.pk)
    with pytest.raises(NotFound):
        services.earn_points(customer_id=9999, reference="ORD-X", lines=[(None, D("5"))])
    assert not Earning.objects.filter(reference="ORD-X").exists()


def test_earning_raises_the_tier(customer):
    result = earn(customer, lines=[(None, "600.00")], at=dt.datetime.now(dt.UTC))
    assert result.tier == "silver"
    assert selectors.tier_for_customer(customer.pk).code == "silver"
    account = selectors.account_for_customer(customer.pk)
    assert account.qualifying_spend == D("600.00")
    nxt = selectors.next_tier(account)
    assert (nxt.code, nxt.spend_needed) == ("gold", D("900.00"))


def test_earning_settles_points_owed_first(customer, account):
    account.points_owed = 4  # as a reversal after spending leaves it
    account.save()
    earn(customer)
    account.refresh_from_db()
    assert (account.points, account.points_owed) == (6, 0)
    entries = list(
        PointsEntry.objects.order_by("id").values_list(
            "kind", "points", "owed_change", "balance_after"
        )
    )
    assert entries == [("earn", 10, 0, 10), ("reverse", -4, -4, 6)]
