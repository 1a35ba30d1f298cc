"""``python manage.py demo``: a retailer in the Amsterdam metro area to try the service on.

The demo is a list of steps (:data:`STEPS`): locations, categories, SKUs, the admin user,
API clients, stock, prices and promotions, loyalty customers, orders. Each step creates what
is missing and leaves what is there, so running the command again is harmless, and a step
added later fills in an existing demo database on the next run. A step may also name a
``reset`` that removes its own rows; ``--reset`` runs those in reverse order before
building again.

Static data lives in ``fixtures/``: locations, categories and product styles with their
consumer prices (``catalog.json``), tax, price lists and promotions (``pricing.json``),
customers and the orders placed for them (``customers.json``). SKUs and stock are generated
from it in code, deterministically: the same seed gives the same SKU codes, barcodes and
stock on every machine. Generated numbers are drawn per item (:func:`seeded`), not from one
stream, so a piece filled in later is the piece a fresh run would have made.

Everything is written through the apps' services. The exception is ``--reset``: no app has
a "delete" use case (stock and orders refer to catalog rows), so the reset functions delete
directly, in the order the foreign keys allow: the demo's own rows and whatever refers to
them (an order placed through the API at a demo store, stock of a demo SKU), which would
otherwise keep them from being deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.test.utils import override_settings
from django.utils import timezone

from config.api.models import ApiClient
from config.api.roles import Role
from config.api.services import create_api_client, issue_token, revoke_token
from inventory import selectors as inventory_selectors
from inventory import services as inventory
from inventory.models import (
    SKU,
    Category,
    Channel,
    Location,
    Product,
    Reservation,
    StockLevel,
    StockMovement,
    StockShortfall,
    Transfer,
)
from loyalty import services as loyalty
from loyalty.models import (
    Customer,
    Earning,
    EarningReversal,
    LotMovement,
    LoyaltyAccount,
    PointsEntry,
    PointsLot,
    Redemption,
    RedemptionRefund,
    StoreCreditAccount,
    StoreCreditEntry,
)
from orders import services as orders
from orders.models import Cart, Fulfilment, FulfilmentLine, Notification, Order, Payment
from pricing import services as pricing
from pricing.models import Coupon, Price, PriceList, Promotion, PromotionRedemption, TaxRate
from returns.models import Return

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEFAULT_SEED = 20240501
# GS1 prefix 200-299 is "restricted circulation": numbers a retailer may assign to its own
# articles. Demo barcodes are valid EAN-13s that cannot clash with a real brand's product.
BARCODE_PREFIX = "200"
DEMO_STORE = "AMS-KALVERSTRAAT"  # the flagship: POS and store-staff tokens are bound here
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@example.com"

ACTOR = "demo"  # who the ledgers, price history and order events say did it
# The services log every row they create at INFO; a demo of 600 rows would bury the progress.
# Celery logs each customer message its in-process worker sends, and kombu warns that the
# in-memory broker has no host name.
QUIET_LOGGERS = {
    "inventory": logging.WARNING,
    "config.api": logging.WARNING,
    "pricing": logging.WARNING,
    "loyalty": logging.WARNING,
    "orders": logging.WARNING,
    "celery": logging.WARNING,
    "kombu": logging.ERROR,
}


# --- Deterministic helpers ---------------------------------------------------------------


def ean13_check_digit(first12: str) -> str:
    """GS1 check digit: weights 1 and 3 alternate from the left over the first 12 digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"expected 12 digits, got {first12!r}")
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


def demo_barcode(sku: str, *, seed: int, attempt: int = 0) -> str:
    """A valid EAN-13 derived from the SKU code and the seed alone, so that it does not
    depend on the order of the fixture (adding a style never renumbers the others)."""
    digest = hashlib.sha256(f"{seed}:{sku}:{attempt}".encode()).hexdigest()
    body = f"{BARCODE_PREFIX}{int(digest, 16) % 10**9:09d}"
    return body + ean13_check_digit(body)


def seeded(seed: int, *parts: object) -> random.Random:
    """A generator for one item (a SKU at a location, a store's range of a style): its
    numbers depend on the seed and the item alone, not on what was drawn before, so that a
    piece filled in later is the piece a fresh run would have made."""
    return random.Random(":".join(str(part) for part in (seed, *parts)))  # demo data


def size_weight(size: str, run: list[str]) -> float:
    """Middle sizes sell most: 1.0 in the middle of a size run, 0.5 at both ends."""
    if len(run) < 2 or size not in run:
        return 1.0
    middle = (len(run) - 1) / 2
    return 1 - 0.5 * abs(run.index(size) - middle) / middle


