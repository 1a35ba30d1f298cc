"""The sized data set the suite and the load test run against, loaded fast and kept.

Two sizes (``SIZES``): ``full`` (1,000 locations, 20,000 SKUs, 2,000 promotions, 100,000
customers) and ``small`` (a tenth or less of each). Everything is seeded, so a size always
gives the same rows. The big tables go in with PostgreSQL's ``COPY`` (stock levels, prices,
customers, loyalty accounts), the stock ledger with one ``INSERT ... SELECT`` from the levels
(a receipt per level, so on hand equals its ledger from the start), promotions with
``bulk_create``; the few rows whose books matter (points, store credit, tax) go through the
services. Each size has its own database (``retail_bench_<size>``, or ``BENCH_DATABASE``);
a marker row records what was loaded, and the next run reuses the database if the marker
matches the size, the layout version and the migrations, else drops and loads it again.

The layout, with the codes the benchmarks rely on:

- ``WH-AMS``: a warehouse at the Dam in Amsterdam, no handling cost, top priority, with
  10⁹ units of every SKU: every ship order of the benchmarks goes there.
- ``WH-001``...: more warehouses over the Netherlands with every SKU, 0 to 500 units each.
- ``ST-0001``...: stores; 90 % take pickups, a third ship from store. Each holds an
  assortment of ``assortment`` SKUs drawn from ``SKU-01001`` up, 0 to 40 units each. The
  first eight (the load test's stores) lie in Amsterdam.
- ``SKU-00000`` is the hot SKU and ``SKU-00001`` to ``SKU-01000`` the spread SKUs of the
  checkout benchmark: held by warehouses only, so every order of them reserves at ``WH-AMS``.
- ``CEILING``: an inactive location (no plan, no availability sees it) with the hot and the
  spread SKUs, whose rows the raw ``UPDATE`` of the ceiling measurement hammers.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench._setup import bench_database_url, psycopg_conninfo, setup_django

ROOT = Path(__file__).resolve().parent.parent
VERSION = 1  # bump when the layout below changes: cached databases are then reloaded
MARKER = "bench_dataset"
ON_HAND = 1_000_000_000
HOT = "SKU-00000"
SPREAD = [f"SKU-{n:05d}" for n in range(1, 1001)]
HUB = "WH-AMS"
CEILING = "CEILING"
DAM = (52.3731, 4.8926)
LOAD_STORES = 8  # ST-0001..ST-0008: the load test's stores, each with a till and staff


@dataclass(frozen=True)
class Size:
    locations: int
    skus: int
    promotions: int
    customers: int
    warehouses: int
    assortment: int  # SKUs per store
    points_customers: int  # customers given points through the loyalty service
    credit_customers: int  # customers given store credit through its service


SIZES = {
    "full": Size(1_000, 20_000, 2_000, 100_000, 10, 300, 200, 200),
    "small": Size(100, 2_000, 200, 5_000, 2, 100, 50, 50),
}


def sku_code(n: int) -> str:
    return f"SKU-{n:05d}"


def store_code(n: int) -> str:
    return f"ST-{n:04d}"


def store_assortment(size: Size, store: int) -> list[int]:
    """SKU numbers a store holds (seeded by the store's number)."""
    rng = random.Random(1000 + store)
    return sorted(rng.sample(range(1001, size.skus), size.assortment))


def customer_email(n: int) -> str:
    return f"customer{n:06d}@bench.example.com"


def card_number(n: int) -> str:
    """Luhn-valid and unlike any the service draws (``279`` then the customer's number)."""
    from loyalty.cards import luhn_check_digit

    payload = f"279{n:09d}"
    return payload + luhn_check_digit(payload)


# --- Database: marker, fresh or cached ------------------------------------------------------


def database_url(size_name: str) -> str:
    os.environ.setdefault("BENCH_DATABASE", f"retail_bench_{size_name}")
    return bench_database_url()


def spec(size_name: str) -> dict:
    migrations = sorted(
        str(p.relative_to(ROOT)) for p in ROOT.glob("*/migrations/0*.py") if ".venv" not in p.parts
    )
    digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:16]
    return {
        "size": size_name,
        **asdict(SIZES[size_name]),
        "version": VERSION,
        "migrations": digest,
    }


def _admin_conninfo(url: str) -> str:
    return urlunsplit(urlsplit(psycopg_conninfo(url))._replace(path="/postgres"))


