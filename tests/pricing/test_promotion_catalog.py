"""The per-process promotion catalogue: a quote sees every change made through the models at
once, usage counts fresh, a quote at another time reads the database, and the catalogue
picks exactly the promotions the database query picks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import Channel, Location
from pricing import services
from pricing.engine.promotions import ancestor_paths
from pricing.models import Promotion
from pricing.services import promotion_catalog
from pricing.services.quotes import _from_catalogue, _from_database
from tests.factories import StoreFactory
from tests.pricing.conftest import items

pytestmark = pytest.mark.django_db

D = Decimal


def applied(**kwargs) -> set[str]:
    kwargs.setdefault("channel", "web")
    kwargs.setdefault("lines", items(("TEE-RED-M", 1)))
    return {p.name for p in services.quote(**kwargs).applied_promotions}


def test_a_change_through_the_models_shows_on_the_next_quote(catalog, settings):
    settings.PROMOTION_CACHE_SECONDS = 3600  # only the version can tell
    promotion = services.create_promotion(name="Tees", kind="percent_off", value=D("10"))
    assert applied() == {"Tees"}
    services.update_promotion(promotion=promotion, active=False)
    assert applied() == set()
    services.update_promotion(promotion=promotion, active=True, skus=["SHOE-1"])
    assert applied() == set()  # aimed elsewhere now: an M2M change counts too
    assert applied(lines=items(("SHOE-1", 1))) == {"Tees"}


def test_a_change_behind_the_models_back_shows_after_the_maximum_age(catalog, settings):
    settings.PROMOTION_CACHE_SECONDS = 3600
    promotion = services.create_promotion(name="Tees", kind="percent_off", value=D("10"))
    assert applied() == {"Tees"}
    Promotion.objects.filter(pk=promotion.pk).update(active=False)  # no signal
    assert applied() == {"Tees"}  # this process's copy, until ...
    settings.PROMOTION_CACHE_SECONDS = 0
    assert applied() == set()  # ... it is older than PROMOTION_CACHE_SECONDS


def test_usage_counts_are_read_fresh(catalog, settings):
    settings.PROMOTION_CACHE_SECONDS = 3600
    promotion = services.create_promotion(
        name="First 2", kind="percent_off", value=D("10"), usage_limit=2
    )
    assert applied() == {"First 2"}
    Promotion.objects.filter(pk=promotion.pk).update(used_count=2)  # two orders took it
    assert applied() == set()


def test_a_quote_at_another_time_reads_the_promotions_of_that_time(catalog):
    now = timezone.now()
    services.create_promotion(
        name="Yesterday only",
        kind="percent_off",
        value=D("10"),
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(hours=1),
    )
    assert applied() == set()
    assert applied(now=now - timedelta(days=1)) == {"Yesterday only"}  # a till's replay


SKUS = ["TEE-RED-M", "TEE-BLUE-M", "SHIRT-1", "SHOE-1", "APPLE-1"]
promotion_specs = st.lists(
    st.fixed_dictionaries(
        {
            "skus": st.lists(st.sampled_from(SKUS), max_size=2, unique=True),
            "categories": st.lists(
                st.sampled_from(["apparel", "tees", "shoes", "food"]), max_size=2, unique=True
            ),
            "channels": st.sampled_from([[], ["web"], ["pos"], ["web", "pos"]]),
            "in_store": st.booleans(),
            "active": st.booleans(),
            "window": st.sampled_from(["open", "over", "later"]),
            "limit": st.sampled_from([None, None, 1, 3]),
            "used": st.integers(0, 3),
        }
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=promotion_specs,
    cart=st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True),
    where=st.sampled_from([("web", False), ("pos", True), ("pos", False)]),
)
def test_the_catalogue_picks_exactly_what_the_database_picks(catalog, specs, cart, where):
    Promotion.objects.all().delete()
    store = Location.objects.filter(code="CAT-STORE").first() or StoreFactory(code="CAT-STORE")
    Channel.objects.get_or_create(code="pos", defaults={"name": "Stores", "currency": "EUR"})
    now = timezone.now()
    windows = {
        "open": {},
        "over": {"starts_at": now - timedelta(days=2), "ends_at": now - timedelta(days=1)},
        "later": {"starts_at": now + timedelta(days=1)},
    }
    for n, spec in enumerate(specs):
        promotion = services.create_promotion(
            name=f"P{n}",
            kind="percent_off",
            value=D("5"),
            skus=spec["skus"],
            categories=spec["categories"],
            channels=spec["channels"],
            locations=[store.code] if spec["in_store"] else [],
            active=spec["active"],
            usage_limit=spec["limit"],
            priority=n % 3,
            **windows[spec["window"]],
        )
        Promotion.objects.filter(pk=promotion.pk).update(used_count=spec["used"])
    promotion_catalog.changed()  # the used counts above went behind the models' back
    channel = Channel.objects.get(code=where[0])
    location = store if where[1] else None
    paths = {
        path
        for sku in cart
        for path in ["apparel/tees/"] * sku.startswith("TEE")
        + ["apparel/shirts/"] * sku.startswith("SHIRT")
        + ["shoes/"] * sku.startswith("SHOE")
        + ["food/"] * sku.startswith("APPLE")
    }
    ancestors = {a for path in paths for a in ancestor_paths(path)}
    coupons = set(Promotion.objects.order_by("?").values_list("pk", flat=True)[:1])
    arguments = {
        "channel": channel,
        "location": location,
        "skus": cart,
        "ancestors": ancestors,
        "coupon_promotion_ids": coupons,
        "now": now,
    }

    def picked(entries):
        return sorted(
            (e.field("id"), e.field("used_count"), e.skus, e.category_paths, e.channels)
            for e in entries
        )

    assert picked(_from_catalogue(**arguments)) == picked(_from_database(**arguments))
