"""Hand-overs racing each other and a cancellation, through the API, on PostgreSQL with real
threads: the order row is locked first by every writer, so exactly one hand-over happens (one
sale in the ledger, one capture, points earned once) and a cancellation cannot slip in
between."""

import json
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from config.api.roles import Role
from config.api.services import create_api_client
from inventory.models import MovementKind, StockLevel, StockMovement
from loyalty.models import Earning, LoyaltyAccount
from orders.models import EventKind, Fulfilment, FulfilmentStatus, Order, OrderEvent, Payment
from tests.orders.conftest import (  # noqa: F401
    customer,
    network,
    pickup_body,
    programme,
    stock,
)

pytestmark = [pytest.mark.postgres]

ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"


def run_at_once(calls) -> tuple[list, list]:
    """Run each of ``calls`` in its own thread, released together; (results, exceptions)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except Exception as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def client_for(role, **kwargs) -> APIClient:
    _, key = create_api_client(name=f"{role} {kwargs}", role=role, **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def ready_pickup(customer):  # noqa: F811
    stock("TEE", "STORE-AMS", 5)
    storefront = client_for(Role.STOREFRONT)
    staff = client_for(Role.STORE_STAFF, location_codes=["STORE-AMS"])
    response = storefront.post(
        ORDERS,
        pickup_body("STORE-AMS", ("TEE", 2), customer=customer.pk, email=customer.email),
        format="json",
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    fid = order["fulfilments"][0]["id"]
    picked = staff.post(
        f"{FULFILMENTS}{fid}/pick/", {"lines": [{"sku": "TEE", "quantity": 2}]}, format="json"
    )
    assert picked.status_code == 200, picked.json()
    assert staff.post(f"{FULFILMENTS}{fid}/ready/", format="json").status_code == 200
    return storefront, staff, order, fid, order["fulfilments"][0]["pickup_code"]


def assert_stock_consistent():
    for level in StockLevel.objects.all():
        ledger = StockMovement.objects.filter(level=level).aggregate(s=Sum("quantity"))["s"] or 0
        assert level.on_hand == ledger, level
        assert 0 <= level.reserved <= level.on_hand, level


def test_concurrent_collects_hand_over_once(
    transactional_db,
    network,  # noqa: F811
    customer,  # noqa: F811
):
    _, staff, order, fid, code = ready_pickup(customer)
    body = json.dumps({"pickup_code": code})
    url = f"{FULFILMENTS}{fid}/collect/"

    def collect():
        return staff.post(url, data=body, content_type="application/json")

    responses, errors = run_at_once([collect] * 6)

    assert errors == []
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 5}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"invalid_state"}
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.COLLECTED
    sales = StockMovement.objects.filter(kind=MovementKind.SALE)
    assert [(m.quantity, m.reference) for m in sales] == [(-2, f"fulfilment:{fid}:handover")]
    level = StockLevel.objects.get(sku__sku="TEE", location__code="STORE-AMS")
    assert (level.on_hand, level.reserved) == (3, 0)
    number = order["number"]
    assert OrderEvent.objects.filter(order__number=number, kind=EventKind.COLLECTED).count() == 1
    captures = OrderEvent.objects.filter(order__number=number, kind=EventKind.PAYMENT_CAPTURED)
    assert [e.detail["amount"] for e in captures] == ["40.00"]
    assert Payment.objects.get(order__number=number).captured_amount == Decimal("40.00")
    assert Earning.objects.filter(reference=f"fulfilment:{fid}").count() == 1
    assert LoyaltyAccount.objects.get(customer=customer).points == 33  # 40.00 − 6.94 tax
    assert_stock_consistent()


def test_a_collect_and_a_cancellation_at_once_one_wins(
    transactional_db,
    network,  # noqa: F811
    customer,  # noqa: F811
):
    storefront, staff, order, fid, code = ready_pickup(customer)
    number = order["number"]

    def collect():
        return "collect", staff.post(
            f"{FULFILMENTS}{fid}/collect/",
            data=json.dumps({"pickup_code": code}),
            content_type="application/json",
        )

    def cancel():
        return "cancel", storefront.post(
            f"{ORDERS}{number}/cancel/", data="{}", content_type="application/json"
        )

    results, errors = run_at_once([collect, cancel])

    assert errors == []
    statuses = {name: response.status_code for name, response in results}
    assert sorted(statuses.values()) == [200, 409], statuses
    row = Order.objects.get(number=number)
    level = StockLevel.objects.get(sku__sku="TEE", location__code="STORE-AMS")
    payment = Payment.objects.get(order=row)
    if statuses["collect"] == 200:
        assert row.status == "completed"
        assert (level.on_hand, level.reserved) == (3, 0)
        assert payment.captured_amount == Decimal("40.00")
    else:
        assert row.status == "cancelled"
        assert (level.on_hand, level.reserved) == (5, 0)
        assert (payment.status, payment.captured_amount) == ("voided", Decimal("0.00"))
        assert not Earning.objects.exists()
    assert_stock_consistent()
