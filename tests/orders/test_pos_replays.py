"""Offline terminals replay their queued sales with Idempotency-Key and occurred_at:
exactly once, in any order, with their original times."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from config.api.roles import Role
from inventory.models import StockMovement
from orders.models import Order, PosSale
from tests.orders.conftest import level, stock

SALES = "/api/v1/pos/sales/"
pytestmark = pytest.mark.django_db


def test_replaying_100_queued_sales_twice_shuffled_makes_100_orders_at_their_times(
    api_for, network
):
    till = api_for(Role.POS, locations=["STORE-AMS"], name="offline till")
    stock("MUG", "STORE-AMS", 40)  # fewer than sold: the rest is a discrepancy
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    queue = [
        (
            f"till-ams-{i:03d}",
            {
                "lines": [{"sku": "MUG", "quantity": 1}],
                "tenders": [{"method": "cash", "amount": "10.00"}],
                "occurred_at": (start + timedelta(minutes=i)).isoformat(),
            },
        )
        for i in range(100)
    ]
    replays = queue * 2
    random.Random(7).shuffle(replays)
    first: dict[str, dict] = {}
    for key, body in replays:
        response = till.post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.json()
        if key in first:
            assert response.json() == first[key]
        first.setdefault(key, response.json())
    assert Order.objects.filter(channel__code="pos").count() == 100
    assert len({body["number"] for body in first.values()}) == 100
    times = sorted(PosSale.objects.values_list("occurred_at", flat=True))
    assert times == [start + timedelta(minutes=i) for i in range(100)]
    for key, body in queue:
        order = Order.objects.get(number=first[key]["number"])
        assert order.created_at.isoformat() == body["occurred_at"]
    sales = StockMovement.objects.filter(kind="sale", location__code="STORE-AMS")
    assert sales.count() == 100
    assert StockMovement.objects.filter(kind="discrepancy").count() == 60
    assert level("MUG", "STORE-AMS").on_hand == 0
