"""Stock levels, the ledger and manual movements, planning numbers and transfers over REST
(API.md, "Stock"). Failure paths assert that nothing changed: no ledger row, no level."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api.roles import Role
from inventory import services
from inventory.models import StockLevel, StockMovement, Transfer
from tests.factories import SKUFactory, StoreFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def tee(db):
    return SKUFactory(sku="TEE-RED-M")


def receive(sku: str, location: str, quantity: int) -> None:
    services.receive_stock(sku=sku, location=location, quantity=quantity)


def stock_state() -> tuple:
    """Everything a stock write may change."""
    return (
        list(
            StockLevel.objects.order_by("pk").values_list(
                "pk", "on_hand", "reserved", "safety_stock", "reorder_point", "in_transit"
            )
        ),
        StockMovement.objects.count(),
        Transfer.objects.count(),
    )


def level_of(sku: str, location: str) -> StockLevel:
    return StockLevel.objects.get(sku__sku=sku, location__code=location)


def assert_problem(response, status: int, code: str, attr: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    if attr is not None:
        assert attr in [error["attr"] for error in body["errors"]], body


# --- GET /stock/ ---------------------------------------------------------------------------


def test_stock_list_shows_levels_with_available(merchandiser, tee, store, warehouse):
    receive(tee.sku, store.code, 10)
    receive(tee.sku, warehouse.code, 4)
    services.set_stock_parameters(sku=tee.sku, location=store.code, safety_stock=2)
    services.reserve(channel="web", lines=[services.HoldLine(tee.sku, store.code, 3)])

    response = merchandiser.get("/api/v1/stock/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "sku": "TEE-RED-M",
            "location": "STORE-001",
            "on_hand": 10,
            "reserved": 3,
            "safety_stock": 2,
            "available": 5,
            "reorder_point": 0,
            "in_transit": 0,
            "needs_count": False,
        },
        {
            "sku": "TEE-RED-M",
            "location": "WH-01",
            "on_hand": 4,
            "reserved": 0,
            "safety_stock": 0,
            "available": 4,
            "reorder_point": 0,
            "in_transit": 0,
            "needs_count": False,
        },
    ]


def test_available_is_never_below_zero(merchandiser, tee, store):
    receive(tee.sku, store.code, 2)
    services.set_stock_parameters(sku=tee.sku, location=store.code, safety_stock=5)
    assert merchandiser.get("/api/v1/stock/").json()["results"][0]["available"] == 0


def test_stock_list_filters(merchandiser, tee, store, warehouse):
    SKUFactory(sku="SOCK-1")
    receive(tee.sku, store.code, 10)
    receive(tee.sku, warehouse.code, 3)
    receive("SOCK-1", store.code, 1)
    services.set_stock_parameters(sku=tee.sku, location=warehouse.code, reorder_point=3)
    services.set_stock_parameters(sku="SOCK-1", location=store.code, reorder_point=0)

    def rows(query: str) -> list[tuple[str, str]]:
        results = merchandiser.get(f"/api/v1/stock/?{query}").json()["results"]
        return [(row["sku"], row["location"]) for row in results]

    assert rows("sku=TEE-RED-M") == [("TEE-RED-M", "STORE-001"), ("TEE-RED-M", "WH-01")]
    assert rows("location=STORE-001") == [("SOCK-1", "STORE-001"), ("TEE-RED-M", "STORE-001")]
    assert rows("below_reorder_point=true") == [("TEE-RED-M", "WH-01")]
    assert rows("sku=NOPE") == []
    assert_problem(merchandiser.get("/api/v1/stock/?below_reorder_point=maybe"), 400, "invalid")


def test_pos_sees_only_its_own_store(pos, tee, store, other_store, warehouse):
    for location in (store, other_store, warehouse):
        receive(tee.sku, location.code, 5)
    body = pos.get("/api/v1/stock/").json()
    assert [row["location"] for row in body["results"]] == ["STORE-001"]
    assert pos.get("/api/v1/stock/?location=STORE-002").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_store_staff_see_all_their_locations_and_nothing_else(api_for, tee, store, other_store):
    warehouse_staff = api_for(Role.STORE_STAFF, locations=["STORE-001", "WH-01"])
    StoreFactory(code="WH-01")
    for code in ("STORE-001", "STORE-002", "WH-01"):
        receive(tee.sku, code, 1)
    results = warehouse_staff.get("/api/v1/stock/").json()["results"]
    assert [row["location"] for row in results] == ["STORE-001", "WH-01"]


def test_storefront_reads_stock_but_a_customer_and_anonymous_may_not(
    storefront, customer_api, anon, tee, store
):
    receive(tee.sku, store.code, 1)
    assert storefront.get("/api/v1/stock/").json()["count"] == 1
    assert_problem(customer_api.get("/api/v1/stock/"), 403, "permission_denied")
    assert_problem(anon.get("/api/v1/stock/"), 401, "not_authenticated")


def test_stock_list_runs_the_same_queries_for_one_row_or_many(merchandiser, store):
    SKUFactory(sku="ONE")
    receive("ONE", store.code, 1)
    with CaptureQueriesContext(connection) as one:
        assert merchandiser.get("/api/v1/stock/").json()["count"] == 1
    for index in range(40):
        SKUFactory(sku=f"MANY-{index:02d}")
        receive(f"MANY-{index:02d}", StoreFactory(code=f"S-{index:02d}").code, 1)
    with CaptureQueriesContext(connection) as many:
        assert len(merchandiser.get("/api/v1/stock/").json()["results"]) == 41
    assert len(many) == len(one)
    assert len(one) <= 3  # token, count, page


# --- POST /stock/movements/ ----------------------------------------------------------------


def test_a_receipt_answers_the_level_and_the_ledger_row(merchandiser, tee, store):
    response = merchandiser.post(
        "/api/v1/stock/movements/",
        {
            "sku": "TEE-RED-M",
            "location": "STORE-001",
            "kind": "receipt",
            "quantity": 12,
            "reason": "delivery",
            "reference": "ASN-1",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    movement = body.pop("movement")
    assert body == {
        "sku": "TEE-RED-M",
        "location": "STORE-001",
        "on_hand": 12,
        "reserved": 0,
        "safety_stock": 0,
        "available": 12,
        "reorder_point": 0,
        "in_transit": 0,
        "needs_count": False,
    }
    row = StockMovement.objects.get()
    assert movement == {
        "id": row.pk,
        "sku": "TEE-RED-M",
        "location": "STORE-001",
        "kind": "receipt",
        "quantity": 12,
        "on_hand_after": 12,
        "reason": "delivery",
        "reference": "ASN-1",
        "actor": "merchandiser:test merchandiser",
        "occurred_at": movement["occurred_at"],
    }
    assert movement["occurred_at"].endswith("Z") or "+" in movement["occurred_at"]


@pytest.mark.parametrize(
    ("kind", "quantity", "on_hand", "ledger_quantity"),
    [
        ("receipt", 3, 13, 3),
        ("adjustment", -4, 6, -4),
        ("adjustment", 2, 12, 2),
        ("count", 7, 7, -3),
        ("count", 0, 0, -10),
        ("count", 10, 10, 0),
        ("damage", 1, 9, -1),
    ],
)
def test_each_kind_of_movement(merchandiser, tee, store, kind, quantity, on_hand, ledger_quantity):
    receive(tee.sku, store.code, 10)
    response = merchandiser.post(
        "/api/v1/stock/movements/",
        {"sku": tee.sku, "location": store.code, "kind": kind, "quantity": quantity},
    )
    assert response.status_code == 201, response.content
    assert response.json()["on_hand"] == on_hand
    assert response.json()["movement"]["quantity"] == ledger_quantity
    assert response.json()["movement"]["on_hand_after"] == on_hand
    assert level_of(tee.sku, store.code).on_hand == on_hand


def test_a_count_clears_needs_count(merchandiser, tee, store):
    receive(tee.sku, store.code, 5)
    StockLevel.objects.filter(sku=tee).update(needs_count=True)
    response = merchandiser.post(
        "/api/v1/stock/movements/",
        {"sku": tee.sku, "location": store.code, "kind": "count", "quantity": 5},
    )
    assert response.status_code == 201
    assert response.json()["needs_count"] is False


GOOD_MOVEMENT = {"sku": "TEE-RED-M", "location": "STORE-001", "kind": "receipt", "quantity": 1}


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -3}, "quantity"),
        ({"kind": "adjustment", "quantity": 0}, "quantity"),
        ({"kind": "count", "quantity": -1}, "quantity"),
        ({"kind": "damage", "quantity": 0}, "quantity"),
        ({"kind": "damage", "quantity": -2}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": 2.0}, "quantity"),
        ({"quantity": "3"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"quantity": 10**12}, "quantity"),
        ({"kind": "sale"}, "kind"),
        ({"kind": "transfer_in"}, "kind"),
        ({"sku": "NOPE"}, "sku"),
        ({"location": "NOPE"}, "location"),
        ({"sku": ""}, "sku"),
        ({"sku": "has space"}, "sku"),
        ({"reason": "x" * 301}, "reason"),
        ({"reference": "x" * 121}, "reference"),
    ],
)
def test_bad_movements_are_400_and_change_nothing(merchandiser, tee, store, changes, attr):
    receive(tee.sku, store.code, 5)
    before = stock_state()
    response = merchandiser.post("/api/v1/stock/movements/", {**GOOD_MOVEMENT, **changes})
    assert_problem(response, 400, "invalid", attr)
    assert stock_state() == before


@pytest.mark.parametrize("missing", ["sku", "location", "kind", "quantity"])
def test_a_movement_missing_a_field_is_400_and_changes_nothing(merchandiser, tee, store, missing):
    before = stock_state()
    body = {key: value for key, value in GOOD_MOVEMENT.items() if key != missing}
    response = merchandiser.post("/api/v1/stock/movements/", body)
    assert_problem(response, 400, "invalid", missing)
    assert response.json()["errors"][0]["code"] == "required"
    assert stock_state() == before


def test_unknown_sku_and_location_have_their_own_codes(merchandiser, tee, store):
    sku = merchandiser.post("/api/v1/stock/movements/", {**GOOD_MOVEMENT, "sku": "NOPE"})
    assert sku.json()["errors"] == [
        {"attr": "sku", "code": "unknown_sku", "detail": "Unknown SKU 'NOPE'."}
    ]
    location = merchandiser.post("/api/v1/stock/movements/", {**GOOD_MOVEMENT, "location": "X"})
    assert location.json()["errors"][0]["code"] == "unknown_location"
    assert not StockLevel.objects.exists()


def test_malformed_json_is_400_and_changes_nothing(merchandiser, tee, store):
    response = merchandiser.generic(
        "POST", "/api/v1/stock/movements/", "{not json", content_type="application/json"
    )
    assert_problem(response, 400, "invalid")
    assert stock_state() == ([], 0, 0)


@pytest.mark.parametrize(("kind", "quantity"), [("damage", 6), ("adjustment", -6)])
def test_taking_more_than_on_hand_is_409_and_changes_nothing(
    merchandiser, tee, store, kind, quantity
):
    receive(tee.sku, store.code, 5)
    before = stock_state()
    response = merchandiser.post(
        "/api/v1/stock/movements/",
        {"sku": tee.sku, "location": store.code, "kind": kind, "quantity": quantity},
    )
    assert_problem(response, 409, "insufficient_stock", "quantity")
    assert stock_state() == before


def test_pos_records_at_its_own_store(pos, tee, store):
    response = pos.post("/api/v1/stock/movements/", GOOD_MOVEMENT)
    assert response.status_code == 201, response.content
    assert response.json()["movement"]["actor"] == "pos:test pos"


@pytest.mark.parametrize("location", ["STORE-002", "WH-01", "NOPE"])
def test_pos_moving_another_locations_stock_is_404_and_changes_nothing(
    pos, tee, store, other_store, warehouse, location
):
    receive(tee.sku, other_store.code, 5)
    before = stock_state()
    response = pos.post("/api/v1/stock/movements/", {**GOOD_MOVEMENT, "location": location})
    # Unknown or someone else's: the same answer, so that codes cannot be probed.
    assert_problem(response, 404, "not_found", "location")
    assert stock_state() == before


def test_store_staff_record_only_at_their_locations(store_staff, tee, store, other_store):
    assert store_staff.post("/api/v1/stock/movements/", GOOD_MOVEMENT).status_code == 201
    before = stock_state()
    response = store_staff.post(
        "/api/v1/stock/movements/", {**GOOD_MOVEMENT, "location": "STORE-002"}
    )
    assert_problem(response, 404, "not_found")
    assert stock_state() == before


def test_storefront_customer_and_anonymous_cannot_record_movements(
    storefront, customer_api, anon, tee, store
):
    assert_problem(
        storefront.post("/api/v1/stock/movements/", GOOD_MOVEMENT), 403, "permission_denied"
    )
    assert_problem(
        customer_api.post("/api/v1/stock/movements/", GOOD_MOVEMENT), 403, "permission_denied"
    )
    assert_problem(anon.post("/api/v1/stock/movements/", GOOD_MOVEMENT), 401, "not_authenticated")
    assert stock_state() == ([], 0, 0)


# --- GET /stock/movements/ (the ledger) ----------------------------------------------------


def test_the_ledger_lists_newest_first_with_filters(merchandiser, tee, store, warehouse):
    receive(tee.sku, store.code, 5)
    receive(tee.sku, warehouse.code, 9)
    services.record_damage(sku=tee.sku, location=store.code, quantity=1)

    body = merchandiser.get("/api/v1/stock/movements/").json()
    assert body["count"] == 3
    assert [(r["kind"], r["location"], r["quantity"]) for r in body["results"]] == [
        ("damage", "STORE-001", -1),
        ("receipt", "WH-01", 9),
        ("receipt", "STORE-001", 5),
    ]
    assert set(body["results"][0]) == {
        "id",
        "sku",
        "location",
        "kind",
        "quantity",
        "on_hand_after",
        "reason",
        "reference",
        "actor",
        "occurred_at",
    }

    def kinds(query: str) -> list[str]:
        return [
            r["kind"]
            for r in merchandiser.get(f"/api/v1/stock/movements/?{query}").json()["results"]
        ]

    assert kinds("location=STORE-001") == ["damage", "receipt"]
    assert kinds("kind=receipt&location=WH-01") == ["receipt"]
    assert kinds("sku=OTHER") == []
    assert_problem(merchandiser.get("/api/v1/stock/movements/?kind=theft"), 400, "invalid", "kind")


def test_the_ledger_of_a_pos_is_its_store_only(pos, tee, store, other_store):
    receive(tee.sku, store.code, 5)
    receive(tee.sku, other_store.code, 7)
    results = pos.get("/api/v1/stock/movements/").json()["results"]
    assert [(r["location"], r["quantity"]) for r in results] == [("STORE-001", 5)]
    assert pos.get("/api/v1/stock/movements/?location=STORE-002").json()["count"] == 0


def test_storefront_does_not_read_the_ledger(storefront):
    assert_problem(storefront.get("/api/v1/stock/movements/"), 403, "permission_denied")


def test_the_ledger_runs_the_same_queries_for_one_row_or_many(merchandiser, tee, store):
    receive(tee.sku, store.code, 1)
    with CaptureQueriesContext(connection) as one:
        merchandiser.get("/api/v1/stock/movements/")
    for index in range(30):
        receive(SKUFactory(sku=f"L-{index}").sku, StoreFactory(code=f"L-{index}").code, 1)
    with CaptureQueriesContext(connection) as many:
        assert len(merchandiser.get("/api/v1/stock/movements/").json()["results"]) == 31
    assert len(many) == len(one) <= 3


# --- PATCH /stock/levels/ ------------------------------------------------------------------


def test_merchandiser_sets_safety_stock_and_reorder_point(merchandiser, tee, store):
    receive(tee.sku, store.code, 10)
    response = merchandiser.patch(
        "/api/v1/stock/levels/",
        {"sku": tee.sku, "location": store.code, "safety_stock": 3, "reorder_point": 8},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "sku": "TEE-RED-M",
        "location": "STORE-001",
        "on_hand": 10,
        "reserved": 0,
        "safety_stock": 3,
        "available": 7,
        "reorder_point": 8,
        "in_transit": 0,
        "needs_count": False,
    }
    assert StockMovement.objects.count() == 1  # planning numbers leave no ledger row


def test_setting_one_number_keeps_the_other(merchandiser, tee, store):
    services.set_stock_parameters(sku=tee.sku, location=store.code, safety_stock=2, reorder_point=5)
    response = merchandiser.patch(
        "/api/v1/stock/levels/", {"sku": tee.sku, "location": store.code, "reorder_point": 9}
    )
    assert (response.json()["safety_stock"], response.json()["reorder_point"]) == (2, 9)


def test_store_staff_set_the_reorder_point_of_their_store_only(
    store_staff, tee, store, other_store
):
    ok = store_staff.patch(
        "/api/v1/stock/levels/", {"sku": tee.sku, "location": store.code, "reorder_point": 4}
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["reorder_point"] == 4
    before = stock_state()
    safety = store_staff.patch(
        "/api/v1/stock/levels/", {"sku": tee.sku, "location": store.code, "safety_stock": 4}
    )
    assert_problem(safety, 403, "permission_denied")
    elsewhere = store_staff.patch(
        "/api/v1/stock/levels/", {"sku": tee.sku, "location": "STORE-002", "reorder_point": 4}
    )
    assert_problem(elsewhere, 404, "not_found", "location")
    assert stock_state() == before


def test_pos_and_storefront_cannot_set_planning_numbers(pos, storefront, tee, store):
    body = {"sku": tee.sku, "location": store.code, "reorder_point": 4}
    assert_problem(pos.patch("/api/v1/stock/levels/", body), 403, "permission_denied")
    assert_problem(storefront.patch("/api/v1/stock/levels/", body), 403, "permission_denied")
    assert not StockLevel.objects.exists()


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"sku": "TEE-RED-M", "location": "STORE-001"}, None),
        ({"sku": "TEE-RED-M", "location": "STORE-001", "safety_stock": -1}, "safety_stock"),
        ({"sku": "TEE-RED-M", "location": "STORE-001", "reorder_point": 1.5}, "reorder_point"),
        ({"sku": "NOPE", "location": "STORE-001", "safety_stock": 1}, "sku"),
        ({"sku": "TEE-RED-M", "location": "NOPE", "safety_stock": 1}, "location"),
        ({"location": "STORE-001", "safety_stock": 1}, "sku"),
    ],
)
def test_bad_planning_numbers_are_400_and_change_nothing(merchandiser, tee, store, body, attr):
    receive(tee.sku, store.code, 5)
    before = stock_state()
    assert_problem(merchandiser.patch("/api/v1/stock/levels/", body), 400, "invalid", attr)
    assert stock_state() == before


# --- Transfers -----------------------------------------------------------------------------


def dispatch(client, **changes):
    body = {
        "sku": "TEE-RED-M",
        "from_location": "WH-01",
        "to_location": "STORE-001",
        "quantity": 4,
        "reference": "TR-1",
        **changes,
    }
    return client.post("/api/v1/stock/transfers/", body)


def test_a_transfer_goes_out_in_transit_and_comes_in(
    merchandiser, store_staff, tee, store, warehouse
):
    receive(tee.sku, warehouse.code, 10)
    response = dispatch(merchandiser)
    assert response.status_code == 201, response.content
    body = response.json()
    transfer = Transfer.objects.get()
    assert body == {
        "id": transfer.pk,
        "status": "in_transit",
        "sku": "TEE-RED-M",
        "from_location": "WH-01",
        "to_location": "STORE-001",
        "quantity": 4,
        "reference": "TR-1",
        "created_by": "merchandiser:test merchandiser",
        "dispatched_at": body["dispatched_at"],
        "received_at": None,
    }
    assert level_of(tee.sku, "WH-01").on_hand == 6
    assert (level_of(tee.sku, "STORE-001").on_hand, level_of(tee.sku, "STORE-001").in_transit) == (
        0,
        4,
    )

    received = store_staff.post(f"/api/v1/stock/transfers/{transfer.pk}/receive/")
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "received"
    assert received.json()["received_at"] is not None
    level = level_of(tee.sku, "STORE-001")
    assert (level.on_hand, level.in_transit) == (4, 0)

    before = stock_state()
    again = store_staff.post(f"/api/v1/stock/transfers/{transfer.pk}/receive/")
    assert_problem(again, 409, "invalid_state")
    assert stock_state() == before


def test_transfers_list_and_detail(merchandiser, tee, store, warehouse):
    receive(tee.sku, warehouse.code, 10)
    first = dispatch(merchandiser, quantity=1).json()
    second = dispatch(merchandiser, quantity=2).json()
    services.receive_transfer(transfer_id=first["id"])

    body = merchandiser.get("/api/v1/stock/transfers/").json()
    assert [row["id"] for row in body["results"]] == [second["id"], first["id"]]
    in_transit = merchandiser.get("/api/v1/stock/transfers/?status=in_transit").json()
    assert [row["id"] for row in in_transit["results"]] == [second["id"]]
    assert merchandiser.get(f"/api/v1/stock/transfers/{second['id']}/").json() == second
    assert_problem(merchandiser.get("/api/v1/stock/transfers/?status=lost"), 400, "invalid")
    assert_problem(merchandiser.get("/api/v1/stock/transfers/999999/"), 404, "not_found")
    assert_problem(
        merchandiser.get("/api/v1/stock/transfers/99999999999999999999999/"), 404, "not_found"
    )


def test_location_bound_callers_see_transfers_from_or_to_their_locations(
    merchandiser, pos, tee, store, other_store, warehouse
):
    receive(tee.sku, warehouse.code, 10)
    mine = dispatch(merchandiser, quantity=1).json()
    theirs = dispatch(merchandiser, quantity=1, to_location="STORE-002").json()
    assert [row["id"] for row in pos.get("/api/v1/stock/transfers/").json()["results"]] == [
        mine["id"]
    ]
    assert pos.get(f"/api/v1/stock/transfers/{mine['id']}/").status_code == 200
    assert_problem(pos.get(f"/api/v1/stock/transfers/{theirs['id']}/"), 404, "not_found")
    before = stock_state()
    assert_problem(pos.post(f"/api/v1/stock/transfers/{theirs['id']}/receive/"), 404, "not_found")
    assert stock_state() == before


def test_pos_dispatches_from_its_own_store_only(pos, tee, store, other_store):
    receive(tee.sku, store.code, 5)
    receive(tee.sku, other_store.code, 5)
    ok = dispatch(pos, from_location="STORE-001", to_location="STORE-002", quantity=2)
    assert ok.status_code == 201, ok.content
    before = stock_state()
    response = dispatch(pos, from_location="STORE-002", to_location="STORE-001", quantity=2)
    assert_problem(response, 404, "not_found", "from_location")
    assert stock_state() == before


def test_the_sender_cannot_receive_at_someone_elses_location(pos, tee, store, other_store):
    receive(tee.sku, store.code, 5)
    sent = dispatch(pos, from_location="STORE-001", to_location="STORE-002", quantity=2).json()
    assert pos.get(f"/api/v1/stock/transfers/{sent['id']}/").status_code == 200
    before = stock_state()
    response = pos.post(f"/api/v1/stock/transfers/{sent['id']}/receive/")
    assert_problem(response, 403, "permission_denied")
    assert stock_state() == before
    assert Transfer.objects.get().status == "in_transit"


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"to_location": "WH-01"}, "to_location"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"sku": "NOPE"}, "sku"),
        ({"from_location": "NOPE"}, "from_location"),
        ({"to_location": "NOPE"}, "to_location"),
        ({"to_location": None}, "to_location"),
    ],
)
def test_bad_transfers_are_400_and_change_nothing(
    merchandiser, tee, store, warehouse, changes, attr
):
    receive(tee.sku, warehouse.code, 10)
    before = stock_state()
    assert_problem(dispatch(merchandiser, **changes), 400, "invalid", attr)
    assert stock_state() == before


def test_a_transfer_missing_fields_is_400(merchandiser, tee, warehouse):
    response = merchandiser.post("/api/v1/stock/transfers/", {})
    assert_problem(response, 400, "invalid")
    assert {e["attr"] for e in response.json()["errors"]} == {
        "sku",
        "from_location",
        "to_location",
        "quantity",
    }
    assert stock_state() == ([], 0, 0)


def test_a_transfer_of_held_units_is_409_and_changes_nothing(merchandiser, tee, store, warehouse):
    receive(tee.sku, warehouse.code, 5)
    services.reserve(channel="web", lines=[services.HoldLine(tee.sku, warehouse.code, 3)])
    before = stock_state()
    assert_problem(dispatch(merchandiser, quantity=3), 409, "insufficient_stock", "quantity")
    assert stock_state() == before


def test_storefront_cannot_touch_transfers(storefront, tee, store, warehouse):
    receive(tee.sku, warehouse.code, 5)
    assert_problem(storefront.get("/api/v1/stock/transfers/"), 403, "permission_denied")
    assert_problem(dispatch(storefront), 403, "permission_denied")
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stock/?sku=%00",
        "/api/v1/stock/?location=a%00b",
        "/api/v1/stock/movements/?sku=%00",
        "/api/v1/stock/movements/?location=%00",
        "/api/v1/stock/transfers/?sku=%00",
    ],
)
def test_a_malformed_code_filter_is_400_not_a_database_error(merchandiser, path):
    assert_problem(merchandiser.get(path), 400, "invalid")


def test_a_nul_byte_in_a_body_is_400(merchandiser, tee, store):
    response = merchandiser.post(
        "/api/v1/stock/movements/", {**GOOD_MOVEMENT, "sku": "TEE\x00", "reason": "a\x00b"}
    )
    assert_problem(response, 400, "invalid", "sku")
    assert "reason" in [error["attr"] for error in response.json()["errors"]]
    assert stock_state() == ([], 0, 0)


def test_a_replayed_movement_with_its_idempotency_key_counts_once(pos, tee, store):
    first = pos.post("/api/v1/stock/movements/", GOOD_MOVEMENT, HTTP_IDEMPOTENCY_KEY="till-1-42")
    again = pos.post("/api/v1/stock/movements/", GOOD_MOVEMENT, HTTP_IDEMPOTENCY_KEY="till-1-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert StockMovement.objects.count() == 1
    assert level_of(tee.sku, store.code).on_hand == 1
