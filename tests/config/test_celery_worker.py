"""A real Celery worker against the configured broker runs the periodic purge.

Skipped without ``CELERY_BROKER_URL`` (tests/conftest.py): then tasks run eagerly and there
is no worker to start. The project stores no task results (no task's caller waits for one),
so ``CELERY_RESULT_BACKEND`` is empty by default (set it in the environment to keep results).
This test gives the task a Redis result backend on the broker's Redis for its own duration,
so that ``.get()`` can wait for the worker's answer.
"""

import uuid
from datetime import timedelta

import pytest
from celery.backends.redis import RedisBackend
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from config.api.models import IdempotencyRecord
from config.api.tasks import purge_idempotency_keys
from config.celery import app

pytestmark = pytest.mark.broker


@pytest.fixture
def result_backend():
    url = app.conf.broker_url
    assert url.startswith("redis://"), "this test keeps results in the broker's Redis"
    # Task.backend is public and per task; the app's own backend is built once per process
    # (a disabled one here), so setting app.conf.result_backend now would come too late.
    backend = RedisBackend(app=app, url=url)
    purge_idempotency_keys.backend = backend
    yield backend
    purge_idempotency_keys.backend = None  # back to the app's backend


def test_a_real_worker_purges_expired_idempotency_keys(transactional_db, result_backend):
    now = timezone.now()
    old = now - settings.IDEMPOTENCY_KEY_TTL - timedelta(hours=1)
    for key, created_at in (("old", old), ("new", now)):
        IdempotencyRecord.objects.create(
            scope="token:test",
            key=key,
            fingerprint="f" * 64,
            created_at=created_at,
            locked_at=created_at,
        )
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    # A queue of its own: the shared default queue may hold messages that other tests sent
    # with .delay() and no worker took; this worker must neither run nor wait behind them.
    queue = f"test-worker-{uuid.uuid4().hex}"
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=20, queues=[queue]):
            result = purge_idempotency_keys.apply_async(queue=queue)
            assert result.backend is result_backend
            assert result.get(timeout=20) == 1
            result.forget()
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
