from decimal import Decimal

import pytest

from inventory.models import Location
from tests.factories import StoreFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

DAM_SQUARE = "52.3731,4.8926"


def test_near_sorts_by_great_circle_distance_and_adds_distance_km(anon):
    StoreFactory(code="UTRECHT", latitude=Decimal("52.090737"), longitude=Decimal("5.121420"))
    StoreFactory(code="HAARLEM", latitude=Decimal("52.381011"), longitude=Decimal("4.636842"))
    StoreFactory(code="DAM", latitude=Decimal("52.373100"), longitude=Decimal("4.892600"))
    response = anon.get(f"/api/v1/locations/?near={DAM_SQUARE}")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["code"] for r in results] == ["DAM", "HAARLEM", "UTRECHT"]
    assert results[0]["distance_km"] == 0.0
    # Dam Square to Haarlem's Grote Markt is about 17.4 km as the crow flies.
    assert 17.0 < results[1]["distance_km"] < 18.0
    assert 34.0 < results[2]["distance_km"] < 36.0


def test_distance_is_absent_without_near(anon):
    StoreFactory(code="DAM")
    assert "distance_km" not in anon.get("/api/v1/locations/").json()["results"][0]


def test_near_is_one_query_plus_the_sort_with_2000_locations(anon, django_assert_num_queries):
    Location.objects.bulk_create(
        Location(
            code=f"S{i:04d}",
            name=f"Store {i}",
            type=Location.Type.STORE,
            latitude=Decimal("52") + Decimal(i % 97) / 100,
            longitude=Decimal("4") + Decimal(i % 89) / 100,
            timezone="Europe/Amsterdam",
        )
        for i in range(2000)
    )
    with django_assert_num_queries(1):
        response = anon.get(f"/api/v1/locations/?near={DAM_SQUARE}&limit=20")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2000
    distances = [r["distance_km"] for r in body["results"]]
    assert distances == sorted(distances)


def test_filters_by_type_and_flags(anon):
    StoreFactory(code="S1", pickup_enabled=True, ship_enabled=False)
    StoreFactory(code="S2", pickup_enabled=False, ship_enabled=True)
    WarehouseFactory(code="W1")

    def codes(query):
        return [r["code"] for r in anon.get(f"/api/v1/locations/?{query}").json()["results"]]

    assert codes("type=warehouse") == ["W1"]
    assert codes("pickup_enabled=true") == ["S1"]
    assert codes("ship_enabled=true&type=store") == ["S2"]


@pytest.mark.parametrize(
    "query",
    ["near=52.3", "near=abc,def", "near=91,4", "near=52,181", "type=shop", "pickup_enabled=maybe"],
)
def test_bad_query_parameters_are_400(anon, query):
    response = anon.get(f"/api/v1/locations/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"


def test_merchandiser_creates_and_changes_a_location(merchandiser):
    body = {
        "code": "AMS-KALVER",
        "name": "Kalverstraat",
        "type": "store",
        "latitude": "52.369380",
        "longitude": "4.891170",
        "timezone": "Europe/Amsterdam",
        "pickup_enabled": True,
        "ship_enabled": True,
        "priority": 5,
        "daily_capacity": 40,
    }
    created = merchandiser.post("/api/v1/locations/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["daily_capacity"] == 40
    changed = merchandiser.patch(
        "/api/v1/locations/AMS-KALVER/", {"daily_capacity": None}, format="json"
    )
    assert changed.status_code == 200
    assert Location.objects.get(code="AMS-KALVER").daily_capacity is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("latitude", "95"), ("type", "kiosk"), ("code", "bad code!")],
)
def test_invalid_location_is_400_and_not_created(merchandiser, field, value):
    body = {
        "code": "NEW",
        "name": "New",
        "type": "store",
        "latitude": "52.1",
        "longitude": "4.1",
        "timezone": "Europe/Amsterdam",
        field: value,
    }
    response = merchandiser.post("/api/v1/locations/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == field
    assert not Location.objects.exists()


def test_only_merchandisers_write_locations(pos, storefront, anon):
    StoreFactory(code="DAM")
    assert pos.patch("/api/v1/locations/DAM/", {"priority": 9}, format="json").status_code == 403
    assert (
        storefront.patch("/api/v1/locations/DAM/", {"priority": 9}, format="json").status_code
        == 403
    )
    assert anon.patch("/api/v1/locations/DAM/", {"priority": 9}, format="json").status_code == 401
    assert Location.objects.get(code="DAM").priority == 0


def test_unknown_location_is_404(anon):
    response = anon.get("/api/v1/locations/NOPE/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "hours",
    [
        {"funday": []},
        {"mon": ["18:00", "09:00"]},
        {"mon": ["9am", "5pm"]},
        {"mon": ["09:00"]},
        ["09:00"],
    ],
)
def test_opening_hours_must_be_weekdays_with_open_before_close(merchandiser, store, hours):
    response = merchandiser.patch(
        f"/api/v1/locations/{store.code}/", {"opening_hours": hours}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "opening_hours"
    store.refresh_from_db()
    assert store.opening_hours == {}


def test_handling_cost_and_opening_hours_round_trip(merchandiser, store):
    hours = {"mon": ["09:00", "18:00"], "sun": []}
    response = merchandiser.patch(
        f"/api/v1/locations/{store.code}/",
        {"opening_hours": hours, "handling_cost": "2.50"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["opening_hours"] == hours
    assert response.json()["handling_cost"] == "2.50"