def next_monday(now: datetime, zone: str) -> datetime:
    """Midnight at the start of next week's Monday, local time (a week ahead on a Monday)."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), clock.min, tzinfo=tz)


def size_code(size: str) -> str:
    """The size as it appears in a SKU code: ``30/32`` → ``30-32``, ``One size`` → ``OS``."""
    if size.lower() == "one size":
        return "OS"
    return size.upper().replace("/", "-").replace(" ", "")


def expand_style(style: dict[str, Any], catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """One SKU per colour and size of a product style, colours in fixture order."""
    rows = []
    for colour in style["colours"]:
        for size in catalog["size_runs"][style["sizes"]]:
            rows.append(
                {
                    "sku": f"{style['style']}-{catalog['colours'][colour]}-{size_code(size)}",
                    "name": f"{style['name']}, {colour.lower()}, {size}",
                    "attributes": {"style": style["style"], "colour": colour, "size": size},
                }
            )
    return rows


# --- The context the steps share ---------------------------------------------------------


@dataclass
class Demo:
    """What a step gets: the fixtures, the seed (see :func:`seeded`), a way to report, and
    what to print at the end: credentials, tokens, things to try."""

    seed: int
    write: Callable[[str], None]
    admin_password: str | None = None
    fixtures_dir: Path = FIXTURES_DIR
    credentials: list[tuple[str, str]] = field(default_factory=list)
    tokens: list[tuple[str, str]] = field(default_factory=list)
    # What the last steps leave to try: (email, password, tier) and the pickup waiting at
    # the flagship (order number, fulfilment id, pickup code, status).
    customer_login: tuple[str, str, str] | None = None
    pickup: tuple[str, int, str, str] | None = None

    def fixture(self, name: str) -> dict[str, Any]:
        return json.loads((self.fixtures_dir / name).read_text(encoding="utf-8"))

    @cached_property
    def locations(self) -> dict[str, Any]:
        return self.fixture("locations.json")

    @cached_property
    def catalog(self) -> dict[str, Any]:
        return self.fixture("catalog.json")

    def location_codes(self) -> list[str]:
        return [row["code"] for row in self.locations["warehouses"] + self.locations["stores"]]

    def category_codes(self) -> list[str]:
        return [code for code, _, _ in _walk_categories(self.catalog["categories"])]

    def sku_codes(self) -> list[str]:
        return [
            row["sku"]
            for style in self.catalog["products"]
            for row in expand_style(style, self.catalog)
        ]

    @cached_property
    def pricing(self) -> dict[str, Any]:
        return self.fixture("pricing.json")

    @cached_property
    def people(self) -> dict[str, Any]:
        return self.fixture("customers.json")

    @cached_property
    def styles(self) -> dict[str, dict[str, Any]]:
        return {style["style"]: style for style in self.catalog["products"]}

    def skus_of(self, styles: list[str]) -> list[str]:
        return [
            row["sku"] for code in styles for row in expand_style(self.styles[code], self.catalog)
        ]

    def sku_of(self, style: str, size: str) -> str:
        """The style's SKU in its first colour and ``size``: a stable example for the docs."""
        rows = expand_style(self.styles[style], self.catalog)
        return next((r["sku"] for r in rows if r["attributes"]["size"] == size), rows[0]["sku"])

    def catalog_prices(self, styles: dict[str, str] | None = None) -> dict[str, Decimal]:
        """SKU code → consumer price: every SKU at its style's catalog price, or only the
        styles given (style → price)."""
        wanted = (
            styles
            if styles is not None
            else {s["style"]: s["price"] for s in self.catalog["products"]}
        )
        return {
            sku: Decimal(price) for style, price in wanted.items() for sku in self.skus_of([style])
        }

    def customer_emails(self) -> list[str]:
        return [row["email"] for row in self.people["customers"]]

    def order_references(self) -> list[str]:
        return [order_reference(row["key"]) for row in self.people["orders"]]


@dataclass(frozen=True)
class Step:
    """``run`` creates what is missing and returns a one-line summary; ``reset`` (optional)
    deletes what ``run`` created."""

    title: str
    run: Callable[[Demo], str]
    reset: Callable[[Demo], None] | None = None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary(created: str, *, done: int, there: int, noun: str = "") -> str:
    """ "3 created, 2 already there" or, on a run that adds nothing, "all 5 already there"."""
    there_text = f"{there:,} {noun}".rstrip() + " already there"
    if not done:
        return f"all {there_text}"
    return f"{created}, {there_text}" if there else created


# --- Locations ---------------------------------------------------------------------------


def create_locations(demo: Demo) -> str:
    data = demo.locations
    existing = set(
        Location.objects.filter(code__in=demo.location_codes()).values_list("code", flat=True)
    )
    created = {"warehouse": 0, "store": 0}
    rows = [(Location.Type.WAREHOUSE, row) for row in data["warehouses"]]
    rows += [(Location.Type.STORE, row) for row in data["stores"]]
    for kind, row in rows:
        if row["code"] in existing:
            continue
        is_store = kind == Location.Type.STORE
        inventory.create_location(
            code=row["code"],
            name=row["name"],
            type=kind,
            address=row["address"],
            latitude=Decimal(row["latitude"]),
            longitude=Decimal(row["longitude"]),
            timezone=data["timezone"],
            pickup_enabled=row.get("pickup_enabled", is_store),
            ship_enabled=row.get("ship_enabled", not is_store),
            priority=row.get("priority", 0),
            daily_capacity=row.get("daily_capacity"),
        )
        created[kind] += 1
    return _summary(
        f"{_count(created['warehouse'], 'warehouse')} and {_count(created['store'], 'store')} "
        "created",
        done=sum(created.values()),
        there=len(existing),
        noun="locations",
    )


def delete_locations(demo: Demo) -> None:
    Location.objects.filter(code__in=demo.location_codes()).delete()


# --- Categories --------------------------------------------------------------------------


def _walk_categories(
    nodes: list[dict[str, Any]], parent: str | None = None
) -> Iterator[tuple[str, str, str | None]]:
    """(code, name, parent code), parents before their children."""
    for node in nodes:
        yield node["code"], node["name"], parent
        yield from _walk_categories(node.get("children", []), node["code"])