def cached_spec(url: str) -> dict | None:
    """The marker of the database at ``url``, or None (no database, no marker)."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return None
    with psycopg.connect(psycopg_conninfo(url), autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass(%s)", (MARKER,)).fetchone()[0]:
            return None
        row = conn.execute(f"SELECT spec FROM {MARKER} ORDER BY loaded_at DESC LIMIT 1").fetchone()
        return row[0] if row else None


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    source = urlsplit(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if name == source:
        sys.exit(f"The benchmark database {name} is the one in DATABASE_URL; choose another.")
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def prepare(size_name: str, *, fresh: bool = False) -> dict:
    """Point Django at the size's database and make sure it holds the data set: reuse it if
    its marker matches, else drop, migrate and load. Returns what the marker records."""
    url = database_url(size_name)
    wanted = spec(size_name)
    cached = None if fresh else cached_spec(url)
    reuse = cached is not None and {k: v for k, v in cached.items() if k in wanted} == wanted
    if not reuse:
        if cached is not None or fresh:
            print(f"Dropping {urlsplit(url).path.lstrip('/')}: it holds another data set.")
        drop_database(url)
    started = time.perf_counter()
    setup_django()  # creates and migrates (a no-op on a current database)
    name = urlsplit(url).path.lstrip("/")
    if reuse:
        print(
            f"Database {name}: the {size_name} data set is loaded already "
            f"(loaded {cached.get('loaded_at', '?')} in {cached.get('load_seconds', '?')} s)."
        )
        return cached
    print(f"Database {name}: loading the {size_name} data set ({_describe(SIZES[size_name])}).")
    load(SIZES[size_name])
    seconds = round(time.perf_counter() - started, 1)
    from django.db import connection
    from django.utils import timezone

    record = {**wanted, "loaded_at": timezone.now().isoformat(timespec="seconds")}
    record["load_seconds"] = seconds
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (loaded_at timestamptz NOT NULL, spec jsonb)"
        )
        cursor.execute(f"INSERT INTO {MARKER} VALUES (now(), %s)", [json.dumps(record)])
    print(f"Loaded in {seconds:.0f} s (migrations included).")
    return record


def _describe(size: Size) -> str:
    return (
        f"{size.locations:,} locations, {size.skus:,} SKUs, {size.promotions:,} promotions, "
        f"{size.customers:,} customers"
    )


# --- Loading ----------------------------------------------------------------------------------


class Progress:
    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.started = time.perf_counter()
        # Big tables report every quarter, small ones once when done.
        self.every = max(1, total // 4) if total >= 50_000 else total
        self.next = self.every
        self.shown = -1

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self.next:
            self.next += self.every
            self.show()

    def show(self) -> None:
        self.shown = self.done
        elapsed = time.perf_counter() - self.started
        print(
            f"    {self.label}: {self.done:,}/{self.total:,} in {elapsed:.1f} s",
            flush=True,
        )


def copy_rows(model, fields: list[str], rows: Iterable[tuple], *, total: int, label: str) -> None:
    """``COPY`` rows into ``model``'s table: ``fields`` in the order of each row's values;
    every other column gets its field's default (``auto_now`` fields: now)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    given = [model._meta.get_field(name) for name in fields]
    rest = []
    for field in model._meta.concrete_fields:
        if field in given or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()  # "" for text fields without one
            if value is None and not field.null:
                raise ValueError(f"{model.__name__}.{field.name} needs a value")
        rest.append((field, field.get_db_prep_save(value, connection)))
    columns = ", ".join(f'"{f.column}"' for f in [*given, *(f for f, _ in rest)])
    defaults = tuple(value for _, value in rest)
    progress = Progress(label, total)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row((*row, *defaults))
            progress.step()
    if progress.shown != progress.done:
        progress.show()


