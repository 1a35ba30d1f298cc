"""Orders in the admin: read-only records with everything inline, filters, search, and a
cancel action through the service."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from orders.models import Order, OrderStatus
from tests.orders.conftest import ship_body, stock


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-1234-secret")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def orders(network, storefront):
    stock("TEE", "WH-NEAR", 5)
    stock("TEE", "STORE-AMS", 5)
    numbers = []
    for body in (
        ship_body(("TEE", 1)),
        {
            "channel": "web",
            "email": "pickup@example.com",
            "lines": [{"sku": "TEE", "quantity": 1}],
            "fulfilment": {"method": "pickup", "pickup_location": "STORE-AMS"},
        },
    ):
        response = storefront.post("/api/v1/orders/", body, format="json")
        assert response.status_code == 201
        numbers.append(response.json()["number"])
    return numbers


def test_the_list_filters_and_searches(admin_client, orders):
    ship, pickup = orders
    page = admin_client.get("/admin/orders/order/")
    assert page.status_code == 200
    assert ship in page.text
    assert pickup in page.text
    for query in (
        "status__exact=placed",
        "method__exact=pickup",
        f"fulfilments__location__id__exact={Order.objects.get(number=pickup).fulfilments.get().location_id}",
        "created_at__year=2020",
    ):
        assert admin_client.get(f"/admin/orders/order/?{query}").status_code == 200
    found = admin_client.get("/admin/orders/order/", {"q": "pickup@example.com"})
    assert pickup in found.text
    assert ship not in found.text
    found = admin_client.get("/admin/orders/order/", {"q": ship})
    assert ship in found.text
    assert pickup not in found.text
    assert admin_client.get("/admin/orders/order/add/").status_code == 403


def test_an_order_page_shows_lines_fulfilments_payments_and_history_but_no_pickup_code(
    admin_client, orders
):
    order = Order.objects.get(number=orders[1])
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    for text in ("TEE", "STORE-AMS", "authorised", "placed", "stock_reserved"):
        assert text in page.text
    assert order.fulfilments.get().pickup_code not in page.text
    fulfilment = order.fulfilments.get()
    page = admin_client.get(f"/admin/orders/fulfilment/{fulfilment.pk}/change/")
    assert page.status_code == 200
    assert fulfilment.pickup_code not in page.text
    assert admin_client.get("/admin/orders/fulfilment/").status_code == 200
    assert admin_client.get("/admin/orders/notification/").status_code == 200


def test_the_cancel_action_goes_through_the_service(admin_client, orders):
    ids = list(Order.objects.values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 order(s) cancelled." in response.text
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": ids[:1]},
        follow=True,
    )
    assert "is already cancelled" in response.text
