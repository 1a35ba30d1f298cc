"""A test-only task, loaded into a real worker with ``celery worker -I
tests.faults.worker_tasks``: the real, idempotent send of a notification
(:func:`orders.services.notifications.send_notification`, what ``orders.tasks.send_notification``
runs), with a journal of each run and, on the first run only, a pause after the send in
which the test kills the worker. The task's options are the project's (acks late, reject
on worker loss), from config/celery.py.
"""

import os
import time
from pathlib import Path

from celery import shared_task

from orders.services import notifications


def _write(journal: Path, line: str) -> None:
    with journal.open("a") as out:
        out.write(f"{line}\n")


@shared_task(name="tests.faults.send_notification_then_linger")
def send_notification_then_linger(notification_id: int, journal: str, linger: float) -> bool:
    path = Path(journal)
    first_run = not path.exists()
    _write(path, f"start {os.getpid()}")
    sent = notifications.send_notification(notification_id=notification_id)
    _write(path, f"sent {sent}")
    if first_run:
        time.sleep(linger)  # the effect is committed, the message not yet acknowledged
    _write(path, "done")
    return sent
