"""Fulfilment planning: plans per second for a 10-line order over 1,000 locations.

    python -m bench.routing
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench.routing

First the pure planner (``orders.routing.plan_fulfilment``) on synthetic candidates, no
database: an easy network where some locations have everything (a scan), a network where
only 150 of the 1,000 hold the ordered SKUs and no one has everything (the exact search over
pairs), and a hard one where no one has everything and all 1,000 hold some (the heuristic).
Then, if ``DATABASE_URL`` points to PostgreSQL, ``orders.routing.plan_order`` against 1,000
locations in the database: the same easy and hard networks, shipped, and a pickup with 1,000
pickup stores; with the number of SQL queries per call. Without PostgreSQL that part is
skipped with a message.

Options (environment): BENCH_SECONDS (per measurement, default 3), BENCH_WARMUP (default 0.5),
BENCH_DATABASE (default retail_bench_routing: its own database, since every active location
in it is a candidate).
"""

from __future__ import annotations

import os
import random
import time
from decimal import Decimal

from bench._setup import Deadline, environment, ms, percentile, print_table, save, setup_django

LOCATIONS = 1_000
SKUS = [f"RT-{n:02d}" for n in range(10)]
OTHER_SKUS = [f"RT-X{n:02d}" for n in range(10)]  # stock nobody orders
DESTINATION = (52.3730, 4.8930)  # the Dam, Amsterdam


def synthetic(kind: str, seed: int = 42) -> list[dict]:
    """1,000 locations over the Netherlands (seeded). ``easy``: every 20th has all ten SKUs,
    the rest one to six of them. ``pairs``: 150 hold five or six of the ordered SKUs (half
    from the first five, half from the last five, so some pairs cover everything), the rest
    only SKUs nobody orders. ``hard``: everyone holds two to six of the ten; no one all."""
    rng = random.Random(seed)
    rows = []
    for i in range(LOCATIONS):
        if kind == "easy":
            held = SKUS if i % 20 == 0 else rng.sample(SKUS, rng.randint(1, 6))
        elif kind == "pairs":
            if i % 1000 < 150:
                half = SKUS[:5] if i % 2 else SKUS[5:]
                held = [*half, *rng.sample(SKUS, 1)]
            else:
                held = rng.sample(OTHER_SKUS, 3)
        else:
            held = rng.sample(SKUS, rng.randint(2, 6))
        rows.append(
            {
                "code": f"RT-{kind[0].upper()}{i:04d}",
                "latitude": round(rng.uniform(50.8, 53.4), 6),
                "longitude": round(rng.uniform(3.4, 7.2), 6),
                "priority": i % 5,
                "handling_cost": Decimal(rng.choice(["0.50", "1.00", "1.50", "2.00", "3.00"])),
                "capacity_left": rng.choice([None, None, None, 5, 20, 0]),
                "available": {sku: rng.randint(1, 5) for sku in held},
            }
        )
    return rows


def order_lines(seed: int = 7):
    from orders.routing import PlanLine

    rng = random.Random(seed)
    return [PlanLine(i, sku, rng.randint(1, 2)) for i, sku in enumerate(SKUS)]


def measure(call, seconds: float, warmup: float, count_queries: bool = False) -> dict:
    """Call ``call()`` back to back from one thread; latencies after the warm-up."""
    queries = []
    if count_queries:
        from django.db import connection

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            plan = call()
    else:
        plan = call()
    deadline = Deadline(seconds, warmup)
    latencies = []
    while True:
        started = time.perf_counter()
        if started >= deadline.end:
            break
        call()
        if started >= deadline.start:
            latencies.append(time.perf_counter() - started)
    latencies.sort()
    return {
        "calls": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "queries": len(queries) if count_queries else None,
        "feasible": plan.feasible,
        "shipments": len(plan.fulfilments),
        "cost": str(plan.total_cost),
        "exact": plan.exact,
    }


def pure_planner(seconds: float, warmup: float) -> list[dict]:
    from orders.routing import Candidate, Method, Point, plan_fulfilment

    lines = order_lines()
    destination = Point(*DESTINATION)
    results = []
    for kind, label in [
        ("easy", "easy: 50 have everything"),
        ("pairs", "150 hold SKUs, none all (exact)"),
        ("hard", "1,000 hold SKUs, none all (heuristic)"),
    ]:
        candidates = [Candidate(**row) for row in synthetic(kind)]
        result = measure(
            lambda candidates=candidates: plan_fulfilment(
                lines=lines, candidates=candidates, method=Method.SHIP, destination=destination
            ),
            seconds,
            warmup,
        )
        result.update({"via": "plan_fulfilment", "case": label})
        results.append(result)
        print(f"  plan_fulfilment {label}: {result['per_second']:,.0f}/s", flush=True)
    return results


