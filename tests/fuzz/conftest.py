"""The world the API fuzzer runs in: a small network with real objects behind every business
key, and one token per role. Everything is made through the services or the API itself, as
a client would, so the fuzzer meets the same rows a real deployment has."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from config.api.roles import Role
from config.api.services import create_api_client
from inventory import services as inventory_services
from pricing import services as pricing_services
from pricing.services import PriceEntry
from tests.conftest import DATA_MIGRATIONS
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    SKUFactory,
    StoreFactory,
    WarehouseFactory,
)
from tests.loyalty.factories import CustomerFactory

STORE = "FUZZ-STORE"
OTHER_STORE = "FUZZ-STORE-2"
WAREHOUSE = "FUZZ-WH"
CATEGORY = "fuzz-tees"
SKUS = ("FUZZ-TEE-M", "FUZZ-TEE-L")
PRICE = Decimal("20.00")


@dataclass
class World:
    """Tokens by caller, and real business keys by the name the API gives them."""

    tokens: dict[str, str | None]
    keys: dict[str, list] = field(default_factory=dict)

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens[caller]
        return {"Authorization": f"Token {token}"} if token else {}


@pytest.fixture
def wsgi_in_test_transaction():
    """Schemathesis calls the WSGI application directly, so Django's request signals fire and
    ``close_old_connections`` would close the test's connection mid-transaction. Django's own
    test client unhooks it for the same reason; do the same while the fuzzer runs."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _created(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()


def fast() -> override_settings:
    return override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The world, made once for the module inside a transaction that is rolled back at the
    end (Django's ``setUpTestData`` idea): each test's own transaction nests in it as a
    savepoint, so a test sees the seed and leaves nothing behind. Seeding per test would
    cost more than the fuzzing."""
    with django_db_blocker.unblock(), fast(), transaction.atomic():
        for module, function in DATA_MIGRATIONS:
            getattr(import_module(module), function)(django_apps, None)
        yield _seed()
        transaction.set_rollback(True)


@pytest.fixture
def world(seeded, db, wsgi_in_test_transaction) -> Iterator[World]:
    with fast():
        yield seeded


def _seed() -> World:
    store = StoreFactory(code=STORE, ship_enabled=True)
    StoreFactory(code=OTHER_STORE, latitude=Decimal("52.090737"), longitude=Decimal("5.121420"))
    WarehouseFactory(code=WAREHOUSE)
    category = CategoryFactory(code=CATEGORY)
    product = ProductFactory(name="Fuzz tee", category=category)
    skus = [SKUFactory(sku=sku, product=product) for sku in SKUS]
    for channel in ("web", "pos"):
        price_list = pricing_services.create_price_list(
            code=f"FUZZ-{channel.upper()}", name=channel, channel=channel
        )
        pricing_services.replace_prices(
            price_list=price_list, prices=[PriceEntry(s.sku, PRICE) for s in skus], actor="fuzz"
        )
    pricing_services.set_tax_rate(location=None, name="VAT", rate=Decimal("21"))
    for sku in SKUS:
        for location in (STORE, OTHER_STORE, WAREHOUSE):
            inventory_services.receive_stock(sku=sku, location=location, quantity=1000)
    customer = CustomerFactory(email="fuzz@example.com", first_name="Fuzz", last_name="Tester")

    keys = {}
    for caller, role, locations, customer_id in (
        ("merchandiser", Role.MERCHANDISER, [], None),
        ("storefront", Role.STOREFRONT, [], None),
        ("pos", Role.POS, [store.code], None),
        ("store_staff", Role.STORE_STAFF, [store.code, WAREHOUSE], None),
        ("customer", Role.CUSTOMER, [], customer.pk),
    ):
        _, keys[caller] = create_api_client(
            name=f"fuzz {caller}", role=role, location_codes=locations, customer_id=customer_id
        )
    merchandiser, storefront, pos = (
        _client(keys[c]) for c in ("merchandiser", "storefront", "pos")
    )

    promotion = _created(
        merchandiser.post(
            "/api/v1/promotions/",
            {"name": "Fuzz -10%", "kind": "percent_off", "value": "10", "requires_coupon": True},
            format="json",
        )
    )
    coupon = _created(
        merchandiser.post(
            f"/api/v1/promotions/{promotion['id']}/coupons/",
            {"code": "FUZZ10", "usage_limit": 1000},
            format="json",
        )
    )
    cart = _created(
        storefront.post(
            "/api/v1/carts/", {"channel": "web", "customer": customer.pk}, format="json"
        )
    )
    storefront.post(
        f"/api/v1/carts/{cart['id']}/lines/", {"sku": SKUS[0], "quantity": 1}, format="json"
    )
    order = _created(
        storefront.post(
            "/api/v1/orders/",
            {
                "channel": "web",
                "customer": customer.pk,
                "lines": [{"sku": SKUS[0], "quantity": 2}],
                "fulfilment": {"method": "pickup", "pickup_location": STORE},
                "payment": {"method": "card", "reference": "fuzz"},
            },
            format="json",
        )
    )
    sale = _created(
        pos.post(
            "/api/v1/pos/sales/",
            {
                "lines": [{"sku": SKUS[1], "quantity": 1}],
                "tenders": [{"method": "cash", "amount": "100.00"}],
            },
            format="json",
        )
    )
    returned = _created(
        pos.post(
            "/api/v1/returns/",
            {
                "order": sale["number"],
                "lines": [
                    {
                        "order_line": sale["lines"][0]["id"],
                        "quantity": 1,
                        "reason": "wrong_size",
                        "condition": "resellable",
                    }
                ],
                "return_location": STORE,
                "refund_method": "original",
            },
            format="json",
        )
    )
    reservation = _created(
        storefront.post(
            "/api/v1/reservations/",
            {"channel": "web", "lines": [{"sku": SKUS[1], "location": WAREHOUSE, "quantity": 1}]},
            format="json",
        )
    )
    transfer = _created(
        merchandiser.post(
            "/api/v1/stock/transfers/",
            {"sku": SKUS[1], "from_location": WAREHOUSE, "to_location": STORE, "quantity": 2},
            format="json",
        )
    )

    return World(
        tokens={"anonymous": None, **keys},
        keys={
            "category": [CATEGORY],
            "channel": ["web", "pos"],
            "location": [STORE, WAREHOUSE, OTHER_STORE],
            "sku": list(SKUS),
            "barcode": [s.barcode for s in skus],
            "product": [product.pk],
            "customer": [customer.pk],
            "email": [customer.email],
            "card_number": [customer.account.card_number],
            "price_list": ["FUZZ-WEB", "FUZZ-POS"],
            "promotion": [promotion["id"]],
            "coupon": [coupon["code"]],
            "cart": [cart["id"]],
            "order": [order["number"], sale["number"]],
            "order_line": [line["id"] for line in order["lines"] + sale["lines"]],
            "fulfilment": [f["id"] for f in order["fulfilments"]],
            "pos_sale": [sale["number"]],
            "return": [returned["number"]],
            "reservation": [reservation["id"]],
            "transfer": [transfer["id"]],
        },
    )
