"""``manage.py demo``: the data it builds, running it again, and the tokens it prints."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from config.api.models import ApiClient
from config.management.commands.demo import (
    DEMO_STORE,
    ean13_check_digit,
    is_valid_ean13,
    size_code,
)
from inventory.models import SKU, Category, Location, Product

pytestmark = pytest.mark.django_db

ROLE_LABELS = ["merchandiser", "storefront", f"pos at {DEMO_STORE}", f"store_staff at {DEMO_STORE}"]
# The Amsterdam metro area, generously: Purmerend to Uithoorn, Haarlem to Almere.
LAT_RANGE = (52.20, 52.55)
LNG_RANGE = (4.55, 5.35)


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def tokens_in(output: str) -> dict[str, str]:
    found = {}
    for label in ROLE_LABELS:
        match = re.search(rf"^\s+{re.escape(label)}\s+(\S+)$", output, re.MULTILINE)
        assert match, f"no token printed for {label!r}:\n{output}"
        found[label] = match.group(1)
    return found


def counts() -> dict[str, int]:
    return {
        "warehouses": Location.objects.filter(type=Location.Type.WAREHOUSE).count(),
        "stores": Location.objects.filter(type=Location.Type.STORE).count(),
        "categories": Category.objects.count(),
        "top_categories": Category.objects.filter(parent=None).count(),
        "products": Product.objects.count(),
        "skus": SKU.objects.count(),
        "api_clients": ApiClient.objects.count(),
    }


def test_demo_builds_a_retailer():
    run_demo()

    numbers = counts()
    assert numbers["warehouses"] >= 2
    assert numbers["stores"] >= 20
    assert numbers["skus"] >= 200
    assert numbers["top_categories"] >= 5
    for top in Category.objects.filter(parent=None):
        assert top.children.exists(), f"{top.code} has no subcategories"
    assert numbers["api_clients"] == 4


def test_locations_are_in_the_amsterdam_metro_area():
    run_demo()

    for location in Location.objects.all():
        assert LAT_RANGE[0] < float(location.latitude) < LAT_RANGE[1], location.code
        assert LNG_RANGE[0] < float(location.longitude) < LNG_RANGE[1], location.code
        assert location.timezone == "Europe/Amsterdam"
    warehouses = Location.objects.filter(type=Location.Type.WAREHOUSE)
    assert all(w.ship_enabled and not w.pickup_enabled for w in warehouses)
    stores = Location.objects.filter(type=Location.Type.STORE)
    assert all(store.pickup_enabled for store in stores)
    ship_from_store = [store for store in stores if store.ship_enabled]
    assert len(ship_from_store) >= 2
    assert all(store.daily_capacity for store in ship_from_store)


def test_skus_have_sizes_colours_and_valid_unique_ean13_barcodes():
    run_demo()

    barcodes = list(SKU.objects.values_list("barcode", flat=True))
    assert all(is_valid_ean13(code) for code in barcodes)
    assert len(set(barcodes)) == len(barcodes)
    for sku in SKU.objects.all():
        assert {"colour", "size"} <= set(sku.attributes), sku.sku
    assert SKU.objects.get(sku="M1001-NVY-L").attributes == {
        "style": "M1001",
        "colour": "Navy",
        "size": "L",
    }


def test_same_seed_same_barcodes_other_seed_other_barcodes():
    run_demo()
    first = dict(SKU.objects.values_list("sku", "barcode"))
    run_demo("--reset")
    assert dict(SKU.objects.values_list("sku", "barcode")) == first
    run_demo("--reset", "--seed", "7")
    assert dict(SKU.objects.values_list("sku", "barcode")) != first


def test_running_twice_adds_nothing_and_prints_new_working_tokens():
    first_tokens = tokens_in(run_demo())
    before = counts()

    output = run_demo()

    assert counts() == before
    assert "all 578 SKUs already there" in output
    second_tokens = tokens_in(output)
    for label in ROLE_LABELS:
        old = APIClient()
        old.credentials(HTTP_AUTHORIZATION=f"Token {first_tokens[label]}")
        assert old.get("/api/v1/locations/").status_code == 401, f"{label}: old token still works"
        new = APIClient()
        new.credentials(HTTP_AUTHORIZATION=f"Token {second_tokens[label]}")
        assert new.get("/api/v1/locations/").status_code == 200, label


def test_printed_tokens_work_against_the_api():
    tokens = tokens_in(run_demo())

    for label, key in tokens.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.get("/api/v1/locations/", {"limit": 100})
        assert response.status_code == 200, (label, response.content)
        assert response.json()["count"] == Location.objects.count()
    roles = dict(ApiClient.objects.values_list("role", "location_codes"))
    assert roles == {
        "merchandiser": [],
        "storefront": [],
        "pos": [DEMO_STORE],
        "store_staff": [DEMO_STORE],
    }


def test_a_missing_piece_is_filled_in_on_the_next_run():
    run_demo()
    before = counts()
    SKU.objects.filter(sku__startswith="W1001-NVY-").delete()
    Location.objects.filter(code="DIEMEN").delete()

    run_demo()

    assert counts() == before
    assert SKU.objects.get(sku="W1001-NVY-M").product == SKU.objects.get(sku="W1001-BLK-M").product


def test_reset_rebuilds_the_same_demo():
    run_demo()
    before = counts()
    run_demo("--reset")
    assert counts() == before


def test_admin_password_is_set_only_when_it_differs(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    run_demo("--admin-password", "first-pass-123")
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("first-pass-123")
    stored = admin.password

    run_demo("--admin-password", "first-pass-123")
    assert django_user_model.objects.get(username="admin").password == stored  # still signed in

    run_demo()
    assert django_user_model.objects.get(username="admin").check_password("first-pass-123")


def test_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run_demo()
    assert not Location.objects.exists()


@pytest.mark.parametrize(
    ("first12", "check"),
    # Published examples: GS1's 5901234123457, an ISBN-13, a retail EAN.
    [("590123412345", "7"), ("978030640615", "7"), ("400638133393", "1"), ("000000000000", "0")],
)
def test_ean13_check_digit(first12, check):
    assert ean13_check_digit(first12) == check


def test_size_codes_are_valid_in_sku_codes():
    assert size_code("30/32") == "30-32"
    assert size_code("140x200/220") == "140X200-220"
    assert size_code("One size") == "OS"
