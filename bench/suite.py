"""The benchmark suite: every benchmark against one sized data set, one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench [options]

1. Loads the data set (``bench.dataset``; reused when the database already holds it).
2. Measures the ceilings PostgreSQL puts on a stock row: the reservation's conditional UPDATE
   sent with psycopg directly (autocommit), on one hot row and on 1,000 spread rows, with as
   many connections as there are clients.
3. Times the planner alone (``plan_fulfilment``, no database) and ``plan_order`` on the data
   set, in this process.
4. Starts the service as production runs it (``bench.server``: gunicorn, production
   settings, a Celery worker on its own Redis database) and counts the SQL queries of one
   request per endpoint in this process (Django's test client on the same database).
5. Drives each endpoint through gunicorn with 1, 8 and 32 client threads, with
   ``GET /healthz`` of the same server at the same concurrency as the ceiling.
6. Waits for the worker to finish its tasks, stops everything, checks the books
   (``bench.books``) and prints one table, also written as JSON.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from bench import books, dataset
from bench._setup import RESULTS, Deadline, environment, ms, percentile, print_table, save
from bench.driver import Result, drive
from bench.server import Stack, exit_on_sigterm

ADDRESS = {
    "line1": "Damrak 1",
    "city": "Amsterdam",
    "postal_code": "1012LG",
    "country": "NL",
    "latitude": 52.3702,
    "longitude": 4.8952,
}
# Names for --only, in the order they run.
HTTP_BENCHMARKS = ["availability", "quote", "checkout", "pos", "routing"]
ALL = ["raw", "planner", *HTTP_BENCHMARKS]


# --- The requests -----------------------------------------------------------------------------


def _json(value) -> bytes:
    return json.dumps(value).encode()


class Requests:
    """What each HTTP benchmark sends, drawn at random (seeded per thread) from the data set."""

    def __init__(self, manifest: dict):
        self.m = manifest
        tokens = manifest["tokens"]
        self.storefront = {"Authorization": f"Token {tokens['storefront']}"}
        self.tills = [
            (code, {"Authorization": f"Token {key}"}) for code, key in tokens["tills"].items()
        ]
        # The load stores' SKUs, once each (a body naming a SKU twice is refused).
        self.assortment = sorted({sku for skus in manifest["stores"].values() for sku in skus})

    def healthz(self, rng, index):
        return "GET", "/healthz", None, {}

    def availability(self, rng, index):
        """Three SKUs of the stores' assortment near the Dam, the ten nearest locations."""
        skus = "&".join(f"sku={code}" for code in rng.sample(self.assortment, 3))
        near = "{:.4f},{:.4f}".format(*self.m["near"])
        path = f"/api/v1/availability/?{skus}&channel=web&near={near}&max_locations=10"
        return "GET", path, None, self.storefront

    def quote_body(self, rng) -> dict:
        return {
            "channel": "web",
            "customer": rng.choice(self.m["customers"]),
            "lines": [
                {"sku": code, "quantity": rng.randint(1, 3)}
                for code in rng.sample(self.m["catalog"], 5)
            ],
        }

    def quote(self, rng, index):
        """A five-line cart of a known customer, against every active promotion."""
        return "POST", "/api/v1/pricing/quote/", _json(self.quote_body(rng)), self.storefront

    def order_body(self, sku: str) -> dict:
        return {
            "channel": "web",
            "email": "guest@example.com",
            "lines": [{"sku": sku, "quantity": 1}],
            "fulfilment": {"method": "ship", "address": ADDRESS},
            "payment": {"method": "card", "reference": "bench"},
        }

    def checkout_hot(self, rng, index):
        """A guest ship order of one unit of the hot SKU: every order takes the same row."""
        return "POST", "/api/v1/orders/", _json(self.order_body(self.m["hot"])), self.storefront

    def checkout_spread(self, rng, index):
        body = self.order_body(rng.choice(self.m["spread"]))
        return "POST", "/api/v1/orders/", _json(body), self.storefront

    def pos_body(self, rng, store: str) -> dict:
        return {
            "lines": [
                {"sku": code, "quantity": 1} for code in rng.sample(self.m["stores"][store], 2)
            ],
            "tenders": [{"method": "cash", "amount": "1000.00"}],
        }

    def pos(self, rng, index):
        """A two-line cash sale at one of eight tills (thread i uses till i mod 8)."""
        store, headers = self.tills[index % len(self.tills)]
        return "POST", "/api/v1/pos/sales/", _json(self.pos_body(rng, store)), headers

    def routing_body(self, rng) -> dict:
        return {
            "channel": "web",
            "email": "guest@example.com",
            "lines": [{"sku": code, "quantity": 1} for code in rng.sample(self.assortment, 5)],
            "fulfilment": {"method": "ship", "address": ADDRESS},
        }

    def routing(self, rng, index):
        """A dry-run plan of a five-line ship order over every shipping location."""
        return "POST", "/api/v1/routing/plan/", _json(self.routing_body(rng)), self.storefront