def create_categories(demo: Demo) -> str:
    by_code = Category.objects.in_bulk(demo.category_codes(), field_name="code")
    before = len(by_code)
    for code, name, parent in _walk_categories(demo.catalog["categories"]):
        if code not in by_code:
            by_code[code] = inventory.create_category(
                code=code, name=name, parent=by_code[parent] if parent else None
            )
    top = len(demo.catalog["categories"])
    created = len(by_code) - before
    return _summary(
        f"{created} created, {top} of them top-level", done=created, there=before, noun="categories"
    )


def delete_categories(demo: Demo) -> None:
    # Children first: a category's parent is PROTECTed.
    for code in reversed(demo.category_codes()):
        Category.objects.filter(code=code).delete()


# --- Products and SKUs -------------------------------------------------------------------


def create_products(demo: Demo) -> str:
    catalog = demo.catalog
    categories = Category.objects.in_bulk(demo.category_codes(), field_name="code")
    existing = {
        sku.sku: sku
        for sku in SKU.objects.filter(sku__in=demo.sku_codes()).select_related("product")
    }
    used_barcodes = set(
        SKU.objects.exclude(barcode=None).values_list("barcode", flat=True).iterator()
    )
    products = skus = 0
    for style in catalog["products"]:
        rows = expand_style(style, catalog)
        missing = [row for row in rows if row["sku"] not in existing]
        if not missing:
            continue
        for row in missing:
            attempt = 0
            while (barcode := demo_barcode(row["sku"], seed=demo.seed, attempt=attempt)) in (
                used_barcodes
            ):
                attempt += 1
            used_barcodes.add(barcode)
            row["barcode"] = barcode
        present = [existing[row["sku"]] for row in rows if row["sku"] in existing]
        if present:  # a style cut short earlier: complete it
            inventory.update_product(product=present[0].product, skus=missing)
        else:
            inventory.create_product(
                name=style["name"],
                category=categories[style["category"]],
                description=style.get("description", ""),
                active=style.get("active", True),
                skus=missing,
            )
            products += 1
        skus += len(missing)
    return _summary(
        f"{products} products with {skus} SKUs created",
        done=skus,
        there=len(existing),
        noun="SKUs",
    )


def delete_products(demo: Demo) -> None:
    Product.objects.filter(skus__sku__in=demo.sku_codes()).distinct().delete()


# --- People and credentials --------------------------------------------------------------


def create_admin_user(demo: Demo) -> str:
    """A superuser for /admin/. Created with the given password (or a random one); an
    existing one gets the given password only if it has a different one, so a browser that
    is signed in stays signed in."""
    users = get_user_model()
    user = users.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        password = demo.admin_password or secrets.token_urlsafe(12)
        users.objects.create_superuser(ADMIN_USERNAME, ADMIN_EMAIL, password)
        demo.credentials.append((f"/admin/ user {ADMIN_USERNAME}", password))
        return f"superuser {ADMIN_USERNAME!r} created"
    if demo.admin_password is None:
        demo.credentials.append((f"/admin/ user {ADMIN_USERNAME}", "(unchanged)"))
        return f"user {ADMIN_USERNAME!r} already there, password unchanged"
    if not user.check_password(demo.admin_password):
        user.set_password(demo.admin_password)
        user.save(update_fields=["password"])
    demo.credentials.append((f"/admin/ user {ADMIN_USERNAME}", demo.admin_password))
    return f"user {ADMIN_USERNAME!r} already there"


# (label printed beside the token, client name, role, location codes)
DEMO_CLIENTS = [
    ("merchandiser", "Demo merchandiser", Role.MERCHANDISER, []),
    ("storefront", "Demo web shop", Role.STOREFRONT, []),
    (f"pos at {DEMO_STORE}", f"Demo POS {DEMO_STORE} till 1", Role.POS, [DEMO_STORE]),
    (f"store_staff at {DEMO_STORE}", f"Demo staff {DEMO_STORE}", Role.STORE_STAFF, [DEMO_STORE]),
]


def create_api_clients(demo: Demo) -> str:
    """One client per role. Only a digest of a token is stored, so a token cannot be shown
    twice: on a later run each existing demo client gets a new token and its old ones are
    revoked."""
    created = rotated = 0
    for label, name, role, locations in DEMO_CLIENTS:
        client = ApiClient.objects.filter(name=name, role=role).first()
        if client is None:
            client, key = create_api_client(name=name, role=role, location_codes=locations)
            created += 1
        else:
            for token in client.tokens.filter(revoked_at__isnull=True):
                revoke_token(token=token)
            key = issue_token(client=client)
            rotated += 1
        demo.tokens.append((label, key))
    return f"{created} clients created, {rotated} existing clients given new tokens"


def delete_api_clients(demo: Demo) -> None:
    for _, name, role, _ in DEMO_CLIENTS:
        ApiClient.objects.filter(name=name, role=role).delete()


# --- Stock -------------------------------------------------------------------------------

