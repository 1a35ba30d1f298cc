"""expire_points: one ledger entry per lot past its date; safe to run twice; the Celery
task and the management command do the same."""

import datetime as dt
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from loyalty import selectors, services, tasks
from loyalty.models import PointsEntry, PointsLot
from tests.loyalty.conftest import balance_and_ledger

D = Decimal
EARNED = (timezone.now() - dt.timedelta(days=100)).replace(hour=14, minute=30)
EXPIRY = dt.datetime.combine(EARNED.date() + dt.timedelta(days=365), dt.time.min, tzinfo=dt.UTC)


def earn(customer, amount, reference, at=EARNED):
    services.earn_points(
        customer_id=customer.pk, reference=reference, lines=[(None, D(amount))], occurred_at=at
    )


def test_lots_expire_at_midnight_utc_a_year_later_one_entry_each(customer, other_customer):
    earn(customer, "100", "A")
    earn(customer, "50", "B", at=EARNED + dt.timedelta(days=3))
    earn(other_customer, "70", "C")
    services.redeem_points(customer_id=customer.pk, points=100, reference="PAY")  # takes A's 100
    expiry = EXPIRY
    assert PointsLot.objects.filter(entry__reference="A").get().expires_at == expiry
    assert services.expire_points(now=expiry - dt.timedelta(seconds=1)) == 0
    assert services.expire_points(now=expiry) == 1  # A is spent; C expires; B not yet
    entries = list(PointsEntry.objects.filter(kind="expire").values_list("points", "reference"))
    lot_c = PointsLot.objects.get(entry__reference="C")
    assert entries == [(-70, f"lot:{lot_c.pk}")]
    assert lot_c.expiry_entry.expired_lot_id == lot_c.pk
    assert services.expire_points(now=expiry + dt.timedelta(days=3)) == 1  # B
    assert balance_and_ledger(customer.account) == (0, 0, 0)
    assert balance_and_ledger(other_customer.account) == (0, 0, 0)


def test_running_twice_expires_nothing_more(customer):
    earn(customer, "100", "A")
    later = EARNED + dt.timedelta(days=400)
    assert services.expire_points(now=later) == 1
    assert services.expire_points(now=later) == 0
    assert PointsEntry.objects.filter(kind="expire").count() == 1


def test_only_what_is_left_of_a_lot_expires(customer):
    earn(customer, "300", "A")
    services.redeem_points(customer_id=customer.pk, points=200, reference="PAY")
    services.expire_points(now=EARNED + dt.timedelta(days=400))
    assert PointsEntry.objects.get(kind="expire").points == -100
    lot = PointsLot.objects.get()
    assert (lot.remaining, lot.expired_at is not None) == (0, True)


def test_points_that_never_expire(customer, programme):
    programme.points_valid_days = 0
    programme.save()
    earn(customer, "100", "A")
    assert PointsLot.objects.get().expires_at is None
    assert services.expire_points(now=EARNED + dt.timedelta(days=5000)) == 0
    assert selectors.points_expiring(customer.account.pk) == []


def test_the_command_and_the_task(customer):
    earn(customer, "100", "A")
    out = StringIO()
    call_command("expire_points", "--now", EXPIRY.isoformat(), stdout=out)
    assert out.getvalue().splitlines() == [
        "Expired 1 lot(s) of points.",
        "Recomputed tiers: 0 changed.",
    ]
    earn(customer, "10", "B", at=timezone.now() - dt.timedelta(days=366))  # already past its date
    assert tasks.expire_points.delay().get() == 1
    assert balance_and_ledger(customer.account) == (0, 0, 0)


def test_beat_runs_the_jobs_nightly():
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"loyalty.tasks.expire_points", "loyalty.tasks.recompute_tiers"} <= schedule