# name, label, request maker, stock-writing (raw UPDATE ceiling), hot row
def http_rows(requests: Requests, only: set[str]) -> list[tuple[str, str, object, str | None]]:
    rows = []
    if "availability" in only:
        rows.append(
            ("availability", "GET availability (3 SKUs, near)", requests.availability, None)
        )
    if "quote" in only:
        rows.append(("quote", "POST quote (5 lines)", requests.quote, None))
    if "checkout" in only:
        rows.append(("checkout", "POST order: 1 hot SKU", requests.checkout_hot, "hot"))
        rows.append(
            ("checkout", "POST order: 1,000 spread SKUs", requests.checkout_spread, "spread")
        )
    if "pos" in only:
        rows.append(("pos", "POST POS sale (2 lines, cash)", requests.pos, "spread"))
    if "routing" in only:
        rows.append(("routing", "POST routing plan (5 lines)", requests.routing, None))
    return rows


# --- In process: queries per request, the planner --------------------------------------------


def queries_per_request(requests: Requests, rows) -> dict[str, dict]:
    """One request of each kind through Django's test client on the same database: the SQL
    statements it runs (BEGIN/COMMIT not counted) and its time in this process. An execute
    wrapper counts rather than CaptureQueriesContext: the request_started signal empties
    the query log that CaptureQueriesContext reads."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    found = {}
    created = 0
    for _, label, make, _ in [("healthz", "GET /healthz", requests.healthz, None), *rows]:
        rng = random.Random(5)
        counts = []
        started = time.perf_counter()
        for attempt in range(4):  # the first warms caches; the median of the next three
            method, path, body, headers = make(rng, attempt)
            extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
            statements = []

            def count(execute, sql, params, many, context, statements=statements):
                statements.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                if method == "GET":
                    response = client.get(path, **extra)
                else:
                    response = client.post(path, body, content_type="application/json", **extra)
            created += response.status_code == 201
            if response.status_code >= 300:
                raise SystemExit(
                    f"{label} answered {response.status_code}: {response.content[:300]!r}"
                )
            if attempt:
                counts.append(len(statements))
        found[label] = {
            "queries": sorted(counts)[1],
            "in_process_ms": (time.perf_counter() - started) / 4 * 1000,
        }
        print(f"  {label}: {found[label]['queries']} queries", flush=True)
    found["_created"] = created
    return found


def planner_rows(seconds: float, warmup: float, manifest: dict) -> list[dict]:
    """``plan_fulfilment`` alone on the synthetic networks of ``bench.routing`` (1,000
    candidates, a 10-line order), and ``plan_order`` on the data set (5 lines, in process)."""
    from bench import routing
    from inventory.models import Channel
    from orders.routing import Candidate, Method, PlanLine, Point, plan_fulfilment, plan_order

    results = []
    lines = routing.order_lines()
    destination = Point(*routing.DESTINATION)
    for kind, label in [
        ("easy", "plan_fulfilment: 1 location can serve (scan)"),
        ("hard", "plan_fulfilment: split needed (heuristic)"),
    ]:
        candidates = [Candidate(**row) for row in routing.synthetic(kind)]
        result = routing.measure(
            lambda candidates=candidates: plan_fulfilment(
                lines=lines, candidates=candidates, method=Method.SHIP, destination=destination
            ),
            seconds,
            warmup,
        )
        results.append({"benchmark": "planner", "label": label, "clients": 1, **result})
        print(f"  {label}: {result['per_second']:,.0f}/s", flush=True)
    web = Channel.objects.get(code="web")
    rng = random.Random(3)
    assortment = sorted({sku for skus in manifest["stores"].values() for sku in skus})
    order = [PlanLine(i, code, 1) for i, code in enumerate(rng.sample(assortment, 5))]
    result = routing.measure(
        lambda: plan_order(
            channel=web, lines=order, method=Method.SHIP, destination=Point(*manifest["near"])
        ),
        seconds,
        warmup,
        count_queries=True,
    )
    label = "plan_order: 5 lines, ship, data set"
    results.append({"benchmark": "planner", "label": label, "clients": 1, **result})
    print(f"  {label}: {result['per_second']:,.0f}/s", flush=True)
    return results


# --- The ceiling of a stock row -----------------------------------------------------------------


def raw_rows(
    client_counts: list[int], seconds: float, warmup: float
) -> dict[tuple[str, int], dict]:
    """The reservation's conditional UPDATE with psycopg directly, on the ``CEILING``
    location's rows (inactive: nothing else reads them); reserved is set back to 0 after."""
    import psycopg

    from bench._setup import psycopg_conninfo
    from bench.reservations import run_threads
    from inventory.models import StockLevel

    url = os.environ["DATABASE_URL"]
    ids = dict(
        StockLevel.objects.filter(location__code=dataset.CEILING).values_list("sku__sku", "pk")
    )
    hot_id, spread_ids = ids[dataset.HOT], [ids[code] for code in dataset.SPREAD]
    statement = (
        f"UPDATE {StockLevel._meta.db_table} SET reserved = reserved + 1 "
        "WHERE id = %s AND on_hand >= reserved + safety_stock + 1"
    )

    def worker(rows: str):
        def work(index, barrier, deadline, latencies):
            rng = random.Random(index)
            with psycopg.connect(psycopg_conninfo(url), autocommit=True) as conn:
                barrier.wait()
                while True:
                    pk = hot_id if rows == "hot" else rng.choice(spread_ids)
                    started = time.perf_counter()
                    if started >= deadline.end:
                        break
                    if conn.execute(statement, (pk,), prepare=True).rowcount != 1:
                        raise RuntimeError("the conditional UPDATE matched no row")
                    if started >= deadline.start:
                        latencies.append(time.perf_counter() - started)

        return work

    found = {}
    try:
        for rows in ("hot", "spread"):
            for threads in client_counts:
                latencies = sorted(
                    v
                    for per in run_threads(threads, worker(rows), Deadline(seconds, warmup))
                    for v in per
                )
                found[(rows, threads)] = {
                    "per_second": len(latencies) / seconds,
                    "p50_ms": percentile(latencies, 0.5) * 1000,
                    "p99_ms": percentile(latencies, 0.99) * 1000,
                }
                print(
                    f"  raw UPDATE, {'1 hot row' if rows == 'hot' else '1,000 spread rows'}, "
                    f"{threads} connection(s): {found[(rows, threads)]['per_second']:,.0f}/s",
                    flush=True,
                )
    finally:
        StockLevel.objects.filter(location__code=dataset.CEILING).update(reserved=0)
    return found, statement


