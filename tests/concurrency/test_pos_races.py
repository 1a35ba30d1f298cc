"""POS sales racing each other and pickup checkouts on PostgreSQL, with real threads: sales
are never refused, on hand never goes below zero and stays the sum of its ledger, and a
replayed sale with one Idempotency-Key is one order."""

import pytest
from django.db.models import Sum

from config.api.roles import Role
from config.api.services import create_api_client
from inventory.models import StockLevel, StockMovement
from orders.models import Order, PosSale
from tests.concurrency.test_checkout_races import run_at_once, storefront_client
from tests.orders.conftest import network, pickup_body, programme, stock  # noqa: F401

pytestmark = [pytest.mark.postgres]

SALES = "/api/v1/pos/sales/"


def till(store: str = "STORE-AMS"):
    _, key = create_api_client(name=f"till {store}", role=Role.POS, location_codes=[store])
    return key


def sale(sku: str, quantity: int = 1, **extra) -> dict:
    return {
        "lines": [{"sku": sku, "quantity": quantity}],
        "tenders": [{"method": "cash", "amount": "500.00"}],
        **extra,
    }


def assert_ledger_consistent(sku: str, location: str) -> StockLevel:
    level = StockLevel.objects.get(sku__sku=sku, location__code=location)
    total = StockMovement.objects.filter(level=level).aggregate(s=Sum("quantity"))["s"] or 0
    assert level.on_hand == total
    assert level.on_hand >= 0
    assert 0 <= level.reserved <= level.on_hand
    return level


@pytest.mark.usefixtures("network")
def test_twenty_tills_selling_at_once_are_never_refused_and_keep_the_ledger(transactional_db):
    stock("TEE", "STORE-AMS", 5)
    key = till()

    def post(index):
        return storefront_client(key).post(SALES, sale("TEE"), format="json")

    responses, errors = run_at_once(20, post)
    assert errors == []
    assert sorted(r.status_code for r in responses) == [201] * 20
    assert Order.objects.filter(channel__code="pos").count() == 20
    level = assert_ledger_consistent("TEE", "STORE-AMS")
    assert level.on_hand == 0
    discrepancies = StockMovement.objects.filter(level=level, kind="discrepancy")
    assert discrepancies.aggregate(s=Sum("quantity"))["s"] == 15


@pytest.mark.usefixtures("network")
def test_sales_racing_pickup_checkouts_for_the_last_units_stay_consistent(transactional_db):
    stock("MUG", "STORE-AMS", 4)
    pos_key = till()
    _, web_key = create_api_client(name="web", role=Role.STOREFRONT)

    def post(index):
        if index % 2:
            return storefront_client(pos_key).post(SALES, sale("MUG"), format="json")
        body = pickup_body("STORE-AMS", ("MUG", 1))
        return storefront_client(web_key).post("/api/v1/orders/", body, format="json")

    responses, errors = run_at_once(8, post)
    assert errors == []
    assert all(r.status_code in (201, 409) for r in responses), [r.json() for r in responses]
    assert PosSale.objects.count() == 4  # every sale went through
    level = assert_ledger_consistent("MUG", "STORE-AMS")
    assert level.on_hand == 0
    assert level.reserved == 0  # a pickup whose unit a sale took is repaired, never holds air


@pytest.mark.usefixtures("network")
def test_one_queued_sale_replayed_at_once_is_one_order(transactional_db):
    key = till()
    body = sale("CAP", occurred_at="2026-11-24T09:30:00+01:00")

    def post(index):
        return storefront_client(key).post(
            SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="till-ams-0007"
        )

    responses, errors = run_at_once(6, post)
    assert errors == []
    assert {r.status_code for r in responses} <= {201, 409}
    assert Order.objects.filter(channel__code="pos").count() == 1
    assert StockMovement.objects.filter(kind="sale").count() == 1
    again = storefront_client(key).post(
        SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="till-ams-0007"
    )
    assert again.status_code == 201
    assert Order.objects.filter(channel__code="pos").count() == 1
