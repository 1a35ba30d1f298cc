"""Reservations per second and latency, on one hot stock row against 1,000 spread rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench.reservations

Each thread has its own database connection and calls ``inventory.services.reserve`` for one
unit, one line, in a loop; on hand is so large it never runs out. Then the same conditional
UPDATE the service runs, sent with psycopg directly (autocommit, one statement per
transaction): the ceiling PostgreSQL itself puts on one row and on many.

Options (environment): BENCH_SECONDS (per measurement, default 3), BENCH_WARMUP (default 0.5),
BENCH_THREADS (default "1,8,32"), BENCH_DATABASE (default retail_bench).
"""

from __future__ import annotations

import os
import random
import threading
import time

from bench._setup import (
    Deadline,
    environment,
    ms,
    percentile,
    print_table,
    psycopg_conninfo,
    save,
    setup_django,
)

LOCATION = "BENCH-WH"
HOT = "BENCH-HOT"
SPREAD = [f"BENCH-{n:04d}" for n in range(1000)]
ON_HAND = 1_000_000_000
OWNER = "bench.reservations"


def load_data() -> dict[str, int]:
    """One warehouse, the hot SKU and 1,000 others, each with a huge on hand (and its receipt
    in the ledger). Reservations of earlier runs are removed. Returns level ids by SKU."""
    from django.db import connection, transaction
    from django.utils import timezone

    from inventory.models import (
        SKU,
        Category,
        Location,
        MovementKind,
        Product,
        Reservation,
        ReservationLine,
        StockLevel,
        StockMovement,
    )

    with transaction.atomic():
        category, _ = Category.objects.get_or_create(
            code="bench", defaults={"name": "Bench", "path": "bench/"}
        )
        product, _ = Product.objects.get_or_create(name="Bench product", category=category)
        location, _ = Location.objects.get_or_create(
            code=LOCATION,
            defaults={
                "name": "Bench warehouse",
                "type": Location.Type.WAREHOUSE,
                "latitude": "52.370216",
                "longitude": "4.895168",
                "ship_enabled": True,
            },
        )
        SKU.objects.bulk_create(
            [SKU(product=product, sku=code, name=code) for code in [HOT, *SPREAD]],
            ignore_conflicts=True,
        )
        skus = dict(SKU.objects.filter(sku__in=[HOT, *SPREAD]).values_list("sku", "pk"))
        missing = set(skus.values()) - set(
            StockLevel.objects.filter(location=location).values_list("sku_id", flat=True)
        )
        levels = StockLevel.objects.bulk_create(
            [StockLevel(sku_id=pk, location=location, on_hand=ON_HAND) for pk in missing]
        )
        now = timezone.now()
        StockMovement.objects.bulk_create(
            StockMovement(
                level=level,
                sku_id=level.sku_id,
                location=location,
                kind=MovementKind.RECEIPT,
                quantity=ON_HAND,
                on_hand_after=ON_HAND,
                reason="benchmark stock",
                occurred_at=now,
            )
            for level in levels
        )
        # Forget earlier runs' holds (and raw UPDATEs), so reserved matches its lines again.
        # Plain SQL: the ORM would fetch every row to emulate the cascade.
        lines, holds = ReservationLine._meta.db_table, Reservation._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {lines} WHERE reservation_id IN "
                f"(SELECT id FROM {holds} WHERE owner = %s)",
                [OWNER],
            )
            cursor.execute(f"DELETE FROM {holds} WHERE owner = %s", [OWNER])
        StockLevel.objects.filter(location=location).update(reserved=0)
    return dict(StockLevel.objects.filter(location=location).values_list("sku__sku", "pk"))


def run_threads(threads: int, work, deadline: Deadline) -> list[list[float]]:
    """Start ``threads`` threads together; each returns its recorded latencies."""
    barrier = threading.Barrier(threads)
    results: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index, barrier, deadline, results[index])
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} thread(s) failed: {errors[:3]!r}")
    return results


def service_worker(rows: str):
    from django.db import connection

    from inventory import services
    from inventory.services import HoldLine

    def work(index, barrier, deadline, latencies):
        rng = random.Random(index)
        try:
            barrier.wait()
            while True:
                sku = HOT if rows == "hot" else rng.choice(SPREAD)
                started = time.perf_counter()
                if started >= deadline.end:
                    break
                services.reserve(channel="web", lines=[HoldLine(sku, LOCATION, 1)], owner=OWNER)
                if started >= deadline.start:
                    latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    return work


def raw_worker(rows: str, url: str, level_ids: dict[str, int]):
    import psycopg

    from inventory.models import StockLevel

    table = StockLevel._meta.db_table
    statement = (
        f"UPDATE {table} SET reserved = reserved + 1 "
        "WHERE id = %s AND on_hand >= reserved + safety_stock + 1"
    )
    hot_id = level_ids[HOT]
    spread_ids = [level_ids[code] for code in SPREAD]

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

    return work, statement


def main() -> None:
    url = setup_django()
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    warmup = float(os.environ.get("BENCH_WARMUP", "0.5"))
    thread_counts = [int(n) for n in os.environ.get("BENCH_THREADS", "1,8,32").split(",")]
    level_ids = load_data()
    print(f"Database {url.rsplit('/', 1)[-1]}: 1 hot row and {len(SPREAD)} spread rows.")
    print(f"Each measurement: {warmup:g} s warm-up, then {seconds:g} s recorded.\n")

    measurements = []
    statement = ""
    for how in ("reserve()", "raw UPDATE"):
        for rows in ("hot", "spread"):
            for threads in thread_counts:
                if how == "reserve()":
                    work = service_worker(rows)
                else:
                    work, statement = raw_worker(rows, url, level_ids)
                deadline = Deadline(seconds, warmup)
                latencies = sorted(
                    v for per_thread in run_threads(threads, work, deadline) for v in per_thread
                )
                row = {
                    "call": how,
                    "rows": "1 hot row" if rows == "hot" else "1,000 spread rows",
                    "threads": threads,
                    "ops": len(latencies),
                    "per_second": len(latencies) / seconds,
                    "p50_ms": percentile(latencies, 0.50) * 1000,
                    "p99_ms": percentile(latencies, 0.99) * 1000,
                }
                measurements.append(row)
                print(
                    f"  {how:<10} {row['rows']:<17} {threads:>2} thread(s): "
                    f"{row['per_second']:>8,.0f}/s  p50 {row['p50_ms']:.2f} ms  "
                    f"p99 {row['p99_ms']:.2f} ms",
                    flush=True,
                )
    load_data()  # leave reserved at zero

    print()
    print_table(
        ["call", "rows", "threads", "per second", "p50 ms", "p99 ms"],
        [
            [
                m["call"],
                m["rows"],
                m["threads"],
                f"{m['per_second']:,.0f}",
                ms(m["p50_ms"] / 1000),
                ms(m["p99_ms"] / 1000),
            ]
            for m in measurements
        ],
    )
    print(f"\nraw UPDATE: {statement}")
    env = environment()
    path = save(
        "reservations",
        {
            "environment": env,
            "seconds": seconds,
            "warmup": warmup,
            "statement": statement,
            "measurements": measurements,
        },
    )
    print(f"{env['postgresql']}, {env['cpus']} CPU(s), load average {env['load_average']}")
    print(f"Written to {path}")


if __name__ == "__main__":
    main()