def load_data() -> None:
    """The easy and the hard network as 2,000 locations (ship and pickup enabled) with stock
    levels, and the ten SKUs. Idempotent. The ledger of this read-only data set is not kept."""
    from django.db import connection, transaction

    from inventory.models import SKU, Category, Location, Product, StockLevel

    with transaction.atomic():
        category, _ = Category.objects.get_or_create(
            code="routing-bench", defaults={"name": "Routing bench", "path": "routing-bench/"}
        )
        product, _ = Product.objects.get_or_create(name="Routing bench product", category=category)
        SKU.objects.bulk_create(
            [SKU(product=product, sku=code, name=code) for code in SKUS + OTHER_SKUS],
            ignore_conflicts=True,
        )
        sku_ids = dict(SKU.objects.filter(sku__in=SKUS + OTHER_SKUS).values_list("sku", "pk"))
        networks = synthetic("easy") + synthetic("hard")
        Location.objects.bulk_create(
            [
                Location(
                    code=row["code"],
                    name=f"Location {row['code']}",
                    type=Location.Type.STORE,
                    latitude=Decimal(str(row["latitude"])),
                    longitude=Decimal(str(row["longitude"])),
                    timezone="Europe/Amsterdam",
                    ship_enabled=True,
                    pickup_enabled=True,
                    priority=row["priority"],
                    handling_cost=row["handling_cost"],
                    daily_capacity=row["capacity_left"],  # none used yet today
                )
                for row in networks
            ],
            ignore_conflicts=True,
        )
        location_ids = dict(
            Location.objects.filter(code__startswith="RT-").values_list("code", "pk")
        )
        StockLevel.objects.bulk_create(
            [
                StockLevel(
                    sku_id=sku_ids[sku],
                    location_id=location_ids[row["code"]],
                    on_hand=qty + 1,
                    reserved=1,
                )
                for row in networks
                for sku, qty in row["available"].items()
            ],
            ignore_conflicts=True,
        )
    with connection.cursor() as cursor:  # fresh statistics, as a live database would have
        cursor.execute("ANALYZE")


def database_planner(seconds: float, warmup: float) -> list[dict]:
    from inventory.models import Channel, Location
    from orders.routing import Method, Point, plan_order

    load_data()
    web = Channel.objects.get(code="web")
    lines = order_lines()
    destination = Point(*DESTINATION)
    results = []
    for network, label in [("RT-E", "ship, easy"), ("RT-H", "ship, hard (heuristic)")]:
        other = "RT-H" if network == "RT-E" else "RT-E"
        # Only this network's locations are active: 1,000 candidates.
        Location.objects.filter(code__startswith=network).update(active=True)
        Location.objects.filter(code__startswith=other).update(active=False)
        result = measure(
            lambda: plan_order(
                channel=web, lines=lines, method=Method.SHIP, destination=destination
            ),
            seconds,
            warmup,
            count_queries=True,
        )
        result.update({"via": "plan_order", "case": label})
        results.append(result)
        print(f"  plan_order {label}: {result['per_second']:,.0f}/s", flush=True)
    # Pickup at a store of the easy network that has everything; 1,000 pickup stores.
    Location.objects.filter(code__startswith="RT-E").update(active=True)
    Location.objects.filter(code__startswith="RT-H").update(active=False)
    store = next(
        row["code"]
        for row in synthetic("easy")
        if all(row["available"].get(line.sku, 0) >= line.quantity for line in lines)
    )
    result = measure(
        lambda: plan_order(channel=web, lines=lines, method=Method.PICKUP, pickup_location=store),
        seconds,
        warmup,
        count_queries=True,
    )
    result.update({"via": "plan_order", "case": "pickup, 1,000 stores"})
    results.append(result)
    print(f"  plan_order pickup: {result['per_second']:,.0f}/s", flush=True)
    return results


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    warmup = float(os.environ.get("BENCH_WARMUP", "0.5"))
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    if postgres:
        os.environ.setdefault("BENCH_DATABASE", "retail_bench_routing")
        url = setup_django()
        print(f"Database {url.rsplit('/', 1)[-1]}.")
    else:
        if not url:
            os.environ.pop("DATABASE_URL", None)  # empty: the settings' SQLite default
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
    print(
        f"A {len(SKUS)}-line order over {LOCATIONS:,} locations. Each measurement: one thread, "
        f"{warmup:g} s warm-up, then {seconds:g} s recorded.\n"
    )
    measurements = pure_planner(seconds, warmup)
    if postgres:
        measurements += database_planner(seconds, warmup)
    else:
        print("\nplan_order skipped: set DATABASE_URL to a PostgreSQL server to measure it.")

    print()
    print_table(
        ["via", "case", "plans/s", "p50 ms", "p99 ms", "queries", "plan"],
        [
            [
                m["via"],
                m["case"],
                f"{m['per_second']:,.0f}",
                ms(m["p50_ms"] / 1000),
                ms(m["p99_ms"] / 1000),
                "-" if m["queries"] is None else m["queries"],
                (
                    f"{m['shipments']} shipment(s), {m['cost']}"
                    + ("" if m["exact"] else ", heuristic")
                    if m["feasible"]
                    else "no plan"
                ),
            ]
            for m in measurements
        ],
    )
    payload = {
        "seconds": seconds,
        "warmup": warmup,
        "locations": LOCATIONS,
        "lines": len(SKUS),
        "measurements": measurements,
    }
    if postgres:
        env = environment()
        payload["environment"] = env
        print(f"\n{env['postgresql']}, {env['cpus']} CPU(s), load average {env['load_average']}")
    else:
        payload["environment"] = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    print(f"Written to {save('routing', payload)}")


if __name__ == "__main__":
    main()
