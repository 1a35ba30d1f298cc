"""Returns fixtures: the orders network (tests/orders/conftest.py) and helpers that place an
order through the API and hand it over through the fulfilment API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from config.api.roles import Role
from tests.orders.conftest import (  # noqa: F401  (fixtures used by the returns tests)
    _fast,
    customer,
    me,
    network,
    other_customer,
    programme,
    them,
)

ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"
RETURNS = "/api/v1/returns/"
LOCATIONS = ["WH-NEAR", "WH-FAR", "STORE-AMS", "STORE-UTR"]


@pytest.fixture
def admin_client(client):
    """The Django test client logged in as a superuser."""
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def staff(api_for, network):  # noqa: F811
    """Store staff at every location of the network (does the fulfilment work)."""
    return api_for(Role.STORE_STAFF, locations=LOCATIONS, name="staff")


@pytest.fixture
def till(api_for, network):  # noqa: F811
    """A POS terminal at STORE-UTR."""
    return api_for(Role.POS, locations=["STORE-UTR"], name="till-utr")


def place(client, body) -> dict:
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def hand_over(staff, order: dict) -> None:
    """Pick everything and ship or collect every fulfilment of the order."""
    for fulfilment in order["fulfilments"]:
        fid = fulfilment["id"]
        found = {}
        for line in fulfilment["lines"]:
            found[line["sku"]] = found.get(line["sku"], 0) + line["quantity"]
        response = staff.post(
            f"{FULFILMENTS}{fid}/pick/",
            {"lines": [{"sku": sku, "quantity": n} for sku, n in found.items()]},
            format="json",
        )
        assert response.status_code == 200, response.json()
        if fulfilment["method"] == "ship":
            response = staff.post(
                f"{FULFILMENTS}{fid}/ship/",
                {"carrier": "PostNL", "tracking_number": f"T{fid}"},
                format="json",
            )
        else:
            assert staff.post(f"{FULFILMENTS}{fid}/ready/", format="json").status_code == 200
            response = staff.post(
                f"{FULFILMENTS}{fid}/collect/",
                {"pickup_code": fulfilment["pickup_code"]},
                format="json",
            )
        assert response.status_code == 200, response.json()


def return_body(order: dict, *lines, location="STORE-UTR", **extra) -> dict:
    """``lines``: (line index, quantity[, condition])."""
    by_index = order["lines"]
    return {
        "order": order["number"],
        "lines": [
            {
                "order_line": by_index[spec[0]]["id"],
                "quantity": spec[1],
                "reason": "wrong_size",
                "condition": spec[2] if len(spec) > 2 else "resellable",
            }
            for spec in lines
        ],
        "return_location": location,
        **extra,
    }