def load(size: Size) -> None:
    from django.db import connection, transaction

    with transaction.atomic():
        ids = _catalog(size)
        _locations(size)
        _stock(size, ids)
        _prices(size, ids)
        _promotions(size, ids)
        _customers(size)
    _books(size)
    print("    ANALYZE", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _catalog(size: Size) -> dict[str, int]:
    from inventory.models import SKU, Category, Product

    tops = Category.objects.bulk_create(
        Category(code=f"dept-{t}", name=f"Department {t}", path=f"dept-{t}/") for t in range(10)
    )
    subs = Category.objects.bulk_create(
        Category(
            code=f"cat-{t}-{s}",
            name=f"Category {t}.{s}",
            parent=top,
            path=f"{top.path}cat-{t}-{s}/",
        )
        for t, top in enumerate(tops)
        for s in range(5)
    )
    products = size.skus // 4
    copy_rows(
        Product,
        ["name", "category"],
        ((f"Product {n}", subs[n % len(subs)].pk) for n in range(products)),
        total=products,
        label="products",
    )
    product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    copy_rows(
        SKU,
        ["product", "sku", "barcode", "name", "attributes"],
        (
            (
                product_ids[n // 4],
                sku_code(n),
                f"87{n:011d}",
                f"Item {n}",
                json.dumps({"size": "SMLX"[n % 4]}),
            )
            for n in range(size.skus)
        ),
        total=size.skus,
        label="SKUs",
    )
    return dict(SKU.objects.values_list("sku", "pk"))


def _locations(size: Size) -> None:
    from inventory.models import Location

    rng = random.Random(42)
    rows = [
        Location(
            code=HUB,
            name="Warehouse Amsterdam",
            type=Location.Type.WAREHOUSE,
            latitude=Decimal(f"{DAM[0]:.6f}"),
            longitude=Decimal(f"{DAM[1]:.6f}"),
            timezone="Europe/Amsterdam",
            ship_enabled=True,
            priority=100,
            handling_cost=Decimal("0.00"),
        )
    ]
    for n in range(1, size.warehouses):
        rows.append(
            Location(
                code=f"WH-{n:03d}",
                name=f"Warehouse {n}",
                type=Location.Type.WAREHOUSE,
                latitude=Decimal(f"{rng.uniform(50.8, 53.4):.6f}"),
                longitude=Decimal(f"{rng.uniform(3.4, 7.2):.6f}"),
                timezone="Europe/Amsterdam",
                ship_enabled=True,
                priority=10,
                handling_cost=Decimal(rng.choice(["2.00", "2.50", "3.00"])),
            )
        )
    for n in range(1, size.locations - size.warehouses + 1):
        near = n <= LOAD_STORES
        rows.append(
            Location(
                code=store_code(n),
                name=f"Store {n}",
                type=Location.Type.STORE,
                latitude=Decimal(
                    f"{rng.uniform(52.33, 52.40) if near else rng.uniform(50.8, 53.4):.6f}"
                ),
                longitude=Decimal(
                    f"{rng.uniform(4.85, 4.95) if near else rng.uniform(3.4, 7.2):.6f}"
                ),
                timezone="Europe/Amsterdam",
                pickup_enabled=near or n % 10 != 0,
                ship_enabled=n % 3 == 0,
                priority=n % 5,
                daily_capacity=rng.choice([None, None, 50, 200]),
                handling_cost=Decimal(rng.choice(["1.00", "1.50", "2.00", "3.00"])),
            )
        )
    rows.append(
        Location(
            code=CEILING,
            name="Ceiling rows (benchmark only)",
            type=Location.Type.WAREHOUSE,
            latitude=Decimal("52.000000"),
            longitude=Decimal("5.000000"),
            active=False,
        )
    )
    Location.objects.bulk_create(rows, batch_size=1000)
    print(f"    locations: {len(rows) - 1:,} (+1 inactive for the ceiling)", flush=True)


def _stock(size: Size, ids: dict[str, int]) -> None:
    """Levels by COPY, then one receipt per level with stock, in one INSERT ... SELECT."""
    from django.db import connection

    from inventory.models import Location, StockLevel, StockMovement

    locations = dict(Location.objects.values_list("code", "pk"))
    rng = random.Random(7)
    stores = size.locations - size.warehouses
    total = size.warehouses * size.skus + stores * size.assortment + 1 + len(SPREAD)

    def rows():
        for n in range(size.skus):
            yield ids[sku_code(n)], locations[HUB], ON_HAND, 0
        for w in range(1, size.warehouses):
            location = locations[f"WH-{w:03d}"]
            for n in range(size.skus):
                yield ids[sku_code(n)], location, rng.choice([0, *range(1, 501)]), 0
        for s in range(1, stores + 1):
            location = locations[store_code(s)]
            for n in store_assortment(size, s):
                yield (
                    ids[sku_code(n)],
                    location,
                    rng.choice([0, 1, 2, 3, 5, 8, 13, 20, 40]),
                    rng.choice([0, 0, 0, 1, 2]),
                )
        for code in [HOT, *SPREAD]:
            yield ids[code], locations[CEILING], ON_HAND, 0

    copy_rows(
        StockLevel,
        ["sku", "location", "on_hand", "safety_stock"],
        rows(),
        total=total,
        label="stock levels",
    )
    level = {f.name: f.column for f in StockLevel._meta.concrete_fields}
    move = {f.name: f.column for f in StockMovement._meta.concrete_fields}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO "{StockMovement._meta.db_table}"
              ({move["level"]}, {move["sku"]}, {move["location"]}, {move["kind"]},
               {move["quantity"]}, {move["on_hand_after"]}, {move["reason"]},
               {move["reference"]}, {move["actor"]}, {move["occurred_at"]},
               {move["recorded_at"]})
            SELECT {level["id"]}, {level["sku"]}, {level["location"]}, 'receipt',
                   {level["on_hand"]}, {level["on_hand"]}, 'benchmark data set',
                   'bench:dataset', 'bench', now(), now()
            FROM "{StockLevel._meta.db_table}" WHERE {level["on_hand"]} > 0
            """
        )
        written = cursor.rowcount
    print(
        f"    stock ledger: {written:,} receipts in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _prices(size: Size, ids: dict[str, int]) -> None:
    from pricing import services as pricing
    from pricing.models import Price

    rng = random.Random(11)
    amounts = [Decimal(rng.randint(199, 9_999)) / 100 for _ in range(size.skus)]
    for channel in ("web", "pos"):
        price_list = pricing.create_price_list(
            code=channel.upper(), name=f"{channel} prices", channel=channel
        )
        copy_rows(
            Price,
            ["price_list", "sku", "amount"],
            ((price_list.pk, ids[sku_code(n)], amounts[n]) for n in range(size.skus)),
            total=size.skus,
            label=f"{channel} prices",
        )
    pricing.set_tax_rate(location=None, name="VAT", rate=Decimal("21"))


def _promotions(size: Size, ids: dict[str, int]) -> None:
    """Every kind, aimed at SKUs (60 %), categories (35 %) or everything (5 %); some only on
    the web, some at one store, some exclusive, limited or needing a coupon; a fifth ended."""
    from datetime import timedelta

    from django.utils import timezone

    from inventory.models import Category, Channel, Location
    from pricing.models import Coupon, Promotion
    from pricing.services.catalog import check_promotion

    rng = random.Random(13)
    now = timezone.now()
    categories = list(Category.objects.values_list("pk", flat=True))
    web = Channel.objects.get(code="web").pk
    stores = list(Location.objects.filter(code__startswith="ST-").values_list("pk", flat=True))
    kinds = ["percent_off", "amount_off", "buy_x_get_y", "spend_threshold"]
    promotions, targets = [], []
    for n in range(size.promotions):
        kind = kinds[n % 4]
        promotion = Promotion(
            name=f"Promotion {n}",
            kind=kind,
            value=Decimal(rng.randint(1, 30)),
            priority=rng.randint(0, 5),
            exclusive=n % 20 == 0,
            requires_coupon=n % 10 == 0,
            usage_limit=1_000_000 if n % 7 == 0 else None,
            per_customer_limit=5 if n % 25 == 0 else None,
            starts_at=now - timedelta(days=30),
            ends_at=now - timedelta(days=1) if n % 5 == 4 else now + timedelta(days=365),
        )
        if kind == "amount_off":
            promotion.value = Decimal(rng.randint(10, 300)) / 100
        elif kind == "buy_x_get_y":
            promotion.buy_quantity, promotion.get_quantity, promotion.value = 2, 1, Decimal(50)
        elif kind == "spend_threshold":
            promotion.min_subtotal = Decimal(rng.randint(20, 200))
        check_promotion(promotion)
        aim = n % 20
        targets.append(
            {
                "skus": [ids[sku_code(k)] for k in rng.sample(range(size.skus), 5)]
                if aim < 12
                else [],
                "categories": [rng.choice(categories)] if 12 <= aim < 19 else [],
                "channels": [web] if n % 3 else [],
                "locations": [rng.choice(stores)] if n % 10 == 1 else [],
            }
        )
        promotions.append(promotion)
    Promotion.objects.bulk_create(promotions, batch_size=500)
    for name in ("skus", "categories", "channels", "locations"):
        through = getattr(Promotion, name).through
        column = {"skus": "sku_id", "categories": "category_id", "channels": "channel_id"}.get(
            name, "location_id"
        )
        through.objects.bulk_create(
            [
                through(promotion_id=promotion.pk, **{column: pk})
                for promotion, aims in zip(promotions, targets, strict=True)
                for pk in aims[name]
            ],
            batch_size=2000,
        )
    Coupon.objects.bulk_create(
        [Coupon(promotion=p, code=f"BENCH{n}") for n, p in enumerate(promotions) if n % 10 == 0]
    )
    print(f"    promotions: {len(promotions):,}", flush=True)


def _customers(size: Size) -> None:
    """Customers and their loyalty accounts, by COPY with ids chosen here."""
    from django.db import connection

    from loyalty.models import Customer, LoyaltyAccount

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{Customer._meta.db_table}"')
        first = cursor.fetchone()[0] + 1
    copy_rows(
        Customer,
        ["id", "email", "first_name", "last_name", "phone"],
        (
            (first + n, customer_email(n), f"First{n}", f"Last{n}", f"+3160{n:07d}")
            for n in range(size.customers)
        ),
        total=size.customers,
        label="customers",
    )
    copy_rows(
        LoyaltyAccount,
        ["customer", "card_number"],
        ((first + n, card_number(n)) for n in range(size.customers)),
        total=size.customers,
        label="loyalty accounts",
    )
    with connection.cursor() as cursor:
        for model in (Customer, LoyaltyAccount):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )


def _books(size: Size) -> None:
    """Points and store credit for a few customers, through their services (ledger kept)."""
    from loyalty import services as loyalty

    started = time.perf_counter()
    for n in range(size.points_customers):
        loyalty.adjust_points(
            card_number=card_number(n),
            points=5_000,
            reason="benchmark data set",
            actor="bench",
            reference=f"bench:points:{n}",
        )
    for n in range(size.points_customers, size.points_customers + size.credit_customers):
        from loyalty.models import Customer

        loyalty.issue_store_credit(
            email=customer_email(n),
            customer_id=Customer.objects.only("pk").get(email=customer_email(n)).pk,
            amount=Decimal("10000.00"),
            currency="EUR",
            reference=f"bench:credit:{n}",
        )
    print(
        f"    points for {size.points_customers}, store credit for {size.credit_customers} "
        f"customers, in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


# --- What the benchmarks need at run time -----------------------------------------------------


def manifest(size_name: str) -> dict:
    """Codes, ids and fresh tokens the benchmarks and the load test use (tokens are made anew
    on every run; the data set itself is not changed)."""
    from config.api.roles import Role
    from config.api.services import create_api_client
    from inventory.models import Category
    from loyalty.models import Customer

    size = SIZES[size_name]
    rng = random.Random()
    stores = [store_code(n) for n in range(1, LOAD_STORES + 1)]
    stamp = time.strftime("%Y%m%d%H%M%S")
    _, storefront = create_api_client(name=f"bench storefront {stamp}", role=Role.STOREFRONT)
    tills = {
        code: create_api_client(
            name=f"bench till {code} {stamp}", role=Role.POS, location_codes=[code]
        )[1]
        for code in stores
    }
    _, staff = create_api_client(
        name=f"bench staff {stamp}", role=Role.STORE_STAFF, location_codes=[*stores, HUB]
    )
    first = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    points = [
        {"id": first + n, "card_number": card_number(n)} for n in range(size.points_customers)
    ]
    credit = [
        {"id": first + n, "email": customer_email(n), "card_number": card_number(n)}
        for n in range(size.points_customers, size.points_customers + size.credit_customers)
    ]
    sample = rng.sample(range(size.customers), min(2_000, size.customers))
    return {
        "size": size_name,
        "hub": HUB,
        "hot": HOT,
        "spread": SPREAD,
        "near": list(DAM),
        "stores": {
            code: [sku_code(k) for k in store_assortment(size, n)]
            for n, code in enumerate(stores, start=1)
        },
        "catalog": [sku_code(k) for k in rng.sample(range(size.skus), min(2_000, size.skus))],
        "categories": list(Category.objects.values_list("code", flat=True)),
        "customers": [first + n for n in sample],
        "points_customers": points,
        "credit_customers": credit,
        "tokens": {"storefront": storefront, "tills": tills, "staff": staff},
    }
