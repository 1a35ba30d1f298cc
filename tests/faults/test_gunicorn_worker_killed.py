"""A gunicorn worker killed (SIGKILL) in the middle of a checkout's transaction leaves no
half-written order and no stuck stock.

Gunicorn runs with production settings (two sync workers) against the test database. Client
threads stream checkouts (ship and pickup, one and two lines; some run out of stock and get
409) and carts' holds with a TTL. The test watches PostgreSQL for a worker's backend that has
written rows in an open transaction, finds the worker process owning that connection,
freezes it, and kills it with SIGKILL if the transaction is still open and waiting for it. Then: that transaction was rolled back, its client got no answer,
every other request got a proper one, the server went on serving, every order in the
database was answered 201 and is complete, no hold belongs to a missing order, and stock
equals its ledger. Finally the expiry job, with the clock past the carts' TTL, releases the
carts' holds, after which the only stock reserved is the orders'.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config.api.roles import Role
from config.api.services import create_api_client
from inventory import services as inventory_services
from inventory.models import Reservation
from orders.models import Order
from tests.faults import books
from tests.faults.server import Server, url_of_test_database
from tests.orders.conftest import network, pickup_body, programme, ship_body, stock  # noqa: F401

pytestmark = [pytest.mark.postgres]

HOLD_TTL = 120  # seconds: the carts' holds in the stream
BODIES = [
    ("order", ship_body(("TEE", 1))),
    ("order", ship_body(("TEE", 1), ("MUG", 2))),
    ("order", pickup_body("STORE-AMS", ("CAP", 1))),
    (
        "hold",
        {
            "channel": "web",
            "lines": [{"sku": "MUG", "quantity": 1, "location": "WH-NEAR"}],
            "ttl_seconds": HOLD_TTL,
        },
    ),
]
PATHS = {"order": "/api/v1/orders/", "hold": "/api/v1/reservations/"}


def socket_inodes_on_local_port(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def owner_of_local_port(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the TCP socket bound locally to ``port``."""
    wanted = {f"socket:[{inode}]" for inode in socket_inodes_on_local_port(port)}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    return pid
            except OSError:
                continue
    return None


# Statements only the checkout's transaction runs.
CHECKOUT_WRITES = r'^INSERT INTO "orders_(order|orderline|fulfilment|fulfilmentline|payment)" '


def checkout_writing_in_transaction() -> tuple[int, int, int] | None:
    """(backend pid, client port, xid) of a server backend in the middle of a checkout: an
    open transaction that has written rows (it has an xid) and whose last statement wrote
    the order itself (a carts' hold never does). Only the checkout's own transaction does
    that: the notification sent after its commit also writes to an orders table, and a
    kill there would leave a committed order whose client got no answer."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, client_port, backend_xid::text FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_xid IS NOT NULL AND client_port IS NOT NULL "
            "AND query ~ %s LIMIT 1",
            [CHECKOUT_WRITES],
        )
        row = cursor.fetchone()
    return (row[0], row[1], int(row[2])) if row else None


def waiting_for_its_client(backend: int, xid: int, timeout: float = 2.0) -> bool:
    """Whether the backend's transaction ``xid`` is still open and idle, waiting for the
    client's next statement (the client being frozen, it can then never commit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state, backend_xid::text FROM pg_stat_activity WHERE pid = %s", [backend]
            )
            row = cursor.fetchone()
        if row is None or row[1] != str(xid):
            return False  # committed or rolled back meanwhile
        if row[0] == "idle in transaction":
            return True
        time.sleep(0.002)  # a statement is running: it ends, then the backend waits
    return False


def kill_a_worker_mid_checkout(server: Server, deadline: float) -> tuple[int, int] | None:
    """SIGKILL a gunicorn worker whose checkout transaction has written rows and not
    committed: (worker pid, xid). The worker is frozen (SIGSTOP) first, and killed only if
    its transaction is then open and waiting for it, so that the kill cannot come after a
    COMMIT that was already on its way."""
    while time.monotonic() < deadline:
        found = checkout_writing_in_transaction()
        if found is None:
            time.sleep(0.001)
            continue
        backend, port, xid = found
        pid = owner_of_local_port(port, server.worker_pids())
        if pid is None:
            continue
        os.kill(pid, signal.SIGSTOP)
        if waiting_for_its_client(backend, xid):
            os.kill(pid, signal.SIGKILL)
            return pid, xid
        os.kill(pid, signal.SIGCONT)
    return None


