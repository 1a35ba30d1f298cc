"""``python manage.py demo``: a retailer in the Amsterdam metro area to try the service on.

The demo is a list of steps (:data:`STEPS`). Each step creates what is missing and leaves
what is there, so running the command again is harmless, and a step added later (stock,
prices, promotions, customers) fills in an existing demo database on the next run. A step
may also name a ``reset`` that removes its own rows; ``--reset`` runs those in reverse order
before building again.

Static data lives in ``fixtures/`` (locations, categories, product styles); SKUs are
expanded from the styles in code, deterministically: the same seed gives the same SKU codes
and barcodes on every machine. ``Demo.rng`` is the seeded generator later steps draw from.

Everything is written through the apps' services. The exception is ``--reset``: no app has
a "delete" use case (stock and orders refer to catalog rows), so the reset functions delete
the demo's own rows directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from config.api.models import ApiClient
from config.api.roles import Role
from config.api.services import create_api_client, issue_token, revoke_token
from inventory import services as inventory
from inventory.models import SKU, Category, Location, Product

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEFAULT_SEED = 20240501
# GS1 prefix 200-299 is "restricted circulation": numbers a retailer may assign to its own
# articles. Demo barcodes are valid EAN-13s that cannot clash with a real brand's product.
BARCODE_PREFIX = "200"
DEMO_STORE = "AMS-KALVERSTRAAT"  # the flagship: POS and store-staff tokens are bound here
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@example.com"

# The services log every row they create at INFO; a demo of 600 rows would bury the progress.
QUIET_LOGGERS = ("inventory", "config.api")


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
    """What a step gets: the fixtures, a seeded random generator, a way to report, and the
    list of credentials to print at the end."""

    seed: int
    write: Callable[[str], None]
    admin_password: str | None = None
    fixtures_dir: Path = FIXTURES_DIR
    credentials: list[tuple[str, str]] = field(default_factory=list)
    tokens: list[tuple[str, str]] = field(default_factory=list)

    @cached_property
    def rng(self) -> random.Random:
        return random.Random(self.seed)  # demo data, not secrets

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
    there_text = f"{there} {noun}".rstrip() + " already there"
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


# Later issues add steps here (stock, prices, promotions, customers, orders), in the order
# their data depends on each other; --reset undoes them in reverse.
STEPS: list[Step] = [
    Step("Locations (warehouses and stores)", create_locations, delete_locations),
    Step("Category tree", create_categories, delete_categories),
    Step("Products and SKUs", create_products, delete_products),
    Step("Admin user", create_admin_user),
    Step("API clients", create_api_clients, delete_api_clients),
]


# --- The command -------------------------------------------------------------------------


@contextmanager
def quiet_service_logs(enabled: bool) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS] if enabled else []
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Build a demo retailer (Amsterdam metro area: warehouses, stores, categories, SKUs) "
        "and print an API token per role. Safe to run again: it only adds what is missing."
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
            help="Seed for generated data such as barcodes (default: %(default)s).",
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
        with quiet_service_logs(verbosity < 2):
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
