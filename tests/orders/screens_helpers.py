"""Helpers shared by the screens' test-client tests and the browser tests."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from inventory.models import SKU
from tests.orders.conftest import pickup_body, stock

PASSWORD = "pick-pick-pick"


def make_staff(username: str, *locations: str):
    args = ["create_store_staff", username, "--password", PASSWORD]
    for code in locations:
        args += ["--location", code]
    call_command(*args, stdout=io.StringIO())
    return get_user_model().objects.get(username=username)


def place_pickup(storefront, store: str, *lines, **extra) -> dict:
    """A pickup order placed through the API (stock received first); returns the order with
    ``pickup_code`` and ``fulfilment`` (its id) for the test to use."""
    for sku, quantity in lines:
        stock(sku, store, quantity)
    response = storefront.post(
        "/api/v1/orders/", pickup_body(store, *lines, **extra), format="json"
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    (fulfilment,) = order["fulfilments"]
    order["pickup_code"] = fulfilment["pickup_code"]
    order["fulfilment"] = fulfilment["id"]
    return order


def barcode(sku: str) -> str:
    return SKU.objects.get(sku=sku).barcode
