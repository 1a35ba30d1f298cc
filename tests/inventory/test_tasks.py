"""Periodic jobs: the Celery tasks, their beat schedule and the management commands."""

from datetime import timedelta
from io import StringIO

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from inventory import services, tasks
from inventory.models import LowStockReport, Reservation, StockLevel
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(store, warehouse):
    """TEE-M: 10 at STORE-001 (reorder point 8), 50 at WH-01 (reorder point 5)."""
    SKUFactory(sku="TEE-M")
    services.receive_stock(sku="TEE-M", location="STORE-001", quantity=10)
    services.receive_stock(sku="TEE-M", location="WH-01", quantity=50)
    services.set_stock_parameters(sku="TEE-M", location="STORE-001", reorder_point=8)
    services.set_stock_parameters(sku="TEE-M", location="WH-01", reorder_point=5)


def hold(quantity: int, *, expires_in: timedelta | None) -> Reservation:
    return services.reserve(
        channel="web",
        lines=[services.HoldLine("TEE-M", "STORE-001", quantity)],
        expires_at=timezone.now() + expires_in if expires_in is not None else None,
    )


def reserved_at_store() -> int:
    return StockLevel.objects.get(sku__sku="TEE-M", location__code="STORE-001").reserved


def statuses(*reservations: Reservation) -> list[str]:
    return [Reservation.objects.get(pk=r.pk).status for r in reservations]


# --- Beat ----------------------------------------------------------------------------------------


def test_beat_runs_both_jobs():
    schedule = app.conf.beat_schedule
    assert schedule["release-expired-reservations"]["task"] == (
        "inventory.tasks.release_expired_reservations"
    )
    assert schedule["release-expired-reservations"]["schedule"] == crontab()
    assert schedule["record-low-stock-report"]["task"] == "inventory.tasks.record_low_stock_report"
    assert schedule["record-low-stock-report"]["schedule"] == crontab(hour=4, minute=30)
    assert tasks.release_expired_reservations.name in app.tasks
    assert tasks.record_low_stock_report.name in app.tasks


# --- Expired reservations -------------------------------------------------------------------------


def test_task_releases_expired_holds_only(stock):
    expired = hold(3, expires_in=timedelta(minutes=-1))
    current = hold(2, expires_in=timedelta(minutes=10))
    open_ended = hold(1, expires_in=None)
    assert reserved_at_store() == 6

    assert tasks.release_expired_reservations.delay().get() == 1

    assert statuses(expired, current, open_ended) == ["expired", "active", "active"]
    assert reserved_at_store() == 3


def test_task_is_idempotent(stock):
    hold(3, expires_in=timedelta(seconds=-1))
    assert tasks.release_expired_reservations() == 1
    assert tasks.release_expired_reservations() == 0
    assert reserved_at_store() == 0


def test_command_releases_expired_holds(stock):
    expired = [hold(1, expires_in=timedelta(minutes=-5)) for _ in range(2)]
    out = StringIO()
    call_command("release_expired_reservations", stdout=out)
    assert out.getvalue() == "Released 2 expired reservation(s).\n"
    assert statuses(*expired) == ["expired", "expired"]
    assert reserved_at_store() == 0

    out = StringIO()
    call_command("release_expired_reservations", stdout=out)
    assert out.getvalue() == "Released 0 expired reservation(s).\n"


# --- Low-stock report -----------------------------------------------------------------------------


EXPECTED_LINES = [
    {
        "sku": "TEE-M",
        "location": "STORE-001",
        "on_hand": 10,
        "reserved": 3,
        "available": 7,
        "reorder_point": 8,
    }
]


def test_task_records_the_low_stock_report(stock):
    hold(3, expires_in=None)  # 7 left to sell at the store: below its reorder point of 8
    report_id = tasks.record_low_stock_report.delay().get()
    report = LowStockReport.objects.get()
    assert report.pk == report_id
    assert report.lines == EXPECTED_LINES


def test_task_records_one_report_a_day(stock):
    first = tasks.record_low_stock_report()
    assert tasks.record_low_stock_report() is None  # a redelivered message, a second beat
    assert list(LowStockReport.objects.values_list("pk", flat=True)) == [first]


def test_low_stock_report_is_empty_when_nothing_is_low(stock):
    tasks.record_low_stock_report()
    assert LowStockReport.objects.get().lines == []


def test_command_records_a_report_every_time(stock):
    hold(3, expires_in=None)
    out = StringIO()
    call_command("record_low_stock_report", stdout=out)
    report = LowStockReport.objects.get()
    assert out.getvalue() == (
        f"Low-stock report {report.pk}: 1 level(s) at or below their reorder point.\n"
    )
    assert report.lines == EXPECTED_LINES

    out = StringIO()
    call_command("record_low_stock_report", verbosity=2, stdout=out)
    second = LowStockReport.objects.order_by("-pk").first()
    assert second.pk != report.pk
    assert out.getvalue() == (
        f"Low-stock report {second.pk}: 1 level(s) at or below their reorder point.\n"
        "  STORE-001 TEE-M: available 7 (on hand 10, reserved 3), reorder point 8\n"
    )