# On hand per SKU at a warehouse: its priority (20, 15, 10 in the fixture) times these, so
# the main distribution centre holds the most; middle sizes get more (:func:`size_weight`).
WAREHOUSE_UNITS_PER_PRIORITY = (3, 12)
# Stores: the ones that ship carry the whole range in larger numbers; the others a seeded
# share of the styles. Basics (below) twice as deep. Some sizes are sold out (a level with
# nothing on hand).
STORE_UNITS = {"full": (2, 12), "small": (1, 6)}
STORE_RANGE_SHARE = 0.65
SOLD_OUT_SHARE = 0.15
# Basics are never out of stock: they are replenished by reorder point, so their levels get
# (safety stock, reorder point) at these locations; everything else keeps 0 and 0 (fashion
# lines are bought per season, not reordered). Levels whose available stock is at or below
# the reorder point make up the daily low-stock report.
BASIC_STYLES = ("W1001", "M1001", "W4001", "M4001", "K1001", "A3001", "A3002", "H1003", "H2001")
STOCK_PARAMETERS = {"WH-WESTPOORT": (10, 50), DEMO_STORE: (1, 2), "HAARLEM-CENTRUM": (1, 2)}
RECEIPT = inventory.Entry(reason="Opening stock", reference="demo:opening-stock", actor=ACTOR)
SOLD_OUT = inventory.Entry(
    reason="Opening count: none left", reference="demo:opening-stock", actor=ACTOR
)


def stock_plan(demo: Demo) -> dict[tuple[str, str], int]:
    """(SKU, location) → units on hand, 0 for a sold-out size, for the active styles."""
    catalog = demo.catalog
    styles = [style for style in catalog["products"] if style.get("active", True)]
    plan: dict[tuple[str, str], int] = {}
    basics = set(BASIC_STYLES)
    for warehouse in demo.locations["warehouses"]:
        code, priority = warehouse["code"], warehouse.get("priority", 10)
        low, high = (priority * k for k in WAREHOUSE_UNITS_PER_PRIORITY)
        for style in styles:
            run = catalog["size_runs"][style["sizes"]]
            for row in expand_style(style, catalog):
                units = seeded(demo.seed, "stock", code, row["sku"]).randint(low, high)
                weight = size_weight(row["attributes"]["size"], run)
                plan[(row["sku"], code)] = max(1, round(units * weight))
    for store in demo.locations["stores"]:
        code, full = store["code"], store.get("ship_enabled", False)
        for style in styles:
            depth = 2 if style["style"] in basics else 1  # basics are stocked deeper
            low, high = (depth * units for units in STORE_UNITS["full" if full else "small"])
            if not full and seeded(demo.seed, "range", code, style["style"]).random() >= (
                STORE_RANGE_SHARE
            ):
                continue
            run = catalog["size_runs"][style["sizes"]]
            for row in expand_style(style, catalog):
                rng = seeded(demo.seed, "stock", code, row["sku"])
                if rng.random() < SOLD_OUT_SHARE:
                    plan[(row["sku"], code)] = 0
                    continue
                weight = size_weight(row["attributes"]["size"], run)
                plan[(row["sku"], code)] = max(1, round(rng.randint(low, high) * weight))
    return plan


def create_stock(demo: Demo) -> str:
    """Opening stock where a SKU has no level at a location yet: one batch receipt for the
    units, a stocktake of zero for the sold-out sizes, then the planning numbers of the new
    levels at :data:`STOCK_PARAMETERS`' locations. A level that exists is left alone."""
    plan = stock_plan(demo)
    existing = set(
        StockLevel.objects.filter(
            location__code__in=demo.location_codes(), sku__sku__in=demo.sku_codes()
        ).values_list("sku__sku", "location__code")
    )
    missing = {key: units for key, units in plan.items() if key not in existing}
    receipts = [
        inventory.StockLine(sku, location, units, RECEIPT)
        for (sku, location), units in missing.items()
        if units > 0
    ]
    counts = [
        inventory.StockLine(sku, location, 0, SOLD_OUT)
        for (sku, location), units in missing.items()
        if units == 0
    ]
    if receipts:
        inventory.receive_stock_batch(lines=receipts)
    if counts:
        inventory.count_stock_batch(lines=counts)
    basics = set(demo.skus_of(list(BASIC_STYLES)))
    parameters = 0
    for sku, location in missing:
        if location in STOCK_PARAMETERS and sku in basics:
            safety, reorder = STOCK_PARAMETERS[location]
            inventory.set_stock_parameters(
                sku=sku, location=location, safety_stock=safety, reorder_point=reorder
            )
            parameters += 1
    warehouses = {row["code"] for row in demo.locations["warehouses"]}
    in_warehouses = sum(1 for _, location in missing if location in warehouses)
    units = sum(missing.values())
    return _summary(
        f"{len(missing):,} levels with {units:,} units created "
        f"({in_warehouses:,} at warehouses, {len(missing) - in_warehouses:,} at stores, "
        f"{len(counts):,} of those sold out); reorder points for {parameters:,} levels of "
        f"basics at {', '.join(STOCK_PARAMETERS)}",
        done=len(missing),
        there=len(plan) - len(missing),
        noun="levels",
    )


def delete_stock(demo: Demo) -> None:
    """Stock at the demo's locations or of its SKUs, ledger and holds included."""
    levels = StockLevel.objects.filter(
        Q(location__code__in=demo.location_codes()) | Q(sku__sku__in=demo.sku_codes())
    )
    level_ids = list(levels.values_list("pk", flat=True))
    StockShortfall.objects.filter(level_id__in=level_ids).delete()
    Reservation.objects.filter(lines__level_id__in=level_ids).distinct().delete()
    StockMovement.objects.filter(level_id__in=level_ids).delete()
    Transfer.objects.filter(
        Q(sku__sku__in=demo.sku_codes())
        | Q(from_location__code__in=demo.location_codes())
        | Q(to_location__code__in=demo.location_codes())
    ).delete()
    StockLevel.objects.filter(pk__in=level_ids).delete()


