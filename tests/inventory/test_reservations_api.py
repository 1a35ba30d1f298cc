"""POST /api/v1/reservations/, GET and DELETE /api/v1/reservations/{id}/ (API.md, "Stock")."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.api.roles import Role
from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services.reservations import MAX_TTL_SECONDS
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def stocked(store, other_store, warehouse):
    """TEE: 5 at STORE-001, 3 at STORE-002, 10 at WH-01; SOCK: 2 at STORE-001."""
    SKUFactory(sku="TEE")
    SKUFactory(sku="SOCK")
    for sku, location, quantity in (
        ("TEE", "STORE-001", 5),
        ("TEE", "STORE-002", 3),
        ("TEE", "WH-01", 10),
        ("SOCK", "STORE-001", 2),
    ):
        services.receive_stock(sku=sku, location=location, quantity=quantity)


def reserved() -> dict[tuple[str, str], int]:
    return {
        (sku, code): held
        for sku, code, held in StockLevel.objects.values_list(
            "sku__sku", "location__code", "reserved"
        )
    }


def state() -> tuple:
    return (
        reserved(),
        list(Reservation.objects.values_list("pk", "status")),
        StockMovement.objects.count(),
    )


def hold(client, lines, **extra):
    return client.post("/api/v1/reservations/", {"channel": "web", "lines": lines, **extra})


def assert_problem(response, status: int, code: str, attr: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    if attr is not None:
        assert attr in [error["attr"] for error in body["errors"]], body


def test_storefront_holds_stock(storefront, stocked):
    before = timezone.now()
    response = hold(
        storefront,
        [
            {"sku": "TEE", "location": "WH-01", "quantity": 4},
            {"sku": "SOCK", "location": "STORE-001", "quantity": 2},
        ],
        ttl_seconds=600,
        reference="cart-1",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    reservation = Reservation.objects.get()
    assert body == {
        "id": reservation.pk,
        "channel": "web",
        "status": "active",
        "reference": "cart-1",
        "expires_at": body["expires_at"],
        "created_at": body["created_at"],
        "lines": [
            {"sku": "TEE", "location": "WH-01", "quantity": 4, "requested": 4},
            {"sku": "SOCK", "location": "STORE-001", "quantity": 2, "requested": 2},
        ],
    }
    expires_at = parse_datetime(body["expires_at"])
    assert before + timedelta(seconds=600) <= expires_at <= timezone.now() + timedelta(seconds=600)
    assert reservation.owner.startswith("client:")
    assert reserved()[("TEE", "WH-01")] == 4
    assert reserved()[("SOCK", "STORE-001")] == 2
    assert StockMovement.objects.count() == 4  # a hold is not a movement


def test_the_ttl_defaults_to_fifteen_minutes(storefront, stocked):
    response = hold(storefront, [{"sku": "TEE", "location": "WH-01", "quantity": 1}])
    expires_at = parse_datetime(response.json()["expires_at"])
    assert timedelta(minutes=14) < expires_at - timezone.now() <= timedelta(minutes=15)
    assert response.json()["reference"] is None


def test_a_held_unit_is_no_longer_available(storefront, anon, stocked):
    hold(storefront, [{"sku": "TEE", "location": "STORE-002", "quantity": 3}])
    body = anon.get("/api/v1/availability/?sku=TEE").json()
    assert [row["location"] for row in body["results"][0]["locations"]] == ["STORE-001", "WH-01"]


def test_insufficient_stock_is_409_naming_each_short_line_and_holds_nothing(storefront, stocked):
    before = state()
    response = hold(
        storefront,
        [
            {"sku": "TEE", "location": "WH-01", "quantity": 2},
            {"sku": "TEE", "location": "STORE-001", "quantity": 6},
            {"sku": "SOCK", "location": "STORE-002", "quantity": 1},
        ],
    )
    assert_problem(response, 409, "insufficient_stock")
    errors = response.json()["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [
        ("lines.1.quantity", "insufficient_stock"),
        ("lines.2.quantity", "insufficient_stock"),
    ]
    assert errors[0]["detail"] == "Only 5 of SKU TEE can be promised at STORE-001."
    assert state() == before


def test_the_caller_reads_its_reservation_and_nobody_else_does(
    api_for, storefront, merchandiser, stocked
):
    created = hold(storefront, [{"sku": "TEE", "location": "WH-01", "quantity": 1}]).json()
    path = f"/api/v1/reservations/{created['id']}/"
    assert storefront.get(path).json() == created
    assert merchandiser.get(path).json() == created  # merchandisers see every reservation
    other_shop = api_for(Role.STOREFRONT, name="other shop")
    assert_problem(other_shop.get(path), 404, "not_found")
    assert_problem(storefront.get("/api/v1/reservations/999999/"), 404, "not_found")
    assert_problem(storefront.get("/api/v1/reservations/abc/"), 404, "not_found")


def test_delete_releases_and_is_idempotent(storefront, stocked):
    created = hold(storefront, [{"sku": "TEE", "location": "WH-01", "quantity": 4}]).json()
    path = f"/api/v1/reservations/{created['id']}/"

    response = storefront.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert reserved()[("TEE", "WH-01")] == 0
    assert storefront.get(path).json()["status"] == "released"
    assert storefront.get(path).json()["lines"][0]["quantity"] == 0

    before = state()
    assert storefront.delete(path).status_code == 204
    assert state() == before


def test_an_expired_reservation_deletes_quietly(storefront, stocked):
    created = hold(storefront, [{"sku": "TEE", "location": "WH-01", "quantity": 4}]).json()
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    services.release_expired_reservations()
    assert storefront.delete(f"/api/v1/reservations/{created['id']}/").status_code == 204
    assert Reservation.objects.get().status == "expired"


def test_a_consumed_reservation_cannot_be_released(storefront, stocked):
    created = hold(storefront, [{"sku": "TEE", "location": "WH-01", "quantity": 1}]).json()
    services.consume(reservation_id=created["id"], reference="order-1")
    before = state()
    assert_problem(
        storefront.delete(f"/api/v1/reservations/{created['id']}/"), 409, "invalid_state"
    )
    assert state() == before


def test_another_callers_reservation_cannot_be_released(api_for, storefront, stocked):
    created = hold(storefront, [{"sku": "TEE", "location": "WH-01", "quantity": 4}]).json()
    other_shop = api_for(Role.STOREFRONT, name="other shop")
    before = state()
    assert_problem(other_shop.delete(f"/api/v1/reservations/{created['id']}/"), 404, "not_found")
    assert state() == before


def test_pos_holds_at_its_own_store_only(pos, stocked):
    ok = pos.post(
        "/api/v1/reservations/",
        {"channel": "pos", "lines": [{"sku": "TEE", "location": "STORE-001", "quantity": 1}]},
    )
    assert ok.status_code == 201, ok.content
    before = state()
    response = pos.post(
        "/api/v1/reservations/",
        {
            "channel": "pos",
            "lines": [
                {"sku": "SOCK", "location": "STORE-001", "quantity": 1},
                {"sku": "TEE", "location": "STORE-002", "quantity": 1},
            ],
        },
    )
    assert_problem(response, 404, "not_found", "lines.1.location")
    assert state() == before


def test_a_reference_repeated_by_its_caller_answers_the_same_hold(api_for, storefront, stocked):
    lines = [{"sku": "TEE", "location": "WH-01", "quantity": 2}]
    first = hold(storefront, lines, reference="cart-9").json()
    again = hold(storefront, lines, reference="cart-9")
    assert again.status_code == 201
    assert again.json() == first
    assert reserved()[("TEE", "WH-01")] == 2

    before = state()
    other_lines = hold(storefront, [{**lines[0], "quantity": 3}], reference="cart-9")
    assert_problem(other_lines, 400, "invalid", "reference")
    # Another caller guessing the reference learns nothing about the first caller's hold.
    other_shop = api_for(Role.STOREFRONT, name="other shop")
    assert_problem(hold(other_shop, lines, reference="cart-9"), 400, "invalid", "reference")
    assert state() == before


GOOD_LINE = {"sku": "TEE", "location": "WH-01", "quantity": 1}


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"channel": "web", "lines": []}, "lines"),
        ({"channel": "web"}, "lines"),
        ({"lines": [GOOD_LINE]}, "channel"),
        ({"channel": "telepathy", "lines": [GOOD_LINE]}, "channel"),
        ({"channel": "web", "lines": [{**GOOD_LINE, "quantity": 0}]}, "lines.0.quantity"),
        ({"channel": "web", "lines": [{**GOOD_LINE, "quantity": -1}]}, "lines.0.quantity"),
        ({"channel": "web", "lines": [{**GOOD_LINE, "quantity": 1.5}]}, "lines.0.quantity"),
        ({"channel": "web", "lines": [{**GOOD_LINE, "quantity": "1"}]}, "lines.0.quantity"),
        ({"channel": "web", "lines": [GOOD_LINE, {"sku": "TEE"}]}, "lines.1.location"),
        ({"channel": "web", "lines": [GOOD_LINE, {**GOOD_LINE, "sku": "NOPE"}]}, "lines.1.sku"),
        (
            {"channel": "web", "lines": [{**GOOD_LINE, "location": "NOPE"}]},
            "lines.0.location",
        ),
        ({"channel": "web", "lines": [GOOD_LINE, GOOD_LINE]}, "lines.1"),
        ({"channel": "web", "lines": [GOOD_LINE], "ttl_seconds": 0}, "ttl_seconds"),
        (
            {"channel": "web", "lines": [GOOD_LINE], "ttl_seconds": MAX_TTL_SECONDS + 1},
            "ttl_seconds",
        ),
        ({"channel": "web", "lines": [GOOD_LINE] * 101}, "lines"),
        ({"channel": "web", "lines": GOOD_LINE}, "lines"),
    ],
)
def test_bad_reservations_are_400_and_hold_nothing(storefront, stocked, body, attr):
    before = state()
    response = storefront.post("/api/v1/reservations/", body)
    assert_problem(response, 400, "invalid", attr)
    assert state() == before


def test_unknown_sku_and_location_have_their_own_codes(storefront, stocked):
    response = hold(storefront, [{**GOOD_LINE, "sku": "NOPE"}])
    assert response.json()["errors"] == [
        {"attr": "lines.0.sku", "code": "unknown_sku", "detail": "Unknown SKU 'NOPE'."}
    ]


def test_who_may_hold_stock(customer_api, store_staff, anon, stocked):
    body = {"channel": "web", "lines": [GOOD_LINE]}
    assert_problem(customer_api.post("/api/v1/reservations/", body), 403, "permission_denied")
    assert_problem(store_staff.post("/api/v1/reservations/", body), 403, "permission_denied")
    assert_problem(anon.post("/api/v1/reservations/", body), 401, "not_authenticated")
    assert not Reservation.objects.exists()


def test_a_merchandiser_holds_anywhere(merchandiser, stocked):
    response = hold(merchandiser, [{"sku": "TEE", "location": "STORE-002", "quantity": 3}])
    assert response.status_code == 201, response.content


def test_reading_a_reservation_is_a_constant_number_of_queries(
    storefront, stocked, django_assert_max_num_queries
):
    lines = [
        {"sku": "TEE", "location": code, "quantity": 1}
        for code in ("STORE-001", "STORE-002", "WH-01")
    ]
    created = hold(storefront, lines).json()
    with django_assert_max_num_queries(6):
        assert len(storefront.get(f"/api/v1/reservations/{created['id']}/").json()["lines"]) == 3