# --- The suite --------------------------------------------------------------------------------


def run(args) -> int:
    exit_on_sigterm()
    started_all = time.perf_counter()
    only = set(args.only.split(",")) if args.only else set(ALL)
    unknown = only - set(ALL)
    if unknown:
        raise SystemExit(f"--only: unknown {sorted(unknown)}; choose from {', '.join(ALL)}")
    clients = [int(n) for n in args.clients.split(",")]
    broker = args.broker
    # This process sends tasks to the same broker as the server (the in-process probe).
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(f"== Data set ({args.size})", flush=True)
    started = time.perf_counter()
    marker = dataset.prepare(args.size, fresh=args.fresh)
    load_seconds = time.perf_counter() - started
    manifest = dataset.manifest(args.size)
    requests = Requests(manifest)
    rows = http_rows(requests, only)
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    loads = [os.getloadavg()]

    raw, statement = {}, ""
    if "raw" in only or any(row[3] for row in rows):
        print("== Ceiling: the reservation's UPDATE, psycopg directly", flush=True)
        raw, statement = raw_rows(clients, args.seconds, args.warmup)
    measurements: list[dict] = []
    if "planner" in only:
        print("== The planner, in process", flush=True)
        measurements += planner_rows(args.seconds, args.warmup, manifest)
    loads.append(os.getloadavg())

    queries: dict = {}
    healthz: dict[int, dict] = {}
    created = 0
    orders_before = books.order_count()
    drained_left = 0
    if rows:
        print(
            f"== The service: gunicorn ({args.workers} workers), Celery ({args.concurrency} "
            f"processes) on {broker}",
            flush=True,
        )
        with Stack(
            workers=args.workers,
            broker=broker,
            concurrency=args.concurrency,
            logs=RESULTS,
            name="suite",
        ) as stack:
            print(f"  listening on {stack.url}; logs in {RESULTS}/suite-*.log", flush=True)
            print("== Queries per request (Django test client, same database)", flush=True)
            queries = queries_per_request(requests, rows)
            created += queries.pop("_created")
            # Every worker imports, connects and fills its caches before anything is recorded.
            for _, _, make, _ in rows:
                created += drive(stack.port, make, threads=8, deadline=Deadline(0, 1.5)).created
            print("== Through gunicorn", flush=True)
            for threads in clients:
                result = drive(
                    stack.port,
                    requests.healthz,
                    threads=threads,
                    deadline=Deadline(args.seconds, args.warmup),
                )
                healthz[threads] = result.summary()
                _show("GET /healthz", threads, result)
                for name, label, make, hot in rows:
                    result = drive(
                        stack.port,
                        make,
                        threads=threads,
                        deadline=Deadline(args.seconds, args.warmup),
                        seed=threads,
                    )
                    created += result.created
                    _show(label, threads, result)
                    measurements.append(
                        {
                            "benchmark": name,
                            "label": label,
                            "clients": threads,
                            "rows": hot,
                            **result.summary(),
                            **queries.get(label, {}),
                        }
                    )
                loads.append(os.getloadavg())
            print("== Waiting for the Celery worker to finish its tasks", flush=True)
            drained_left = stack.drain()
    checks = books.check_books(orders_before=orders_before, orders_expected=created)
    if drained_left:
        print(f"  {drained_left} task(s) still queued after the wait")

    table = _table(measurements, healthz, raw, queries, clients)
    print()
    print_table(*table)
    print()
    all_ok = books.print_books(checks)
    env = environment()
    env["load_average_during_run"] = loads
    total = time.perf_counter() - started_all
    payload = {
        "environment": env,
        "command": args.command_line,
        "dataset": marker,
        "dataset_seconds_this_run": round(load_seconds, 1),
        "seconds": args.seconds,
        "warmup": args.warmup,
        "clients": clients,
        "workers": args.workers,
        "celery_concurrency": args.concurrency,
        "database": database,
        "raw_statement": statement,
        "healthz": {str(k): v for k, v in healthz.items()},
        "raw_update": {f"{rows} {n}": v for (rows, n), v in raw.items()},
        "queries": queries,
        "measurements": measurements,
        "table": {"headers": table[0], "rows": table[1]},
        "books": [c.as_dict() for c in checks],
        "run_seconds": round(total, 1),
    }
    path = Path(args.json) if args.json else save(f"suite-{args.size}", payload)
    if args.json:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    peak = max(load[0] for load in loads)
    print(
        f"\n{env['postgresql']}, {env['cpus']} CPU(s); load average (1 min) {loads[0][0]:.1f} at "
        f"the start, {peak:.1f} at most, {loads[-1][0]:.1f} at the end. Whole run "
        f"{total:.0f} s (data set {load_seconds:.0f} s)."
    )
    if statement:
        print(f"raw UPDATE: {statement}")
    print(f"Written to {path}")
    return 0 if all_ok else 1


