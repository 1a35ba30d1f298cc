"""Checkouts racing for the last units, through the API, on PostgreSQL with real threads.

DESIGN.md, "Concurrency": the database decides who gets a unit in the statement that takes
it, so however many checkouts arrive at once, no more orders are placed than there are units,
and the stock and its ledger stay consistent.
"""

import json
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from config.api.roles import Role
from config.api.services import create_api_client
from inventory.models import Reservation, ReservationLine, StockLevel, StockMovement
from orders.models import Fulfilment, Order, OrderLine, Payment
from orders.services import checkout_request
from tests.orders.conftest import network, programme, ship_body, stock  # noqa: F401

pytestmark = [pytest.mark.postgres]

ORDERS = "/api/v1/orders/"


def run_at_once(count: int, request) -> tuple[list, list]:
    """Start ``count`` threads that each call ``request(index)`` at the same moment; returns
    (responses, exceptions). Each thread closes its own database connection."""
    barrier = threading.Barrier(count)
    responses, errors = [], []

    def run(index: int):
        try:
            barrier.wait(timeout=30)
            responses.append(request(index))
        except Exception as exc:  # reported by the caller, in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses, errors


def storefront_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_fifty_checkouts_for_the_last_ten_units_place_exactly_ten_orders(
    transactional_db,
    network,  # noqa: F811
):
    # Ten units in the network: six at the near warehouse, four at the far one, so some
    # checkouts lose the race at one location and are planned again to the other.
    stock("TEE", "WH-NEAR", 6)
    stock("TEE", "WH-FAR", 4)
    _, key = create_api_client(name="shop", role=Role.STOREFRONT)
    body = json.dumps(ship_body(("TEE", 1)))

    def checkout(index: int):
        return storefront_client(key).post(ORDERS, data=body, content_type="application/json")

    responses, errors = run_at_once(50, checkout)

    assert errors == []
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 40}, statuses
    for response in responses:
        if response.status_code == 409:
            problem = response.json()
            assert problem["code"] == "insufficient_stock"
            assert problem["errors"][0]["attr"] == "lines.0.quantity"
    # Exactly ten orders, each with one unit held by one active reservation.
    assert Order.objects.count() == 10
    assert OrderLine.objects.aggregate(n=Sum("quantity"))["n"] == 10
    assert Fulfilment.objects.count() == 10
    assert Payment.objects.count() == 10
    assert len({r.json()["number"] for r in responses if r.status_code == 201}) == 10
    assert Reservation.objects.filter(status="active").count() == 10
    assert Reservation.objects.exclude(status="active").count() == 0
    assert ReservationLine.objects.aggregate(n=Sum("quantity"))["n"] == 10
    # The stock: everything held, nothing more; on hand still equals its ledger.
    for level in StockLevel.objects.filter(sku__sku="TEE"):
        assert level.reserved == level.on_hand
        ledger = StockMovement.objects.filter(level=level).aggregate(n=Sum("quantity"))["n"]
        assert ledger == level.on_hand
        held = ReservationLine.objects.filter(level=level).aggregate(n=Sum("quantity"))["n"]
        assert held == level.reserved
    assert sum(StockLevel.objects.values_list("on_hand", flat=True)) == 10


def test_the_same_idempotency_key_twice_at_once_places_one_order(
    transactional_db,
    network,  # noqa: F811
    monkeypatch,
):
    stock("TEE", "WH-NEAR", 5)
    _, key = create_api_client(name="shop", role=Role.STOREFRONT)
    body = json.dumps(ship_body(("TEE", 1)))
    real_plan_order = checkout_request.plan_order

    def slow_plan_order(**kwargs):
        time.sleep(0.3)  # keep the first request busy while the second one arrives
        return real_plan_order(**kwargs)

    monkeypatch.setattr(checkout_request, "plan_order", slow_plan_order)

    def checkout(index: int):
        return storefront_client(key).post(
            ORDERS,
            data=body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="web-checkout-8731",
        )

    responses, errors = run_at_once(2, checkout)

    assert errors == []
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(sku__sku="TEE", location__code="WH-NEAR").reserved == 1
    created = [r for r in responses if r.status_code == 201]
    others = [r for r in responses if r.status_code != 201]
    assert len(created) >= 1
    assert all(r.json()["number"] == Order.objects.get().number for r in created)
    assert all(r.json()["code"] == "idempotency_key_in_progress" for r in others)
    # Once the first has finished, the same key answers the same order again.
    replay = storefront_client(key).post(
        ORDERS, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="web-checkout-8731"
    )
    assert replay.status_code == 201
    assert replay.has_header("Idempotent-Replayed")
    assert replay.json()["number"] == Order.objects.get().number
    assert Order.objects.count() == 1
