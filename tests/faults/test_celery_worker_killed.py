"""A Celery worker killed in the middle of a task gets the task again, and running it again
does no harm: acks late (the message is acknowledged only when the task has finished),
reject on worker loss, and idempotent tasks (config/settings.py, DESIGN.md).

A real ``celery worker`` (prefork, one process) on the configured Redis broker, a queue of
its own, the test database, email to files. The task sends an order's recorded ``placed``
notification through the real service, then lingers on its first run; the test kills the
worker while it lingers, after the email has gone and the row says so, before the message
is acknowledged. Killed pool process: the worker puts the message back at once and its next
pool process runs it. Killed worker (both processes): the message stays unacknowledged in
Redis; a new worker delivers it again once the visibility timeout has passed. Either way the
task runs again to completion in another process, and the customer gets one email.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from config.celery import app
from orders.models import Notification, NotificationKind, NotificationStatus
from orders.services import notifications
from tests.faults.server import ROOT, alive, children, url_of_test_database
from tests.orders.conftest import network, programme, ship_body, stock  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.broker]

TASK = "tests.faults.send_notification_then_linger"
LINGER = 30  # seconds: far longer than the test waits; the worker is killed in it
VISIBILITY_TIMEOUT = 3  # seconds, for the new worker of the second test (production: 3600)


class Worker:
    def __init__(self, *, queue: str, mail_dir: Path, log: Path):
        env = {
            **os.environ,
            "DATABASE_URL": url_of_test_database(),
            "CELERY_BROKER_URL": app.conf.broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "EMAIL_URL": f"filemail:///{mail_dir}",
            "LOG_LEVEL": "WARNING",
        }
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "1",
                    "--queues",
                    queue,
                    "--include",
                    "tests.faults.worker_tasks",
                    "--hostname",
                    f"faults-{uuid.uuid4().hex[:8]}@%h",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def pool(self) -> list[int]:
        return [pid for pid in children(self.process.pid) if alive(pid)]

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: nothing is acknowledged or cleaned up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: lets a running task finish
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        self.kill()


@pytest.fixture
def pending_notification(transactional_db, network, storefront, monkeypatch):  # noqa: F811
    """An order whose ``placed`` email is recorded but not yet sent (no message queued)."""
    stock("TEE", "WH-NEAR", 5)
    monkeypatch.setattr(notifications, "_enqueue", lambda pk: None)
    response = storefront.post("/api/v1/orders/", ship_body(("TEE", 1)), format="json")
    assert response.status_code == 201, response.json()
    notification = Notification.objects.get(kind=NotificationKind.PLACED)
    assert notification.status == NotificationStatus.PENDING
    return notification


@pytest.fixture
def rig(tmp_path):
    """A queue of its own (deleted afterwards), a mail folder, a journal, the workers."""
    queue = f"faults-{uuid.uuid4().hex}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    workers: list[Worker] = []

    class Rig:
        journal = tmp_path / "journal"
        log = tmp_path / "worker.log"

        def worker(self) -> Worker:
            workers.append(Worker(queue=queue, mail_dir=mail_dir, log=self.log))
            return workers[-1]

        def send(self, notification_id: int) -> None:
            app.send_task(TASK, args=[notification_id, str(self.journal), LINGER], queue=queue)

        def entries(self) -> list[str]:
            return self.journal.read_text().splitlines() if self.journal.exists() else []

        def wait_for(self, entry: str, count: int = 1, timeout: float = 60) -> None:
            deadline = time.monotonic() + timeout
            while self.entries().count(entry) < count:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"no {entry!r} in {self.entries()}; worker log:\n"
                        f"{self.log.read_text()[-3000:] if self.log.exists() else ''}"
                    )
                time.sleep(0.05)

        def emails(self) -> list[Path]:
            return [path for path in mail_dir.iterdir() if path.stat().st_size]

    yield Rig()
    for worker in workers:
        worker.stop()
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.queue_delete(queue)
        # The worker bound the queue to an exchange of the same name; this process never
        # declared it, so queue_delete leaves the binding sets: remove them by name.
        channel.client.delete(
            *(
                getattr(channel, prefix) % queue
                for prefix in ("keyprefix_queue", "keyprefix_binding_permanent")
                if hasattr(channel, prefix)
            )
        )


def runs(entries: list[str]) -> list[str]:
    return [line.split()[1] for line in entries if line.startswith("start ")]


def assert_sent_once(rig, notification: Notification) -> None:
    assert rig.entries()[-2:] == ["sent False", "done"]  # the second run found it sent
    assert len(rig.emails()) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
    assert notification.to in rig.emails()[0].read_text()


def test_a_killed_pool_process_puts_the_task_back_and_it_runs_again_once_in_effect(
    pending_notification, rig
):
    worker = rig.worker()
    rig.send(pending_notification.pk)
    rig.wait_for("sent True")
    (pool_process,) = worker.pool()
    os.kill(pool_process, signal.SIGKILL)
    rig.wait_for("done")
    first, second = runs(rig.entries())
    assert first == str(pool_process)
    assert second != first  # a new pool process of the same worker
    assert worker.process.poll() is None
    assert_sent_once(rig, pending_notification)


def test_a_killed_worker_leaves_the_task_to_the_next_worker_which_runs_it_once_in_effect(
    pending_notification, rig
):
    first_worker = rig.worker()
    rig.send(pending_notification.pk)
    rig.wait_for("sent True")
    first_worker.kill()
    killed_at = time.monotonic()
    assert rig.entries()[-1] == "sent True"  # killed before the task finished
    # The message is unacknowledged in Redis: visible again after the visibility timeout,
    # which a worker checks when it starts (and then every few minutes).
    time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second_worker = rig.worker()
    rig.wait_for("done")
    first, second = runs(rig.entries())
    assert second in map(str, second_worker.pool())
    assert second != first
    assert_sent_once(rig, pending_notification)
