import pytest

from inventory.models import SKU, Product
from tests.factories import CategoryFactory, SKUFactory

pytestmark = pytest.mark.django_db


def test_merchandiser_creates_product_with_nested_skus(merchandiser):
    CategoryFactory(code="tees")
    response = merchandiser.post(
        "/api/v1/products/",
        {
            "name": "Organic tee",
            "category": "tees",
            "skus": [
                {"sku": "TEE-RED-M", "barcode": "8710000000011", "attributes": {"size": "M"}},
                {"sku": "TEE-RED-L", "barcode": "8710000000028", "attributes": {"size": "L"}},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == "tees"
    assert [s["sku"] for s in body["skus"]] == ["TEE-RED-L", "TEE-RED-M"]
    assert SKU.objects.get(sku="TEE-RED-M").name == "Organic tee"


def test_duplicate_sku_in_body_is_rejected_and_nothing_written(merchandiser):
    CategoryFactory(code="tees")
    response = merchandiser.post(
        "/api/v1/products/",
        {"name": "Tee", "category": "tees", "skus": [{"sku": "A-1"}, {"sku": "A-1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["attr"] == "skus.1.sku"
    assert not Product.objects.exists()


def test_sku_of_another_product_cannot_be_taken(merchandiser):
    SKUFactory(sku="TAKEN-1")
    CategoryFactory(code="tees")
    response = merchandiser.post(
        "/api/v1/products/",
        {"name": "Tee", "category": "tees", "skus": [{"sku": "TAKEN-1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "skus.0.sku"


def test_category_filter_includes_subcategories(anon):
    apparel = CategoryFactory(code="apparel")
    tees = CategoryFactory(code="tees", parent=apparel)
    shoes = CategoryFactory(code="shoes")
    SKUFactory(product__name="Tee", product__category=tees)
    SKUFactory(product__name="Sneaker", product__category=shoes)
    names = [p["name"] for p in anon.get("/api/v1/products/?category=apparel").json()["results"]]
    assert names == ["Tee"]
    assert anon.get("/api/v1/products/?category=unknown").json()["count"] == 0


def test_search_finds_by_name_and_barcode(anon):
    SKUFactory(product__name="Linen shirt", barcode="8719999999999")
    SKUFactory(product__name="Wool socks")
    assert [p["name"] for p in anon.get("/api/v1/products/?search=linen").json()["results"]] == [
        "Linen shirt"
    ]
    assert anon.get("/api/v1/products/?search=8719999999999").json()["count"] == 1


def test_pos_scans_a_barcode(pos):
    SKUFactory(sku="SOCK-1", barcode="8711111111111")
    SKUFactory(sku="SOCK-2", barcode="8712222222222")
    results = pos.get("/api/v1/skus/?barcode=8711111111111").json()["results"]
    assert [r["sku"] for r in results] == ["SOCK-1"]


def test_moving_a_category_rewrites_descendant_paths(merchandiser):
    root = CategoryFactory(code="root")
    CategoryFactory(code="mid")
    leaf = CategoryFactory(code="leaf", parent=root)
    response = merchandiser.patch("/api/v1/categories/root/", {"parent": "mid"}, format="json")
    assert response.status_code == 200, response.content
    leaf.refresh_from_db()
    assert leaf.path == "mid/root/leaf/"
    cycle = merchandiser.patch("/api/v1/categories/mid/", {"parent": "leaf"}, format="json")
    assert cycle.status_code == 400
