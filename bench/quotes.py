"""Quotes per second for a 50-line cart against 500 active promotions: the engine alone, the
quote service in process (snapshot queries + engine), and POST /api/v1/pricing/quote/ through
Django's test client (routing, authentication, serializers; no HTTP server).

    .venv/bin/python bench/quotes.py [--quotes 200] [--lines 50] [--promotions 500]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_pricing .venv/bin/python bench/quotes.py

It creates a throwaway database (``<name>_bench_quotes`` on PostgreSQL, in memory on SQLite),
fills it, measures, prints, and drops it. It measures; it never fails.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from config.api.roles import Role  # noqa: E402
from config.api.services import create_api_client  # noqa: E402
from inventory.models import SKU, Category, Location, Product  # noqa: E402
from pricing import services  # noqa: E402
from pricing.engine import price_cart  # noqa: E402

SKU_COUNT = 2_000


def seed(*, promotions: int, rng: random.Random) -> tuple[list[str], str]:
    """A catalog of 2,000 SKUs in 50 categories, one price list, a store, tax rates and
    ``promotions`` active promotions of every kind aimed at SKUs, categories or everything."""
    tops = [
        Category.objects.create(code=f"top-{t}", name=f"Top {t}", path=f"top-{t}/")
        for t in range(10)
    ]
    subs = [
        Category.objects.create(
            code=f"sub-{t}-{s}", name=f"Sub {t}.{s}", parent=top, path=f"{top.path}sub-{t}-{s}/"
        )
        for t, top in enumerate(tops)
        for s in range(5)
    ]
    products = Product.objects.bulk_create(
        [Product(name=f"Product {n}", category=subs[n % len(subs)]) for n in range(SKU_COUNT)]
    )
    SKU.objects.bulk_create(
        [SKU(product=p, sku=f"BENCH-{n:05d}", name=p.name) for n, p in enumerate(products)]
    )
    codes = [f"BENCH-{n:05d}" for n in range(SKU_COUNT)]
    store = Location.objects.create(
        code="BENCH-STORE", name="Bench store", type="store", latitude=52.37, longitude=4.89
    )
    base = services.create_price_list(code="BENCH", name="Bench", channel="web")
    services.replace_prices(
        price_list=base,
        prices=[
            services.PriceEntry(code, Decimal(rng.randint(199, 19_999)) / 100) for code in codes
        ],
    )
    services.set_tax_rate(location=None, name="Default", rate=Decimal("21"))
    services.set_tax_rate(
        location=store.code, name="Store", rate=Decimal("21"), category_rates={"top-0": 9}
    )

    kinds = ["percent_off", "amount_off", "buy_x_get_y", "spend_threshold"]
    for n in range(promotions):
        kind = kinds[n % 4]
        fields: dict = {
            "priority": rng.randint(0, 5),
            "exclusive": n % 20 == 0,
            "channels": ["web"] if n % 3 else [],
            "locations": [store.code] if n % 10 == 1 else [],
            "per_customer_limit": 5 if n % 25 == 0 else None,
            "usage_limit": 1_000_000 if n % 7 == 0 else None,
        }
        aim = n % 20
        if aim < 12:
            fields["skus"] = rng.sample(codes, 5)
        elif aim < 19:
            fields["categories"] = [rng.choice(subs + tops).code]
        value = Decimal(rng.randint(1, 30))
        if kind == "amount_off":
            value = Decimal(rng.randint(10, 300)) / 100
        elif kind == "buy_x_get_y":
            fields.update(buy_quantity=2, get_quantity=1, value=Decimal(50))
        elif kind == "spend_threshold":
            fields["min_subtotal"] = Decimal(rng.randint(20, 200))
        fields.setdefault("value", value)
        promotion = services.create_promotion(name=f"Promo {n}", kind=kind, **fields)
        if n % 10 == 0:
            services.create_coupon(promotion=promotion, code=f"BENCH{n}")
    return codes, store.code


def timed(fn, runs: int) -> tuple[list[float], float]:
    """Wall time of each run, and the CPU time of this process per run (which neighbours on
    a shared machine disturb less; on PostgreSQL it leaves out the server's share)."""
    times = []
    cpu = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times, (time.process_time() - cpu) / runs


def count_queries(fn) -> int:
    # Not CaptureQueriesContext: the test client's request_started signal resets its log.
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count


def report(label: str, timing: tuple[list[float], float], queries: int | None = None) -> None:
    times, cpu = timing
    ordered = sorted(times)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    extra = f"   {queries:2d} queries/quote" if queries is not None else ""
    print(
        f"{label:<22} {len(times) / sum(times):7.1f} quotes/s   p50 {p50:7.2f} ms   "
        f"p99 {p99:7.2f} ms   cpu {cpu * 1000:6.2f} ms/quote{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=200)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--promotions", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(20260301)

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        # Its own database, so it never drops the test database of a pytest run beside it.
        connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench_quotes"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        codes, store = seed(promotions=args.promotions, rng=rng)
        cart = [
            services.CartItem(code, rng.randint(1, 4)) for code in rng.sample(codes, args.lines)
        ]
        coupons = ["bench0", "BENCH10", "nope"]
        print(
            f"{connection.vendor}: {SKU_COUNT} SKUs, {args.promotions} active promotions, "
            f"{args.lines}-line cart, {args.quotes} quotes each (seeded in "
            f"{time.perf_counter() - started:.1f} s)"
        )

        def in_process():
            return services.quote(
                channel="web", location=store, customer_id=1, lines=cart, coupon_codes=coupons
            )

        result = in_process()
        snapshot = services.build_snapshot(
            channel="web", location=store, customer_id=1, lines=cart, coupon_codes=coupons
        )
        print(
            f"  snapshot holds {len(snapshot.promotions)} promotions for this cart; "
            f"{len(result.applied_promotions)} applied, total {result.total} {result.currency}"
        )
        report("engine only", timed(lambda: price_cart(snapshot), args.quotes))
        report("quote() in process", timed(in_process, args.quotes), count_queries(in_process))

        _, key = create_api_client(name="bench", role=Role.STOREFRONT)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        body = {
            "channel": "web",
            "location": store,
            "customer": 1,
            "lines": [{"sku": item.sku, "quantity": item.quantity} for item in cart],
            "coupon_codes": coupons,
        }

        def through_api():
            response = client.post("/api/v1/pricing/quote/", body, format="json")
            if response.status_code != 200:
                raise SystemExit(f"quote API answered {response.status_code}: {response.content!r}")

        report("POST /pricing/quote/", timed(through_api, args.quotes), count_queries(through_api))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
