"""Object-level scoping (issue #10): every /api/v1/ endpoint that takes an identifier has a
decided row in ``object_scope.py``, and for every owned object another customer, store or
client gets 404 problem+json and changes nothing, while the owner gets through."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from config.api.roles import Role
from inventory.models import Location
from orders.models import Cart
from tests.config.object_scope import (
    CLIENT,
    CUSTOMER,
    OBJECT_SCOPE,
    OWNER_KINDS,
    STORE,
    Scoped,
    Unscoped,
)
from tests.config.role_matrix import CALLERS, MATRIX, OK
from tests.config.scope_builders import BUILDERS, World, customer_cart, post, snapshot
from tests.config.test_roles import api_endpoints
from tests.loyalty.factories import CustomerFactory
from tests.orders.conftest import _fast, network, programme  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

NOT_IDENTIFIERS = {"format"}  # the router's suffix routes (.json): not an object
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Who plays side B (and, as the control, side A) for each kind of owner.
ROLES_BY_KIND = {
    CUSTOMER: (Role.CUSTOMER,),
    STORE: (Role.POS, Role.STORE_STAFF),
    CLIENT: (Role.STOREFRONT,),
}


# --- The table ------------------------------------------------------------------------------


def path_parameters(name: str) -> set[str]:
    """The path parameters of the URL name, from the resolver's reverse table."""
    found: set[str] = set()
    for possibilities, *_ in get_resolver().reverse_dict.getlist(name):
        for _, params in possibilities:
            found.update(params)
    return found - NOT_IDENTIFIERS


def identifier_endpoints() -> set[tuple[str, str]]:
    """Every (URL name, method) under /api/v1/ whose route takes an identifier."""
    return {(name, method) for name, method in api_endpoints() if path_parameters(name)}


def test_the_walk_finds_identifiers_and_ignores_format_suffixes():
    found = identifier_endpoints()
    assert ("order-detail", "GET") in found
    assert ("cart-line-detail", "DELETE") in found
    assert ("loyalty-account-ledger", "GET") in found
    assert ("order-list", "GET") not in found
    assert ("category-list", "GET") not in found  # only the router's ``.json`` suffix
    assert path_parameters("cart-line-detail") == {"id", "sku"}


def test_every_identifier_endpoint_has_a_decided_object_scope():
    found = identifier_endpoints()
    missing = sorted(found - set(OBJECT_SCOPE))
    stale = sorted(set(OBJECT_SCOPE) - found)
    assert missing == [], (
        f"add these to tests/config/object_scope.py (Scoped with a builder per owner kind, or "
        f"Unscoped with the reason every allowed caller may see every such object): {missing}"
    )
    assert stale == [], f"these rows of tests/config/object_scope.py match no endpoint: {stale}"


def allowed_roles(name: str, method: str, kind: str) -> list[str]:
    """The roles of ``kind`` that the role matrix lets call the endpoint."""
    expected = MATRIX[(name, method)][1]
    return [role.value for role in ROLES_BY_KIND[kind] if expected[role.value] == OK]


def test_every_scoped_row_is_callable_by_a_role_of_its_owner_kind():
    problems = []
    for (name, method), row in OBJECT_SCOPE.items():
        if not isinstance(row, Scoped):
            continue
        if not row.objects:
            problems.append((name, method, "no owner kind"))
        for kind, builder in row.objects.items():
            if kind not in OWNER_KINDS:
                problems.append((name, method, f"unknown owner kind {kind!r}"))
            elif not allowed_roles(name, method, kind):
                problems.append((name, method, f"role_matrix lets no {kind} role call it"))
            if builder not in BUILDERS:
                problems.append((name, method, f"no builder {builder!r} in scope_builders"))
    assert problems == []


def test_merchandiser_only_rows_agree_with_the_role_matrix():
    for (name, method), row in OBJECT_SCOPE.items():
        if isinstance(row, Unscoped) and row.merchandisers_only:
            expected = MATRIX[(name, method)][1]
            let_in = [caller for caller in CALLERS if expected[caller] == OK]
            assert let_in == ["merchandiser"], (name, method, let_in)


# --- Another owner's object is 404 ----------------------------------------------------------


def scoped_cases() -> list[Any]:
    return [
        pytest.param(name, method, kind, id=f"{name}-{method}-{kind}")
        for (name, method), row in sorted(OBJECT_SCOPE.items())
        if isinstance(row, Scoped)
        for kind in row.objects
    ]


def fill(template: Any, values: dict[str, Any]) -> Any:
    """Placeholders in a path or body; a value that is one placeholder keeps its type."""
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values:
            return values[template[1:-1]]
        return template.format(**values)
    return template


@pytest.fixture
def world(api_for, network) -> World:  # noqa: F811
    customers = {
        "a": CustomerFactory(email="anna@example.com", first_name="Anna"),
        "b": CustomerFactory(email="bram@example.com", first_name="Bram"),
    }
    return World(api_for=api_for, customers=customers)


