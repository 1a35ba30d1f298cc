"""Roles and tokens: the role matrix over every /api/v1/ endpoint, the create_api_client
command, revoked tokens and staff sessions (DESIGN.md "Roles", API.md "Clients and tokens")."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from config.api.models import ApiClient, ApiToken
from config.api.roles import Role
from config.api.services import create_api_client, revoke_token
from inventory.models import Category
from tests.config.role_matrix import CALLERS, MATRIX, OK
from tests.factories import CategoryFactory, ChannelFactory, SKUFactory

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


# --- The matrix ----------------------------------------------------------------------------


def _methods(pattern: URLPattern) -> set[str]:
    callback = pattern.callback
    cls = getattr(callback, "cls", None)
    assert cls is not None, f"{pattern.pattern} is not a DRF view: the API answers through DRF"
    allowed = {
        name.upper()
        for name in getattr(callback, "initkwargs", {}).get(
            "http_method_names", cls.http_method_names
        )
    }
    actions = getattr(callback, "actions", None)
    if actions:  # a ViewSet: the router bound these methods to actions
        offered = {method.upper() for method in actions}
    else:
        offered = {method.upper() for method in allowed if hasattr(cls, method.lower())}
    return (offered & allowed) - IGNORED_METHODS


def api_endpoints() -> set[tuple[str, str]]:
    """Every (URL name, method) under /api/v1/, found by walking the URL resolver."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
                name = pattern.name or route
                found.update((name, method) for method in _methods(pattern))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_resolver_walk_finds_the_catalog():
    found = api_endpoints()
    assert ("category-list", "POST") in found
    assert ("product-detail", "PATCH") in found
    assert ("sku-detail", "GET") in found
    assert ("sku-detail", "PATCH") not in found
    assert ("category-detail", "PUT") not in found  # the router maps it; the view refuses it


def test_every_api_endpoint_has_a_decided_permission():
    found = api_endpoints()
    missing = sorted(found - set(MATRIX))
    stale = sorted(set(MATRIX) - found)
    assert missing == [], f"add these to tests/config/role_matrix.py: {missing}"
    assert stale == [], f"these rows of tests/config/role_matrix.py match no endpoint: {stale}"


def test_every_row_names_all_callers():
    assert [row for row, (_, expected) in MATRIX.items() if set(expected) != set(CALLERS)] == []


@pytest.fixture
def callers(api_for, store) -> dict[str, APIClient]:
    cache.clear()  # throttle buckets from earlier tests
    return {
        "anonymous": APIClient(),
        "merchandiser": api_for(Role.MERCHANDISER),
        "storefront": api_for(Role.STOREFRONT),
        "pos": api_for(Role.POS, locations=[store.code]),
        "store_staff": api_for(Role.STORE_STAFF, locations=[store.code]),
        "customer": api_for(Role.CUSTOMER, customer_id=1),
    }


@pytest.fixture
def samples(store, warehouse) -> dict[str, str]:
    """Real objects for the placeholders of role_matrix sample paths."""
    sku = SKUFactory(sku="MATRIX-SKU", product__category=CategoryFactory(code="matrix-cat"))
    ChannelFactory(code="matrix-ch")
    return {
        "category": "matrix-cat",
        "product": str(sku.product_id),
        "sku": sku.sku,
        "channel": "matrix-ch",
        "store": store.code,
        "warehouse": warehouse.code,
    }


def outcome(status: int) -> str | int:
    if status in (401, 403):
        return status
    if status >= 500:
        return f"server error {status}"
    return OK


@pytest.mark.parametrize(("name", "method"), sorted(MATRIX))
def test_role_matrix(callers, samples, name, method):
    sample_path, expected = MATRIX[(name, method)]
    path = sample_path.format(**samples)
    actual = {}
    for caller, client in callers.items():
        response = client.generic(method, path, data="{}", content_type="application/json")
        actual[caller] = outcome(response.status_code)
        if response.status_code in (401, 403):
            assert response["Content-Type"] == "application/problem+json"
    assert actual == expected


# --- create_api_client ---------------------------------------------------------------------


