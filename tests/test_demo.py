"""``manage.py demo``: the data it builds, running it again, and the tokens it prints.

Most checks read one demo built for :class:`TestTheDemo` (class-scoped, rolled back at the
end); the tests that need an empty database build their own, some with the catalog steps
only (``catalog_only``) when stock, prices and orders are beside the point.
"""

import json
import re
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from io import StringIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q, Sum
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from config.api.models import ApiClient
from config.management.commands import demo as demo_command
from config.management.commands.demo import (
    BASIC_STYLES,
    DEMO_STORE,
    STOCK_PARAMETERS,
    Demo,
    ean13_check_digit,
    is_valid_ean13,
    size_code,
    stock_plan,
)
from inventory import services as inventory_services
from inventory.models import SKU, Category, Location, Product, StockLevel, StockMovement
from loyalty.models import Customer, LoyaltyAccount, PointsEntry, StoreCreditAccount
from orders import services as orders_services
from orders.models import Cart, Fulfilment, FulfilmentStatus, Notification, Order, OrderStatus
from pricing import services as pricing_services
from pricing.models import Coupon, Price, PriceList, Promotion, TaxRate
from returns import services as returns_services
from returns.models import Return
from tests.conftest import DATA_MIGRATIONS

pytestmark = pytest.mark.django_db

ROLE_LABELS = ["merchandiser", "storefront", f"pos at {DEMO_STORE}", f"store_staff at {DEMO_STORE}"]
# The Amsterdam metro area, generously: Purmerend to Uithoorn, Haarlem to Almere.
LAT_RANGE = (52.20, 52.55)
LNG_RANGE = (4.55, 5.35)
CATALOG = Demo(seed=0, write=print).catalog
PRICING = Demo(seed=0, write=print).pricing
PEOPLE = Demo(seed=0, write=print).people
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS  # customers and the admin get passwords


@pytest.fixture
def catalog_only(monkeypatch):
    """Run only the steps up to the API clients: locations, categories, SKUs, admin."""
    monkeypatch.setattr(demo_command, "STEPS", demo_command.STEPS[:5])


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


