"""Carts (API.md, "Carts and orders"): priced like a quote, the same on every device,
merged on sign-in, ordered by checkout, purged when stale."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.api.roles import Role
from orders.models import Cart, CartLine, CartStatus, Order
from orders.services import carts as cart_services
from pricing import services as pricing_services
from tests.orders.conftest import ADDRESS, stock

CARTS = "/api/v1/carts/"
pytestmark = pytest.mark.django_db


def new_cart(client, **body):
    response = client.post(CARTS, {"channel": "web", **body}, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def add(client, cart_id, sku, quantity):
    response = client.post(f"{CARTS}{cart_id}/lines/", {"sku": sku, "quantity": quantity})
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_cart_answers_priced_like_a_quote_with_availability(storefront, network):
    stock("TEE", "WH-NEAR", 5)
    cart = new_cart(storefront)
    assert cart["lines"] == []
    assert cart["total"] == "0.00"
    assert cart["status"] == "open"
    add(storefront, cart["id"], "TEE", 2)
    body = add(storefront, cart["id"], "MUG", 1)
    quote = storefront.post(
        "/api/v1/pricing/quote/",
        {"channel": "web", "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}]},
        format="json",
    ).json()
    for name in ("subtotal", "discount_total", "tax_total", "total", "currency"):
        assert body[name] == quote[name]
    assert body["total"] == "48.50"
    assert [(line["sku"], line["availability"]) for line in body["lines"]] == [
        ("TEE", {"available": 5, "enough": True}),
        ("MUG", {"available": 0, "enough": False}),
    ]


def test_lines_add_up_change_and_go(storefront, network):
    cart = new_cart(storefront)
    add(storefront, cart["id"], "TEE", 1)
    body = add(storefront, cart["id"], "TEE", 2)
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("TEE", 3)]
    body = storefront.patch(f"{CARTS}{cart['id']}/lines/TEE/", {"quantity": 1}).json()
    assert body["lines"][0]["quantity"] == 1
    assert body["total"] == "20.00"
    response = storefront.delete(f"{CARTS}{cart['id']}/lines/TEE/")
    assert response.status_code == 200
    assert response.json()["lines"] == []
    assert storefront.delete(f"{CARTS}{cart['id']}/lines/TEE/").status_code == 404


@pytest.mark.parametrize(
    ("line", "attr", "code"),
    [
        ({"sku": "NOPE", "quantity": 1}, "sku", "unknown_sku"),
        ({"sku": "TEE", "quantity": -1}, "quantity", "min_value"),
        ({"sku": "TEE", "quantity": 0}, "quantity", "min_value"),
    ],
)
def test_bad_lines_are_problems_and_nothing_is_written(storefront, network, line, attr, code):
    cart = new_cart(storefront)
    response = storefront.post(f"{CARTS}{cart['id']}/lines/", line, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["attr"] == attr
    assert response.json()["errors"][0]["code"] == code
    assert CartLine.objects.count() == 0


def test_a_customers_open_cart_is_the_same_on_every_device(
    api_for, me, storefront, customer, network, store
):
    first = new_cart(me)  # the customer's phone app
    add(me, first["id"], "TEE", 1)
    # the web shop on a laptop, where the customer signed in
    second = storefront.post(CARTS, {"channel": "web", "customer": customer.pk}, format="json")
    assert second.status_code == 200
    assert second.json()["id"] == first["id"]
    assert second.json()["customer"] == customer.pk
    listed = me.get(CARTS).json()["results"]
    assert [c["id"] for c in listed] == [first["id"]]
    # ... and at the till
    till = api_for(Role.POS, locations=[store.code])
    found = till.get(CARTS, {"customer": customer.pk}).json()["results"]
    assert [c["id"] for c in found] == [first["id"]]
    assert till.get(f"{CARTS}{first['id']}/").json()["lines"][0]["sku"] == "TEE"


def test_a_customer_sees_only_its_own_carts(me, them, customer, network):
    mine = new_cart(me)
    assert them.get(f"{CARTS}{mine['id']}/").status_code == 404
    assert (
        them.post(f"{CARTS}{mine['id']}/lines/", {"sku": "TEE", "quantity": 1}).status_code == 404
    )
    assert them.post(CARTS, {"channel": "web", "customer": customer.pk}).status_code == 404
    assert them.get(CARTS, {"customer": customer.pk}).status_code == 404
    assert me.get(f"{CARTS}not-a-uuid/").status_code == 404


def test_a_pos_cannot_look_up_a_cart_bound_to_another_store(api_for, storefront, customer, network):
    cart = new_cart(storefront, customer=customer.pk, location="STORE-UTR")
    ams = api_for(Role.POS, locations=["STORE-AMS"])
    assert ams.get(f"{CARTS}{cart['id']}/").status_code == 404
    assert ams.get(CARTS, {"customer": customer.pk}).json()["results"] == []
    utr = api_for(Role.POS, locations=["STORE-UTR"])
    assert utr.get(f"{CARTS}{cart['id']}/").status_code == 200


def test_a_pickup_store_prices_and_counts_at_the_store(storefront, network):
    stock("TEE", "STORE-AMS", 1)
    stock("TEE", "WH-NEAR", 9)
    cart = new_cart(storefront, location="STORE-AMS")
    body = add(storefront, cart["id"], "TEE", 2)
    assert body["location"] == "STORE-AMS"
    assert body["lines"][0]["availability"] == {"available": 1, "enough": False}


def test_an_anonymous_cart_merges_into_the_customers_on_sign_in(storefront, me, customer, network):
    mine = new_cart(me)
    add(me, mine["id"], "TEE", 1)
    anonymous = new_cart(storefront)
    add(storefront, anonymous["id"], "TEE", 2)
    add(storefront, anonymous["id"], "MUG", 1)
    response = me.post(f"{CARTS}{anonymous['id']}/merge/", {}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == mine["id"]
    assert sorted((line["sku"], line["quantity"]) for line in body["lines"]) == [
        ("MUG", 1),
        ("TEE", 3),
    ]
    assert Cart.objects.get(pk=anonymous["id"]).status == CartStatus.MERGED
    again = me.post(f"{CARTS}{anonymous['id']}/merge/", {}, format="json")
    assert again.status_code == 200
    assert again.json()["lines"] == body["lines"]


def test_merge_without_an_open_cart_makes_one(storefront, customer, network):
    anonymous = new_cart(storefront)
    add(storefront, anonymous["id"], "CAP", 2)
    body = storefront.post(
        f"{CARTS}{anonymous['id']}/merge/", {"customer": customer.pk}, format="json"
    ).json()
    assert body["customer"] == customer.pk
    assert body["id"] != anonymous["id"]
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("CAP", 2)]


def test_coupons_on_the_cart_price_like_a_quote(storefront, network):
    promotion = pricing_services.create_promotion(
        name="Ten off", kind="percent_off", value=Decimal("10"), requires_coupon=True
    )
    pricing_services.create_coupon(promotion=promotion, code="TEN")
    cart = new_cart(storefront, coupon_codes=["TEN"])
    body = add(storefront, cart["id"], "TEE", 1)
    assert body["coupon_codes"] == ["TEN"]
    assert body["total"] == "18.00"
    body = storefront.patch(f"{CARTS}{cart['id']}/", {"coupon_codes": []}, format="json").json()
    assert body["total"] == "20.00"


def test_checkout_from_a_cart_closes_it(me, customer, network):
    stock("TEE", "WH-NEAR", 5)
    cart = new_cart(me)
    add(me, cart["id"], "TEE", 2)
    body = {
        "channel": "web",
        "cart": cart["id"],
        "fulfilment": {"method": "ship", "address": dict(ADDRESS)},
        "expected_total": "40.00",
    }
    response = me.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("TEE", 2)]
    assert order["customer"] == customer.pk
    assert order["total"] == "40.00"
    closed = me.get(f"{CARTS}{cart['id']}/").json()
    assert closed["status"] == "ordered"
    assert closed["order"] == order["number"]
    again = me.post("/api/v1/orders/", body, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"
    assert Order.objects.count() == 1
    assert me.post(f"{CARTS}{cart['id']}/lines/", {"sku": "TEE", "quantity": 1}).status_code == 409
    assert new_cart(me)["id"] != cart["id"]  # a new open cart


def test_another_customers_cart_cannot_be_ordered(me, them, network):
    stock("TEE", "WH-NEAR", 5)
    cart = new_cart(me)
    add(me, cart["id"], "TEE", 1)
    body = {
        "channel": "web",
        "cart": cart["id"],
        "fulfilment": {"method": "ship", "address": ADDRESS},
    }
    assert them.post("/api/v1/orders/", body, format="json").status_code == 404
    assert Order.objects.count() == 0


def test_stale_carts_are_purged(storefront, network, settings):
    settings.CARTS_STALE_DAYS = 7
    old = new_cart(storefront)
    fresh = new_cart(storefront)
    Cart.objects.filter(pk=old["id"]).update(updated_at=timezone.now() - timedelta(days=8))
    call_command("purge_stale_carts")
    assert list(Cart.objects.values_list("pk", flat=True)) == [Cart.objects.get(pk=fresh["id"]).pk]
    assert cart_services.purge_stale_carts() == 0


def test_cart_get_runs_a_constant_number_of_queries(storefront, network):
    cart = new_cart(storefront)
    add(storefront, cart["id"], "TEE", 1)
    storefront.get(f"{CARTS}{cart['id']}/")  # warm up
    with CaptureQueriesContext(connection) as one:
        storefront.get(f"{CARTS}{cart['id']}/")
    for sku in ("MUG", "SHOE", "CAP"):
        add(storefront, cart["id"], sku, 2)
    with CaptureQueriesContext(connection) as four:
        storefront.get(f"{CARTS}{cart['id']}/")
    assert len(one.captured_queries) == len(four.captured_queries)


def test_the_beat_purges_stale_carts_daily(storefront, network):
    from config.celery import app
    from orders.tasks import purge_stale_carts

    entry = app.conf.beat_schedule["orders-purge-stale-carts"]
    assert entry["task"] == "orders.tasks.purge_stale_carts"
    old = new_cart(storefront)
    Cart.objects.filter(pk=old["id"]).update(updated_at=timezone.now() - timedelta(days=31))
    assert purge_stale_carts.delay().get() == 1
    assert not Cart.objects.exists()
