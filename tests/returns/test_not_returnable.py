"""Outside the window, final sale, more than is left: 409 not_returnable with the reason,
and nothing written. The policy: windows per channel and category, reasons."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Category, Channel, StockMovement
from orders.models import Fulfilment, OrderEvent, OrderLine, Payment
from returns.models import FinalSale, Return, ReturnLine, ReturnPolicy, ReturnWindow
from tests.orders.conftest import ship_body, stock
from tests.returns.conftest import RETURNS, hand_over, place, return_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(network, storefront, staff):
    stock("TEE", "WH-NEAR", 3)
    stock("MUG", "WH-NEAR", 3)
    order = place(storefront, ship_body(("TEE", 2), ("MUG", 1)))
    hand_over(staff, order)
    return order


def snapshot(order):
    return (
        Return.objects.count(),
        ReturnLine.objects.count(),
        StockMovement.objects.count(),
        OrderEvent.objects.filter(order__number=order["number"]).count(),
        list(OrderLine.objects.values_list("returned_quantity", flat=True)),
        list(Payment.objects.values_list("refunded_amount", flat=True)),
    )


def handed_over_days_ago(order, days):
    Fulfilment.objects.filter(order__number=order["number"]).update(
        handed_over_at=timezone.now() - timedelta(days=days)
    )


def refused(till, body, order, reason):
    before = snapshot(order)
    response = till.post(RETURNS, body, format="json")
    assert response.status_code == 409, response.json()
    problem = response.json()
    assert problem["code"] == "not_returnable"
    assert problem["errors"][0]["code"] == reason
    assert snapshot(order) == before
    return problem


def test_outside_the_default_window(shipped, till):
    handed_over_days_ago(shipped, 31)
    problem = refused(till, return_body(shipped, (0, 1)), shipped, "outside_window")
    assert "30 days" in problem["detail"]
    handed_over_days_ago(shipped, 29)
    assert till.post(RETURNS, return_body(shipped, (0, 1)), format="json").status_code == 201


def test_a_window_per_category_beats_one_per_channel(shipped, till):
    ReturnWindow.objects.create(channel=Channel.objects.get(code="web"), days=10)
    ReturnWindow.objects.create(category=Category.objects.get(code="apparel"), days=60)
    handed_over_days_ago(shipped, 45)
    assert till.post(RETURNS, return_body(shipped, (0, 1)), format="json").status_code == 201
    ReturnWindow.objects.create(
        channel=Channel.objects.get(code="web"),
        category=Category.objects.get(code="apparel"),
        days=14,
    )
    refused(till, return_body(shipped, (0, 1)), shipped, "outside_window")


def test_final_sale_sku_and_category(shipped, till):
    FinalSale.objects.create(sku="MUG")
    problem = refused(till, return_body(shipped, (1, 1)), shipped, "final_sale")
    assert problem["errors"][0]["attr"] == "lines.0.order_line"
    # One refused line refuses the whole return: nothing of the TEE is taken either.
    refused(till, return_body(shipped, (0, 1), (1, 1)), shipped, "final_sale")
    FinalSale.objects.all().delete()
    FinalSale.objects.create(category=Category.objects.get(code="apparel"))
    refused(till, return_body(shipped, (0, 1)), shipped, "final_sale")


def test_more_than_is_left(shipped, till):
    refused(till, return_body(shipped, (0, 3)), shipped, "more_than_left")
    assert till.post(RETURNS, return_body(shipped, (0, 2)), format="json").status_code == 201
    refused(till, return_body(shipped, (0, 1)), shipped, "more_than_left")
    # The same line twice in one return counts both.
    refused(till, return_body(shipped, (1, 1), (1, 1)), shipped, "more_than_left")


def test_nothing_handed_over_yet_is_not_returnable(network, storefront, till):
    stock("TEE", "WH-NEAR", 1)
    order = place(storefront, ship_body(("TEE", 1)))
    refused(till, return_body(order, (0, 1)), order, "more_than_left")


def test_unknown_reason_line_or_location_is_400(shipped, till, merchandiser):
    body = return_body(shipped, (0, 1))
    body["lines"][0]["reason"] = "bored"
    response = till.post(RETURNS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "lines.0.reason"
    body = return_body(shipped, (0, 1))
    body["lines"][0]["order_line"] = 999999
    assert till.post(RETURNS, body, format="json").status_code == 400
    body = return_body(shipped, (0, 1), location="NOWHERE")
    assert merchandiser.post(RETURNS, body, format="json").status_code == 400
    assert till.post(RETURNS, {**body, "order": "W-999999"}, format="json").status_code == 404
    assert not Return.objects.exists()


def test_damaged_units_go_back_to_stock_only_when_the_policy_says_so(shipped, till):
    from tests.orders.conftest import level

    till.post(RETURNS, return_body(shipped, (0, 1, "damaged")), format="json")
    assert level("TEE", "STORE-UTR").on_hand == 0
    ReturnPolicy.objects.create(pk=1, restock_damaged=True)
    till.post(RETURNS, return_body(shipped, (0, 1, "damaged")), format="json")
    assert level("TEE", "STORE-UTR").on_hand == 1