def client_with(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def counts() -> dict[str, int]:
    return {
        "warehouses": Location.objects.filter(type=Location.Type.WAREHOUSE).count(),
        "stores": Location.objects.filter(type=Location.Type.STORE).count(),
        "categories": Category.objects.count(),
        "top_categories": Category.objects.filter(parent=None).count(),
        "products": Product.objects.count(),
        "skus": SKU.objects.count(),
        "api_clients": ApiClient.objects.count(),
        "stock_levels": StockLevel.objects.count(),
        "stock_movements": StockMovement.objects.count(),
        "units_on_hand": StockLevel.objects.aggregate(units=Sum("on_hand"))["units"] or 0,
        "price_lists": PriceList.objects.count(),
        "prices": Price.objects.count(),
        "tax_rates": TaxRate.objects.count(),
        "promotions": Promotion.objects.count(),
        "coupons": Coupon.objects.count(),
        "customers": Customer.objects.count(),
        "points_entries": PointsEntry.objects.count(),
        "orders": Order.objects.count(),
        "fulfilments": Fulfilment.objects.count(),
        "notifications": Notification.objects.count(),
    }


def is_live(row, now) -> bool:
    return (
        row.active
        and (row.starts_at is None or row.starts_at <= now)
        and (row.ends_at is None or row.ends_at > now)
    )


# --- One demo, many checks ---------------------------------------------------------------


@pytest.fixture(scope="class")
def built(django_db_setup, django_db_blocker):
    """The demo built once for the class, inside a transaction rolled back at the end; each
    test runs in a savepoint of it (pytest-django's ``db``), so what a test changes is
    undone before the next."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        for module, function in DATA_MIGRATIONS:  # channels, tiers: gone after a flush
            getattr(import_module(module), function)(django_apps, None)
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            output = run_demo()
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


class TestTheDemo:
    def test_builds_a_retailer(self, built):
        numbers = counts()
        assert numbers["warehouses"] >= 2
        assert numbers["stores"] >= 20
        assert numbers["skus"] >= 200
        assert numbers["top_categories"] >= 5
        for top in Category.objects.filter(parent=None):
            assert top.children.exists(), f"{top.code} has no subcategories"
        assert numbers["api_clients"] == 4
        assert numbers["customers"] == len(PEOPLE["customers"])
        assert numbers["orders"] == len(PEOPLE["orders"])

    def test_locations_are_in_the_amsterdam_metro_area(self, built):
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

    def test_skus_have_sizes_colours_and_valid_unique_ean13_barcodes(self, built):
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

    def test_stock_at_warehouses_and_stores(self, built):
        plan = stock_plan(Demo(seed=demo_command.DEFAULT_SEED, write=print))
        assert StockLevel.objects.count() == len(plan) > 10_000
        active = set(SKU.objects.filter(product__active=True).values_list("sku", flat=True))
        for warehouse in Location.objects.filter(type=Location.Type.WAREHOUSE):
            stocked = set(
                StockLevel.objects.filter(location=warehouse, on_hand__gt=0).values_list(
                    "sku__sku", flat=True
                )
            )
            assert stocked == active, warehouse.code
        levels = StockLevel.objects.filter(sku__product__active=True)
        per_warehouse = levels.filter(location__type=Location.Type.WAREHOUSE).aggregate(
            units=Sum("on_hand")
        )["units"] / (3 * len(active))
        store_levels = levels.filter(location__type=Location.Type.STORE)
        per_store = store_levels.aggregate(units=Sum("on_hand"))["units"] / store_levels.count()
        assert per_warehouse > 10 * per_store > 20
        sold_out = store_levels.filter(on_hand=0).count()
        assert 0.05 < sold_out / store_levels.count() < 0.3
        assert not levels.filter(sku__product__active=False).exists()
        # On hand is the sum of the ledger, level by level.
        ledger = dict(
            StockMovement.objects.values("level")
            .annotate(total=Sum("quantity"))
            .values_list("level", "total")
        )
        for pk, on_hand in levels.values_list("pk", "on_hand"):
            assert ledger.get(pk, 0) == on_hand, pk

    def test_safety_stock_and_reorder_points_fill_the_low_stock_report(self, built):
        basics = Q(sku__sku__regex=rf"^({'|'.join(BASIC_STYLES)})-")
        for code, (safety, reorder) in STOCK_PARAMETERS.items():
            at = StockLevel.objects.filter(location__code=code)
            assert at.filter(basics).count() > 100, code
            assert not at.filter(basics).exclude(safety_stock=safety, reorder_point=reorder)
        planned = Q(basics, location__code__in=STOCK_PARAMETERS)
        assert not StockLevel.objects.exclude(planned).exclude(safety_stock=0, reorder_point=0)

        report = inventory_services.record_low_stock_report()

        assert 20 < len(report.lines) < 1000
        assert {line["location"] for line in report.lines} == set(STOCK_PARAMETERS)
        assert all(line["available"] <= line["reorder_point"] for line in report.lines)

    def test_every_active_sku_priced_on_web_and_pos_at_the_catalog_price(self, built):
        catalog = {style["style"]: Decimal(style["price"]) for style in CATALOG["products"]}
        active = SKU.objects.filter(active=True, product__active=True)
        for code in ("web", "pos"):
            price_list = PriceList.objects.get(code=code)
            assert price_list.channel.code == code
            assert price_list.channel.currency == "EUR"
            assert price_list.channel.prices_include_tax
            assert is_live(price_list, timezone.now())
            prices = dict(
                Price.objects.filter(price_list=price_list).values_list("sku__sku", "amount")
            )
            for sku in active.values_list("sku", flat=True):
                assert prices[sku] == catalog[sku.split("-")[0]], (code, sku)
        default = TaxRate.objects.get(location=None)
        assert default.rate == Decimal("21.000")
        assert not default.exemptions.exists()  # no food or books in the catalog: no 9%

    def test_a_price_change_starts_next_week(self, built):
        change = PriceList.objects.get(code=PRICING["price_change"]["code"])
        now = timezone.now()
        assert now < change.starts_at <= now + timedelta(days=7)
        local = change.starts_at.astimezone(ZoneInfo("Europe/Amsterdam"))
        assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)  # Monday midnight
        assert change.priority > PriceList.objects.get(code="web").priority
        sku = SKU.objects.filter(sku__startswith="W5001-").values_list("sku", flat=True)[0]

        def price(at):
            cart = [pricing_services.CartItem(sku, 1)]
            return pricing_services.quote(channel="web", lines=cart, now=at).lines[0].unit_price

        assert price(now) == Decimal("129.00")
        assert price(change.starts_at) == Decimal(PRICING["price_change"]["prices"]["W5001"])

    def test_promotions_of_every_kind_are_live(self, built):
        now = timezone.now()
        promotions = Promotion.objects.filter(name__in=[p["name"] for p in PRICING["promotions"]])
        assert promotions.count() == len(PRICING["promotions"])
        assert all(is_live(promotion, now) for promotion in promotions)
        assert set(promotions.values_list("kind", flat=True)) == set(Promotion.Kind.values)
        for kind in Promotion.Kind.values:
            assert promotions.filter(kind=kind).count() >= 2, kind
        assert promotions.filter(exclusive=True).count() == 1
        member_only = [p for p in promotions if p.tiers]
        assert [p.tiers for p in member_only] == [["gold"]]
        coupon = Coupon.objects.get(code="WELCOME10")
        assert coupon.active
        assert coupon.promotion.requires_coupon

    def test_customers_sign_in_and_a_gold_member_gets_her_price(self, built):
        email, password = re.search(r"Customer login\s+(\S+)\s+password: (\S+)", built).groups()
        tiers = dict(LoyaltyAccount.objects.values_list("customer__email", "tier__code"))
        assert tiers[email] == "gold"
        assert sorted(tiers.values()) == ["gold", "member", "member", "member", "silver"]
        points = dict(LoyaltyAccount.objects.values_list("customer__email", "points"))
        for customer in PEOPLE["customers"]:
            assert (points[customer["email"]] > 0) == bool(customer["history"]), customer

        response = client_with().post(
            "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
        )

        assert response.status_code == 200, response.content
        anna = client_with(response.json()["token"])
        me = anna.get("/api/v1/customers/me/")
        assert me.status_code == 200
        assert me.json()["email"] == email
        coat = {"channel": "web", "lines": [{"sku": "W5001-CML-38", "quantity": 1}]}
        gold = "Gold members: 15% off coats and jackets"
        as_anna = anna.post("/api/v1/pricing/quote/", coat, format="json").json()
        as_guest = client_with().post("/api/v1/pricing/quote/", coat, format="json").json()
        applied = {p["name"]: Decimal(p["amount"]) for p in as_anna["applied_promotions"]}
        assert applied[gold] == Decimal("19.35")  # 15% of 129.00
        assert gold not in [p["name"] for p in as_guest["applied_promotions"]]
        assert Decimal(as_anna["total"]) == Decimal(as_guest["total"]) - applied[gold]

    def test_an_order_waits_for_pickup_at_the_flagship_and_another_to_be_picked(self, built):
        staff = client_with(tokens_in(built)[f"store_staff at {DEMO_STORE}"])

        ready = staff.get("/api/v1/fulfilments/", {"status": "ready_for_pickup"})
        pending = staff.get("/api/v1/fulfilments/", {"status": "pending"})

        assert ready.status_code == pending.status_code == 200
        assert ready.json()["count"] >= 1
        assert pending.json()["count"] >= 1
        fulfilment = Fulfilment.objects.get(pk=ready.json()["results"][0]["id"])
        assert fulfilment.location.code == DEMO_STORE
        assert fulfilment.order.status == OrderStatus.READY_FOR_PICKUP
        number = fulfilment.order.number
        assert re.search(
            rf"Pickup order\s+{number} at {DEMO_STORE}: fulfilment {fulfilment.pk}, ready for "
            rf"pickup, pickup code {fulfilment.pickup_code}",
            built,
        )
        collected = staff.post(
            f"/api/v1/fulfilments/{fulfilment.pk}/collect/",
            {"pickup_code": fulfilment.pickup_code},
            format="json",
        )
        assert collected.status_code == 200, collected.content

    def test_orders_shipped_collected_and_on_their_way(self, built):
        statuses = dict(
            Order.objects.filter(payments__reference__startswith="demo:").values_list(
                "payments__reference", "status"
            )
        )
        assert statuses == {
            "demo:pickup-ready": OrderStatus.READY_FOR_PICKUP,
            "demo:pickup-to-pick": OrderStatus.PLACED,
            "demo:collected": OrderStatus.COMPLETED,
            "demo:shipped": OrderStatus.COMPLETED,
            "demo:ship-with-points": OrderStatus.IN_PROGRESS,
            "demo:guest-ship": OrderStatus.PLACED,
        }
        shipped = Fulfilment.objects.get(order__payments__reference="demo:shipped")
        assert shipped.status == FulfilmentStatus.SHIPPED
        assert shipped.carrier == "PostNL"
        assert shipped.tracking_number
        with_points = Order.objects.get(payments__reference="demo:ship-with-points")
        assert with_points.points_redeemed == 500
        assert Order.objects.get(payments__reference="demo:pickup-to-pick").coupon_codes == [
            "WELCOME10"
        ]

    def test_the_printed_quote_and_availability_calls_answer_sensibly(self, built):
        storefront = client_with(tokens_in(built)["storefront"])
        body = json.loads(re.search(r"-d '(\{.*\})' \S+/api/v1/pricing/quote/", built).group(1))
        url = urlsplit(re.search(r'"(http://\S+/api/v1/availability/\S+)"', built).group(1))

        quote = storefront.post("/api/v1/pricing/quote/", body, format="json")
        availability = storefront.get(f"{url.path}?{url.query}")

        assert quote.status_code == 200, quote.content
        data = quote.json()
        subtotal, discount, total = (
            Decimal(data[k]) for k in ("subtotal", "discount_total", "total")
        )
        assert data["currency"] == "EUR"
        assert data["prices_include_tax"]
        assert Decimal(0) < discount < subtotal
        assert total == subtotal - discount
        assert data["applied_coupons"] == ["WELCOME10"]
        assert len(data["applied_promotions"]) >= 3
        for line in data["lines"]:
            assert Decimal(line["tax_rate"]) == Decimal(21)
            net = Decimal(line["total"]) / Decimal("1.21")
            assert abs(Decimal(line["total"]) - net - Decimal(line["tax_total"])) <= Decimal("0.01")

        assert availability.status_code == 200, availability.content
        (result,) = availability.json()["results"]
        assert result["sku"] in url.query
        assert result["available"] > 100  # warehouses hold most of it
        distances = [entry["distance_km"] for entry in result["locations"]]
        assert 0 < len(distances) <= 5
        assert distances == sorted(distances)
        assert distances[0] < 3  # a store in the centre

    def test_running_twice_adds_nothing_and_prints_new_working_tokens(self, built):
        before = counts()

        output = run_demo()

        assert counts() == before
        assert "all 578 SKUs already there" in output
        for already in ("levels", "customers", "orders"):
            assert re.search(rf"all [\d,]+ {already} already there", output), already
        assert "all already there: tax rate, price lists, promotions and coupons" in output
        first_tokens, second_tokens = tokens_in(built), tokens_in(output)
        for label in ROLE_LABELS:
            old = client_with(first_tokens[label])
            assert old.get("/api/v1/locations/").status_code == 401, f"{label}: old token works"
            new = client_with(second_tokens[label])
            assert new.get("/api/v1/locations/").status_code == 200, label

    def test_a_missing_price_or_promotion_is_filled_in_on_the_next_run(self, built):
        before = counts()
        Price.objects.filter(price_list__code="web", sku__sku="W1001-NVY-M").delete()
        Promotion.objects.get(name="Leather belt: EUR 5 off").delete()

        output = run_demo()

        assert counts() == before
        assert "1 price added to 'web', 1 promotion created" in output

    def test_printed_tokens_work_against_the_api(self, built):
        for label, key in tokens_in(built).items():
            response = client_with(key).get("/api/v1/locations/", {"limit": 100})
            assert response.status_code == 200, (label, response.content)
            assert response.json()["count"] == Location.objects.count()
        roles = dict(ApiClient.objects.values_list("role", "location_codes"))
        assert roles == {
            "merchandiser": [],
            "storefront": [],
            "pos": [DEMO_STORE],
            "store_staff": [DEMO_STORE],
        }

    def test_reset_rebuilds_the_same_demo_after_it_was_tried(self, built):
        """What a person does with the API refers to demo rows (a guest order and a cart at a
        demo store, a customer's sign-in, a return refunded as store credit); --reset
        removes it with the demo's own rows and builds the same demo again."""
        before = counts()
        email, password = re.search(r"Customer login\s+(\S+)\s+password: (\S+)", built).groups()
        signed_in = client_with().post(
            "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
        )
        assert signed_in.status_code == 200
        sku = Fulfilment.objects.get(order__payments__reference="demo:pickup-to-pick")
        sku = sku.lines.first().order_line.sku
        orders_services.place_order(
            request=orders_services.OrderRequest(
                channel="web",
                lines=[orders_services.LineInput(sku, 1)],
                method="pickup",
                pickup_location=DEMO_STORE,
                email="someone@example.org",
            )
        )
        cart, _ = orders_services.open_cart(channel="web", location=DEMO_STORE)
        orders_services.add_line(cart=cart, sku=sku, quantity=1)
        collected = Order.objects.get(payments__reference="demo:collected")
        returns_services.create_return(
            order=collected,
            lines=[returns_services.ReturnLineInput(collected.lines.get().pk, 1, "changed_mind")],
            return_location=DEMO_STORE,
            refund_method="store_credit",
            receive_now=True,
        )
        Customer.objects.update(first_name="Changed")

        output = run_demo("--reset")

        assert counts() == before
        assert not Customer.objects.filter(first_name="Changed").exists()
        assert not Return.objects.exists()
        assert not Cart.objects.exists()
        assert not StoreCreditAccount.objects.exists()
        assert "Orders (placed, picked, ready, shipped): removed" in output


# --- Builds of their own ----------------------------------------------------------------


def test_same_seed_same_barcodes_other_seed_other_barcodes(catalog_only):
    run_demo()
    first = dict(SKU.objects.values_list("sku", "barcode"))
    run_demo("--reset")
    assert dict(SKU.objects.values_list("sku", "barcode")) == first
    run_demo("--reset", "--seed", "7")
    assert dict(SKU.objects.values_list("sku", "barcode")) != first


def test_stock_depends_on_the_seed_and_the_item_alone():
    plan = stock_plan(Demo(seed=1, write=print))
    assert stock_plan(Demo(seed=1, write=print)) == plan
    assert stock_plan(Demo(seed=2, write=print)) != plan
    fewer = Demo(seed=1, write=print)
    fewer.catalog["products"] = fewer.catalog["products"][1:]  # one style less
    assert all(plan[key] == units for key, units in stock_plan(fewer).items())


def test_a_later_step_fills_in_an_existing_demo_and_a_missing_piece(monkeypatch):
    """A demo database from before the stock, pricing and order steps, missing some SKUs
    and a store: the next run completes the catalog and adds everything else."""
    with monkeypatch.context() as patch:
        patch.setattr(demo_command, "STEPS", demo_command.STEPS[:5])
        run_demo()
    SKU.objects.filter(sku__startswith="W1001-NVY-").delete()
    Location.objects.filter(code="DIEMEN").delete()

    run_demo()

    assert SKU.objects.get(sku="W1001-NVY-M").product == SKU.objects.get(sku="W1001-BLK-M").product
    assert Location.objects.filter(code="DIEMEN").exists()
    assert StockLevel.objects.count() == len(
        stock_plan(Demo(seed=demo_command.DEFAULT_SEED, write=print))
    )
    assert Price.objects.filter(price_list__code="web", sku__sku="W1001-NVY-M").exists()
    assert Order.objects.count() == len(PEOPLE["orders"])


def test_admin_password_is_set_only_when_it_differs(django_user_model, catalog_only):
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
