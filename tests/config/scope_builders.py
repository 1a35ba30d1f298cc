"""Objects owned by side A, for ``test_object_scope.py``: customer A (anna), store A
(STORE-AMS, of the orders network in ``tests/orders/conftest.py``) and API clients of side A.
Side B is customer B (bram), store B (STORE-UTR) and other clients of the same roles.

Each builder makes one object through the API as its owner (so ``created_by`` is real) or
through the services where the API has no shortcut, and answers the placeholders the rows
of ``object_scope.py`` use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from rest_framework.test import APIClient

from config.api.roles import Role
from inventory import services as inventory_services
from inventory.models import Location
from loyalty.models import Customer
from orders.models import Fulfilment, Order
from orders.services import carts
from orders.services.fulfilment import PickedLine, mark_ready, record_pick
from orders.services.handover import collect
from tests.orders.conftest import pickup_body, ship_body, stock

STORES = {"a": "STORE-AMS", "b": "STORE-UTR"}
# The rows a call on these endpoints could change: a refused call must leave them as they
# were. (Every other table is covered by the test's check that a refused call runs no write
# statement at all.)
WATCHED = (
    "orders.Order",
    "orders.OrderLine",
    "orders.Fulfilment",
    "orders.FulfilmentLine",
    "orders.Payment",
    "orders.OrderEvent",
    "orders.Notification",
    "orders.Cart",
    "orders.CartLine",
    "orders.PosSale",
    "returns.Return",
    "returns.ReturnLine",
    "returns.Refund",
    "inventory.StockLevel",
    "inventory.StockMovement",
    "inventory.Reservation",
    "inventory.Transfer",
    "loyalty.Customer",
    "loyalty.PointsEntry",
    "loyalty.StoreCreditEntry",
    "pricing.PromotionRedemption",
)


@dataclass
class World:
    """The network, customers A and B, and API clients made on first use."""

    api_for: Callable[..., APIClient]
    customers: dict[str, Customer]
    clients: dict[tuple[str, str], APIClient] = field(default_factory=dict)

    def client(self, role: str, side: str) -> APIClient:
        key = (role, side)
        if key not in self.clients:
            role = Role(role)
            extra: dict[str, Any] = {"name": f"{role} {side}"}
            if role == Role.CUSTOMER:
                extra["customer_id"] = self.customers[side].pk
            if role in (Role.POS, Role.STORE_STAFF):
                extra["locations"] = [STORES[side]]
            self.clients[key] = self.api_for(role, **extra)
        return self.clients[key]

    def caller_values(self, role: str, side: str) -> dict[str, Any]:
        """The placeholders that depend on who calls: ``{here}``, ``{customer}``."""
        customer = self.customers[side if role == Role.CUSTOMER else "a"]
        return {"here": STORES[side], "customer": customer.pk}


def post(client: APIClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, body, format="json")
    assert response.status_code in (200, 201), (path, response.json())
    return response.json()


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """The watched rows: equal before and after a call that changed nothing."""
    return {label: list(apps.get_model(label).objects.order_by("pk").values()) for label in WATCHED}


# --- Orders and fulfilments ---------------------------------------------------------------


def _pickup_order(world: World, client: APIClient, **extra) -> dict[str, Any]:
    stock("TEE", STORES["a"], 5)
    order = post(client, "/api/v1/orders/", pickup_body(STORES["a"], ("TEE", 1), **extra))
    return {"number": order["number"], "fulfilment": order["fulfilments"][0]["id"]}


def customer_order(world: World) -> dict[str, Any]:
    """Customer A's order, placed with its own token, picked up at store A."""
    return _pickup_order(world, world.client(Role.CUSTOMER, "a"))


def guest_order(world: World) -> dict[str, Any]:
    """A guest's order placed by storefront A, picked up at store A."""
    return _pickup_order(world, world.client(Role.STOREFRONT, "a"))


def pickup(world: World) -> dict[str, Any]:
    """A pending pickup at store A (customer A's order)."""
    return customer_order(world)


def _pick(values: dict[str, Any]) -> dict[str, Any]:
    record_pick(fulfilment_id=values["fulfilment"], lines=[PickedLine("TEE", 1)], actor="test")
    return values


def _ready(values: dict[str, Any]) -> dict[str, Any]:
    mark_ready(fulfilment_id=values["fulfilment"], actor="test")
    code = Fulfilment.objects.get(pk=values["fulfilment"]).pickup_code
    return {**values, "pickup_code": code}


def picked_pickup(world: World) -> dict[str, Any]:
    return _pick(pickup(world))


