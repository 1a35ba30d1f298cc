"""GET /api/v1/availability/: network and per-location available-to-promise (API.md)."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from inventory import services
from inventory.models import Location
from tests.factories import LocationFactory, SKUFactory, StoreFactory

pytestmark = pytest.mark.django_db

# Amsterdam Centraal; STORE-001 (the factory default) is 1.8 km away, Utrecht 35 km.
NEAR_AMSTERDAM = "52.3791,4.9003"


@pytest.fixture(autouse=True)
def _fresh_throttle_buckets():
    cache.clear()  # anonymous callers share one bucket per address across tests


def receive(sku: str, location: str, quantity: int) -> None:
    services.receive_stock(sku=sku, location=location, quantity=quantity)


@pytest.fixture
def network(store, other_store, warehouse):
    """TEE at three locations (one with safety stock and a hold), SOCK nowhere. Without
    ``near`` locations come by priority, then code."""
    SKUFactory(sku="TEE")
    SKUFactory(sku="SOCK")
    receive("TEE", store.code, 5)
    receive("TEE", other_store.code, 2)
    receive("TEE", warehouse.code, 10)
    services.set_stock_parameters(sku="TEE", location=warehouse.code, safety_stock=1)
    services.reserve(channel="web", lines=[services.HoldLine("TEE", warehouse.code, 2)])


def test_anonymous_gets_network_and_per_location_availability(anon, network):
    response = anon.get("/api/v1/availability/?sku=TEE&sku=SOCK")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [
            {
                "sku": "TEE",
                "available": 14,
                "locations": [
                    {
                        "location": "STORE-001",
                        "type": "store",
                        "available": 5,
                        "pickup_enabled": True,
                        "ship_enabled": False,
                        "distance_km": None,
                    },
                    {
                        "location": "STORE-002",
                        "type": "store",
                        "available": 2,
                        "pickup_enabled": True,
                        "ship_enabled": False,
                        "distance_km": None,
                    },
                    {
                        "location": "WH-01",
                        "type": "warehouse",
                        "available": 7,
                        "pickup_enabled": False,
                        "ship_enabled": True,
                        "distance_km": None,
                    },
                ],
            },
            {"sku": "SOCK", "available": 0, "locations": []},
        ]
    }


def test_near_sorts_nearest_first_with_distances(anon, network, warehouse):
    Location.objects.filter(pk=warehouse.pk).update(  # Rotterdam, 57 km away
        latitude=Decimal("51.9244"), longitude=Decimal("4.4777")
    )
    response = anon.get(f"/api/v1/availability/?sku=TEE&near={NEAR_AMSTERDAM}")
    locations = response.json()["results"][0]["locations"]
    assert [row["location"] for row in locations] == ["STORE-001", "STORE-002", "WH-01"]
    distances = [row["distance_km"] for row in locations]
    assert distances == sorted(distances)
    assert 0 < distances[0] < 2
    assert 30 < distances[1] < 40
    assert 50 < distances[2] < 65


def test_without_near_higher_priority_comes_first(anon, network, other_store):
    Location.objects.filter(pk=other_store.pk).update(priority=5)
    locations = anon.get("/api/v1/availability/?sku=TEE").json()["results"][0]["locations"]
    assert [row["location"] for row in locations] == ["STORE-002", "STORE-001", "WH-01"]


def test_unknown_and_inactive_skus_are_left_out(anon, network):
    SKUFactory(sku="OLD", active=False)
    receive("OLD", "STORE-001", 3)
    body = anon.get("/api/v1/availability/?sku=NOPE&sku=OLD&sku=TEE").json()
    assert [row["sku"] for row in body["results"]] == ["TEE"]


def test_skus_may_be_comma_separated_and_repeats_count_once(anon, network):
    body = anon.get("/api/v1/availability/?sku=SOCK,TEE&sku=TEE").json()
    assert [row["sku"] for row in body["results"]] == ["SOCK", "TEE"]


def test_locations_that_neither_ship_nor_offer_pickup_do_not_promise_online(anon, network):
    LocationFactory(code="BACKROOM", pickup_enabled=False, ship_enabled=False)
    receive("TEE", "BACKROOM", 50)
    body = anon.get("/api/v1/availability/?sku=TEE&channel=web").json()
    assert body["results"][0]["available"] == 14
    assert "BACKROOM" not in [row["location"] for row in body["results"][0]["locations"]]


def test_a_pos_terminal_sees_its_own_store_on_the_pos_channel(api_for, network):
    till = api_for("pos", locations=["STORE-002"])
    for query in ("sku=TEE", "sku=TEE&channel=web"):
        body = till.get(f"/api/v1/availability/?{query}").json()
        assert body["results"][0]["available"] == 2
        assert [row["location"] for row in body["results"][0]["locations"]] == ["STORE-002"]


def test_the_pos_channel_includes_a_store_without_pickup_or_shipping(api_for, network):
    LocationFactory(code="OUTLET", pickup_enabled=False, ship_enabled=False)
    receive("TEE", "OUTLET", 4)
    till = api_for("pos", locations=["OUTLET"])
    assert till.get("/api/v1/availability/?sku=TEE").json()["results"][0]["available"] == 4


def test_store_staff_and_storefront_see_the_network(store_staff, storefront, network):
    for client in (store_staff, storefront):
        assert client.get("/api/v1/availability/?sku=TEE").json()["results"][0]["available"] == 14


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("", "sku"),
        ("sku=", "sku"),
        ("sku=,,", "sku"),
        ("sku=TEE&sku=%00", "sku"),
        ("sku=TEE,has space", "sku"),
        ("sku=TEE&channel=telepathy", "channel"),
        ("sku=TEE&near=north", "near"),
        ("sku=TEE&near=52.1", "near"),
        ("sku=TEE&near=91,4", "near"),
        ("sku=TEE&near=52,181", "near"),
        ("sku=TEE&near=nan,4", "near"),
        ("sku=TEE&near=1,2,3", "near"),
    ],
)
def test_bad_queries_are_400(anon, network, query, attr):
    response = anon.get(f"/api/v1/availability/?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"
    assert [error["attr"] for error in response.json()["errors"]] == [attr]


def test_at_most_100_skus(anon, db):
    hundred = ",".join(f"S-{n}" for n in range(100))
    assert anon.get(f"/api/v1/availability/?sku={hundred}").status_code == 200
    response = anon.get(f"/api/v1/availability/?sku={hundred}&sku=ONE-MORE")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "sku"


def test_queries_do_not_grow_with_skus_or_locations(storefront, django_assert_max_num_queries, db):
    stores = [StoreFactory(code=f"S-{n:02d}", ship_enabled=True) for n in range(25)]
    skus = [SKUFactory(sku=f"MANY-{n:03d}").sku for n in range(100)]
    for sku in skus:
        for store in stores[:5]:
            receive(sku, store.code, 3)
    for store in stores:
        receive(skus[0], store.code, 1)

    with django_assert_max_num_queries(4) as one:  # token, channel, SKUs, levels
        body = storefront.get(f"/api/v1/availability/?channel=web&sku={skus[0]}").json()
    assert len(body["results"][0]["locations"]) == 25
    with django_assert_max_num_queries(4) as hundred:
        query = "&".join(f"sku={sku}" for sku in skus)
        body = storefront.get(f"/api/v1/availability/?channel=web&near=52,5&{query}").json()
    assert len(body["results"]) == 100
    assert len(one.captured_queries) == len(hundred.captured_queries)


def test_max_locations_lists_the_nearest_but_counts_the_whole_network(anon, network, warehouse):
    response = anon.get(f"/api/v1/availability/?sku=TEE&near={NEAR_AMSTERDAM}&max_locations=1")
    assert response.status_code == 200
    (tee,) = response.json()["results"]
    assert tee["available"] == 14
    assert [entry["location"] for entry in tee["locations"]] == ["STORE-001"]


@pytest.mark.parametrize("value", ["0", "-1", "x", "10001"])
def test_max_locations_must_be_a_sensible_whole_number(anon, network, value):
    response = anon.get(f"/api/v1/availability/?sku=TEE&max_locations={value}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "max_locations"
