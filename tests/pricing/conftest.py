"""A small priced catalog, set up through the services."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from inventory.models import Channel
from pricing import services
from pricing.services import PriceEntry
from tests.factories import CategoryFactory, SKUFactory


@dataclass
class Catalog:
    web: Channel
    pos: Channel
    price_list: object


@pytest.fixture
def catalog(db) -> Catalog:
    """apparel/tees (TEE-RED-M 20.00, TEE-BLUE-M 20.00), apparel/shirts (SHIRT-1 40.00),
    shoes (SHOE-1 80.00), food (APPLE-1 1.00, no price on the web: NOPRICE-1)."""
    apparel = CategoryFactory(code="apparel")
    tees = CategoryFactory(code="tees", parent=apparel)
    shirts = CategoryFactory(code="shirts", parent=apparel)
    shoes = CategoryFactory(code="shoes")
    food = CategoryFactory(code="food")
    for sku, category in [
        ("TEE-RED-M", tees),
        ("TEE-BLUE-M", tees),
        ("SHIRT-1", shirts),
        ("SHOE-1", shoes),
        ("APPLE-1", food),
        ("NOPRICE-1", food),
    ]:
        SKUFactory(sku=sku, product__category=category)
    web = Channel.objects.get(code="web")
    pos = Channel.objects.get(code="pos")
    base = services.create_price_list(code="WEB-BASE", name="Web base", channel="web")
    services.replace_prices(
        price_list=base,
        prices=[
            PriceEntry("TEE-RED-M", Decimal("20.00")),
            PriceEntry("TEE-BLUE-M", Decimal("20.00")),
            PriceEntry("SHIRT-1", Decimal("40.00")),
            PriceEntry("SHOE-1", Decimal("80.00")),
            PriceEntry("APPLE-1", Decimal("1.00")),
        ],
        actor="test",
    )
    return Catalog(web=web, pos=pos, price_list=base)


def items(*pairs) -> list[services.CartItem]:
    return [services.CartItem(sku, quantity) for sku, quantity in pairs]
