"""The Celery app. Tasks live in each app's ``tasks.py``; beat schedules live here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "purge-idempotency-keys": {
        "task": "config.api.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    "release-expired-reservations": {
        "task": "inventory.tasks.release_expired_reservations",
        "schedule": crontab(),  # every minute: an expired hold keeps stock from being sold
        # A backlog of these is pointless; the next run catches up with everything.
        "options": {"expires": 55},
    },
    "record-low-stock-report": {
        "task": "inventory.tasks.record_low_stock_report",
        # Early morning UTC, before European stores open; once a day (idempotent per day).
        "schedule": crontab(hour=4, minute=30),
    },
    "orders-cancel-uncollected-pickups": {
        "task": "orders.tasks_fulfilment.cancel_uncollected_pickups",
        # Daily, at night in Europe; each pickup is checked against its own deadline.
        "schedule": crontab(hour=2, minute=40),
    },
    "orders-purge-stale-carts": {
        "task": "orders.tasks.purge_stale_carts",
        "schedule": crontab(hour=3, minute=10),  # daily; CARTS_STALE_DAYS decides which go
    },
    "orders-resend-failed-notifications": {
        "task": "orders.tasks.resend_failed_notifications",
        "schedule": crontab(minute="*/10"),  # mail that failed or never left the building
    },
    "loyalty-expire-points": {
        "task": "loyalty.tasks.expire_points",
        "schedule": crontab(hour=0, minute=20),  # lots expire at midnight UTC
    },
    "loyalty-recompute-tiers": {
        "task": "loyalty.tasks.recompute_tiers",
        "schedule": crontab(hour=0, minute=50),
    },
}
