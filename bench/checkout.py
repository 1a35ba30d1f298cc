"""Checkouts per second through a real server: one hot SKU against 1,000 spread SKUs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench.checkout

The script drops and creates its own database (``retail_bench_checkout``), migrates it and
loads three shipping warehouses, 1,001 SKUs with a web price and a huge on hand at each, a
tax rate and a storefront token. It starts gunicorn the way production runs it (README,
"Production": 4 sync workers, production settings, persistent connections, tasks run
eagerly since there is no broker, email to the dummy backend) on a free local port. Then
1, 8 and 32 client threads, each with its own HTTP connection, send
``POST /api/v1/orders/`` (a guest ship order of one line, one unit) back to back: every order
on the hot SKU, then every order on a SKU drawn at random from 1,000. Beside each, the
ceiling of the same server at the same concurrency: ``GET /healthz`` (one ``SELECT 1``).
Errors are answers other than 201 (200 for /healthz) and failed connections. CPU columns
split each request's cost between gunicorn, PostgreSQL and the client threads.

Before the server starts, one checkout runs in process (Django's test client) to count its
queries and the time spent in them. After the run it checks that nothing was oversold and
that the books add up, and it stops the server (also on Ctrl-C or an error).

Options (environment): BENCH_SECONDS (per measurement, default 5), BENCH_WARMUP (default
0.5), BENCH_THREADS (default "1,8,32"), BENCH_WORKERS (gunicorn workers, default 4),
BENCH_DATABASE (default retail_bench_checkout; dropped and created afresh each run).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench._setup import (
    RESULTS,
    Deadline,
    environment,
    ms,
    percentile,
    print_table,
    psycopg_conninfo,
    save,
    setup_django,
)
from bench.server import children, free_port, request, start_gunicorn, stop_process

HOT = "CHK-HOT"
SPREAD = [f"CHK-{n:04d}" for n in range(1000)]
ON_HAND = 1_000_000_000
# Nearest first: the planner sends every order to CHK-WH-AMS (one stock row per SKU).
WAREHOUSES = [
    ("CHK-WH-AMS", "52.350000", "4.800000", "2.00"),
    ("CHK-WH-RTM", "51.924400", "4.477700", "2.50"),
    ("CHK-WH-EHV", "51.441600", "5.469700", "2.50"),
]
ADDRESS = {
    "line1": "Damrak 1",
    "city": "Amsterdam",
    "postal_code": "1012LG",
    "country": "NL",
    "latitude": 52.3702,
    "longitude": 4.8952,
}
ORDERS = "/api/v1/orders/"
HEALTHZ = "/healthz"


# --- The data ------------------------------------------------------------------------------


def fresh_database() -> None:
    """Drop the benchmark's own database so every run starts from the same state."""
    import psycopg
    from psycopg import sql

    os.environ.setdefault("BENCH_DATABASE", "retail_bench_checkout")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return  # setup_django says what to set
    name = os.environ["BENCH_DATABASE"]
    if name == urlsplit(url).path.lstrip("/"):
        sys.exit(f"BENCH_DATABASE {name} is the database in DATABASE_URL; choose another.")
    admin = urlunsplit(urlsplit(psycopg_conninfo(url))._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def load_data() -> str:
    """Warehouses, SKUs with stock and web prices, a tax rate, a storefront token (the key)."""
    from config.api.roles import Role
    from config.api.services import create_api_client
    from inventory.models import SKU, Category, Location, Product
    from inventory.services.stock_batch import StockLine, receive_stock_batch
    from pricing import services as pricing

    category = Category.objects.create(code="chk", name="Checkout bench", path="chk/")
    product = Product.objects.create(name="Checkout bench product", category=category)
    SKU.objects.bulk_create(
        SKU(product=product, sku=code, name=f"Item {code}") for code in [HOT, *SPREAD]
    )
    Location.objects.bulk_create(
        Location(
            code=code,
            name=f"Warehouse {code}",
            type=Location.Type.WAREHOUSE,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            ship_enabled=True,
            handling_cost=Decimal(cost),
        )
        for code, lat, lon, cost in WAREHOUSES
    )
    receive_stock_batch(
        lines=[
            StockLine(code, warehouse, ON_HAND)
            for code in [HOT, *SPREAD]
            for warehouse, *_ in WAREHOUSES
        ]
    )
    rng = random.Random(7)
    web = pricing.create_price_list(code="CHK-WEB", name="Web", channel="web")
    pricing.replace_prices(
        price_list=web,
        prices=[
            pricing.PriceEntry(code, Decimal(rng.randint(199, 9_999)) / 100)
            for code in [HOT, *SPREAD]
        ],
        actor="bench",
    )
    pricing.set_tax_rate(location=None, name="VAT", rate=Decimal("21"))
    _, key = create_api_client(name="checkout bench", role=Role.STOREFRONT)
    return key


def order_body(sku: str) -> bytes:
    return json.dumps(
        {
            "channel": "web",
            "email": "guest@example.com",
            "lines": [{"sku": sku, "quantity": 1}],
            "fulfilment": {"method": "ship", "address": ADDRESS},
            "payment": {"method": "card", "reference": "bench"},
        }
    ).encode()


def in_process_probe(key: str, runs: int = 20) -> dict:
    """Checkouts through Django's test client, no server: queries and SQL time per checkout,
    and how long the stock row stays locked (from its UPDATE to the end of the COMMIT)."""
    from django.db import connection, transaction
    from django.test import Client

    from inventory.models import StockLevel

    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    stock_update = f'UPDATE "{StockLevel._meta.db_table}"'
    sql_time = 0.0
    queries = 0
    held: list[float] = []

    def timed(execute, sql, params, many, context):
        nonlocal sql_time, queries
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time += time.perf_counter() - started
            queries += 1
            if sql.startswith(stock_update):  # runs first of the callbacks after COMMIT
                transaction.on_commit(lambda: held.append(time.perf_counter() - started))

    def checkout(sku: str) -> None:
        response = client.post(ORDERS, order_body(sku), content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"checkout answered {response.status_code}: {response.content!r}")

    for code in SPREAD[:3]:
        checkout(code)  # first-use caches
    # An execute wrapper rather than CaptureQueriesContext: a request clears the query log.
    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        for n in range(runs):
            checkout(SPREAD[n])
        wall = time.perf_counter() - started
    return {
        "checkouts": runs + 3,
        "queries": queries / runs,
        "ms": wall / runs * 1000,
        "sql_ms": sql_time / runs * 1000,
        "row_locked_ms": sorted(held)[len(held) // 2] * 1000 if held else float("nan"),
    }


# --- The server ----------------------------------------------------------------------------


def start_server(port: int, workers: int, log: Path) -> subprocess.Popen:
    """gunicorn in production mode without a broker: tasks run eagerly, in the request."""
    return start_gunicorn(port, workers, log, broker="")


def stop_server(server: subprocess.Popen) -> None:
    stop_process(server)


# --- CPU accounting ------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pids: list[int]) -> float:
    """User + system seconds of ``pids`` so far (0 for a process that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def machine_busy() -> float:
    """Busy seconds of all CPUs together so far (everything but idle and I/O wait)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan")
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def database_pids(name: str) -> list[int]:
    """The server's backends on our database and its background processes (WAL writer...)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE (datname = %s OR datname IS NULL) "
            "AND pid <> pg_backend_pid()",
            [name],
        )
        return [row[0] for row in cursor.fetchall()]


# --- The clients ---------------------------------------------------------------------------


class Clients:
    """Client threads against the server; counts every 201 (warm-up included)."""

    def __init__(self, port: int, key: str):
        self.port = port
        self.headers = {
            "Authorization": f"Token {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Forwarded-Proto": "https",
        }
        self.hot_body = order_body(HOT)
        self.spread_bodies = [order_body(code) for code in SPREAD]
        self.created = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def run(self, kind: str, threads: int, deadline: Deadline):
        """Latencies of successes and a Counter of errors, both within the recorded window."""
        barrier = threading.Barrier(threads)
        latencies: list[list[float]] = [[] for _ in range(threads)]
        errors: list[Counter] = [Counter() for _ in range(threads)]
        samples: list[str] = []
        pool = [
            threading.Thread(
                target=self._work,
                args=(kind, i, barrier, deadline, latencies[i], errors[i], samples),
                daemon=True,
            )
            for i in range(threads)
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return sorted(v for per in latencies for v in per), sum(errors, Counter()), samples

    def _work(self, kind, index, barrier, deadline, latencies, errors, samples):
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        expected = 200 if kind == "healthz" else 201
        created = 0
        barrier.wait()
        try:
            while not self.stop.is_set():
                if kind == "healthz":
                    path, body = HEALTHZ, None
                else:
                    path = ORDERS
                    body = self.hot_body if kind == "hot" else rng.choice(self.spread_bodies)
                started = time.perf_counter()
                if started >= deadline.end:
                    break
                try:
                    status, content = request(conn, path, body, self.headers)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # the next request opens a new connection
                    status, content = type(exc).__name__, b""
                elapsed = time.perf_counter() - started
                if status == 201:
                    created += 1
                if started < deadline.start:
                    continue
                if status == expected:
                    latencies.append(elapsed)
                else:
                    errors[status] += 1
                    if len(samples) < 3:
                        samples.append(f"{status}: {content[:300]!r}")
        finally:
            conn.close()
            with self._lock:
                self.created += created


def measure(clients: Clients, kind: str, threads: int, seconds: float, warmup: float, pids):
    """One measurement, with the CPU used meanwhile by gunicorn, PostgreSQL and the clients."""
    deadline = Deadline(seconds, warmup)
    cpu: dict[str, list[float]] = {}

    def sample() -> None:
        for name, getter in (
            ("app", lambda: process_cpu(pids["app"])),
            ("db", lambda: process_cpu(pids["db"])),
            ("client", time.process_time),
            ("machine", machine_busy),
        ):
            cpu.setdefault(name, []).append(getter())

    def sampler() -> None:
        time.sleep(max(0.0, deadline.start - time.perf_counter()))
        sample()
        time.sleep(max(0.0, deadline.end - time.perf_counter()))
        sample()

    timer = threading.Thread(target=sampler, daemon=True)
    timer.start()
    latencies, errors, samples = clients.run(kind, threads, deadline)
    timer.join()
    done = len(latencies) or 1
    used = {name: b - a for name, (a, b) in cpu.items()}
    return {
        "request": "GET /healthz" if kind == "healthz" else "POST /api/v1/orders/",
        "skus": {"healthz": "-", "hot": "1 hot SKU", "spread": "1,000 spread SKUs"}[kind],
        "clients": threads,
        "ok": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": sum(errors.values()),
        "error_kinds": {str(k): v for k, v in errors.items()},
        "error_samples": samples,
        **{f"{name}_cpu_ms": used[name] / done * 1000 for name in ("app", "db", "client")},
        "cores_ours": (used["app"] + used["db"] + used["client"]) / seconds,
        "cores_machine": used["machine"] / seconds,
    }


# --- The books -----------------------------------------------------------------------------


def check_books(created: int) -> list[tuple[str, bool, str]]:
    """Nothing oversold, the stock books balance (``inventory``'s own check: on hand == its
    ledger, reserved == its active holds), reserved == the units of the orders, one order per
    201 answered."""
    from django.db.models import Sum

    from inventory.models import StockLevel
    from inventory.selectors import stock_discrepancies
    from orders.models import FulfilmentLine, Order

    levels = list(
        StockLevel.objects.values_list(
            "pk", "location_id", "sku__sku", "on_hand", "reserved", "safety_stock"
        )
    )
    ordered = {
        (location, sku): total
        for location, sku, total in FulfilmentLine.objects.values(
            "fulfilment__location_id", "order_line__sku"
        )
        .annotate(total=Sum("quantity"))
        .values_list("fulfilment__location_id", "order_line__sku", "total")
    }
    oversold = [pk for pk, _, _, on_hand, reserved, safety in levels if reserved + safety > on_hand]
    off_books = stock_discrepancies()
    off_orders = [
        pk for pk, loc, sku, _, reserved, _ in levels if reserved != ordered.get((loc, sku), 0)
    ]
    orders = Order.objects.count()
    reserved = sum(level[4] for level in levels)
    hot = max(level[4] for level in levels if level[2] == HOT)
    return [
        ("no level oversold (reserved + safety <= on hand)", not oversold, f"{len(oversold)} bad"),
        (
            "stock books balance (ledger, active holds)",
            not off_books,
            f"{len(off_books)} discrepancies" + "".join(f"; {p}" for p in off_books[:3]),
        ),
        ("reserved == units of the orders, per level", not off_orders, f"{len(off_orders)} bad"),
        (
            "one order per 201 answered",
            orders == created,
            f"{orders:,} orders, {created:,} answers 201, {reserved:,} units reserved "
            f"({hot:,} on the hot SKU), {len(levels):,} levels",
        ),
    ]


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on kill too
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    warmup = float(os.environ.get("BENCH_WARMUP", "0.5"))
    thread_counts = [int(n) for n in os.environ.get("BENCH_THREADS", "1,8,32").split(",")]
    workers = int(os.environ.get("BENCH_WORKERS", "4"))
    # This process: no broker (tasks eager), no email printed, no log line per order.
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    fresh_database()
    url = setup_django()
    database = url.rsplit("/", 1)[-1]
    started = time.perf_counter()
    key = load_data()
    print(
        f"Database {database}: {len(WAREHOUSES)} shipping warehouses, 1 hot SKU and "
        f"{len(SPREAD):,} spread SKUs with a web price, loaded in "
        f"{time.perf_counter() - started:.1f} s."
    )
    probe = in_process_probe(key)
    print(
        f"In process (test client, no server): {probe['ms']:.1f} ms per checkout, "
        f"{probe['queries']:.0f} queries taking {probe['sql_ms']:.1f} ms; the stock row "
        f"stays locked {probe['row_locked_ms']:.1f} ms (median, UPDATE to end of COMMIT)."
    )

    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / "checkout-gunicorn.log"
    port = free_port()
    server = start_server(port, workers, log)
    clients = Clients(port, key)
    clients.created = probe["checkouts"]
    measurements = []
    try:
        print(f"gunicorn, {workers} workers, on 127.0.0.1:{port} (log: {log}).")
        print(f"Each measurement: {warmup:g} s warm-up, then {seconds:g} s recorded.\n")
        clients.run("spread", 8, Deadline(0, 2.0))  # every worker imports, connects, renders
        pids = {"app": [server.pid, *children(server.pid)], "db": database_pids(database)}
        for threads in thread_counts:
            for kind in ("healthz", "hot", "spread"):
                row = measure(clients, kind, threads, seconds, warmup, pids)
                measurements.append(row)
                print(
                    f"  {row['request']:<20} {row['skus']:<17} {threads:>2} client(s): "
                    f"{row['per_second']:>7,.0f}/s  p50 {row['p50_ms']:.1f} ms  "
                    f"p99 {row['p99_ms']:.1f} ms  errors {row['errors']}",
                    flush=True,
                )
                for sample in row["error_samples"]:
                    print(f"    {sample}")
    finally:
        clients.stop.set()
        stop_server(server)

    print()
    print_table(
        [
            "request",
            "SKUs",
            "clients",
            "per second",
            "p50 ms",
            "p99 ms",
            "errors",
            "app CPU ms",
            "db CPU ms",
            "client CPU ms",
            "cores: ours",
            "all",
        ],
        [
            [
                m["request"],
                m["skus"],
                m["clients"],
                f"{m['per_second']:,.0f}",
                ms(m["p50_ms"] / 1000),
                ms(m["p99_ms"] / 1000),
                m["errors"],
                f"{m['app_cpu_ms']:.3g}",
                f"{m['db_cpu_ms']:.3g}",
                f"{m['client_cpu_ms']:.3g}",
                f"{m['cores_ours']:.2f}",
                f"{m['cores_machine']:.2f}",
            ]
            for m in measurements
        ],
    )
    print("\nThe books after the run:")
    books = check_books(clients.created)
    for label, ok, detail in books:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}: {detail}")
    env = environment()
    path = save(
        "checkout",
        {
            "environment": env,
            "seconds": seconds,
            "warmup": warmup,
            "workers": workers,
            "in_process": probe,
            "measurements": measurements,
            "books": [{"check": label, "ok": ok, "detail": d} for label, ok, d in books],
        },
    )
    print(f"\n{env['postgresql']}, {env['cpus']} CPU(s), load average {env['load_average']}")
    print(f"Written to {path}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted; the server is stopped.")