def ready_pickup(world: World) -> dict[str, Any]:
    return _ready(_pick(pickup(world)))


def picked_shipment(world: World) -> dict[str, Any]:
    """A parcel shipped from store A (ship-from-store; only it has the stock), picked."""
    Location.objects.filter(code=STORES["a"]).update(ship_enabled=True)
    stock("TEE", STORES["a"], 5)
    order = post(world.client(Role.CUSTOMER, "a"), "/api/v1/orders/", ship_body(("TEE", 1)))
    [fulfilment] = order["fulfilments"]
    assert fulfilment["location"] == STORES["a"], fulfilment
    return _pick({"number": order["number"], "fulfilment": fulfilment["id"]})


# --- Carts and POS sales ------------------------------------------------------------------


def customer_cart(world: World) -> dict[str, Any]:
    """Customer A's open cart, bound to store A (its chosen pickup store), with one TEE."""
    cart, _ = carts.open_cart(
        channel="web", customer_id=world.customers["a"].pk, location=STORES["a"], actor="test"
    )
    carts.add_line(cart=cart, sku="TEE", quantity=1)
    return {"cart": str(cart.pk)}


def sale(world: World) -> dict[str, Any]:
    """A POS sale at store A to customer A."""
    body = {
        "lines": [{"sku": "TEE", "quantity": 1}],
        "customer": world.customers["a"].pk,
        "tenders": [{"method": "cash", "amount": "50.00"}],
    }
    order = post(world.client(Role.POS, "a"), "/api/v1/pos/sales/", body)
    return {"number": order["number"]}


# --- Returns ------------------------------------------------------------------------------


def _return(client: APIClient, number: str, location: str | None) -> dict[str, Any]:
    line = Order.objects.get(number=number).lines.get()
    body = {
        "order": number,
        "lines": [
            {
                "order_line": line.pk,
                "quantity": 1,
                "reason": "wrong_size",
                "condition": "resellable",
            }
        ],
        "return_location": location,
    }
    return {"number": post(client, "/api/v1/returns/", body)["number"]}


def requested_return(world: World) -> dict[str, Any]:
    """Customer A's online return of a POS sale at store A, to be brought to store A."""
    return _return(world.client(Role.CUSTOMER, "a"), sale(world)["number"], STORES["a"])


def store_return(world: World) -> dict[str, Any]:
    """A return taken (and refunded) at store A's till."""
    return _return(world.client(Role.POS, "a"), sale(world)["number"], STORES["a"])


def guest_return(world: World) -> dict[str, Any]:
    """A return requested by storefront A of a guest order it placed (collected)."""
    values = _ready(_pick(guest_order(world)))
    collect(fulfilment_id=values["fulfilment"], pickup_code=values["pickup_code"], actor="test")
    return _return(world.client(Role.STOREFRONT, "a"), values["number"], None)


# --- Stock ---------------------------------------------------------------------------------


def transfer(world: World) -> dict[str, Any]:
    """Units on their way from the warehouse to store A."""
    stock("TEE", "WH-NEAR", 5)
    moved = inventory_services.dispatch_transfer(
        sku="TEE", from_location="WH-NEAR", to_location=STORES["a"], quantity=2
    )
    return {"pk": moved.pk}


def _reservation(client: APIClient, channel: str, location: str) -> dict[str, Any]:
    stock("TEE", location, 5)
    body = {"channel": channel, "lines": [{"sku": "TEE", "quantity": 1, "location": location}]}
    return {"pk": post(client, "/api/v1/reservations/", body)["id"]}


def web_reservation(world: World) -> dict[str, Any]:
    """A hold made by storefront A."""
    return _reservation(world.client(Role.STOREFRONT, "a"), "web", "WH-NEAR")


def store_reservation(world: World) -> dict[str, Any]:
    """A hold made by store A's till."""
    return _reservation(world.client(Role.POS, "a"), "pos", STORES["a"])


# --- Customers -----------------------------------------------------------------------------


def customer(world: World) -> dict[str, Any]:
    """Customer A and its loyalty card."""
    anna = world.customers["a"]
    return {"pk": anna.pk, "card": anna.account.card_number}


BUILDERS: dict[str, Callable[[World], dict[str, Any]]] = {
    builder.__name__: builder
    for builder in (
        customer_order,
        guest_order,
        pickup,
        picked_pickup,
        ready_pickup,
        picked_shipment,
        customer_cart,
        sale,
        requested_return,
        store_return,
        guest_return,
        transfer,
        web_reservation,
        store_reservation,
        customer,
    )
}