# --- Prices, tax, promotions and coupons ---------------------------------------------------


def _channel(code: str) -> Channel:
    channel = Channel.objects.filter(code=code).first()
    if channel is None:  # made by a data migration (inventory 0002)
        raise CommandError(f"No sales channel {code!r}: run `manage.py migrate` first.")
    return channel


def _fill_price_list(
    spec: dict[str, Any], amounts: dict[str, Decimal], **fields
) -> tuple[int, int]:
    """Create the price list with ``amounts``, or add the SKUs it lacks to an existing one
    (amounts a merchandiser changed stay). Returns (lists created, prices added)."""
    price_list = PriceList.objects.filter(code=spec["code"]).first()
    if price_list is None:
        price_list = pricing.create_price_list(
            code=spec["code"], name=spec["name"], channel=_channel(spec["channel"]), **fields
        )
        changes = pricing.replace_prices(
            price_list=price_list,
            prices=[pricing.PriceEntry(sku, amount) for sku, amount in amounts.items()],
            actor=ACTOR,
        )
        return 1, changes.created
    have = set(Price.objects.filter(price_list=price_list).values_list("sku__sku", flat=True))
    added = 0
    for sku, amount in amounts.items():
        if sku not in have:
            pricing.set_price(price_list=price_list, sku=sku, amount=amount, actor=ACTOR)
            added += 1
    return 0, added


PROMOTION_TARGETS = ("styles", "categories", "channels", "locations", "coupons")
PROMOTION_AMOUNTS = ("value", "min_subtotal")


def create_pricing(demo: Demo) -> str:
    """The default tax rate, a price list per channel with every SKU at its catalog price
    (tax included, as both channels sell), a web price change that starts next Monday, the
    promotions and their coupons. Each piece only if it is missing."""
    data = demo.pricing
    made: list[str] = []
    if not TaxRate.objects.filter(location=None).exists():
        tax = data["tax"]
        pricing.set_tax_rate(
            location=None,
            name=tax["name"],
            rate=Decimal(tax["rate"]),
            category_rates={code: Decimal(rate) for code, rate in tax["category_rates"].items()},
        )
        made.append(f"{tax['name']} {tax['rate']}% as the default tax rate")

    prices = demo.catalog_prices()
    for spec in data["price_lists"]:
        created, added = _fill_price_list(spec, prices)
        if created:
            made.append(f"price list {spec['code']!r} ({added:,} prices)")
        elif added:
            made.append(f"{_count(added, 'price')} added to {spec['code']!r}")
    change = data["price_change"]
    starts_at = next_monday(timezone.now(), demo.locations["timezone"])
    created, added = _fill_price_list(
        change,
        demo.catalog_prices(change["prices"]),
        priority=change.get("priority", 10),
        starts_at=starts_at,
    )
    if created:
        made.append(
            f"price change {change['code']!r} from {starts_at:%a %d %b %Y} ({added:,} prices)"
        )
    elif added:
        made.append(f"{_count(added, 'price')} added to {change['code']!r}")

    names = [spec["name"] for spec in data["promotions"]]
    promotions = {p.name: p for p in Promotion.objects.filter(name__in=names)}
    new_promotions = 0
    for spec in data["promotions"]:
        if spec["name"] in promotions:
            continue
        fields = {k: v for k, v in spec.items() if k not in PROMOTION_TARGETS}
        for name in PROMOTION_AMOUNTS:
            if fields.get(name) is not None:
                fields[name] = Decimal(fields[name])
        promotions[spec["name"]] = pricing.create_promotion(
            skus=demo.skus_of(spec.get("styles", [])),
            categories=spec.get("categories", []),
            channels=spec.get("channels", []),
            locations=spec.get("locations", []),
            **fields,
        )
        new_promotions += 1
    if new_promotions:
        made.append(_count(new_promotions, "promotion"))
    coupons = [
        (spec["name"], coupon) for spec in data["promotions"] for coupon in spec.get("coupons", [])
    ]
    have = set(
        Coupon.objects.filter(code__in=[c["code"] for _, c in coupons]).values_list(
            "code", flat=True
        )
    )
    for name, coupon in coupons:
        if coupon["code"] not in have:
            pricing.create_coupon(
                promotion=promotions[name],
                code=coupon["code"],
                usage_limit=coupon.get("usage_limit"),
            )
            made.append(f"coupon {coupon['code']}")
    if not made:
        return "all already there: tax rate, price lists, promotions and coupons"
    return ", ".join(made) + " created"


def delete_pricing(demo: Demo) -> None:
    data = demo.pricing
    promotions = Promotion.objects.filter(name__in=[p["name"] for p in data["promotions"]])
    PromotionRedemption.objects.filter(promotion__in=promotions).delete()
    promotions.delete()  # with their coupons and per-customer counts
    codes = [spec["code"] for spec in data["price_lists"]] + [data["price_change"]["code"]]
    list_ids = list(PriceList.objects.filter(code__in=codes).values_list("pk", flat=True))
    Price.history.filter(price_list_id__in=list_ids).delete()
    PriceList.objects.filter(pk__in=list_ids).delete()  # with their prices
    TaxRate.objects.filter(location=None, name=data["tax"]["name"]).delete()


