"""The merchandiser's admin: pages load with their filters and inlines, writes go through the
services (with history), the schedule and channel filters, and the promotion preview."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pricing import services
from pricing.models import Coupon, Price, PriceList, Promotion
from pricing.services import PriceEntry
from tests.factories import CategoryFactory, ProductFactory, SKUFactory, StoreFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def admin_user(django_user_model):
    """pytest-django's ``admin_client`` logs this user in: a superuser without a password,
    as hashing one costs a second a test."""
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)


@pytest.fixture
def data(db):
    apparel = CategoryFactory(code="apparel")
    for code in ("TEE-1", "TEE-2"):
        SKUFactory(sku=code, product=ProductFactory(category=apparel))
    SKUFactory(sku="CAP-1")
    store = StoreFactory(code="STORE-001")
    base = services.create_price_list(code="BASE", name="Base prices", channel="web")
    services.replace_prices(
        price_list=base,
        prices=[
            PriceEntry("TEE-1", D("10.00")),
            PriceEntry("TEE-2", D("20.00")),
            PriceEntry("CAP-1", D("5.00")),
        ],
    )
    services.create_price_list(code="POS", name="Stores", channel="pos", locations=[store.code])
    services.set_tax_rate(location=None, name="VAT", rate=D("21"))
    tees = services.create_promotion(
        name="Tees 10% off", kind="percent_off", value=D("10"), skus=["TEE-1", "TEE-2"]
    )
    services.create_coupon(promotion=tees, code="TEES")
    return {"base": base, "tees": tees, "store": store}


def results(response) -> list:
    return list(response.context["cl"].result_list)


# --- Pages load ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("pricelist", ""),
        ("pricelist", "?channel__id__exact=1&active__exact=1"),
        ("pricelist", "?schedule=live"),
        ("pricelist", "?schedule=soon"),
        ("pricelist", "?schedule=later"),
        ("pricelist", "?schedule=ended"),
        ("pricelist", "?schedule=off"),
        ("pricelist", "?q=base"),
        ("price", ""),
        ("price", "?price_list__channel__id__exact=1&changed_by=user%3Aadmin"),
        ("price", "?q=TEE&o=5"),
        ("promotion", ""),
        ("promotion", "?kind__exact=percent_off&active__exact=1&exclusive__exact=0"),
        ("promotion", "?channel=web&schedule=live"),
        ("promotion", "?schedule=soon&q=TEES"),
        ("coupon", "?q=tees"),
        ("taxrate", ""),
    ],
)
def test_changelists_load(admin_client, data, name, query):
    response = admin_client.get(reverse(f"admin:pricing_{name}_changelist") + query)
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["pricelist", "price", "promotion", "coupon", "taxrate"])
def test_add_forms_load(admin_client, data, name):
    assert admin_client.get(reverse(f"admin:pricing_{name}_add")).status_code == 200


def test_the_price_list_form_shows_its_prices_inline_and_its_tools(admin_client, data):
    base = data["base"]
    response = admin_client.get(reverse("admin:pricing_pricelist_change", args=[base.pk]))
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert sorted(f.instance.sku.sku for f in inline.formset.initial_forms) == [
        "CAP-1",
        "TEE-1",
        "TEE-2",
    ]
    for tool in ("import", "price_history"):
        assert reverse(f"admin:pricing_pricelist_{tool}", args=[base.pk]).encode() in (
            response.content
        )


def test_a_long_price_list_links_to_its_prices_instead(admin_client, data, monkeypatch):
    monkeypatch.setattr("pricing.admin.price_lists.MAX_INLINE_PRICES", 2)
    base = data["base"]
    response = admin_client.get(reverse("admin:pricing_pricelist_change", args=[base.pk]))
    assert response.context["inline_admin_formsets"] == []
    assert f"?price_list__id__exact={base.pk}".encode() in response.content


def test_the_promotion_form_shows_its_coupons_inline_and_the_preview_link(admin_client, data):
    tees = data["tees"]
    response = admin_client.get(reverse("admin:pricing_promotion_change", args=[tees.pk]))
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert [f.instance.code for f in inline.formset.initial_forms] == ["TEES"]
    assert reverse("admin:pricing_promotion_preview", args=[tees.pk]).encode() in (response.content)


def test_the_price_history_pages_say_who_changed_a_price(admin_client, data):
    base = data["base"]
    services.set_price(price_list=base, sku="TEE-1", amount=D("12.00"), actor="user:alice")
    price = Price.objects.get(price_list=base, sku__sku="TEE-1")

    own = admin_client.get(reverse("admin:pricing_price_history", args=[price.pk]))
    assert own.status_code == 200
    assert b"user:alice" in own.content

    listwide = admin_client.get(
        reverse("admin:pricing_pricelist_price_history", args=[base.pk]) + "?sku=TEE-1"
    )
    assert listwide.status_code == 200
    assert [
        (r.history_type, r.previous, r.amount, r.history_user_id) for r in listwide.context["page"]
    ] == [("~", D("10.00"), D("12.00"), "user:alice"), ("+", None, D("10.00"), None)]

    changelist = admin_client.get(reverse("admin:pricing_price_changelist") + "?q=TEE-1")
    assert [p.last_changed_by for p in results(changelist)] == ["user:alice"]


# --- Writes go through the services --------------------------------------------------------


def management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def price_list_form(price_list: PriceList, **changes) -> dict:
    form = {
        "name": price_list.name,
        "channel": str(price_list.channel_id),
        "priority": str(price_list.priority),
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "active": "on",
    }
    return {**form, **changes}


def test_saving_a_price_list_with_its_prices_records_who(admin_client, data):
    base = data["base"]
    prices = {p.sku.sku: p for p in base.prices.select_related("sku")}
    ordered = sorted(prices.values(), key=lambda p: p.sku.sku)  # the inline's order
    form = price_list_form(base, priority="5", **management("prices", 4, 3))
    for i, price in enumerate(ordered):
        form[f"prices-{i}-id"] = str(price.pk)
        form[f"prices-{i}-price_list"] = str(base.pk)
        form[f"prices-{i}-amount"] = str(price.amount)
    form["prices-1-amount"] = "11.00"  # TEE-1
    form["prices-0-DELETE"] = "on"  # CAP-1
    form["prices-3-sku"] = str(SKUFactory(sku="SOCK-1").pk)
    form["prices-3-amount"] = "3.50"

    response = admin_client.post(reverse("admin:pricing_pricelist_change", args=[base.pk]), form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    base.refresh_from_db()
    assert base.priority == 5
    assert {p.sku.sku: p.amount for p in base.prices.select_related("sku")} == {
        "TEE-1": D("11.00"),
        "TEE-2": D("20.00"),
        "SOCK-1": D("3.50"),
    }
    recent = Price.history.filter(history_user_id="user:admin", history_change_reason="admin")
    assert sorted((r.sku.sku, r.history_type) for r in recent) == [
        ("CAP-1", "-"),
        ("SOCK-1", "+"),
        ("TEE-1", "~"),
    ]


def test_a_price_of_zero_is_refused_on_the_form(admin_client, data):
    base = data["base"]
    form = {
        "price_list": str(base.pk),
        "sku": str(SKUFactory(sku="SOCK-1").pk),
        "amount": "0",
    }
    response = admin_client.post(reverse("admin:pricing_price_add"), form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amount"] == ["Must be more than zero."]
    assert not Price.objects.filter(sku__sku="SOCK-1").exists()


def test_adding_a_price_list_and_editing_a_price_go_through_the_services(admin_client, data):
    response = admin_client.post(
        reverse("admin:pricing_pricelist_add"),
        {
            **price_list_form(data["base"], name="Summer"),
            "code": "SUMMER",
            "locations": [str(data["store"].pk)],
            **management("prices", 0, 0),
        },
    )
    assert response.status_code == 302
    summer = PriceList.objects.get(code="SUMMER")
    assert [location.code for location in summer.locations.all()] == ["STORE-001"]

    price = Price.objects.get(price_list=data["base"], sku__sku="TEE-2")
    changed = admin_client.post(
        reverse("admin:pricing_price_change", args=[price.pk]), {"amount": "19.00"}
    )
    assert changed.status_code == 302
    latest = price.history.first()
    assert (latest.amount, latest.history_user_id) == (D("19.00"), "user:admin")

    deleted = admin_client.post(
        reverse("admin:pricing_price_delete", args=[price.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    latest = Price.history.filter(id=price.pk).first()
    assert (latest.history_type, latest.history_user_id) == ("-", "user:admin")


def promotion_form(**changes) -> dict:
    form = {
        "name": "Spend 50, save 5",
        "kind": "spend_threshold",
        "value": "5.00",
        "min_quantity": "1",
        "min_subtotal": "50.00",
        "tiers": "[]",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "priority": "0",
        "active": "on",
        **management("coupons", 1, 0),
        "coupons-0-code": "spend50",
        "coupons-0-usage_limit": "100",
        "coupons-0-active": "on",
    }
    return {**form, **changes}


def test_adding_a_promotion_with_a_coupon(admin_client, data):
    response = admin_client.post(reverse("admin:pricing_promotion_add"), promotion_form())
    assert response.status_code == 302
    promotion = Promotion.objects.get(name="Spend 50, save 5")
    assert list(promotion.coupons.values_list("code", "usage_limit")) == [("SPEND50", 100)]


def test_tiers_must_be_a_list_of_codes(admin_client, data):
    response = admin_client.post(
        reverse("admin:pricing_promotion_add"), promotion_form(tiers='"gold"')
    )
    assert response.context["adminform"].form.errors["tiers"] == [
        'A list of loyalty tier codes: ["gold", "silver"].'
    ]


def test_a_promotion_the_service_refuses_shows_why_on_the_field(admin_client, data):
    response = admin_client.post(
        reverse("admin:pricing_promotion_add"), promotion_form(min_subtotal="")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["min_subtotal"] == ["A spend threshold needs the amount to reach."]
    assert not Promotion.objects.filter(name="Spend 50, save 5").exists()
    assert not Coupon.objects.filter(code="SPEND50").exists()


# --- Schedule and channel filters ----------------------------------------------------------


@pytest.fixture
def schedule(data):
    now = timezone.now()
    make = services.create_promotion
    return {
        "open": data["tees"],
        "running": make(
            name="running",
            kind="amount_off",
            value=D("1"),
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=1),
            channels=["web"],
        ),
        "soon": make(
            name="soon", kind="amount_off", value=D("1"), starts_at=now + timedelta(days=6)
        ),
        "later": make(
            name="later", kind="amount_off", value=D("1"), starts_at=now + timedelta(days=8)
        ),
        "ended": make(
            name="ended", kind="amount_off", value=D("1"), ends_at=now - timedelta(minutes=1)
        ),
        "off": make(name="off", kind="amount_off", value=D("1"), active=False, channels=["pos"]),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("schedule=live", {"open", "running"}),
        ("schedule=soon", {"soon"}),
        ("schedule=later", {"later"}),
        ("schedule=ended", {"ended"}),
        ("schedule=off", {"off"}),
        ("channel=web", {"open", "running", "soon", "later", "ended"}),  # none: every channel
        ("channel=pos", {"open", "soon", "later", "ended", "off"}),
        ("channel=pos&schedule=live", {"open"}),
    ],
)
def test_promotion_filters(admin_client, schedule, query, expected):
    names = {promotion.pk: key for key, promotion in schedule.items()}
    response = admin_client.get(reverse("admin:pricing_promotion_changelist") + "?" + query)
    assert {names[p.pk] for p in results(response)} == expected


def test_promotion_list_columns(admin_client, schedule):
    response = admin_client.get(reverse("admin:pricing_promotion_changelist") + "?q=soon")
    (soon,) = results(response)
    assert (soon.n_coupons, response.context["cl"].model_admin.status(soon)) == (
        0,
        "starts in 5 day(s)",
    )


def test_price_list_schedule_filter(admin_client, data):
    now = timezone.now()
    services.create_price_list(
        code="XMAS", name="Christmas", channel="web", starts_at=now + timedelta(days=3)
    )
    url = reverse("admin:pricing_pricelist_changelist")
    live = admin_client.get(url + "?schedule=live")
    soon = admin_client.get(url + "?schedule=soon")
    assert sorted(p.code for p in results(live)) == ["BASE", "POS"]
    assert [(p.code, p.n_prices) for p in results(soon)] == [("XMAS", 0)]
    assert [p.n_prices for p in results(live) if p.code == "BASE"] == [3]


# --- Promotion preview ---------------------------------------------------------------------


def preview(admin_client, promotion, **fields):
    form = {"channel": "web", "location": "", "tier": "", "cart": "TEE-1 2\nCAP-1", **fields}
    return admin_client.post(reverse("admin:pricing_promotion_preview", args=[promotion.pk]), form)


def test_the_preview_prices_a_sample_cart_with_the_promotion(admin_client, data):
    page = admin_client.get(reverse("admin:pricing_promotion_preview", args=[data["tees"].pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["cart"] == "TEE-1 1\nTEE-2 1"

    response = preview(admin_client, data["tees"])

    assert response.status_code == 200
    result = response.context["preview"]
    quote = result.quote
    # TEE-1: 2 × 10.00 − 10 % = 18.00; CAP-1: 5.00. Tax 21 % included: 3.12 + 0.87.
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        D("25.00"),
        D("2.00"),
        D("3.99"),
        D("23.00"),
    )
    assert (result.applied, result.saving, result.baseline.total) == (True, D("2.00"), D("25.00"))
    assert [(r["line"].sku, r["this"], r["others"]) for r in response.context["rows"]] == [
        ("TEE-1", D("2.00"), D("0.00")),
        ("CAP-1", D("0.00"), D("0.00")),
    ]
    assert b"This promotion takes off 2.00 EUR." in response.content
    assert b'<th id="total">23.00 EUR</th>' in response.content


def test_the_preview_treats_a_future_promotion_as_running(admin_client, data):
    later = services.create_promotion(
        name="Caps 1 off",
        kind="amount_off",
        value=D("1.00"),
        skus=["CAP-1"],
        starts_at=timezone.now() + timedelta(days=3),
        requires_coupon=True,
    )
    result = preview(admin_client, later, cart="CAP-1 3").context["preview"]
    assert (result.applied, result.quote.total) == (True, D("12.00"))


def test_the_preview_can_stack_with_the_promotions_running_now(admin_client, data):
    caps = services.create_promotion(
        name="Caps 1 off", kind="amount_off", value=D("1.00"), skus=["CAP-1"]
    )
    alone = preview(admin_client, caps).context["preview"]
    stacked = preview(admin_client, caps, with_others="on").context["preview"]
    assert (alone.quote.discount_total, stacked.quote.discount_total) == (D("1.00"), D("3.00"))
    assert stacked.saving == D("1.00")


def test_the_preview_says_why_a_promotion_does_not_apply(admin_client, data):
    pos_only = services.create_promotion(
        name="POS only", kind="percent_off", value=D("5"), channels=["pos"]
    )
    response = preview(admin_client, pos_only)
    result = response.context["preview"]
    assert (result.applied, result.hints) == (False, ("It is not for channel web.",))
    assert result.quote.total == D("25.00")
    assert b"does not apply" in response.content


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"cart": "NOPE 1"}, "cart", "Line 1: Unknown SKU 'NOPE'."),
        ({"cart": "TEE-1 two"}, "cart", "Line 1: write a SKU and a whole quantity, e.g. ABC-1 2."),
        ({"cart": "TEE-1 0"}, "cart", "Line 1: Quantity must be a whole number ≥ 1."),
        ({"cart": ""}, "cart", "This field is required."),
        ({"location": "NOWHERE"}, "location", "Unknown location 'NOWHERE'."),
    ],
)
def test_the_preview_names_bad_input(admin_client, data, fields, field, message):
    response = preview(admin_client, data["tees"], **fields)
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["form"].errors[field] == [message]
