"""Orders fixtures: a small network around Amsterdam with stock and web prices, made
through the services, and helpers to place orders through the API."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache

from config.api.roles import Role
from inventory import services as inventory_services
from inventory.models import Location, StockLevel
from loyalty import services as loyalty_services
from loyalty.models import LoyaltyProgram
from pricing import services as pricing_services
from pricing.services import PriceEntry
from tests.factories import (
    CategoryFactory,
    ChannelFactory,
    SKUFactory,
    StoreFactory,
    WarehouseFactory,
)
from tests.loyalty.factories import CustomerFactory

AMSTERDAM = {"latitude": 52.3702, "longitude": 4.8952}
ADDRESS = {
    "line1": "Damrak 1",
    "city": "Amsterdam",
    "postal_code": "1012LG",
    "country": "NL",
    **AMSTERDAM,
}
PRICES = {"TEE": "20.00", "MUG": "8.50", "SHOE": "80.00", "CAP": "12.00"}


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()


@dataclass
class Network:
    wh_near: Location  # WH-NEAR, Amsterdam west: ships, cheap
    wh_far: Location  # WH-FAR, Rotterdam: ships
    store: Location  # STORE-AMS, Amsterdam centre: pickup
    store_utrecht: Location  # STORE-UTR: pickup


@pytest.fixture
def programme(db):
    """100 points = 1.00, minimum 100, step 100."""
    LoyaltyProgram.objects.update_or_create(
        pk=1,
        defaults={
            "points_per_unit": Decimal("1"),
            "points_valid_days": 365,
            "qualifying_months": 12,
            "redemption_points": 100,
            "redemption_value": Decimal("1.00"),
            "redemption_minimum": 100,
            "redemption_step": 100,
        },
    )


@pytest.fixture
def network(db, programme) -> Network:
    # The migration's channels are gone after a transactional test flushed the tables.
    ChannelFactory(code="web", name="Web shop", currency="EUR")
    ChannelFactory(code="pos", name="Stores", currency="EUR")
    wh_near = WarehouseFactory(
        code="WH-NEAR", latitude=Decimal("52.350000"), longitude=Decimal("4.800000"), priority=1
    )
    wh_far = WarehouseFactory(
        code="WH-FAR", latitude=Decimal("51.924400"), longitude=Decimal("4.477700")
    )
    store = StoreFactory(
        code="STORE-AMS", latitude=Decimal("52.373000"), longitude=Decimal("4.892000")
    )
    utrecht = StoreFactory(
        code="STORE-UTR", latitude=Decimal("52.090737"), longitude=Decimal("5.121420")
    )
    category = CategoryFactory(code="apparel")
    for sku in PRICES:
        SKUFactory(sku=sku, name=f"{sku.title()} item", product__category=category)
    base = pricing_services.create_price_list(code="WEB", name="Web", channel="web")
    pricing_services.replace_prices(
        price_list=base,
        prices=[PriceEntry(sku, Decimal(amount)) for sku, amount in PRICES.items()],
        actor="test",
    )
    pos = pricing_services.create_price_list(code="POS", name="POS", channel="pos")
    pricing_services.replace_prices(
        price_list=pos,
        prices=[PriceEntry(sku, Decimal(amount)) for sku, amount in PRICES.items()],
        actor="test",
    )
    pricing_services.set_tax_rate(location=None, name="VAT", rate=Decimal("21"))
    return Network(wh_near=wh_near, wh_far=wh_far, store=store, store_utrecht=utrecht)


def stock(sku: str, location: str, quantity: int) -> None:
    inventory_services.receive_stock(sku=sku, location=location, quantity=quantity)


def level(sku: str, location: str) -> StockLevel:
    return StockLevel.objects.get(sku__sku=sku, location__code=location)


@pytest.fixture
def customer(programme):
    return CustomerFactory(email="anna@example.com", first_name="Anna", last_name="de Vries")


@pytest.fixture
def other_customer(programme):
    return CustomerFactory(email="bram@example.com", first_name="Bram", last_name="Bakker")


@pytest.fixture
def me(api_for, customer):
    return api_for(Role.CUSTOMER, customer_id=customer.pk, name="anna")


@pytest.fixture
def them(api_for, other_customer):
    return api_for(Role.CUSTOMER, customer_id=other_customer.pk, name="bram")


def fund(customer, points: int) -> None:
    loyalty_services.adjust_points(
        card_number=customer.account.card_number, points=points, reason="test", actor="test"
    )


def ship_body(*lines, **extra) -> dict:
    return {
        "channel": "web",
        "email": "guest@example.com",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "fulfilment": {"method": "ship", "address": dict(ADDRESS)},
        "payment": {"method": "card", "reference": "psp-1"},
        **extra,
    }


def pickup_body(store: str, *lines, **extra) -> dict:
    return {
        "channel": "web",
        "email": "guest@example.com",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "fulfilment": {"method": "pickup", "pickup_location": store},
        **extra,
    }