# --- Loyalty customers -------------------------------------------------------------------


def create_customers(demo: Demo) -> str:
    """Customers who can sign in (all with the fixture's password), each enrolled, with past
    purchases that earned points and put them in their tier."""
    data = demo.people
    existing = set(
        Customer.objects.filter(email__in=demo.customer_emails()).values_list("email", flat=True)
    )
    now = timezone.now()
    created = points = 0
    for spec in data["customers"]:
        if spec["email"] in existing:
            continue
        customer = loyalty.create_customer(
            email=spec["email"],
            first_name=spec.get("first_name", ""),
            last_name=spec.get("last_name", ""),
            phone=spec.get("phone", ""),
            password=data["password"],
            marketing_consent=spec.get("marketing_consent", False),
        )
        for index, (days_ago, category, net) in enumerate(spec["history"], start=1):
            result = loyalty.earn_points(
                reference=f"demo:purchase:{spec['email']}:{index}",
                lines=[(category, Decimal(net))],
                customer_id=customer.pk,
                occurred_at=now - timedelta(days=days_ago),
                actor=ACTOR,
            )
            points += result.total_points
        created += 1
    tiers = Counter(
        LoyaltyAccount.objects.filter(customer__email__in=demo.customer_emails()).values_list(
            "tier__code", flat=True
        )
    )
    login = data["login"]
    tier = (
        LoyaltyAccount.objects.filter(customer__email=login)
        .values_list("tier__code", flat=True)
        .first()
    )
    demo.customer_login = (login, data["password"], tier or "none")
    spread = ", ".join(f"{tiers[code]} {code}" for code in sorted(tiers, key=str) if code)
    return _summary(
        f"{_count(created, 'customer')} created with {points:,} points from past purchases "
        f"(tiers now: {spread})",
        done=created,
        there=len(existing),
        noun="customers",
    )


def delete_customers(demo: Demo) -> None:
    """The demo customers with their accounts, points ledger and sign-in clients."""
    customers = Customer.objects.filter(email__in=demo.customer_emails())
    ids = list(customers.values_list("pk", flat=True))
    ApiClient.objects.filter(customer_id__in=ids).delete()
    credit = StoreCreditAccount.objects.filter(customer_id__in=ids)
    StoreCreditEntry.objects.filter(account__in=credit).delete()
    credit.delete()
    accounts = list(LoyaltyAccount.objects.filter(customer_id__in=ids).values_list("pk", flat=True))
    RedemptionRefund.objects.filter(redemption__account_id__in=accounts).delete()
    Redemption.objects.filter(account_id__in=accounts).delete()
    EarningReversal.objects.filter(earning__account_id__in=accounts).delete()
    Earning.objects.filter(account_id__in=accounts).delete()
    LotMovement.objects.filter(lot__account_id__in=accounts).delete()
    entries = PointsEntry.objects.filter(account_id__in=accounts)
    entries.exclude(expired_lot=None).update(expired_lot=None)  # entries and lots refer both ways
    PointsLot.objects.filter(account_id__in=accounts).delete()
    entries.delete()
    LoyaltyAccount.objects.filter(pk__in=accounts).delete()
    customers.delete()


# --- Orders ------------------------------------------------------------------------------


def order_reference(key: str) -> str:
    """The payment reference a demo order is placed with: how a later run finds it."""
    return f"demo:{key}"


def _pick_sku(demo: Demo, line: dict[str, Any], *, channel: Channel, store: str | None) -> str:
    """The SKU of the line's style in its preferred size (colours in fixture order, then the
    other sizes) with enough units where the order will be served: the pickup store, or
    anywhere that ships."""
    rows = expand_style(demo.styles[line["style"]], demo.catalog)
    rows.sort(key=lambda row: row["attributes"]["size"] != line.get("size"))
    codes = [row["sku"] for row in rows]
    where = inventory_selectors.locations_for_channel(channel)
    where = where.filter(code=store) if store else where.filter(ship_enabled=True)
    available: Counter[str] = Counter()
    for per_sku in inventory_selectors.promisable_stock(skus=codes, locations=where).values():
        available.update(per_sku)
    for code in codes:
        if available[code] >= line["quantity"]:
            return code
    raise CommandError(
        f"No {line['style']} with {line['quantity']} units to promise "
        f"{'at ' + store if store else 'for shipping'}; the stock step should have made some."
    )


def _place(demo: Demo, spec: dict[str, Any], customers: dict[str, int]) -> Order:
    channel = _channel(spec.get("channel", "web"))
    store = spec.get("store") if spec["method"] == "pickup" else None
    customer_id = customers.get(spec.get("customer", ""))
    card = None
    if spec.get("redeem_points"):
        card = orders.LoyaltyInput(
            card_number=LoyaltyAccount.objects.get(customer_id=customer_id).card_number,
            redeem_points=spec["redeem_points"],
        )
    address = None
    if "address" in spec:
        fields = dict(spec["address"])
        fields["latitude"], fields["longitude"] = (
            Decimal(fields["latitude"]),
            Decimal(fields["longitude"]),
        )
        address = orders.AddressInput(**fields)
    request = orders.OrderRequest(
        channel=channel.code,
        lines=[
            orders.LineInput(
                sku=_pick_sku(demo, line, channel=channel, store=store),
                quantity=line["quantity"],
            )
            for line in spec["lines"]
        ],
        method=spec["method"],
        pickup_location=store,
        address=address,
        customer_id=customer_id,
        email=spec.get("email"),
        coupon_codes=spec.get("coupons", []),
        loyalty=card,
        payment=orders.PaymentInput(method="card", reference=order_reference(spec["key"])),
    )
    return orders.place_order(request=request, actor=ACTOR)