def call(world: World, row: Scoped, method: str, role: str, side: str, values: dict[str, Any]):
    values = {**values, **world.caller_values(role, side)}
    body = "{}" if row.body is None else json.dumps(fill(row.body, values))
    client = world.client(role, side)
    return client.generic(
        method, fill(row.path, values), data=body, content_type="application/json"
    )


WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def call_counting_writes(world, row, method, role, side, values):
    """The response, and the write statements (any table) the call ran."""
    world.client(role, side)  # made beforehand: making a client writes
    with CaptureQueriesContext(connection) as queries:
        response = call(world, row, method, role, side, values)
    return response, [query["sql"] for query in queries if WRITE_SQL.match(query["sql"])]


@pytest.mark.parametrize(("name", "method", "kind"), scoped_cases())
def test_another_owners_object_is_404(world, name, method, kind):
    """For each role of the owner kind that the role matrix lets in (a POS terminal and
    store staff for a store's object): side B's call is 404 and writes nothing, side A's
    same call goes through. A read shares one object; a write gets a fresh one per role."""
    row = OBJECT_SCOPE[(name, method)]
    values = None
    for role in allowed_roles(name, method, kind):
        if values is None or method in WRITES:
            values = BUILDERS[row.objects[kind]](world)
        check_scope(world, row, method, role, values, row.objects[kind])


def check_scope(
    world, row: Scoped, method: str, role: str, values: dict[str, Any], built: str
) -> None:
    before = snapshot() if method in WRITES else None

    response, writes = call_counting_writes(world, row, method, role, "b", values)
    assert response.status_code == 404, (
        f"{role} of side B reached side A's {built}: {response.status_code} "
        f"{response.content[:300]!r}"
    )
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert writes == [], role
    if before is not None:
        assert snapshot() == before, role

    # The control: the owner reaches it with the same call, so the 404 above is the scope.
    response, writes = call_counting_writes(world, row, method, role, "a", values)
    if row.owner_status is not None:
        assert response.status_code == row.owner_status, (role, response.content[:300])
    else:
        assert 200 <= response.status_code < 300, (role, response.content[:300])
        if method in WRITES and row.owner_writes:
            assert writes, f"{role} of side A wrote nothing: the probe proves little"
            assert snapshot() != before, role


# --- Carts: the customer's cart behind the one named in the path ----------------------------
# A cart merge answers (and writes to) the *customer's* open cart, and opening a cart for a
# customer answers the one it has: at a POS terminal, a cart bound to another store stays
# that store's (404), whichever way it is reached.

CARTS = "/api/v1/carts/"


def cart_rows(customer_id: int) -> list[tuple[str, Any, list[tuple[str, int]]]]:
    return [
        (cart.status, cart.location_id, sorted(cart.lines.values_list("sku", "quantity")))
        for cart in Cart.objects.filter(customer_id=customer_id).order_by("pk")
    ]


def test_a_merged_cart_of_another_store_is_404_at_a_pos(world):
    anna = world.customers["a"].pk
    till_a, till_b = world.client(Role.POS, "a"), world.client(Role.POS, "b")
    anonymous = post(till_a, CARTS, {"channel": "web"})
    assert anonymous["location"] == "STORE-AMS"
    post(till_a, f"{CARTS}{anonymous['id']}/lines/", {"sku": "TEE", "quantity": 1})
    post(till_a, f"{CARTS}{anonymous['id']}/merge/", {"customer": anna})  # anna signs in at A
    before = snapshot()

    response = till_b.post(f"{CARTS}{anonymous['id']}/merge/", {"customer": anna}, format="json")
    assert response.status_code == 404, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert snapshot() == before
    again = till_a.post(f"{CARTS}{anonymous['id']}/merge/", {"customer": anna}, format="json")
    assert again.status_code == 200  # store A's till repeats the merge: anna's cart again
    assert again.json()["lines"][0]["sku"] == "TEE"


def test_a_pos_cannot_merge_into_a_customers_cart_bound_to_another_store(world):
    anna = world.customers["a"].pk
    customer_cart(world)  # anna's open cart, bound to store A
    till_b = world.client(Role.POS, "b")
    mine = post(till_b, CARTS, {"channel": "web"})  # an anonymous cart at store B
    post(till_b, f"{CARTS}{mine['id']}/lines/", {"sku": "MUG", "quantity": 2})
    before = snapshot()

    response = till_b.post(f"{CARTS}{mine['id']}/merge/", {"customer": anna}, format="json")
    assert response.status_code == 404, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert snapshot() == before


def test_a_pos_cannot_open_a_customers_cart_bound_to_another_store(world):
    anna = world.customers["a"].pk
    customer_cart(world)
    before = snapshot()

    response = world.client(Role.POS, "b").post(
        CARTS, {"channel": "web", "customer": anna}, format="json"
    )
    assert response.status_code == 404, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert snapshot() == before
    # At store A the till opens it (answers the one there is).
    response = world.client(Role.POS, "a").post(
        CARTS, {"channel": "web", "customer": anna}, format="json"
    )
    assert response.status_code == 200
    assert cart_rows(anna) == [("open", Location.objects.get(code="STORE-AMS").pk, [("TEE", 1)])]