def transaction_status(xid: int) -> str:
    with connection.cursor() as cursor:
        # xid8 = epoch << 32 | xid; the epoch is the current one (no wraparound in a test).
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        epoch = int(cursor.fetchone()[0]) >> 32
        cursor.execute("SELECT pg_xact_status(%s::text::xid8)", [str(epoch << 32 | xid)])
        return cursor.fetchone()[0]


class Stream:
    """Client threads sending checkouts and holds back to back until stopped."""

    def __init__(self, server: Server, key: str, threads: int = 4):
        self.server = server
        self.headers = {"Authorization": f"Token {key}"}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[tuple[float, str, int, dict]] = []  # (when, kind, status, body)
        self.failures: list[tuple[float, str, str]] = []  # (when, kind, error)
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, n: int) -> None:
        rng = random.Random(n)
        while not self.stop.is_set():
            kind, body = rng.choice(BODIES)
            try:
                status, _, content = self.server.request(
                    "POST", PATHS[kind], body, self.headers, timeout=30
                )
            except (OSError, http.client.HTTPException) as exc:
                with self.lock:
                    self.failures.append((time.monotonic(), kind, type(exc).__name__))
                continue
            with self.lock:
                self.answers.append((time.monotonic(), kind, status, json.loads(content)))

    def created(self, kind: str, after: float = 0.0) -> list[dict]:
        with self.lock:
            return [b for t, k, s, b in self.answers if k == kind and s == 201 and t > after]


@pytest.fixture
def shop(transactional_db, network):  # noqa: F811
    stock("TEE", "WH-NEAR", 6)  # runs out during the stream: later checkouts of it get 409
    stock("MUG", "WH-NEAR", 200)
    stock("CAP", "STORE-AMS", 200)
    return create_api_client(name="shop", role=Role.STOREFRONT)[1]


def test_a_worker_killed_mid_checkout_leaves_complete_orders_and_no_stuck_stock(shop, tmp_path):
    server = Server(database_url=url_of_test_database(), workers=2, log_dir=tmp_path)
    try:
        with Stream(server, shop) as stream:
            deadline = time.monotonic() + 20
            while len(stream.created("order")) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            victim = kill_a_worker_mid_checkout(server, deadline=time.monotonic() + 20)
            assert victim is not None, "no checkout transaction caught in the act"
            killed_at = time.monotonic()
            # Keep the stream going until the respawned worker has served too.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (
                len(server.worker_pids()) == 2
                and victim[0] not in server.worker_pids()
                and len(stream.created("order", after=killed_at + 1.0)) >= 2
            ):
                time.sleep(0.05)
            replacement = set(server.worker_pids())
        pid, xid = victim
        deadline = time.monotonic() + 15
        while transaction_status(xid) == "in progress" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert transaction_status(xid) == "aborted"
        assert pid not in replacement  # gunicorn replaced the worker
        assert len(replacement) == 2
    finally:
        server.stop()

    # The killed worker's one request got no answer; every other request got a proper one.
    assert len(stream.failures) == 1, stream.failures
    assert stream.failures[0][1] == "order"
    statuses = Counter((kind, status) for _, kind, status, _ in stream.answers)
    assert set(statuses) <= {("order", 201), ("order", 409), ("hold", 201), ("hold", 409)}, statuses
    assert statuses["order", 201] >= 5, statuses
    assert statuses["hold", 201] >= 1, statuses
    assert len(stream.created("order", after=killed_at)) >= 2  # served on after the kill

    # Every order in the database was answered 201, and each is whole.
    answered = {body["number"] for body in stream.created("order")}
    assert set(Order.objects.values_list("number", flat=True)) == answered
    assert books.incomplete_orders() == []
    assert books.orphan_order_holds() == []
    assert books.off_books() == []
    holds = {body["id"] for body in stream.created("hold")}
    carts = Reservation.objects.exclude(owner=books.ORDER_HOLDS)
    assert set(carts.filter(status="active").values_list("pk", flat=True)) == holds

    # Past the carts' TTL the expiry job frees their stock; only the orders' stays held.
    later = timezone.now() + timedelta(seconds=HOLD_TTL + 1)
    assert inventory_services.release_expired_reservations(now=later) == len(holds)
    assert not carts.filter(status="active").exists()
    assert books.reserved_beyond_orders() == []
    assert books.off_books() == []
    assert books.incomplete_orders() == []
