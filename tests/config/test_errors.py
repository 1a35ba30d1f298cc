"""Every error path answers application/problem+json with a stable ``code`` (API.md, "Errors").

The tests that need a view which raises use this module as their URLconf
(``pytest.mark.urls(__name__)``): the project's URLs plus a few test-only views, and the
project's error handlers, which Django looks up on the URLconf module.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import Client
from django.urls import path
from rest_framework.views import APIView

import config.urls
from config.api.errors import InvalidState, problem_for_exception
from config.api.permissions import PUBLIC
from config.api.throttling import CallerRateThrottle
from inventory import services as inventory_services
from inventory.models import Category, Product
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


# --- A test-only URLconf -------------------------------------------------------------------


class ExplodingApiView(APIView):
    read_roles = PUBLIC

    def get(self, request):
        raise RuntimeError("a bug in a DRF view")


def exploding_plain_view(request):
    raise RuntimeError("a bug in a plain Django view")


urlpatterns = [
    path("api/v1/test-only/explode/", ExplodingApiView.as_view()),
    path("test-only/explode/", exploding_plain_view),
    path("admin/test-only/explode/", exploding_plain_view),
    *config.urls.urlpatterns,
]
handler400 = config.urls.handler400
handler403 = config.urls.handler403
handler404 = config.urls.handler404
handler500 = config.urls.handler500


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


# --- 400 -----------------------------------------------------------------------------------


def test_validation_error_lists_every_field_with_nested_attr_paths(merchandiser):
    CategoryFactory(code="tees")
    response = merchandiser.post(
        "/api/v1/products/",
        {
            "category": "tees",
            "skus": [{"sku": "TEE-1"}, {"sku": "TEE-2", "attributes": {"size": "M" * 101}}],
        },
        format="json",
    )
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == [
        {"attr": "name", "code": "required", "detail": "This field is required."},
        {
            "attr": "skus.1.attributes.size",
            "code": "max_length",
            "detail": "Ensure this field has no more than 100 characters.",
        },
    ]
    assert body["detail"] == "name: This field is required. (and 1 more)"
    assert not Product.objects.exists()


def test_validation_error_from_a_list_validator_names_the_item(merchandiser):
    CategoryFactory(code="tees")
    response = merchandiser.post(
        "/api/v1/products/",
        {"name": "Tee", "category": "tees", "skus": [{"sku": "TEE-1"}, {"sku": "TEE-1"}]},
        format="json",
    )
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == [
        {"attr": "skus.1.sku", "code": "invalid", "detail": "Listed twice in this request."}
    ]
    assert not Product.objects.exists()


def test_malformed_json_is_400_invalid(merchandiser):
    response = merchandiser.post(
        "/api/v1/categories/", data='{"code": "tees",', content_type="application/json"
    )
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == [{"attr": None, "code": "parse_error", "detail": body["detail"]}]
    assert body["detail"].startswith("JSON parse error")
    assert not Category.objects.exists()


def test_wrong_content_type_is_415(merchandiser):
    response = merchandiser.post(
        "/api/v1/categories/", data="code=tees&name=Tees", content_type="text/plain"
    )
    body = assert_problem(response, 415, "unsupported_media_type")
    assert body["detail"] == 'Unsupported media type "text/plain" in request.'
    assert not Category.objects.exists()


def test_disallowed_host_is_400_problem(anon):
    response = anon.get("/api/v1/categories/", HTTP_HOST="evil.example.com")
    assert_problem(response, 400, "invalid")


def test_django_validation_error_becomes_400_with_field_errors():
    status, body, headers = problem_for_exception(
        DjangoValidationError({"timezone": ["'Mars/Base' is not an IANA time zone."]})
    )
    assert status == 400
    assert headers == {}
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {"attr": "timezone", "code": "invalid", "detail": "'Mars/Base' is not an IANA time zone."}
    ]


# --- Domain errors raised by services ------------------------------------------------------


def test_domain_error_from_a_service_reaches_the_handler(merchandiser):
    root = CategoryFactory(code="root")
    leaf = CategoryFactory(code="leaf", parent=root)
    response = merchandiser.patch("/api/v1/categories/root/", {"parent": "leaf"}, format="json")
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == [
        {"attr": "parent", "code": "invalid", "detail": "A category cannot move below itself."}
    ]
    root.refresh_from_db()
    leaf.refresh_from_db()
    assert (root.parent_id, root.path, leaf.path) == (None, "root/", "root/leaf/")


def test_domain_error_subclass_keeps_its_status_and_code(merchandiser, monkeypatch):
    def frozen(**kwargs):
        raise InvalidState("The category tree is frozen for the season change.")

    monkeypatch.setattr(inventory_services, "create_category", frozen)
    response = merchandiser.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Invalid state",
        "status": 409,
        "code": "invalid_state",
        "detail": "The category tree is frozen for the season change.",
    }
    assert not Category.objects.exists()


# --- 401, 403 ------------------------------------------------------------------------------


def test_no_token_where_one_is_needed_is_401(anon):
    response = anon.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert not Category.objects.exists()


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Token not-a-real-token", "Invalid or revoked token."),
        ("Token", "Invalid token header: use 'Token <key>'."),
        ("Token two parts", "Invalid token header: use 'Token <key>'."),
    ],
)
def test_bad_token_is_401_even_on_public_reads(anon, authorization, detail):
    response = anon.get("/api/v1/categories/", HTTP_AUTHORIZATION=authorization)
    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == detail
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_role_that_may_not_is_403(storefront):
    response = storefront.post("/api/v1/categories/", {"code": "tees", "name": "Tees"})
    body = assert_problem(response, 403, "permission_denied")
    assert body["detail"] == "You do not have permission to perform this action."
    assert not Category.objects.exists()


# --- 404 -----------------------------------------------------------------------------------


def test_unknown_url_is_404_problem(anon):
    response = anon.get("/api/v1/no-such-thing/")
    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No resource at /api/v1/no-such-thing/."


def test_unknown_url_outside_the_api_is_404_problem(anon):
    response = anon.get("/no-such-page")
    assert_problem(response, 404, "not_found")


def test_unknown_object_is_404_problem(anon):
    response = anon.get("/api/v1/categories/nope/")
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("method", ["get", "patch"])
@pytest.mark.parametrize("product_id", ["abc", "-1", "1.5", "%C2%B2", "99999999999999999999999"])
def test_product_id_that_is_not_a_number_is_404(merchandiser, method, product_id):
    merchandiser.raise_request_exception = False
    response = getattr(merchandiser, method)(f"/api/v1/products/{product_id}/", {}, format="json")
    assert_problem(response, 404, "not_found")


# --- 405 -----------------------------------------------------------------------------------


def test_method_not_allowed_on_a_drf_view(merchandiser):
    CategoryFactory(code="tees")
    response = merchandiser.delete("/api/v1/categories/tees/")
    body = assert_problem(response, 405, "method_not_allowed")
    assert body["detail"] == 'Method "DELETE" not allowed.'
    assert response["Allow"] == "GET, PATCH, HEAD, OPTIONS"
    assert Category.objects.filter(code="tees").exists()


def test_method_not_allowed_on_the_plain_django_healthz_view(anon):
    response = anon.post("/healthz", {})
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


# --- 429 -----------------------------------------------------------------------------------


@pytest.fixture
def tiny_rates(monkeypatch):
    monkeypatch.setattr(
        CallerRateThrottle, "THROTTLE_RATES", {"anonymous": "2/min", "client": "2/min"}
    )
    cache.clear()
    yield
    cache.clear()


def test_too_many_requests_is_429_with_retry_after(anon, storefront, tiny_rates):
    assert [anon.get("/api/v1/categories/").status_code for _ in range(2)] == [200, 200]
    response = anon.get("/api/v1/categories/")
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Each caller has its own bucket: the storefront is not slowed by anonymous traffic.
    assert [storefront.get("/api/v1/categories/").status_code for _ in range(3)] == [200, 200, 429]


# --- 500 -----------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/api/v1/test-only/explode/", "/test-only/explode/"])
def test_unhandled_exception_is_500_problem_without_a_trace(anon, url):
    anon.raise_request_exception = False
    response = anon.get(url)
    body = assert_problem(response, 500, "server_error")
    assert body["detail"] == "Something went wrong on our side; it has been logged."
    assert b"Traceback" not in response.content
    assert b"RuntimeError" not in response.content


# --- People's screens keep HTML ------------------------------------------------------------


@pytest.fixture
def staff_client():
    user = get_user_model().objects.create_user("boss", password="pw-boss-123", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_404_stays_html(staff_client):
    response = staff_client.get("/admin/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls(__name__)
def test_admin_500_stays_html(staff_client):
    staff_client.raise_request_exception = False
    response = staff_client.get("/admin/test-only/explode/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_admin_csrf_failure_stays_html():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "boss", "password": "x"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_asking_for_html_from_the_api_is_406_problem(anon):
    response = anon.get("/api/v1/categories/", HTTP_ACCEPT="text/html")
    body = assert_problem(response, 406, "not_acceptable")
    assert body["detail"] == "Could not satisfy the request Accept header."


@pytest.mark.parametrize(
    ("url", "attr"),
    [
        ("/api/v1/products/?search=%00", "search"),
        ("/api/v1/products/?category=a%00b", "category"),
        ("/api/v1/locations/?near=52%00,4", "near"),
        ("/api/v1/skus/%00/", "path"),
    ],
)
def test_nul_characters_in_path_or_query_are_400_not_a_database_error(anon, url, attr):
    response = anon.get(url)
    body = assert_problem(response, 400, "invalid")
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        (attr, "null_characters_not_allowed")
    ]