def _advance(order: Order, spec: dict[str, Any]) -> None:
    """Take every fulfilment of the order to the fixture's ``state`` with the fulfilment
    services, as staff would: pick everything, then ready (and collect) or ship."""
    state = spec["state"]
    if state == "placed":
        return
    for fulfilment in Fulfilment.objects.filter(order=order).order_by("pk"):
        if state == "picking":
            orders.start_picking(fulfilment_id=fulfilment.pk, actor=ACTOR)
            continue
        picked = [
            orders.PickedLine(line.order_line.sku, line.quantity)
            for line in FulfilmentLine.objects.filter(fulfilment=fulfilment).select_related(
                "order_line"
            )
        ]
        orders.record_pick(fulfilment_id=fulfilment.pk, lines=picked, actor=ACTOR)
        if state in ("ready_for_pickup", "collected"):
            orders.mark_ready(fulfilment_id=fulfilment.pk, actor=ACTOR)
        if state == "collected":
            orders.collect(
                fulfilment_id=fulfilment.pk, pickup_code=fulfilment.pickup_code, actor=ACTOR
            )
        elif state == "shipped":
            orders.ship(
                fulfilment_id=fulfilment.pk,
                carrier=spec.get("carrier", "PostNL"),
                tracking_number=f"3SDEMO{order.number.replace('-', '')}{fulfilment.pk:04d}",
                actor=ACTOR,
            )


def create_orders(demo: Demo) -> str:
    """The fixture's orders, placed with the checkout service and taken as far as their
    ``state`` says; an order whose payment reference is there already is left as it is."""
    specs = demo.people["orders"]
    existing = set(
        Payment.objects.filter(reference__in=demo.order_references()).values_list(
            "reference", flat=True
        )
    )
    customers = dict(
        Customer.objects.filter(email__in=demo.customer_emails()).values_list("email", "pk")
    )
    states: Counter[str] = Counter()
    for spec in specs:
        if order_reference(spec["key"]) in existing:
            continue
        order = _place(demo, spec, customers)
        _advance(order, spec)
        states[spec["state"].replace("_", " ")] += 1
    ready = (
        Fulfilment.objects.filter(
            order__payments__reference=order_reference("pickup-ready"),
            location__code=DEMO_STORE,
        )
        .values_list("order__number", "pk", "pickup_code", "status")
        .first()
    )
    demo.pickup = ready
    created = sum(states.values())
    return _summary(
        f"{_count(created, 'order')} placed ({', '.join(f'{n} {s}' for s, n in states.items())})",
        done=created,
        there=len(existing),
        noun="orders",
    )


def delete_orders(demo: Demo) -> None:
    """The demo's orders and any other order (with its returns) served, sold, overridden or
    returned at a demo location, for a demo SKU or a demo customer, and the carts at demo
    stores: they hold the stock, customers and locations that later resets delete. Store
    credit a return gave stays with its account (the entry no longer names the return)."""
    locations = demo.location_codes()
    at_locations = Q(return_location__code__in=locations) | Q(received_location__code__in=locations)
    ids = set(
        Order.objects.filter(
            Q(payments__reference__in=demo.order_references())
            | Q(customer__email__in=demo.customer_emails())
            | Q(fulfilments__location__code__in=locations)
            | Q(pos_sale__location__code__in=locations)
            | Q(price_overrides__location__code__in=locations)
            | Q(lines__sku__in=demo.sku_codes())
        ).values_list("pk", flat=True)
    )
    ids |= set(Return.objects.filter(at_locations).values_list("order_id", flat=True))
    returns = Return.objects.filter(order_id__in=ids)
    returns.delete()  # with their lines and refunds
    Cart.objects.filter(Q(location__code__in=locations) | Q(order_id__in=ids)).delete()
    Notification.objects.filter(order_id__in=ids).delete()
    fulfilments = Fulfilment.objects.filter(order_id__in=ids)
    fulfilments.exclude(rerouted_from=None).update(rerouted_from=None)
    FulfilmentLine.objects.filter(fulfilment__order_id__in=ids).delete()
    fulfilments.delete()
    Order.objects.filter(pk__in=ids).delete()  # with lines, payments, POS sales, history


# In the order their data depends on each other; --reset undoes them in reverse.
STEPS: list[Step] = [
    Step("Locations (warehouses and stores)", create_locations, delete_locations),
    Step("Category tree", create_categories, delete_categories),
    Step("Products and SKUs", create_products, delete_products),
    Step("Admin user", create_admin_user),
    Step("API clients", create_api_clients, delete_api_clients),
    Step("Stock (on hand, safety stock, reorder points)", create_stock, delete_stock),
    Step("Prices, tax, promotions and coupons", create_pricing, delete_pricing),
    Step("Loyalty customers", create_customers, delete_customers),
    Step("Orders (placed, picked, ready, shipped)", create_orders, delete_orders),
]


# --- The command -------------------------------------------------------------------------


