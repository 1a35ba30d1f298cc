"""Concurrent redemptions against one balance, on PostgreSQL with real threads: the
conditional UPDATE lets exactly as many through as the balance covers, never more."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from loyalty import services
from loyalty.errors import InsufficientPoints
from loyalty.models import LotMovement, LoyaltyAccount, PointsEntry, PointsLot, Redemption

pytestmark = [pytest.mark.postgres]

THREADS = 20


def run_at_once(target, count):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def work(index):
        try:
            barrier.wait(timeout=10)
            results.append(target(index))
        except Exception as exc:  # collected and judged in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.fixture
def funded_customer(transactional_db):
    customer = services.create_customer(email="race@example.com")
    # Ten lots of 100: the redemptions take them one by one.
    for _index in range(10):
        services.adjust_points(
            card_number=customer.account.card_number,
            points=100,
            reason="race test",
            actor="test",
        )
    return customer


def test_twenty_redemptions_of_100_against_1000_let_exactly_ten_through(funded_customer):
    def redeem(index):
        return services.redeem_points(
            customer_id=funded_customer.pk, points=100, reference=f"RACE-{index}"
        )

    results, errors = run_at_once(redeem, THREADS)
    assert len(results) == 10
    assert len(errors) == 10
    assert all(isinstance(error, InsufficientPoints) for error in errors), errors
    account = LoyaltyAccount.objects.get(customer=funded_customer)
    assert account.points == 0
    assert sum(PointsEntry.objects.filter(account=account).values_list("points", flat=True)) == 0
    assert sum(PointsLot.objects.filter(account=account).values_list("remaining", flat=True)) == 0
    assert Redemption.objects.count() == 10  # the refused ones rolled back their claim
    assert sorted(r.amount for r in results) == [Decimal("1.00")] * 10
    # Every entry saw a distinct balance: the debits were serialised by the row.
    balances = sorted(
        PointsEntry.objects.filter(account=account, kind="redeem").values_list(
            "balance_after", flat=True
        )
    )
    assert balances == list(range(0, 1000, 100))
    assert LotMovement.objects.filter(entry__kind="redeem").count() == 10


def test_the_same_reference_redeemed_at_once_spends_once(funded_customer):
    def redeem(_):
        return services.redeem_points(
            customer_id=funded_customer.pk, points=300, reference="ONE-CHECKOUT"
        )

    results, errors = run_at_once(redeem, 8)
    assert errors == []
    assert len(results) == 8
    assert sum(1 for r in results if not r.replayed) == 1
    account = LoyaltyAccount.objects.get(customer=funded_customer)
    assert account.points == 700
    assert PointsEntry.objects.filter(kind="redeem").count() == 1


def test_earning_and_redeeming_at_once_keep_the_books(funded_customer):
    def work(index):
        if index % 2:
            return services.earn_points(
                customer_id=funded_customer.pk,
                reference=f"EARN-{index}",
                lines=[(None, Decimal("100.00"))],
            )
        return services.redeem_points(
            customer_id=funded_customer.pk, points=200, reference=f"SPEND-{index}"
        )

    _results, errors = run_at_once(work, 12)
    assert all(isinstance(error, InsufficientPoints) for error in errors), errors
    account = LoyaltyAccount.objects.get(customer=funded_customer)
    ledger = sum(PointsEntry.objects.filter(account=account).values_list("points", flat=True))
    lots = sum(PointsLot.objects.filter(account=account).values_list("remaining", flat=True))
    assert account.points == ledger == lots >= 0
    assert account.points == 1000 + 6 * 100 - 200 * (6 - len(errors))
