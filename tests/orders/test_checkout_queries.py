"""A checkout runs the same number of queries whatever the number of locations, and grows
with the number of lines only by the stock-row writes of the reservation (DESIGN.md,
"Speed habits")."""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing import services as pricing_services
from pricing.services import PriceEntry
from tests.factories import SKUFactory, WarehouseFactory
from tests.orders.conftest import ship_body, stock

ORDERS = "/api/v1/orders/"


def checkout_queries(client, body) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return len(queries.captured_queries)


def add_warehouses(count: int, sku: str = "TEE") -> None:
    for i in range(count):
        code = f"WH-X{i:03d}"
        WarehouseFactory(
            code=code,
            latitude=Decimal("50.5") + Decimal(i) / 100,
            longitude=Decimal("5.5"),
            handling_cost=Decimal("3.00"),
        )
        stock(sku, code, 3)


def test_query_count_does_not_grow_with_the_number_of_locations(storefront, network):
    stock("TEE", "WH-NEAR", 1000)
    stock("MUG", "WH-FAR", 1000)
    body = ship_body(("TEE", 1), ("MUG", 1))  # a split: two reservations
    checkout_queries(storefront, body)  # warm up (content types, first-use caches)
    add_warehouses(3)  # 5 ship locations
    few = checkout_queries(storefront, body)
    add_warehouses(195)  # 200 ship locations
    many = checkout_queries(storefront, body)
    assert few == many, (few, many)


def test_query_count_grows_with_lines_only_by_the_stock_writes(storefront, network):
    skus = [f"BULK-{i}" for i in range(10)]
    for sku in skus:
        SKUFactory(sku=sku)
        stock(sku, "WH-NEAR", 100)
    pricing_services.replace_prices(
        price_list=pricing_services.create_price_list(code="BULK", name="Bulk", channel="web"),
        prices=[PriceEntry(sku, Decimal("1.00")) for sku in skus],
        actor="test",
    )
    checkout_queries(storefront, ship_body((skus[0], 1)))  # warm up
    one = checkout_queries(storefront, ship_body((skus[0], 1)))
    ten = checkout_queries(storefront, ship_body(*[(sku, 1) for sku in skus]))
    # One conditional UPDATE per stock row held; nothing else grows.
    assert ten - one == 9, (one, ten)
