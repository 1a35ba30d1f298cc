"""reverse_earning for returns: the points earned on the returned part come back, exactly
over several partial returns; points already spent become points owed, settled from the
next points credited."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty import selectors, services
from loyalty.errors import NotFound, ReferenceConflict, ValidationFailed
from loyalty.models import BonusCampaign, Earning, EarningReversal, PointsEntry, PointsLot
from tests.loyalty.conftest import balance_and_ledger, fund

D = Decimal


def earn(customer, amount="100.00", reference="ORD-1", at=None):
    return services.earn_points(
        customer_id=customer.pk,
        reference=reference,
        lines=[(None, D(amount))],
        occurred_at=at or timezone.now(),
    )


def owed(account) -> int:
    account.refresh_from_db()
    return account.points_owed


def test_a_share_takes_back_its_part_of_the_points_and_of_the_spend(customer, account):
    earn(customer, "100.00")
    result = services.reverse_earning(
        reference="ORD-1", reversal_reference="RET-1", share=D("0.25")
    )
    assert (result.points, result.points_taken, result.points_owed, result.amount) == (
        25,
        25,
        0,
        D("25.00"),
    )
    entry = PointsEntry.objects.get(kind="reverse")
    assert (entry.points, entry.owed_change, entry.balance_after, entry.reference) == (
        -25,
        0,
        75,
        "RET-1",
    )
    earning = Earning.objects.get()
    assert (earning.reversed_points, earning.reversed_amount) == (25, D("25.00"))
    assert selectors.account_for_customer(customer.pk).qualifying_spend == D("75.00")
    assert balance_and_ledger(account) == (75, 75, 75)


def test_returning_an_order_in_thirds_takes_back_exactly_what_it_earned(customer, account):
    BonusCampaign.objects.create(
        name="Double",
        multiplier=D("2"),
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    earned = earn(customer, "10.00")
    assert earned.total_points == 20
    third = D(1) / D(3)
    results = [
        services.reverse_earning(reference="ORD-1", reversal_reference=f"RET-{i}", share=third)
        for i in range(3)
    ]
    assert [r.points for r in results] == [7, 6, 7]  # round(20/3), round(40/3) − 7, 20 − 13
    assert [r.amount for r in results] == [D("3.33"), D("3.34"), D("3.33")]
    earning = Earning.objects.get()
    assert (earning.reversed_points, earning.reversed_amount) == (20, D("10.00"))
    assert balance_and_ledger(account) == (0, 0, 0)
    with pytest.raises(ValidationFailed):
        services.reverse_earning(reference="ORD-1", reversal_reference="RET-9", share=D("0.01"))


def test_points_may_be_given_instead_of_a_share(customer, account):
    earn(customer, "100.00")
    result = services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", points=40)
    assert (result.points, result.amount) == (40, D("40.00"))
    then = services.reverse_earning(reference="ORD-1", reversal_reference="RET-2", share=D("0.6"))
    assert (then.points, then.amount) == (60, D("60.00"))
    assert balance_and_ledger(account) == (0, 0, 0)


def test_the_earnings_own_lots_are_taken_back_first(customer, account):
    fund(account, 50)  # an older lot that expires sooner (adjustments expire like earnings)
    PointsLot.objects.update(expires_at=timezone.now() + dt.timedelta(days=5))
    earn(customer, "100.00")
    services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", share=D("0.5"))
    lots = dict(PointsLot.objects.values_list("entry__kind", "remaining"))
    assert lots == {"adjust": 50, "earn": 50}


def test_points_already_spent_are_owed_and_settled_from_the_next_points(customer, account):
    earn(customer, "500.00")  # 500 points
    services.redeem_points(customer_id=customer.pk, points=400, reference="ORD-2")
    result = services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", share=D(1))
    assert (result.points, result.points_taken, result.points_owed) == (500, 100, 400)
    assert balance_and_ledger(account) == (0, 0, 0)  # never below zero
    assert owed(account) == 400
    entry = PointsEntry.objects.get(kind="reverse")
    assert (entry.points, entry.owed_change, entry.balance_after) == (-100, 400, 0)
    assert "400 already spent, now owed" in entry.reason
    assert EarningReversal.objects.get().points_owed == 400
    # The customer cannot spend what they owe: the next earnings pay it first.
    earn(customer, "300.00", reference="ORD-3")
    assert balance_and_ledger(account) == (0, 0, 0)
    assert owed(account) == 100
    earn(customer, "250.00", reference="ORD-4")
    assert balance_and_ledger(account) == (150, 150, 150)
    assert owed(account) == 0
    owed_total = sum(account.entries.values_list("owed_change", flat=True))
    assert owed_total == 0  # points_owed = Σ owed_change


def test_the_end_balance_does_not_depend_on_reversing_or_refunding_first(customer, other_customer):
    def scenario(who, reverse_first):
        earn(who, "500.00", reference=f"ORD-{who.pk}")
        services.redeem_points(customer_id=who.pk, points=500, reference=f"PAY-{who.pk}")
        steps = [
            lambda: services.reverse_earning(
                reference=f"ORD-{who.pk}", reversal_reference=f"RET-{who.pk}", share=D(1)
            ),
            lambda: services.refund_redemption(
                reference=f"PAY-{who.pk}", refund_reference=f"REF-{who.pk}"
            ),
        ]
        for step in steps if reverse_first else reversed(steps):
            step()
        account = selectors.account_for_customer(who.pk)
        return account.points, account.points_owed

    assert scenario(customer, reverse_first=True) == (0, 0)
    assert scenario(other_customer, reverse_first=False) == (0, 0)


def test_reversal_lowers_the_tier(customer):
    assert earn(customer, "600.00").tier == "silver"
    result = services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", share=D("0.5"))
    assert result.tier == "member"
    assert selectors.tier_for_customer(customer.pk).code == "member"


def test_reversal_is_idempotent_on_the_return_reference(customer, account):
    earn(customer, "100.00")
    first = services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", share=D("0.5"))
    again = services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", share=D("0.5"))
    assert again.replayed is True
    assert (again.points, again.amount) == (first.points, first.amount)
    with pytest.raises(ReferenceConflict):
        services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", share=D("0.2"))
    assert PointsEntry.objects.filter(kind="reverse").count() == 1
    assert balance_and_ledger(account) == (50, 50, 50)


@pytest.mark.parametrize(
    ("kwargs", "attr"),
    [
        ({"share": D("0")}, "share"),
        ({"share": D("1.5")}, "share"),
        ({"share": D("-0.5")}, "share"),
        ({"share": "half"}, "share"),
        ({"points": -5}, "points"),
        ({"points": 0}, "points"),
        ({"points": 101}, "points"),
        ({}, "share"),
        ({"share": D("0.5"), "points": 5}, "share"),
    ],
)
def test_bad_reversals_are_400_and_write_nothing(customer, account, kwargs, attr):
    earn(customer, "100.00")
    with pytest.raises(ValidationFailed) as raised:
        services.reverse_earning(reference="ORD-1", reversal_reference="RET-1", **kwargs)
    assert raised.value.errors[0]["attr"] == attr
    assert not EarningReversal.objects.exists()
    assert not PointsEntry.objects.filter(kind="reverse").exists()
    assert balance_and_ledger(account) == (100, 100, 100)


def test_reversing_an_order_that_earned_nothing_is_404(customer):
    with pytest.raises(NotFound):
        services.reverse_earning(reference="GUEST-1", reversal_reference="RET-1", share=D(1))
    assert selectors.earning_by_reference("GUEST-1") is None