@contextmanager
def quiet_service_logs(enabled: bool) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS] if enabled else []
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(QUIET_LOGGERS[logger.name])
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def quiet_console_mail() -> Iterator[None]:
    """The demo's orders send their customers the usual messages (placed, ready for pickup,
    shipped). The default console backend would print each in the middle of the progress;
    keep them in memory instead. They stay recorded, with their text, as notifications in
    the admin. Any other backend is left as configured."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
        yield
        return
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        yield


class Command(BaseCommand):
    help = (
        "Build a demo retailer (Amsterdam metro area: warehouses, stores, categories, SKUs, "
        "stock, prices and promotions, loyalty customers, orders) and print an API token per "
        "role. Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo's own rows first (steps in reverse order), then build again.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="Seed for generated data: barcodes, stock (default: %(default)s).",
        )
        parser.add_argument(
            "--admin-password",
            default=None,
            help=(
                f"Password for the {ADMIN_USERNAME!r} superuser, set if it differs. Without it a "
                "new superuser gets a random password and an existing one is left alone."
            ),
        )

    def handle(self, *args, reset, seed, admin_password, verbosity, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "Refusing to load demo data and demo credentials in production mode "
                "(DJANGO_ENV=production)."
            )
        demo = Demo(seed=seed, write=self._progress(verbosity), admin_password=admin_password)
        started = time.monotonic()
        with quiet_service_logs(verbosity < 2), quiet_console_mail():
            if reset:
                self._reset(demo)
            for number, step in enumerate(STEPS, start=1):
                demo.write(f"[{number}/{len(STEPS)}] {step.title} ...")
                step_started = time.monotonic()
                with transaction.atomic():
                    summary = step.run(demo)
                demo.write(f"      {summary} ({time.monotonic() - step_started:.1f}s)")
        demo.write(f"Demo ready in {time.monotonic() - started:.1f}s.")
        self._print_credentials(demo)

    def _progress(self, verbosity: int) -> Callable[[str], None]:
        def write(line: str) -> None:
            if verbosity >= 1:
                self.stdout.write(line)

        return write

    def _reset(self, demo: Demo) -> None:
        demo.write("Resetting the demo data ...")
        try:
            with transaction.atomic():
                for step in reversed(STEPS):
                    if step.reset is not None:
                        step.reset(demo)
                        demo.write(f"      {step.title}: removed")
        except ProtectedError as exc:
            raise CommandError(
                "Cannot reset: other rows still refer to the demo's "
                f"({exc.args[0]}). Add a reset to the step that created them."
            ) from exc

    def _print_credentials(self, demo: Demo) -> None:
        """Always printed, whatever the verbosity: without them the demo is locked."""
        out = self.stdout
        if demo.credentials:
            out.write("")
            out.write(self.style.MIGRATE_HEADING("Admin (Django admin at /admin/):"))
            for label, secret in demo.credentials:
                out.write(f"  {label}   password: {secret}")
        if demo.tokens:
            out.write("")
            out.write(
                self.style.MIGRATE_HEADING(
                    "API tokens, one per role (header  Authorization: Token <key>):"
                )
            )
            width = max(len(label) for label, _ in demo.tokens)
            for label, key in demo.tokens:
                out.write(f"  {label:<{width}}  {key}")
            out.write("")
            out.write("  Tokens are shown once; run the demo again to get new ones.")
        self._print_try_it(demo)

    def _print_try_it(self, demo: Demo) -> None:
        """A customer login, the coupon, the pickup waiting at the flagship, and two calls
        to paste (with the storefront token just printed)."""
        out = self.stdout
        base = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        token = dict(demo.tokens).get("storefront", "<storefront token>")
        auth = f'-H "Authorization: Token {token}"'
        json_body = "-H 'Content-Type: application/json'"
        out.write("")
        out.write(self.style.MIGRATE_HEADING("Try it:"))
        if demo.customer_login:
            email, password, tier = demo.customer_login
            out.write(f"  Customer login   {email}   password: {password}   (tier {tier})")
            body = json.dumps({"email": email, "password": password})
            out.write(f"    curl -X POST {json_body} -d '{body}' {base}/api/v1/auth/token/")
        coupons = [c["code"] for p in demo.pricing["promotions"] for c in p.get("coupons", [])]
        if coupons:
            out.write(f"  Coupon code      {', '.join(coupons)}")
        if demo.pickup:
            number, fulfilment, code, status = demo.pickup
            out.write(
                f"  Pickup order     {number} at {DEMO_STORE}: fulfilment {fulfilment}, "
                f"{status.replace('_', ' ')}, pickup code {code}"
            )
            out.write(
                f"    store staff token: POST {base}/api/v1/fulfilments/{fulfilment}/collect/ "
                f"""'{{"pickup_code": "{code}"}}'"""
            )
        quote = {
            "channel": "web",
            "lines": [
                {"sku": demo.sku_of("W2001", "M"), "quantity": 1},
                {"sku": demo.sku_of("A3001", "39-42"), "quantity": 3},
            ],
            "coupon_codes": coupons[:1],
        }
        out.write(
            "  Quote a cart (knitwear 20% off, socks 3 for 2, EUR 10 off above EUR 75, coupon):"
        )
        out.write(
            f"    curl -X POST {auth} {json_body} -d '{json.dumps(quote)}' {base}/api/v1/pricing/quote/"
        )
        out.write("  Availability near the Dam, nearest locations first:")
        out.write(
            f'    curl {auth} "{base}/api/v1/availability/?sku={demo.sku_of("W1001", "M")}'
            f'&near=52.3731,4.8926&max_locations=5"'
        )
