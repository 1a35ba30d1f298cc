"""Random sequences of earn, redeem, refund, reverse, adjust and expire keep the books
straight: balance = Σ ledger = Σ open lots ≥ 0, points owed = Σ owed changes ≥ 0, every
entry's balance_after is the running sum, and debits take the lots that expire soonest."""

import contextlib
import datetime as dt
import itertools
from decimal import Decimal

from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import services
from loyalty.errors import InsufficientPoints, InvalidState, ValidationFailed
from loyalty.models import LoyaltyAccount, PointsEntry, PointsLot
from tests.loyalty.factories import CustomerFactory

counter = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(0, 600), st.integers(0, 420)),
        st.tuples(st.just("redeem"), st.integers(1, 8)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.one_of(st.none(), st.integers(1, 4))),
        st.tuples(st.just("reverse"), st.integers(0, 5), st.integers(1, 100)),
        st.tuples(st.just("adjust"), st.integers(-400, 400).filter(bool)),
        st.tuples(st.just("expire"), st.integers(0, 800)),
    ),
    min_size=1,
    max_size=25,
)


def open_lots_soonest_first(account_id, now):
    """What a debit at ``now`` may take from, in the order it must take it."""
    return list(
        PointsLot.objects.filter(account_id=account_id, remaining__gt=0)
        .exclude(expires_at__lte=now)
        .order_by(F("expires_at").asc(nulls_last=True), "id")
        .values_list("pk", "remaining")
    )


def greedy(lots, points):
    taken = []
    for lot_id, remaining in lots:
        if points == 0:
            break
        take = min(remaining, points)
        taken.append((lot_id, take))
        points -= take
    return taken


def taken_by(entry):
    return list(entry.lot_movements.order_by("id").values_list("lot_id", "points"))


def check_books(account_id):
    account = LoyaltyAccount.objects.get(pk=account_id)
    entries = list(
        PointsEntry.objects.filter(account_id=account_id)
        .order_by("id")
        .values_list("points", "owed_change", "balance_after")
    )
    running = 0
    for points, _, balance_after in entries:
        running += points
        assert balance_after == running >= 0
    lots = PointsLot.objects.filter(account_id=account_id)
    assert (
        account.points
        == sum(p for p, _, _ in entries)
        == sum(lots.values_list("remaining", flat=True))
    )
    assert account.points >= 0
    assert account.points_owed == sum(o for _, o, _ in entries) >= 0
    assert all(0 <= lot.remaining <= lot.points for lot in lots)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_random_sequences_keep_the_books_straight(programme, ops):
    customer = CustomerFactory(email=f"prop{next(counter)}@example.com", password=None)
    account_id = customer.account.pk
    earnings, redemptions = [], []
    now = timezone.now()
    for step, op in enumerate(ops):
        kind = op[0]
        if kind == "earn":
            _, amount, days_ago = op
            reference = f"{account_id}-E{step}"
            services.earn_points(
                customer_id=customer.pk,
                reference=reference,
                lines=[(None, Decimal(amount))],
                occurred_at=now - dt.timedelta(days=days_ago),
            )
            earnings.append(reference)
        elif kind == "redeem":
            points = op[1] * 100
            reference = f"{account_id}-R{step}"
            before = open_lots_soonest_first(account_id, timezone.now())
            try:
                services.redeem_points(customer_id=customer.pk, points=points, reference=reference)
            except InsufficientPoints:
                assert sum(r for _, r in before) < points
            else:
                redemptions.append(reference)
                entry = PointsEntry.objects.get(account_id=account_id, reference=reference)
                assert taken_by(entry) == greedy(before, points)
        elif kind == "refund" and redemptions:
            _, index, hundreds = op
            reference = redemptions[index % len(redemptions)]
            with contextlib.suppress(InvalidState):
                services.refund_redemption(
                    reference=reference,
                    refund_reference=f"{account_id}-F{step}",
                    points=hundreds * 100 if hundreds else None,
                )
        elif kind == "reverse" and earnings:
            _, index, percent = op
            with contextlib.suppress(ValidationFailed):  # more than is left of that earning
                services.reverse_earning(
                    reference=earnings[index % len(earnings)],
                    reversal_reference=f"{account_id}-V{step}",
                    share=Decimal(percent) / 100,
                )
        elif kind == "adjust":
            points = op[1]
            before = open_lots_soonest_first(account_id, timezone.now())
            try:
                entry = services.adjust_points(
                    card_number=customer.account.card_number,
                    points=points,
                    reason="property test",
                    actor="hypothesis",
                )
            except InsufficientPoints:
                assert sum(r for _, r in before) < -points
            else:
                if points < 0:
                    assert taken_by(entry) == greedy(before, -points)
        elif kind == "expire":
            services.expire_points(now=now + dt.timedelta(days=op[1]))
        check_books(account_id)
    # Whatever happened, expiring everything leaves nothing and breaks nothing.
    services.expire_points(now=now + dt.timedelta(days=2000))
    check_books(account_id)
    assert LoyaltyAccount.objects.get(pk=account_id).points == 0
