"""redeem_points and refund_redemption: the configured rate, minimum and step, 409 when
short, soonest-expiring lots first, idempotent on references, nothing written on errors."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from config.api.errors import problem_for_exception
from loyalty import services
from loyalty.errors import (
    InsufficientPoints,
    InvalidCardNumber,
    InvalidState,
    NotFound,
    ReferenceConflict,
    ValidationFailed,
)
from loyalty.models import LotMovement, PointsEntry, PointsLot, Redemption, RedemptionRefund
from tests.loyalty.conftest import balance_and_ledger, fund

D = Decimal


def lots_by_expiry(account, *amounts_and_days):
    """Earn one lot per (points, days until expiry), in the order given."""
    now = timezone.now()
    for index, (points, days) in enumerate(amounts_and_days):
        earned_at = now - dt.timedelta(days=365 - days)
        services.earn_points(
            customer_id=account.customer_id,
            reference=f"ORD-LOT-{index}",
            lines=[(None, D(points))],
            occurred_at=earned_at,
        )
    return {lot.points: lot for lot in PointsLot.objects.filter(account=account)}


def snapshot(account):
    return (
        balance_and_ledger(account),
        PointsEntry.objects.count(),
        Redemption.objects.count(),
        list(PointsLot.objects.order_by("id").values_list("remaining", flat=True)),
    )


def test_points_are_worth_money_at_the_configured_rate(customer, account):
    fund(account, 1000)
    result = services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    assert (result.points, result.amount, result.balance, result.replayed) == (
        300,
        D("3.00"),
        700,
        False,
    )
    entry = PointsEntry.objects.get(kind="redeem")
    assert (entry.points, entry.balance_after, entry.amount, entry.reference) == (
        -300,
        700,
        D("3.00"),
        "ORD-1",
    )
    assert balance_and_ledger(account) == (700, 700, 700)


def test_the_rate_minimum_and_step_are_configured(customer, account, programme):
    programme.redemption_points = 250
    programme.redemption_value = D("2.00")
    programme.redemption_minimum = 500
    programme.redemption_step = 50
    programme.save()
    fund(account, 2000)
    assert services.points_value(points=550) == D("4.40")
    assert services.redeem_points(customer_id=customer.pk, points=550, reference="A").amount == D(
        "4.40"
    )
    with pytest.raises(ValidationFailed) as raised:
        services.redeem_points(customer_id=customer.pk, points=450, reference="B")
    assert raised.value.errors[0]["code"] == "below_minimum"


def test_a_redemption_by_card_number(customer, account):
    fund(account, 500)
    result = services.redeem_points(card_number=account.card_number, points=500, reference="POS-9")
    assert (result.customer_id, result.balance) == (customer.pk, 0)


@pytest.mark.parametrize(
    ("points", "code"),
    [
        (-100, "invalid"),
        (0, "invalid"),
        (150, "invalid_step"),
        (50, "below_minimum"),
        (100.0, "invalid"),
        (True, "invalid"),
        ("100", "invalid"),
    ],
)
def test_bad_points_are_400_and_nothing_is_written(customer, account, points, code):
    fund(account, 1000)
    before = snapshot(account)
    with pytest.raises(ValidationFailed) as raised:
        services.redeem_points(customer_id=customer.pk, points=points, reference="ORD-1")
    status, body, _ = problem_for_exception(raised.value)
    assert status == 400
    assert body["code"] == "invalid"
    assert body["errors"][0]["attr"] == "points"
    assert body["errors"][0]["code"] == code
    assert snapshot(account) == before


def test_more_than_the_balance_is_409_insufficient_points_and_nothing_is_written(customer, account):
    fund(account, 200)
    before = snapshot(account)
    with pytest.raises(InsufficientPoints) as raised:
        services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    status, body, _ = problem_for_exception(raised.value)
    assert (status, body["code"]) == (409, "insufficient_points")
    assert body["detail"] == "The balance is 200 points; 300 were asked for."
    assert snapshot(account) == before


def test_a_wrong_check_digit_is_400_and_an_unknown_card_404(customer, account):
    fund(account, 500)
    card = account.card_number
    typo = card[:-1] + str((int(card[-1]) + 1) % 10)
    before = snapshot(account)
    with pytest.raises(InvalidCardNumber) as raised:
        services.redeem_points(card_number=typo, points=100, reference="ORD-1")
    status, body, _ = problem_for_exception(raised.value)
    assert (status, body["errors"][0]["code"]) == (400, "invalid_card_number")
    with pytest.raises(NotFound):
        services.redeem_points(card_number="2700000000003", points=100, reference="ORD-1")
    assert snapshot(account) == before


def test_redemption_is_idempotent_on_the_reference(customer, account):
    fund(account, 500)
    first = services.redeem_points(customer_id=customer.pk, points=200, reference="ORD-1")
    again = services.redeem_points(customer_id=customer.pk, points=200, reference="ORD-1")
    assert again.replayed is True
    assert (again.points, again.amount, again.balance) == (200, D("2.00"), first.balance)
    assert PointsEntry.objects.filter(kind="redeem").count() == 1
    with pytest.raises(ReferenceConflict):
        services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    assert balance_and_ledger(account) == (300, 300, 300)


def test_lots_that_expire_soonest_are_spent_first(customer, account):
    lots = lots_by_expiry(account, (300, 200), (100, 10), (200, 50))
    services.redeem_points(customer_id=customer.pk, points=200, reference="ORD-1")
    entry = PointsEntry.objects.get(kind="redeem")
    taken = list(entry.lot_movements.order_by("id").values_list("lot__points", "points"))
    assert taken == [(100, 100), (200, 100)]  # the 10-day lot, then the 50-day lot
    remaining = {points: PointsLot.objects.get(pk=lot.pk).remaining for points, lot in lots.items()}
    assert remaining == {100: 0, 200: 100, 300: 300}


def test_points_past_their_date_are_expired_first_and_never_spent(customer, account):
    lots = lots_by_expiry(account, (300, 5), (100, 30))
    # Time passes: the 300 lapsed yesterday, and the nightly run has not been yet.
    PointsLot.objects.filter(pk=lots[300].pk).update(expires_at=timezone.now() - dt.timedelta(1))
    account.refresh_from_db()
    assert account.points == 400
    with pytest.raises(InsufficientPoints):
        services.redeem_points(customer_id=customer.pk, points=200, reference="ORD-1")
    # The refused redemption rolled back; the next one expires the lot for real.
    result = services.redeem_points(customer_id=customer.pk, points=100, reference="ORD-2")
    assert result.balance == 0
    kinds = list(PointsEntry.objects.order_by("id").values_list("kind", "points"))
    assert kinds == [("earn", 300), ("earn", 100), ("expire", -300), ("redeem", -100)]
    assert balance_and_ledger(account) == (0, 0, 0)


# --- Refunds --------------------------------------------------------------------------------


def test_a_full_refund_gives_every_point_back_to_its_lot(customer, account):
    lots = lots_by_expiry(account, (100, 10), (200, 50))
    services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    result = services.refund_redemption(reference="ORD-1", refund_reference="CANCEL-1")
    assert (result.points, result.amount) == (300, D("3.00"))
    assert {p: PointsLot.objects.get(pk=lot.pk).remaining for p, lot in lots.items()} == {
        100: 100,
        200: 200,
    }
    entry = PointsEntry.objects.get(kind="refund")
    assert (entry.points, entry.balance_after, entry.amount) == (300, 300, D("3.00"))
    assert balance_and_ledger(account) == (300, 300, 300)


def test_partial_refunds_add_up_exactly_and_stop_at_the_redemption(customer, account, programme):
    programme.redemption_value = D("1.00")
    programme.redemption_points = 300
    programme.save()
    fund(account, 900)
    assert services.points_value(points=100) == D("0.33")
    services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    amounts = [
        services.refund_redemption(reference="ORD-1", refund_reference=f"RET-{i}", points=100)
        for i in range(3)
    ]
    assert [r.amount for r in amounts] == [D("0.33"), D("0.34"), D("0.33")]  # sums to 1.00
    with pytest.raises(InvalidState):
        services.refund_redemption(reference="ORD-1", refund_reference="RET-9")
    assert Redemption.objects.get().refunded_points == 300
    assert balance_and_ledger(account) == (900, 900, 900)


def test_refunding_more_than_is_left_is_409_and_writes_nothing(customer, account):
    fund(account, 500)
    services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    services.refund_redemption(reference="ORD-1", refund_reference="RET-1", points=200)
    before = snapshot(account)
    with pytest.raises(InvalidState):
        services.refund_redemption(reference="ORD-1", refund_reference="RET-2", points=200)
    assert snapshot(account) == before
    assert RedemptionRefund.objects.count() == 1


def test_refunds_are_idempotent_per_refund_reference(customer, account):
    fund(account, 500)
    services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    first = services.refund_redemption(reference="ORD-1", refund_reference="RET-1", points=100)
    again = services.refund_redemption(reference="ORD-1", refund_reference="RET-1", points=100)
    assert (again.points, again.amount, again.replayed) == (first.points, first.amount, True)
    with pytest.raises(ReferenceConflict):
        services.refund_redemption(reference="ORD-1", refund_reference="RET-1", points=200)
    assert PointsEntry.objects.filter(kind="refund").count() == 1
    with pytest.raises(NotFound):
        services.refund_redemption(reference="ORD-404", refund_reference="RET-404")


def test_points_of_lapsed_lots_come_back_in_a_new_lot(customer, account):
    lots = lots_by_expiry(account, (100, 10), (200, 50))
    services.redeem_points(customer_id=customer.pk, points=300, reference="ORD-1")
    PointsLot.objects.filter(pk=lots[100].pk).update(expires_at=timezone.now() - dt.timedelta(1))
    services.refund_redemption(reference="ORD-1", refund_reference="RET-1")
    assert PointsLot.objects.get(pk=lots[100].pk).remaining == 0  # never revived
    assert PointsLot.objects.get(pk=lots[200].pk).remaining == 200
    new = PointsLot.objects.get(entry__kind="refund")
    assert (new.points, new.remaining) == (100, 100)
    assert new.expires_at > timezone.now() + dt.timedelta(days=360)
    assert balance_and_ledger(account) == (300, 300, 300)
    assert LotMovement.objects.filter(entry__kind="refund").count() == 1  # only the live lot


def test_a_lot_the_expiry_job_closed_early_is_never_refilled(customer, account):
    """The job may run with a clock ahead of ours; a lot is expired by one entry, once."""
    lots = lots_by_expiry(account, (300, 10))
    services.redeem_points(customer_id=customer.pk, points=100, reference="ORD-1")
    services.expire_points(now=timezone.now() + dt.timedelta(days=11))
    services.refund_redemption(reference="ORD-1", refund_reference="RET-1")
    assert PointsLot.objects.get(pk=lots[300].pk).remaining == 0
    assert PointsLot.objects.get(entry__kind="refund").remaining == 100
    services.expire_points(now=timezone.now() + dt.timedelta(days=400))
    assert PointsEntry.objects.filter(kind="expire").count() == 2
    assert balance_and_ledger(account) == (0, 0, 0)


def test_points_that_never_expire_are_given_back_first(customer, account, programme):
    programme.points_valid_days = 0
    programme.save()
    fund(account, 100)  # never expires
    programme.points_valid_days = 365
    programme.save()
    fund(account, 100)  # expires in a year
    services.redeem_points(customer_id=customer.pk, points=200, reference="ORD-1")
    services.refund_redemption(reference="ORD-1", refund_reference="RET-1", points=100)
    assert dict(PointsLot.objects.values_list("expires_at", "remaining"))[None] == 100