def _show(label: str, threads: int, result: Result) -> None:
    s = result.summary()
    print(
        f"  {label:<32} {threads:>2} client(s): {s['per_second']:>7,.0f}/s  "
        f"p50 {s['p50_ms']:.1f} ms  p99 {s['p99_ms']:.1f} ms  errors {s['errors']}",
        flush=True,
    )
    for sample in s["error_samples"]:
        print(f"    {sample}")


def _pct(value: float, ceiling: float) -> str:
    if not ceiling:
        return "-"
    ratio = value / ceiling * 100
    return f"{ratio:.2g}%" if ratio < 10 else f"{ratio:.0f}%"


def _table(measurements, healthz, raw, queries, clients):
    headers = [
        "benchmark",
        "clients",
        "per s",
        "p50 ms",
        "p99 ms",
        "errors",
        "queries",
        "healthz/s",
        "of healthz",
        "raw UPDATE/s",
        "of raw",
    ]
    rows = []

    def fmt(value: float) -> str:
        return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"

    for threads in clients:
        if threads in healthz:
            h = healthz[threads]
            rows.append(
                [
                    "GET /healthz (ceiling)",
                    threads,
                    fmt(h["per_second"]),
                    ms(h["p50_ms"] / 1000),
                    ms(h["p99_ms"] / 1000),
                    h["errors"],
                    queries.get("GET /healthz", {}).get("queries", "-"),
                    "-",
                    "-",
                    "-",
                    "-",
                ]
            )
    for rows_kind in ("hot", "spread"):
        for threads in clients:
            r = raw.get((rows_kind, threads))
            if r:
                label = "raw UPDATE: 1 hot row" if rows_kind == "hot" else "raw UPDATE: 1,000 rows"
                rows.append(
                    [
                        f"{label} (ceiling)",
                        threads,
                        fmt(r["per_second"]),
                        ms(r["p50_ms"] / 1000),
                        ms(r["p99_ms"] / 1000),
                        0,
                        1,
                        "-",
                        "-",
                        "-",
                        "-",
                    ]
                )
    labels = list(dict.fromkeys(m["label"] for m in measurements if m["benchmark"] != "planner"))
    for label in labels:
        for m in measurements:
            if m["label"] != label:
                continue
            threads = m["clients"]
            h = healthz.get(threads, {}).get("per_second", 0)
            r = raw.get((m["rows"], threads), {}).get("per_second", 0) if m["rows"] else 0
            rows.append(
                [
                    m["label"],
                    threads,
                    fmt(m["per_second"]),
                    ms(m["p50_ms"] / 1000),
                    ms(m["p99_ms"] / 1000),
                    m["errors"],
                    m.get("queries", "-"),
                    fmt(h) if h else "-",
                    _pct(m["per_second"], h),
                    fmt(r) if r else "-",
                    _pct(m["per_second"], r) if r else "-",
                ]
            )
    for m in measurements:
        if m["benchmark"] == "planner":
            rows.append(
                [
                    m["label"] + " (in process)",
                    1,
                    fmt(m["per_second"]),
                    ms(m["p50_ms"] / 1000),
                    ms(m["p99_ms"] / 1000),
                    0,
                    "-" if m["queries"] is None else m["queries"],
                    "-",
                    "-",
                    "-",
                    "-",
                ]
            )
    return headers, rows
