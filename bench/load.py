"""The load test: the Locust scenario of ``bench/locustfile.py``, headless, for a bounded time,
against gunicorn and a Celery worker started as production runs them; then the books.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench load \\
        --seconds 60 --users 50 [--size small]

It loads (or reuses) the data set, writes a manifest with fresh tokens for Locust
(``bench/results/load-manifest.json``), starts the service, runs ``locust --headless -u
USERS -r RATE -t SECONDS --csv ...``, waits for the worker to finish the tasks the run
queued, stops everything and checks that nothing was oversold and every ledger adds up
(``bench.books``), and that each 201 from an order or POS sale made exactly one order.
Prints error rate and latency percentiles per request type; writes them as JSON too.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

from bench import books, dataset
from bench._setup import RESULTS, environment, print_table, save
from bench.server import Stack, exit_on_sigterm, spawn, stop_process

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def run(args) -> int:
    exit_on_sigterm()
    started_all = time.perf_counter()
    os.environ["CELERY_BROKER_URL"] = args.broker
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(f"== Data set ({args.size})", flush=True)
    marker = dataset.prepare(args.size, fresh=args.fresh)
    RESULTS.mkdir(exist_ok=True)
    manifest_path = RESULTS / "load-manifest.json"
    manifest_path.write_text(json.dumps(dataset.manifest(args.size), indent=1) + "\n")
    counts_path = RESULTS / "load-counts.json"
    counts_path.unlink(missing_ok=True)
    prefix = RESULTS / "load"
    locust_log = RESULTS / "load-locust.log"
    orders_before = books.order_count()
    loads = [os.getloadavg()]
    print(
        f"== The service: gunicorn ({args.workers} workers), Celery ({args.concurrency} "
        f"processes) on {args.broker}",
        flush=True,
    )
    with Stack(
        workers=args.workers,
        broker=args.broker,
        concurrency=args.concurrency,
        logs=RESULTS,
        name="load",
    ) as stack:
        seconds = max(1, round(args.seconds))
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--csv",
            str(prefix),
            "--host",
            stack.url,
            "--only-summary",
        ]
        env = {
            **os.environ,
            "BENCH_MANIFEST": str(manifest_path),
            "BENCH_LOCUST_COUNTS": str(counts_path),
        }
        print(
            f"== Locust: {args.users} users (+{args.spawn_rate:g}/s) for {seconds} s against "
            f"{stack.url}; its log: {locust_log}",
            flush=True,
        )
        locust = spawn(command, env, locust_log)
        try:
            started = time.monotonic()
            report = 10
            while locust.poll() is None:
                time.sleep(1)
                elapsed = time.monotonic() - started
                if elapsed >= report:
                    report += 10
                    loads.append(os.getloadavg())
                    print(f"  {elapsed:.0f} s, load average {loads[-1][0]:.1f}", flush=True)
                if elapsed > seconds + 90:
                    print("  Locust did not stop in time; stopping it.")
                    break
        finally:
            stop_process(locust)
        print("== Waiting for the Celery worker to finish its tasks", flush=True)
        left = stack.drain()
        if left:
            print(f"  {left} task(s) still queued after the wait")

    counts = json.loads(counts_path.read_text()) if counts_path.exists() else {}
    created = counts.get("orders 201", 0) + counts.get("pos 201", 0)
    checks = books.check_books(orders_before=orders_before, orders_expected=created)
    stats = read_stats(Path(f"{prefix}_stats.csv"))
    headers = [
        "request",
        "count",
        "errors",
        "error %",
        "per s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    ]
    print()
    print_table(
        headers,
        [
            [
                s["name"],
                s["count"],
                s["failures"],
                f"{s['error_pct']:.2g}" if s["error_pct"] else "0",
                f"{s['per_second']:.3g}",
                s["p50"],
                s["p95"],
                s["p99"],
                s["max"],
            ]
            for s in stats
        ],
    )
    expected_refusals = {
        k: v for k, v in counts.items() if not k.endswith(" 200") and not k.endswith(" 201")
    }
    if expected_refusals:
        print(
            "\nExpected refusals, counted as successes: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(expected_refusals.items()))
        )
    print()
    all_ok = books.print_books(checks)
    failures = _failures(Path(f"{prefix}_failures.csv"))
    if failures:
        print("\nFailures (Locust):")
        for line in failures[:10]:
            print(f"  {line}")
    env_info = environment()
    env_info["load_average_during_run"] = loads
    payload = {
        "environment": env_info,
        "command": args.command_line,
        "dataset": marker,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "seconds": seconds,
        "workers": args.workers,
        "celery_concurrency": args.concurrency,
        "stats": stats,
        "counts": counts,
        "failures": failures,
        "books": [c.as_dict() for c in checks],
        "run_seconds": round(time.perf_counter() - started_all, 1),
    }
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        path = save(f"load-{args.size}", payload)
    peak = max(load[0] for load in loads)
    print(
        f"\n{env_info['cpus']} CPU(s); load average (1 min) {loads[0][0]:.1f} at the start, "
        f"{peak:.1f} at most. Whole run {payload['run_seconds']:.0f} s. Written to {path}"
    )
    total = next((s for s in stats if s["name"] == "Aggregated"), None)
    return 0 if all_ok and total is not None else 1


def read_stats(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    with path.open() as handle:
        for row in csv.DictReader(handle):
            count = int(row["Request Count"])
            failures = int(row["Failure Count"])
            name = row["Name"] if row["Type"] in ("", "None") else f"{row['Type']} {row['Name']}"
            if row["Name"] == "Aggregated":
                name = "Aggregated"
            rows.append(
                {
                    "name": name,
                    "count": count,
                    "failures": failures,
                    "error_pct": failures / count * 100 if count else 0.0,
                    "per_second": float(row["Requests/s"]),
                    "p50": _num(row["50%"]),
                    "p95": _num(row["95%"]),
                    "p99": _num(row["99%"]),
                    "max": _num(row["Max Response Time"]),
                }
            )
    return rows


def _num(value: str):
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number >= 10 else round(number, 1)


def _failures(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [
            f"{row['Method']} {row['Name']}: {row['Occurrences']} x {row['Error'][:200]}"
            for row in csv.DictReader(handle)
        ]
