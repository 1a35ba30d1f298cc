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
    "loyalty-expire-points": {
        "task": "loyalty.tasks.expire_points",
        "schedule": crontab(hour=0, minute=20),  # lots expire at midnight UTC
    },
    "loyalty-recompute-tiers": {
        "task": "loyalty.tasks.recompute_tiers",
        "schedule": crontab(hour=0, minute=50),
    },
}
