"""``plan_order``: the planner fed from the database. Which locations are candidates (ship vs
pickup, active, excluded), what they can promise (on hand − reserved − safety stock), their
capacity, and a query count that does not grow with the number of locations or lines."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Channel, Location
from inventory.services import receive_stock, reserve, set_stock_parameters
from inventory.services.reservations import HoldLine
from orders.routing import Method, PlanLine, PlannedLine, Point, plan_order
from tests.factories import LocationFactory, SKUFactory, StoreFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

DAM = Point(52.3730, 4.8930)


@pytest.fixture
def web():
    return Channel.objects.get(code="web")


@pytest.fixture
def skus():
    return [SKUFactory(sku=code).sku for code in ("TEE-M", "CAP", "SOCK")]


def stock(location: Location, **quantities: int) -> None:
    for sku, qty in quantities.items():
        receive_stock(sku=sku.replace("_", "-"), location=location.code, quantity=qty)


def lines(*quantities: tuple[str, int]) -> list[PlanLine]:
    return [PlanLine(i, sku, qty) for i, (sku, qty) in enumerate(quantities)]


def explained(plan) -> set[str]:
    return {note.location for note in plan.explanation if note.location is not None}


def where(plan) -> dict[str, list[tuple[int, str, int]]]:
    return {f.location: [(x.index, x.sku, x.quantity) for x in f.lines] for f in plan.fulfilments}


# --- Which locations are candidates ---------------------------------------------------------


def test_ship_candidates_are_the_active_locations_that_ship(web, skus):
    near_pickup_only = StoreFactory(code="STORE-PICKUP", pickup_enabled=True, ship_enabled=False)
    ship_from_store = StoreFactory(
        code="STORE-SHIP",
        pickup_enabled=True,
        ship_enabled=True,
        latitude=Decimal("52.400000"),
        handling_cost=Decimal("1.00"),
    )
    warehouse = WarehouseFactory(
        code="WH-FAR", latitude=Decimal("52.900000"), handling_cost=Decimal("0.50")
    )
    closed = WarehouseFactory(code="WH-CLOSED", active=False)
    for location in (near_pickup_only, ship_from_store, warehouse, closed):
        stock(location, TEE_M=5, CAP=5)

    plan = plan_order(
        channel=web, lines=lines(("TEE-M", 2), ("CAP", 1)), method=Method.SHIP, destination=DAM
    )

    assert plan.feasible
    assert plan.method == Method.SHIP
    # The pickup-only store at the Dam and the inactive warehouse are not even considered.
    assert explained(plan) == {"STORE-SHIP", "WH-FAR"}
    assert where(plan) == {"STORE-SHIP": [(0, "TEE-M", 2), (1, "CAP", 1)]}
    assert plan.fulfilments[0].method == Method.SHIP
    assert plan.fulfilments[0].distance_km == pytest.approx(3.0, abs=0.01)
    assert plan.fulfilments[0].cost == Decimal("1.15")  # 1.00 + 0.05 × 3.003


def test_pickup_candidates_are_the_pickup_stores(web, skus):
    chosen = StoreFactory(code="STORE-A", pickup_enabled=True)
    other = StoreFactory(code="STORE-B", pickup_enabled=True, latitude=Decimal("52.380000"))
    warehouse = WarehouseFactory(code="WH-01")  # ships, no pickup
    ship_only = LocationFactory(code="STORE-SHIPONLY", pickup_enabled=False, ship_enabled=True)
    stock(chosen, TEE_M=1)
    for location in (other, warehouse, ship_only):
        stock(location, TEE_M=9, CAP=9)

    ok = plan_order(
        channel=web, lines=lines(("TEE-M", 1)), method=Method.PICKUP, pickup_location="STORE-A"
    )
    assert ok.feasible
    assert where(ok) == {"STORE-A": [(0, "TEE-M", 1)]}
    assert ok.fulfilments[0].method == Method.PICKUP
    assert explained(ok) == {"STORE-A", "STORE-B"}

    short = plan_order(
        channel=web,
        lines=lines(("TEE-M", 1), ("CAP", 2)),
        method=Method.PICKUP,
        pickup_location="STORE-A",
    )
    assert not short.feasible
    assert short.short_lines == (PlannedLine(1, "CAP", 2),)
    assert short.alternatives == ("STORE-B",)  # not the warehouse, not the ship-only store

    not_a_pickup_store = plan_order(
        channel=web, lines=lines(("TEE-M", 1)), method=Method.PICKUP, pickup_location="WH-01"
    )
    assert not not_a_pickup_store.feasible
    assert not_a_pickup_store.alternatives == ("STORE-A", "STORE-B")


def test_exclude_leaves_a_location_out(web, skus):
    best = WarehouseFactory(code="WH-NEAR")
    next_best = WarehouseFactory(code="WH-FAR", latitude=Decimal("52.500000"))
    stock(best, CAP=3)
    stock(next_best, CAP=3)

    first = plan_order(channel=web, lines=lines(("CAP", 2)), method=Method.SHIP, destination=DAM)
    again = plan_order(
        channel=web,
        lines=lines(("CAP", 2)),
        method=Method.SHIP,
        destination=DAM,
        exclude=["WH-NEAR"],
    )
    nothing = plan_order(
        channel=web,
        lines=lines(("CAP", 2)),
        method=Method.SHIP,
        destination=DAM,
        exclude=["WH-NEAR", "WH-FAR"],
    )

    assert where(first) == {"WH-NEAR": [(0, "CAP", 2)]}
    assert where(again) == {"WH-FAR": [(0, "CAP", 2)]}
    assert "WH-NEAR" not in explained(again)
    assert not nothing.feasible
    assert nothing.short_lines == (PlannedLine(0, "CAP", 2),)


# --- What they can promise ------------------------------------------------------------------


def test_reserved_units_and_safety_stock_are_not_promised(web, skus):
    store = StoreFactory(code="STORE-SHIP", ship_enabled=True)
    warehouse = WarehouseFactory(code="WH-FAR", latitude=Decimal("52.600000"))
    stock(store, SOCK=6)
    stock(warehouse, SOCK=10)
    set_stock_parameters(sku="SOCK", location="STORE-SHIP", safety_stock=2)
    reserve(channel=web, lines=[HoldLine(sku="SOCK", location="STORE-SHIP", quantity=1)])

    three = plan_order(channel=web, lines=lines(("SOCK", 3)), method=Method.SHIP, destination=DAM)
    four = plan_order(channel=web, lines=lines(("SOCK", 4)), method=Method.SHIP, destination=DAM)
    too_many = plan_order(
        channel=web, lines=lines(("SOCK", 15)), method=Method.SHIP, destination=DAM
    )

    assert where(three) == {"STORE-SHIP": [(0, "SOCK", 3)]}  # 6 − 2 − 1 = 3
    assert where(four) == {"WH-FAR": [(0, "SOCK", 4)]}
    assert not too_many.feasible  # 3 + 10 = 13 promisable
    assert too_many.short_lines == (PlannedLine(0, "SOCK", 2),)


def test_an_unknown_sku_is_simply_short(web, skus):
    stock(WarehouseFactory(code="WH-01"), CAP=1)

    plan = plan_order(
        channel=web, lines=lines(("CAP", 1), ("NOPE", 1)), method=Method.SHIP, destination=DAM
    )

    assert not plan.feasible
    assert plan.short_lines == (PlannedLine(1, "NOPE", 1),)


# --- Capacity -------------------------------------------------------------------------------


def test_capacity_used_today_can_exclude_a_store(web, skus):
    store = StoreFactory(code="STORE-SHIP", ship_enabled=True, daily_capacity=2)
    warehouse = WarehouseFactory(code="WH-FAR", latitude=Decimal("52.600000"))
    stock(store, CAP=5)
    stock(warehouse, CAP=5)

    def plan(used):
        return plan_order(
            channel=web,
            lines=lines(("CAP", 1)),
            method=Method.SHIP,
            destination=DAM,
            capacity_used=used,
        )

    assert where(plan({"STORE-SHIP": 1})) == {"STORE-SHIP": [(0, "CAP", 1)]}
    full = plan({"STORE-SHIP": 2})
    assert where(full) == {"WH-FAR": [(0, "CAP", 1)]}
    assert ("STORE-SHIP", "rejected", "no ship-from-store capacity left today") in {
        (n.location, n.outcome, n.reason) for n in full.explanation
    }
    # Nothing used yet (an empty mapping) leaves the whole capacity.
    assert where(plan({})) == {"STORE-SHIP": [(0, "CAP", 1)]}


def test_capacity_does_not_limit_pickup(web, skus):
    store = StoreFactory(code="STORE-A", pickup_enabled=True, ship_enabled=True, daily_capacity=1)
    stock(store, CAP=1)

    plan = plan_order(
        channel=web,
        lines=lines(("CAP", 1)),
        method=Method.PICKUP,
        pickup_location="STORE-A",
        capacity_used={"STORE-A": 5},
    )

    assert plan.feasible


# --- Queries ----------------------------------------------------------------------------------


def network(numbers: range) -> None:
    """Warehouses around Amsterdam, each with two of one SKU (so none has everything and the
    search, or the heuristic, has work to do), and as many pickup stores with a CAP each."""
    for i in numbers:
        lat = Decimal("52.300000") + Decimal(i % 50) / 200
        lng = Decimal("4.700000") + Decimal(i // 50) / 20
        wh = WarehouseFactory(code=f"WH-{i:04d}", latitude=lat, longitude=lng, daily_capacity=50)
        shop = StoreFactory(code=f"ST-{i:04d}", latitude=lat, longitude=lng)
        receive_stock(sku=("TEE-M", "CAP", "SOCK")[i % 3], location=wh.code, quantity=2)
        receive_stock(sku="CAP", location=shop.code, quantity=1)


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


@pytest.mark.parametrize("capacity_used", [None, {"WH-0001": 3}])
def test_queries_do_not_grow_with_locations_or_lines(
    web, skus, capacity_used, django_assert_max_num_queries
):
    def ship(order):
        return plan_order(
            channel=web,
            lines=order,
            method=Method.SHIP,
            destination=DAM,
            capacity_used=capacity_used,
        )

    def pickup(order):
        return plan_order(channel=web, lines=order, method=Method.PICKUP, pickup_location="ST-0001")

    one = lines(("CAP", 1))
    three = lines(("TEE-M", 1), ("CAP", 1), ("SOCK", 1))

    network(range(10))
    small = [count_queries(lambda o=o: ship(o)) for o in (one, three)]
    small_pickup = [count_queries(lambda o=o: pickup(o)) for o in (one, three)]
    network(range(10, 300))
    with django_assert_max_num_queries(3):
        big = ship(three)
    assert big.feasible
    assert len(big.fulfilments) == 3
    with django_assert_max_num_queries(3):
        assert pickup(one).feasible

    assert (
        small[0]
        == small[1]
        == count_queries(lambda: ship(one))
        == count_queries(lambda: ship(three))
    )
    assert small_pickup[0] == small_pickup[1] == count_queries(lambda: pickup(three))
