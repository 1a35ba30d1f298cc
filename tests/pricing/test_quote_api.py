"""POST /api/v1/pricing/quote/: open to anyone, the contract's shape, bad input as
problem+json, and a constant number of queries."""

import json
from decimal import Decimal

import pytest
from django.core.cache import cache

from config.api.roles import Role
from pricing import services
from pricing.models import PromotionRedemption
from pricing.services import PriceEntry
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/pricing/quote/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


@pytest.fixture
def promotions(catalog):
    tees = services.create_promotion(
        name="Tees 3 for 2",
        kind="buy_x_get_y",
        value=D("100"),
        buy_quantity=2,
        get_quantity=1,
        categories=["tees"],
    )
    spend = services.create_promotion(
        name="5 off 50",
        kind="spend_threshold",
        value=D("5"),
        min_subtotal=D("50"),
        requires_coupon=True,
    )
    services.create_coupon(promotion=spend, code="FIVE")
    return tees, spend


def test_anyone_gets_a_quote_in_the_contract_shape(anon, promotions):
    services.set_tax_rate(location=None, name="NL", rate=D("21"), category_rates={"food": D("9")})
    response = anon.post(
        URL,
        {
            "channel": "web",
            "lines": [
                {"sku": "TEE-RED-M", "quantity": 2},
                {"sku": "TEE-BLUE-M", "quantity": 1},
                {"sku": "APPLE-1", "quantity": 3},
            ],
            "coupon_codes": ["five", "nope"],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    tees, spend = promotions
    # The free tee is the first of two equal ones; the 5 off 50 is split 20 : 20 : 3 over
    # what is left, the spare cents to the largest remainders (the apples, then the first tee).
    assert body["lines"] == [
        {
            "sku": "TEE-RED-M",
            "quantity": 2,
            "unit_price": "20.00",
            "subtotal": "40.00",
            "discounts": [
                {"promotion": tees.pk, "name": "Tees 3 for 2", "amount": "20.00"},
                {"promotion": spend.pk, "name": "5 off 50", "amount": "2.33"},
            ],
            "discount_total": "22.33",
            "tax_rate": "21.000",
            "tax_total": "3.07",
            "total": "17.67",
        },
        {
            "sku": "TEE-BLUE-M",
            "quantity": 1,
            "unit_price": "20.00",
            "subtotal": "20.00",
            "discounts": [{"promotion": spend.pk, "name": "5 off 50", "amount": "2.32"}],
            "discount_total": "2.32",
            "tax_rate": "21.000",
            "tax_total": "3.07",
            "total": "17.68",
        },
        {
            "sku": "APPLE-1",
            "quantity": 3,
            "unit_price": "1.00",
            "subtotal": "3.00",
            "discounts": [{"promotion": spend.pk, "name": "5 off 50", "amount": "0.35"}],
            "discount_total": "0.35",
            "tax_rate": "9.000",
            "tax_total": "0.22",
            "total": "2.65",
        },
    ]
    assert {k: body[k] for k in ("subtotal", "discount_total", "tax_total", "total")} == {
        "subtotal": "63.00",
        "discount_total": "25.00",
        "tax_total": "6.36",
        "total": "38.00",
    }
    assert (body["currency"], body["channel"], body["location"], body["customer"]) == (
        "EUR",
        "web",
        None,
        None,
    )
    assert body["applied_coupons"] == ["FIVE"]
    assert body["rejected_coupons"] == [{"code": "nope", "reason": "unknown"}]
    assert not PromotionRedemption.objects.exists()  # a quote claims nothing


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        pytest.param(
            {"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.0.sku", "unknown_sku", id="sku"
        ),
        pytest.param(
            {"lines": [{"sku": "TEE-RED-M", "quantity": 1}, {"sku": "NOPRICE-1", "quantity": 1}]},
            "lines.1.sku",
            "no_price",
            id="no-price",
        ),
        pytest.param(
            {"lines": [{"sku": "TEE-RED-M", "quantity": 0}]},
            "lines.0.quantity",
            "min_value",
            id="zero",
        ),
        pytest.param(
            {"lines": [{"sku": "TEE-RED-M", "quantity": -3}]},
            "lines.0.quantity",
            "min_value",
            id="negative",
        ),
        pytest.param(
            {"lines": [{"sku": "TEE-RED-M", "quantity": 1}] * 10_000},
            "lines",
            "max_length",
            id="10000-lines",
        ),
        pytest.param({"lines": "many"}, "lines", "not_a_list", id="lines-not-a-list"),
        pytest.param({"channel": "mars"}, "channel", "unknown_channel", id="channel"),
        pytest.param({"location": "NOWHERE"}, "location", "unknown_location", id="location"),
        pytest.param({"coupon_codes": ["X"] * 21}, "coupon_codes", "max_length", id="coupons"),
    ],
)
def test_bad_input_is_problem_json(storefront, catalog, body, attr, code):
    data = {"channel": "web", "lines": [{"sku": "TEE-RED-M", "quantity": 1}], **body}
    response = storefront.post(URL, data, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid"
    assert (problem["errors"][0]["attr"], problem["errors"][0]["code"]) == (attr, code)


def test_malformed_json_is_400(anon, catalog):
    response = anon.post(URL, data="{", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_customer_quotes_as_themselves(api_for, catalog, monkeypatch):
    from loyalty import selectors as loyalty_selectors

    monkeypatch.setattr(
        loyalty_selectors,
        "tier_for_customer",
        {42: loyalty_selectors.TierInfo("gold", "Gold", 2)}.get,
    )
    services.create_promotion(name="Gold", kind="percent_off", value=D("10"), tiers=["gold"])
    me = api_for(Role.CUSTOMER, customer_id=42)
    lines = [{"sku": "SHOE-1", "quantity": 1}]
    body = me.post(URL, {"channel": "web", "lines": lines}, format="json").json()
    assert (body["customer"], body["discount_total"]) == (42, "8.00")
    other = me.post(URL, {"channel": "web", "customer": 7, "lines": lines}, format="json")
    assert other.status_code == 404


def test_naming_a_customer_needs_a_token(anon, storefront, catalog):
    data = {"channel": "web", "customer": 42, "lines": [{"sku": "SHOE-1", "quantity": 1}]}
    assert anon.post(URL, data, format="json").status_code == 401
    response = storefront.post(URL, data, format="json")
    assert (response.status_code, response.json()["customer"]) == (200, 42)


def test_a_pos_terminal_is_priced_at_its_store(pos, store, other_store, catalog):
    in_store = services.create_price_list(
        code="STORE-1", name="Store", channel="pos", locations=[store.code]
    )
    services.replace_prices(price_list=in_store, prices=[PriceEntry("SHOE-1", D("75.00"))])
    lines = [{"sku": "SHOE-1", "quantity": 1}]
    body = pos.post(URL, {"channel": "pos", "lines": lines}, format="json").json()
    assert (body["location"], body["total"]) == ("STORE-001", "75.00")
    elsewhere = pos.post(
        URL, {"channel": "pos", "location": other_store.code, "lines": lines}, format="json"
    )
    assert elsewhere.status_code == 404


@pytest.mark.parametrize(("few", "many"), [((1, 1), (50, 1)), ((50, 1), (50, 50))])
def test_quote_queries_do_not_grow(storefront, catalog, django_assert_max_num_queries, few, many):
    skus = [SKUFactory(sku=f"Q-{n:02d}", product__category__code="tees") for n in range(50)]
    services.replace_prices(
        price_list=catalog.price_list, prices=[PriceEntry(s.sku, D("5.00")) for s in skus]
    )

    def promote(count):
        for n in range(services.quotes.Promotion.objects.count(), count):
            services.create_promotion(
                name=f"P{n}", kind="amount_off", value=D("0.05"), skus=[skus[n].sku]
            )

    def ask(lines):
        body = {
            "channel": "web",
            "customer": 3,
            "lines": [{"sku": s.sku, "quantity": 2} for s in skus[:lines]],
            "coupon_codes": ["nope"],
        }
        response = storefront.post(URL, body, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    promote(few[1])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        ask(few[0])
    promote(many[1])
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = ask(many[0])
    assert len(body["lines"]) == many[0]
    assert len(body["applied_promotions"]) == many[1]


def test_the_fast_renderer_says_what_the_serializer_says(catalog, promotions):
    from pricing.api.serializers import QuoteSerializer, quote_data

    services.set_tax_rate(location=None, name="NL", rate=D("21"), category_rates={"food": D("9")})
    result = services.quote(
        channel="web",
        customer_id=3,
        lines=[services.CartItem("TEE-RED-M", 3), services.CartItem("APPLE-1", 2)],
        coupon_codes=["five", "nope"],
    )
    assert json.loads(json.dumps(quote_data(result))) == json.loads(
        json.dumps(QuoteSerializer(result).data)
    )
