"""Promotions and coupons over REST."""

from decimal import Decimal

import pytest

from pricing.models import Coupon, Promotion

pytestmark = pytest.mark.django_db

D = Decimal

TEES_20 = {
    "name": "Tees -20%",
    "kind": "percent_off",
    "value": "20",
    "categories": ["tees"],
    "channels": ["web"],
    "starts_at": "2026-06-01T00:00:00Z",
    "ends_at": "2026-07-01T00:00:00Z",
    "priority": 5,
}


def test_merchandiser_creates_a_promotion(merchandiser, catalog, store):
    response = merchandiser.post(
        "/api/v1/promotions/",
        {**TEES_20, "skus": ["SHOE-1"], "locations": [store.code], "tiers": ["gold", "silver"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {
        k: body[k]
        for k in ("kind", "value", "skus", "categories", "channels", "locations", "tiers")
    } == {
        "kind": "percent_off",
        "value": "20.00",
        "skus": ["SHOE-1"],
        "categories": ["tees"],
        "channels": ["web"],
        "locations": ["STORE-001"],
        "tiers": ["gold", "silver"],
    }
    assert (body["min_quantity"], body["exclusive"], body["active"]) == (1, False, True)
    assert merchandiser.get(f"/api/v1/promotions/{body['id']}/").json()["name"] == "Tees -20%"
    assert merchandiser.get("/api/v1/promotions/?kind=percent_off").json()["count"] == 1
    assert merchandiser.get("/api/v1/promotions/?live=true").json()["count"] == 0


def test_merchandiser_changes_a_promotion(merchandiser, catalog):
    pid = merchandiser.post("/api/v1/promotions/", TEES_20).json()["id"]
    response = merchandiser.patch(
        f"/api/v1/promotions/{pid}/", {"value": "25", "categories": [], "skus": ["TEE-RED-M"]}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["value"], body["categories"], body["skus"]) == ("25.00", [], ["TEE-RED-M"])


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        pytest.param({"value": "100.01"}, "value", "max_value", id="percent-over-100"),
        pytest.param({"value": "0"}, "value", "min_value", id="value-zero"),
        pytest.param(
            {"ends_at": "2026-05-01T00:00:00Z"}, "ends_at", "ends_before_start", id="end-first"
        ),
        pytest.param({"kind": "free_lunch"}, "kind", "invalid_choice", id="kind"),
        pytest.param({"skus": ["NOPE"]}, "skus.0", "unknown_sku", id="unknown-sku"),
        pytest.param({"categories": ["x"]}, "categories.0", "unknown_category", id="category"),
        pytest.param({"channels": ["mars"]}, "channels.0", "unknown_channel", id="channel"),
        pytest.param({"min_quantity": 0}, "min_quantity", "min_value", id="min-quantity"),
        pytest.param({"usage_limit": 0}, "usage_limit", "min_value", id="usage-limit"),
        pytest.param(
            {"kind": "buy_x_get_y", "buy_quantity": 2}, "get_quantity", "required", id="bxgy"
        ),
        pytest.param(
            {"kind": "spend_threshold", "value": "10"}, "min_subtotal", "required", id="threshold"
        ),
    ],
)
def test_a_bad_promotion_is_400_and_nothing_is_written(merchandiser, catalog, body, attr, code):
    response = merchandiser.post("/api/v1/promotions/", {**TEES_20, **body})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    first = response.json()["errors"][0]
    assert (first["attr"], first["code"]) == (attr, code)
    assert not Promotion.objects.exists()


def test_a_patch_is_checked_against_the_whole_promotion(merchandiser, catalog):
    pid = merchandiser.post(
        "/api/v1/promotions/", {**TEES_20, "kind": "amount_off", "value": "150"}
    ).json()["id"]
    response = merchandiser.patch(f"/api/v1/promotions/{pid}/", {"kind": "percent_off"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "value"
    response = merchandiser.patch(f"/api/v1/promotions/{pid}/", {"ends_at": "2026-01-01T00:00Z"})
    assert response.status_code == 400
    assert Promotion.objects.get().kind == "amount_off"
    assert Promotion.objects.get().ends_at.month == 7


def test_coupons_are_added_and_unique_whatever_the_case(merchandiser, catalog):
    pid = merchandiser.post("/api/v1/promotions/", {**TEES_20, "requires_coupon": True}).json()[
        "id"
    ]
    response = merchandiser.post(
        f"/api/v1/promotions/{pid}/coupons/", {"code": "Summer-26", "usage_limit": 100}
    )
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in ("code", "usage_limit", "used_count", "promotion")} == {
        "code": "SUMMER-26",
        "usage_limit": 100,
        "used_count": 0,
        "promotion": pid,
    }
    again = merchandiser.post(f"/api/v1/promotions/{pid}/coupons/", {"code": "summer-26"})
    assert again.status_code == 400
    assert again.json()["errors"][0] == {
        "attr": "code",
        "code": "unique",
        "detail": "Coupon SUMMER-26 exists.",
    }
    listed = merchandiser.get(f"/api/v1/promotions/{pid}/coupons/").json()
    assert [c["code"] for c in listed["results"]] == ["SUMMER-26"]
    assert Coupon.objects.count() == 1


def test_a_coupon_for_an_unknown_promotion_is_404(merchandiser, catalog):
    assert merchandiser.post("/api/v1/promotions/999/coupons/", {"code": "X"}).status_code == 404
    assert merchandiser.get("/api/v1/promotions/abc/").status_code == 404


@pytest.mark.parametrize("role", ["storefront", "pos", "store_staff", "customer_api"])
def test_only_merchandisers_manage_promotions(request, role, catalog):
    client = request.getfixturevalue(role)
    assert client.post("/api/v1/promotions/", TEES_20).status_code == 403
    assert client.get("/api/v1/promotions/").status_code == 403
    assert not Promotion.objects.exists()


def test_anonymous_callers_are_401(anon, catalog):
    response = anon.post("/api/v1/promotions/", TEES_20)
    assert response.status_code == 401
    assert not Promotion.objects.exists()