def run_create_api_client(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue().splitlines()


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_create_api_client_prints_a_working_token_last():
    lines = run_create_api_client("back office", "--role", "merchandiser")
    assert lines[0] == "Created merchandiser client 'back office'. Token:"
    key = lines[-1]
    client = ApiClient.objects.get()
    assert (client.name, client.role, client.location_codes) == ("back office", "merchandiser", [])
    token = ApiToken.objects.get(client=client)
    assert token.prefix == key[:8]
    assert key not in token.key_digest  # only the digest is stored
    response = token_client(key).post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 201
    assert Category.objects.filter(code="tees").exists()


def test_create_api_client_binds_a_pos_terminal_to_its_store(store):
    lines = run_create_api_client("till 1", "--role", "pos", "--location", store.code)
    assert lines[0] == "Created pos terminal client 'till 1' at STORE-001. Token:"
    assert ApiClient.objects.get().location_codes == ["STORE-001"]
    client = token_client(lines[-1])
    assert client.get("/api/v1/categories/").status_code == 200
    assert client.post("/api/v1/categories/", {"code": "tees", "name": "Tees"}).status_code == 403
    assert not Category.objects.exists()


def test_create_api_client_binds_store_staff_to_several_locations(store, warehouse):
    run_create_api_client(
        "picker", "--role", "store_staff", "--location", store.code, "--location", warehouse.code
    )
    assert ApiClient.objects.get().location_codes == ["STORE-001", "WH-01"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "pos"], "A POS client needs exactly one location, a store."),
        (
            ["--role", "pos", "--location", "STORE-001", "--location", "STORE-002"],
            "A POS client needs exactly one location, a store.",
        ),
        (
            ["--role", "pos", "--location", "WH-01"],
            "A POS terminal belongs to a store, not a warehouse.",
        ),
        (["--role", "pos", "--location", "NOPE"], "Unknown location(s): NOPE"),
        (["--role", "store_staff"], "Store staff need at least one location."),
        (
            ["--role", "store_staff", "--location", "STORE-001", "--location", "GONE"],
            "Unknown location(s): GONE",
        ),
        (
            ["--role", "merchandiser", "--location", "STORE-001"],
            "The merchandiser role is not bound to locations.",
        ),
    ],
)
def test_create_api_client_refuses_bad_locations(store, other_store, warehouse, args, message):
    with pytest.raises(CommandError) as raised:
        run_create_api_client("bad", *args)
    assert str(raised.value) == message
    assert not ApiClient.objects.exists()
    assert not ApiToken.objects.exists()


def test_create_api_client_has_no_customer_role():
    with pytest.raises(CommandError):
        run_create_api_client("someone", "--role", "customer")
    assert not ApiClient.objects.exists()


# --- Revoked tokens, inactive clients ------------------------------------------------------


def test_a_revoked_token_is_401():
    client, key = create_api_client(name="old till", role=Role.MERCHANDISER)
    api = token_client(key)
    assert api.get("/api/v1/categories/").status_code == 200
    revoke_token(token=client.tokens.get())
    response = api.get("/api/v1/categories/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert api.post("/api/v1/categories/", {"code": "tees", "name": "Tees"}).status_code == 401
    assert not Category.objects.exists()


def test_a_deactivated_client_is_401():
    client, key = create_api_client(name="old till", role=Role.MERCHANDISER)
    ApiClient.objects.filter(pk=client.pk).update(active=False)
    assert token_client(key).get("/api/v1/categories/").status_code == 401


# --- Sessions ------------------------------------------------------------------------------


def session_client(**user_fields) -> APIClient:
    user = get_user_model().objects.create_user(password="pw-1234-secret", **user_fields)
    client = APIClient()
    client.force_login(user)
    return client


def test_a_staff_user_signed_in_by_session_acts_as_merchandiser():
    client = session_client(username="boss", is_staff=True)
    response = client.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 201, response.content
    assert Category.objects.filter(code="tees").exists()


def test_a_session_post_without_csrf_token_is_403():
    user = get_user_model().objects.create_user("boss", password="pw-1234-secret", is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "permission_denied"
    assert response.json()["detail"].startswith("CSRF Failed")
    assert not Category.objects.exists()


def test_a_signed_in_user_who_is_not_staff_is_anonymous():
    client = session_client(username="shopper")
    assert client.get("/api/v1/categories/").status_code == 200
    response = client.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 401
    assert not Category.objects.exists()


def test_a_user_bound_to_a_store_staff_client_acts_as_store_staff(store):
    user = get_user_model().objects.create_user("picker", password="pw-1234-secret")
    create_api_client(name="picker", role=Role.STORE_STAFF, location_codes=[store.code], user=user)
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v1/categories/").status_code == 200
    response = client.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 403
    assert not Category.objects.exists()


def test_a_staff_user_whose_client_is_deactivated_is_shut_out_not_promoted(store):
    user = get_user_model().objects.create_user("picker", password="pw-1234-secret", is_staff=True)
    client, _ = create_api_client(
        name="picker", role=Role.STORE_STAFF, location_codes=[store.code], user=user
    )
    ApiClient.objects.filter(pk=client.pk).update(active=False)
    api = APIClient()
    api.force_login(user)
    response = api.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 401
    assert not Category.objects.exists()
