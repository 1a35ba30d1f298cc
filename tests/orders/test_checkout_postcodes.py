"""A ship order's destination: its coordinates, or its postal code placed with the offline
table (orders.routing.postcodes)."""

import pytest

from orders.models import Order
from orders.routing.postcodes import locate
from tests.orders.conftest import ADDRESS, ship_body, stock

ORDERS = "/api/v1/orders/"


def without_coordinates(**changes) -> dict:
    address = {k: v for k, v in ADDRESS.items() if k not in ("latitude", "longitude")}
    return {**address, **changes}


def test_a_postal_code_alone_places_the_destination(network, storefront):
    stock("TEE", "WH-NEAR", 3)
    body = ship_body(("TEE", 1))
    body["fulfilment"]["address"] = without_coordinates(postal_code="1012 LG")
    response = storefront.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(number=response.json()["number"])
    point = locate("1012LG")
    assert (float(order.destination_latitude), float(order.destination_longitude)) == pytest.approx(
        (point.latitude, point.longitude), abs=1e-6
    )
    assert response.json()["fulfilments"][0]["location"] == "WH-NEAR"


def test_an_unknown_postal_code_without_coordinates_is_400_and_nothing_is_written(
    network, storefront
):
    stock("TEE", "WH-NEAR", 3)
    body = ship_body(("TEE", 1))
    body["fulfilment"]["address"] = without_coordinates(postal_code="9999 ZZ")
    response = storefront.post(ORDERS, body, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["attr"], error["code"]) == (
        "fulfilment.address.postal_code",
        "unknown_postal_code",
    )
    assert not Order.objects.exists()


def test_half_a_pair_of_coordinates_is_400(network, storefront):
    body = ship_body(("TEE", 1))
    body["fulfilment"]["address"] = without_coordinates(latitude=52.37)
    response = storefront.post(ORDERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "fulfilment.address.longitude"
