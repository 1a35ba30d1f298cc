"""Availability-to-promise latency: 50 SKUs over 500 locations.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench.availability

Measures ``inventory.selectors.available_to_promise`` and, if it exists, the endpoint
``GET /api/v1/availability/`` through Django's test Client (a storefront token, so no
anonymous throttle gets in the way): calls per second from one thread, p50/p99 latency and
the number of SQL queries per call.

Options (environment): BENCH_SECONDS (per measurement, default 3), BENCH_WARMUP (default 0.5),
BENCH_DATABASE (default retail_bench).
"""

from __future__ import annotations

import os
import random
import time
from decimal import Decimal

from bench._setup import (
    Deadline,
    environment,
    ms,
    percentile,
    print_table,
    save,
    setup_django,
)

SKUS = [f"ATP-{n:02d}" for n in range(50)]
LOCATIONS = [f"ATP-L{n:03d}" for n in range(500)]
NEAR = (52.370216, 4.895168)  # Amsterdam


def load_data() -> int:
    """500 locations spread over the Netherlands (a tenth of them stores without ship or
    pickup), 50 SKUs, a level for every pair with stock, holds and safety stock drawn at
    random (seeded). Idempotent. Returns the number of levels."""
    from django.db import transaction

    from inventory.models import SKU, Category, Location, Product, StockLevel

    rng = random.Random(42)
    with transaction.atomic():
        category, _ = Category.objects.get_or_create(
            code="atp-bench", defaults={"name": "ATP bench", "path": "atp-bench/"}
        )
        product, _ = Product.objects.get_or_create(name="ATP bench product", category=category)
        SKU.objects.bulk_create(
            [SKU(product=product, sku=code, name=code) for code in SKUS], ignore_conflicts=True
        )
        Location.objects.bulk_create(
            [
                Location(
                    code=code,
                    name=f"Location {code}",
                    type=Location.Type.WAREHOUSE if n % 25 == 0 else Location.Type.STORE,
                    latitude=Decimal(f"{rng.uniform(50.8, 53.4):.6f}"),
                    longitude=Decimal(f"{rng.uniform(3.4, 7.2):.6f}"),
                    pickup_enabled=n % 10 != 9,
                    ship_enabled=n % 25 == 0 or n % 3 == 0,
                    priority=n % 5,
                )
                for n, code in enumerate(LOCATIONS)
            ],
            ignore_conflicts=True,
        )
        sku_ids = list(SKU.objects.filter(sku__in=SKUS).values_list("pk", flat=True))
        location_ids = list(
            Location.objects.filter(code__in=LOCATIONS).values_list("pk", flat=True)
        )
        levels = []
        for sku_id in sku_ids:
            for location_id in location_ids:
                on_hand = rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 40])
                reserved = rng.randint(0, on_hand)
                levels.append(
                    StockLevel(
                        sku_id=sku_id,
                        location_id=location_id,
                        on_hand=on_hand,
                        reserved=reserved,
                        safety_stock=rng.choice([0, 0, 1, 2]),
                    )
                )
        # Availability only reads levels; the ledger of this read-only data set is not kept.
        StockLevel.objects.bulk_create(levels, ignore_conflicts=True)
    return StockLevel.objects.filter(sku__sku__in=SKUS, location__code__in=LOCATIONS).count()


def measure(call, seconds: float, warmup: float) -> dict:
    """Call ``call()`` back to back from one thread; latencies after the warm-up."""
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper rather than CaptureQueriesContext: a request clears the query log.
    with connection.execute_wrapper(count):
        call()
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
        "queries": len(queries),
    }


def endpoint_client():
    """A test Client with a storefront token, or None (and why) if the endpoint is absent."""
    from django.conf import settings
    from django.test import Client
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/availability/")
    except Resolver404:
        return None, "GET /api/v1/availability/ does not exist yet"
    from config.api.roles import Role
    from config.api.services import create_api_client

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    _, key = create_api_client(name="availability bench", role=Role.STOREFRONT)
    return Client(HTTP_AUTHORIZATION=f"Token {key}"), ""


def main() -> None:
    url = setup_django()
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    warmup = float(os.environ.get("BENCH_WARMUP", "0.5"))
    from inventory.models import Channel
    from inventory.selectors import available_to_promise

    levels = load_data()
    web = Channel.objects.get(code="web")
    print(
        f"Database {url.rsplit('/', 1)[-1]}: {len(SKUS)} SKUs x {len(LOCATIONS)} locations "
        f"= {levels:,} stock levels."
    )
    print(f"Each measurement: one thread, {warmup:g} s warm-up, then {seconds:g} s recorded.\n")

    cases = [
        ("1 SKU", SKUS[:1], None),
        ("50 SKUs", SKUS, None),
        ("50 SKUs, near", SKUS, NEAR),
    ]
    measurements = []
    for label, skus, near in cases:
        result = measure(
            lambda skus=skus, near=near: available_to_promise(skus=skus, channel=web, near=near),
            seconds,
            warmup,
        )
        sample = available_to_promise(skus=skus, channel=web, near=near)
        result.update(
            {
                "via": "selector",
                "case": label,
                "locations_returned": sum(len(r.locations) for r in sample),
            }
        )
        measurements.append(result)
        print(f"  selector {label}: {result['per_second']:,.0f}/s", flush=True)

    client, why_not = endpoint_client()
    if client is None:
        print(f"\nHTTP endpoint skipped: {why_not}.")
    else:
        for label, skus, near in cases:
            params = [("sku", code) for code in skus] + [("channel", "web")]
            if near:
                params.append(("near", f"{near[0]},{near[1]}"))
            query = "&".join(f"{k}={v}" for k, v in params)
            response = client.get(f"/api/v1/availability/?{query}")
            if response.status_code != 200:
                print(f"\nHTTP {label} skipped: {response.status_code} {response.content[:200]!r}")
                continue

            def call(query=query):
                response = client.get(f"/api/v1/availability/?{query}")
                assert response.status_code == 200, response.status_code
                return response

            result = measure(call, seconds, warmup)
            result.update(
                {
                    "via": "GET /api/v1/availability/",
                    "case": label,
                    "response_bytes": len(response.content),
                }
            )
            measurements.append(result)
            print(f"  HTTP {label}: {result['per_second']:,.0f}/s", flush=True)

    print()
    print_table(
        ["via", "case", "calls/s", "p50 ms", "p99 ms", "queries/call"],
        [
            [
                m["via"],
                m["case"],
                f"{m['per_second']:,.0f}",
                ms(m["p50_ms"] / 1000),
                ms(m["p99_ms"] / 1000),
                m["queries"],
            ]
            for m in measurements
        ],
    )
    env = environment()
    path = save(
        "availability",
        {
            "environment": env,
            "seconds": seconds,
            "warmup": warmup,
            "skus": len(SKUS),
            "locations": len(LOCATIONS),
            "levels": levels,
            "measurements": measurements,
        },
    )
    print(f"\n{env['postgresql']}, {env['cpus']} CPU(s), load average {env['load_average']}")
    print(f"Written to {path}")


if __name__ == "__main__":
    main()
