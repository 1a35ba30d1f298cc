"""Price lists over REST: create, read, change, replace prices (with history), bad input."""

import json
from decimal import Decimal

import pytest

from pricing import selectors
from pricing.models import Price, PriceList

pytestmark = pytest.mark.django_db

D = Decimal


def put_prices(client, code, rows):
    return client.put(
        f"/api/v1/price-lists/{code}/prices/",
        data=json.dumps(rows),
        content_type="application/json",
    )


def test_merchandiser_creates_and_reads_a_price_list(merchandiser, catalog, store):
    response = merchandiser.post(
        "/api/v1/price-lists/",
        {
            "code": "STORE-SALE",
            "name": "Store sale",
            "channel": "pos",
            "locations": [store.code],
            "priority": 5,
            "starts_at": "2026-06-01T00:00:00+02:00",
            "ends_at": "2026-06-08T00:00:00+02:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("code", "channel", "locations", "priority", "active")} == {
        "code": "STORE-SALE",
        "channel": "pos",
        "locations": ["STORE-001"],
        "priority": 5,
        "active": True,
    }
    assert body["starts_at"] == "2026-05-31T22:00:00Z"
    assert merchandiser.get("/api/v1/price-lists/STORE-SALE/").json()["name"] == "Store sale"
    codes = [r["code"] for r in merchandiser.get("/api/v1/price-lists/").json()["results"]]
    assert codes == ["STORE-SALE", "WEB-BASE"]
    assert merchandiser.get("/api/v1/price-lists/?channel=web").json()["count"] == 1


def test_merchandiser_changes_a_price_list(merchandiser, catalog, store):
    response = merchandiser.patch(
        "/api/v1/price-lists/WEB-BASE/", {"priority": 3, "locations": [store.code]}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["priority"], response.json()["locations"]) == (3, ["STORE-001"])
    assert response.json()["code"] == "WEB-BASE"


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        pytest.param(
            {"starts_at": "2026-06-08T00:00:00Z", "ends_at": "2026-06-01T00:00:00Z"},
            "ends_at",
            "ends_before_start",
            id="end-before-start",
        ),
        pytest.param({"channel": "mars"}, "channel", "unknown_channel", id="unknown-channel"),
        pytest.param({"locations": ["NOPE"]}, "locations.0", "unknown_location", id="location"),
        pytest.param({"code": "WEB-BASE"}, "code", "unique", id="code-taken"),
        pytest.param({"code": "bad code"}, "code", "invalid", id="code-shape"),
    ],
)
def test_a_bad_price_list_is_400_and_nothing_is_written(merchandiser, catalog, body, attr, code):
    data = {"code": "NEW", "name": "New", "channel": "web", **body}
    response = merchandiser.post("/api/v1/price-lists/", data)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert (response.json()["errors"][0]["attr"], response.json()["errors"][0]["code"]) == (
        attr,
        code,
    )
    assert PriceList.objects.count() == 1


def test_a_patch_cannot_put_the_end_before_the_start(merchandiser, catalog):
    merchandiser.patch("/api/v1/price-lists/WEB-BASE/", {"starts_at": "2026-06-08T00:00:00Z"})
    response = merchandiser.patch(
        "/api/v1/price-lists/WEB-BASE/", {"ends_at": "2026-06-01T00:00:00Z"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "ends_at"
    assert PriceList.objects.get().ends_at is None


def test_put_prices_replaces_the_list_and_keeps_who_and_when(merchandiser, catalog):
    response = put_prices(
        merchandiser,
        "WEB-BASE",
        [
            {"sku": "TEE-RED-M", "amount": "18.50"},  # changed
            {"sku": "TEE-BLUE-M", "amount": "20.00"},  # unchanged
            {"sku": "NOPRICE-1", "amount": "2.25"},  # new
        ],  # SHIRT-1, SHOE-1 and APPLE-1 go
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 1, "deleted": 3, "unchanged": 1}
    listed = merchandiser.get("/api/v1/price-lists/WEB-BASE/prices/").json()
    assert [(r["sku"], r["amount"]) for r in listed["results"]] == [
        ("NOPRICE-1", "2.25"),
        ("TEE-BLUE-M", "20.00"),
        ("TEE-RED-M", "18.50"),
    ]
    history = list(selectors.price_history(sku_code="TEE-RED-M"))
    assert [(h.history_type, str(h.amount), h.history_user) for h in history] == [
        ("~", "18.50", "merchandiser:test merchandiser"),
        ("+", "20.00", "test"),
    ]
    gone = selectors.price_history(sku_code="SHOE-1").first()
    assert (gone.history_type, gone.history_user) == ("-", "merchandiser:test merchandiser")


@pytest.mark.parametrize(
    ("rows", "attr", "code"),
    [
        pytest.param([{"sku": "NOPE", "amount": "1.00"}], "0.sku", "unknown_sku", id="unknown"),
        pytest.param([{"sku": "SHOE-1", "amount": "0.00"}], "0.amount", "min_value", id="zero"),
        pytest.param([{"sku": "SHOE-1", "amount": "-5"}], "0.amount", "min_value", id="negative"),
        pytest.param(
            [{"sku": "SHOE-1", "amount": "1.005"}], "0.amount", "max_decimal_places", id="cents"
        ),
        pytest.param(
            [{"sku": "SHOE-1", "amount": "1"}, {"sku": "SHOE-1", "amount": "2"}],
            "1.sku",
            "duplicate",
            id="twice",
        ),
        pytest.param({"sku": "SHOE-1", "amount": "1"}, None, "not_a_list", id="not-a-list"),
    ],
)
def test_bad_prices_are_400_and_nothing_changes(merchandiser, catalog, rows, attr, code):
    before = list(Price.objects.values_list("sku_id", "amount"))
    response = put_prices(merchandiser, "WEB-BASE", rows)
    assert response.status_code == 400, response.content
    first = response.json()["errors"][0]
    assert (first["attr"] or None, first["code"]) == (attr, code)
    assert list(Price.objects.values_list("sku_id", "amount")) == before


def test_prices_of_an_unknown_list_are_404(merchandiser, catalog):
    assert put_prices(merchandiser, "NOPE", []).status_code == 404


@pytest.mark.parametrize("role", ["storefront", "pos", "customer_api"])
def test_only_merchandisers_see_or_change_price_lists(request, role, catalog):
    client = request.getfixturevalue(role)
    assert client.get("/api/v1/price-lists/").status_code == 403
    assert put_prices(client, "WEB-BASE", []).status_code == 403
    assert Price.objects.count() == 5
