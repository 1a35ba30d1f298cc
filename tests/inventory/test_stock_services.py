"""Stock on hand through inventory.services: receipts, adjustments, counts, damage, transfers
and shortfalls. Exact numbers; on every failure path, nothing changed."""

import pytest
from django.db import transaction

from inventory import services
from inventory.errors import (
    InsufficientStock,
    InvalidState,
    NotFound,
    UnknownLocation,
    UnknownSKU,
    ValidationFailed,
)
from inventory.models import (
    MovementKind,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    StockShortfall,
    Transfer,
)
from inventory.selectors import available_to_promise, with_available
from inventory.services import Entry, HoldLine
from inventory.signals import ShortfallNotice, ShortReservation, stock_shortfall
from tests.factories import ChannelFactory, SKUFactory

SKU = "TEE-RED-M"


@pytest.fixture
def sku(db):
    return SKUFactory(sku=SKU)


@pytest.fixture
def web(db):
    return ChannelFactory(code="web", name="Web shop")


@pytest.fixture
def stocked(sku, store):
    """10 units of TEE-RED-M at STORE-001."""
    services.receive_stock(sku=SKU, location=store.code, quantity=10)
    return store


@pytest.fixture
def shortfalls():
    """Every ShortfallNotice sent while the test runs."""
    received = []

    def receiver(sender, notice, **kwargs):
        received.append(notice)

    stock_shortfall.connect(receiver, dispatch_uid="test-shortfalls")
    yield received
    stock_shortfall.disconnect(dispatch_uid="test-shortfalls")


def numbers(location, sku=SKU):
    """(on_hand, reserved, in_transit, needs_count) of one level."""
    return StockLevel.objects.values_list("on_hand", "reserved", "in_transit", "needs_count").get(
        sku__sku=sku, location__code=location
    )


def ledger(location, sku=SKU):
    """(kind, quantity, on_hand_after) of one level, oldest first."""
    return list(
        StockMovement.objects.filter(sku__sku=sku, location__code=location)
        .order_by("id")
        .values_list("kind", "quantity", "on_hand_after")
    )


def snapshot():
    """Everything a failed stock call must leave alone."""
    return (
        list(
            StockLevel.objects.order_by("pk").values_list(
                "pk", "on_hand", "reserved", "in_transit", "safety_stock", "needs_count"
            )
        ),
        StockMovement.objects.count(),
        list(ReservationLine.objects.order_by("pk").values_list("pk", "quantity", "shorted")),
        list(Reservation.objects.order_by("pk").values_list("pk", "status")),
        list(Transfer.objects.order_by("pk").values_list("pk", "status")),
        StockShortfall.objects.count(),
    )


def hold(location, quantity, reference, sku=SKU):
    return services.reserve(
        channel="web", lines=[HoldLine(sku, location, quantity)], reference=reference
    )


# --- Receipts ------------------------------------------------------------------------------


def test_receipt_raises_on_hand_and_writes_one_ledger_row(sku, store):
    movement = services.receive_stock(
        sku=SKU,
        location=store.code,
        quantity=12,
        entry=Entry(reason="PO 4711", reference="po-4711", actor="merch@example.com"),
    )

    assert numbers(store.code) == (12, 0, 0, False)
    assert (movement.kind, movement.quantity, movement.on_hand_after) == ("receipt", 12, 12)
    assert (movement.reason, movement.reference, movement.actor) == (
        "PO 4711",
        "po-4711",
        "merch@example.com",
    )
    assert (movement.sku_id, movement.location_id) == (sku.pk, store.pk)
    assert movement.occurred_at is not None


def test_receipts_add_up_and_each_row_records_the_running_on_hand(sku, store):
    services.receive_stock(sku=SKU, location=store.code, quantity=3)
    services.receive_stock(sku=SKU, location=store.code, quantity=4)

    assert numbers(store.code) == (7, 0, 0, False)
    assert ledger(store.code) == [("receipt", 3, 3), ("receipt", 4, 7)]


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "3"])
def test_receipt_of_a_quantity_that_is_not_positive_whole_changes_nothing(stocked, quantity):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.receive_stock(sku=SKU, location=stocked.code, quantity=quantity)

    assert error.value.errors[0]["attr"] == "quantity"
    assert snapshot() == before


def test_receipt_for_unknown_sku_or_location_creates_no_level(sku, store):
    with pytest.raises(UnknownSKU):
        services.receive_stock(sku="NOPE", location=store.code, quantity=1)
    with pytest.raises(UnknownLocation):
        services.receive_stock(sku=SKU, location="NOWHERE", quantity=1)

    assert StockLevel.objects.count() == 0
    assert StockMovement.objects.count() == 0


# --- Adjustments ---------------------------------------------------------------------------


def test_adjustments_up_and_down(stocked):
    services.adjust_stock(sku=SKU, location=stocked.code, quantity=5, entry=Entry(reason="found"))
    services.adjust_stock(sku=SKU, location=stocked.code, quantity=-8, entry=Entry(reason="lost"))

    assert numbers(stocked.code) == (7, 0, 0, False)
    assert ledger(stocked.code) == [
        ("receipt", 10, 10),
        ("adjustment", 5, 15),
        ("adjustment", -8, 7),
    ]


def test_adjustment_to_exactly_zero_is_allowed(stocked):
    services.adjust_stock(sku=SKU, location=stocked.code, quantity=-10)

    assert numbers(stocked.code) == (0, 0, 0, False)


def test_adjustment_below_zero_changes_nothing(stocked):
    before = snapshot()

    with pytest.raises(InsufficientStock) as error:
        services.adjust_stock(sku=SKU, location=stocked.code, quantity=-11)

    assert error.value.errors == [
        {"attr": "quantity", "code": "insufficient_stock", "detail": "Only 10 on hand."}
    ]
    assert snapshot() == before


def test_adjustment_of_zero_is_refused(stocked):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.adjust_stock(sku=SKU, location=stocked.code, quantity=0)

    assert error.value.errors[0]["attr"] == "quantity"
    assert snapshot() == before


# --- Counts --------------------------------------------------------------------------------


def test_count_below_records_the_difference(stocked):
    movement = services.count_stock(sku=SKU, location=stocked.code, counted=7)

    assert (movement.kind, movement.quantity, movement.on_hand_after) == ("count", -3, 7)
    assert numbers(stocked.code) == (7, 0, 0, False)


def test_count_above_records_the_difference(stocked):
    services.count_stock(sku=SKU, location=stocked.code, counted=14)

    assert numbers(stocked.code) == (14, 0, 0, False)
    assert ledger(stocked.code) == [("receipt", 10, 10), ("count", 4, 14)]


def test_count_of_the_same_quantity_records_a_zero_movement(stocked):
    services.count_stock(sku=SKU, location=stocked.code, counted=10, entry=Entry(actor="anna"))

    assert numbers(stocked.code) == (10, 0, 0, False)
    assert ledger(stocked.code) == [("receipt", 10, 10), ("count", 0, 10)]
    assert StockMovement.objects.get(kind="count").actor == "anna"


def test_count_at_a_location_never_stocked_creates_the_level(sku, store):
    services.count_stock(sku=SKU, location=store.code, counted=3)

    assert numbers(store.code) == (3, 0, 0, False)
    assert ledger(store.code) == [("count", 3, 3)]


def test_count_clears_needs_count(stocked):
    StockLevel.objects.filter(location=stocked).update(needs_count=True)

    services.count_stock(sku=SKU, location=stocked.code, counted=9)

    assert numbers(stocked.code) == (9, 0, 0, False)


@pytest.mark.parametrize("counted", [-1, 1.0, None])
def test_count_that_is_not_a_whole_number_changes_nothing(stocked, counted):
    before = snapshot()

    with pytest.raises(ValidationFailed):
        services.count_stock(sku=SKU, location=stocked.code, counted=counted)

    assert snapshot() == before


# --- Damage --------------------------------------------------------------------------------


def test_damage_takes_units_out(stocked):
    movement = services.record_damage(
        sku=SKU, location=stocked.code, quantity=2, entry=Entry(reason="torn")
    )

    assert (movement.kind, movement.quantity, movement.on_hand_after, movement.reason) == (
        "damage",
        -2,
        8,
        "torn",
    )
    assert numbers(stocked.code) == (8, 0, 0, False)


def test_damage_of_more_than_on_hand_changes_nothing(stocked):
    before = snapshot()

    with pytest.raises(InsufficientStock):
        services.record_damage(sku=SKU, location=stocked.code, quantity=11)

    assert snapshot() == before


@pytest.mark.parametrize("quantity", [0, -2])
def test_damage_must_be_positive(stocked, quantity):
    before = snapshot()

    with pytest.raises(ValidationFailed):
        services.record_damage(sku=SKU, location=stocked.code, quantity=quantity)

    assert snapshot() == before


# --- record_movement (the movements API in one call) ----------------------------------------


def test_record_movement_dispatches_on_kind(stocked):
    services.record_movement(kind="receipt", sku=SKU, location=stocked.code, quantity=2)
    services.record_movement(kind="adjustment", sku=SKU, location=stocked.code, quantity=-1)
    services.record_movement(kind="damage", sku=SKU, location=stocked.code, quantity=1)
    services.record_movement(kind="count", sku=SKU, location=stocked.code, quantity=6)

    assert ledger(stocked.code) == [
        ("receipt", 10, 10),
        ("receipt", 2, 12),
        ("adjustment", -1, 11),
        ("damage", -1, 10),
        ("count", -4, 6),
    ]


@pytest.mark.parametrize("kind", ["sale", "transfer_in", "shortfall", "bogus"])
def test_record_movement_refuses_kinds_only_services_write(stocked, kind):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.record_movement(kind=kind, sku=SKU, location=stocked.code, quantity=1)

    assert error.value.errors[0]["attr"] == "kind"
    assert snapshot() == before


# --- Available to promise -------------------------------------------------------------------


def test_available_is_on_hand_minus_reserved_minus_safety_stock(stocked, web):
    services.set_stock_parameters(sku=SKU, location=stocked.code, safety_stock=2)
    hold(stocked.code, 3, "cart-1")

    level = StockLevel.objects.get(location=stocked)
    assert level.available == 5
    assert with_available(StockLevel.objects.filter(pk=level.pk)).get().available_qty == 5
    [result] = available_to_promise(skus=[SKU])
    assert (result.sku, result.available) == (SKU, 5)
    assert [(loc.location, loc.available) for loc in result.locations] == [(stocked.code, 5)]


def test_available_never_goes_below_zero(stocked, web):
    hold(stocked.code, 6, "cart-1")
    services.set_stock_parameters(sku=SKU, location=stocked.code, safety_stock=7)

    level = StockLevel.objects.get(location=stocked)
    assert (level.on_hand, level.reserved, level.safety_stock) == (10, 6, 7)
    assert level.available == 0
    assert with_available(StockLevel.objects.filter(pk=level.pk)).get().available_qty == 0
    [result] = available_to_promise(skus=[SKU])
    assert (result.available, result.locations) == (0, [])


def test_safety_stock_cannot_be_reserved(stocked, web):
    services.set_stock_parameters(sku=SKU, location=stocked.code, safety_stock=3)
    before = snapshot()

    with pytest.raises(InsufficientStock):
        hold(stocked.code, 8, "cart-1")

    assert snapshot() == before
    hold(stocked.code, 7, "cart-2")
    assert numbers(stocked.code) == (10, 7, 0, False)


def test_negative_stock_parameters_change_nothing(stocked):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.set_stock_parameters(sku=SKU, location=stocked.code, safety_stock=-1)

    assert error.value.errors[0]["attr"] == "safety_stock"
    assert snapshot() == before


def test_stock_parameters_leave_no_ledger_row(stocked):
    level = services.set_stock_parameters(
        sku=SKU, location=stocked.code, safety_stock=2, reorder_point=4
    )

    assert (level.on_hand, level.safety_stock, level.reorder_point) == (10, 2, 4)
    assert ledger(stocked.code) == [("receipt", 10, 10)]


# --- Transfers -----------------------------------------------------------------------------


def test_transfer_leaves_at_dispatch_and_arrives_at_receipt(sku, warehouse, store):
    services.receive_stock(sku=SKU, location=warehouse.code, quantity=10)

    transfer = services.dispatch_transfer(
        sku=SKU,
        from_location=warehouse.code,
        to_location=store.code,
        quantity=4,
        entry=Entry(actor="dc-team"),
    )

    assert (transfer.status, transfer.quantity, transfer.received_at) == ("in_transit", 4, None)
    assert (transfer.from_location_id, transfer.to_location_id) == (warehouse.pk, store.pk)
    assert transfer.created_by == "dc-team"
    assert numbers(warehouse.code) == (6, 0, 0, False)
    assert numbers(store.code) == (0, 0, 4, False)
    assert ledger(warehouse.code) == [("receipt", 10, 10), ("transfer_out", -4, 6)]
    assert ledger(store.code) == []
    assert StockMovement.objects.get(kind="transfer_out").reference == f"transfer:{transfer.pk}"

    received = services.receive_transfer(transfer_id=transfer.pk)

    assert received.status == "received"
    assert received.received_at is not None
    assert numbers(warehouse.code) == (6, 0, 0, False)
    assert numbers(store.code) == (4, 0, 0, False)
    assert ledger(store.code) == [("transfer_in", 4, 4)]
    assert StockMovement.objects.get(kind="transfer_in").reference == f"transfer:{transfer.pk}"


def test_in_transit_is_not_available_to_promise(sku, warehouse, store):
    services.receive_stock(sku=SKU, location=warehouse.code, quantity=4)
    services.dispatch_transfer(
        sku=SKU, from_location=warehouse.code, to_location=store.code, quantity=4
    )

    [result] = available_to_promise(skus=[SKU])
    assert (result.available, result.locations) == (0, [])
    assert StockLevel.objects.get(location=store).in_transit == 4


def test_receiving_a_transfer_twice_changes_nothing(sku, warehouse, store):
    services.receive_stock(sku=SKU, location=warehouse.code, quantity=10)
    transfer = services.dispatch_transfer(
        sku=SKU, from_location=warehouse.code, to_location=store.code, quantity=4
    )
    services.receive_transfer(transfer_id=transfer.pk)
    before = snapshot()

    with pytest.raises(InvalidState):
        services.receive_transfer(transfer_id=transfer.pk)

    assert snapshot() == before


def test_receiving_an_unknown_transfer_is_not_found(db):
    with pytest.raises(NotFound):
        services.receive_transfer(transfer_id=999)


def test_transfer_to_the_same_location_changes_nothing(stocked):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.dispatch_transfer(
            sku=SKU, from_location=stocked.code, to_location=stocked.code, quantity=1
        )

    assert error.value.errors[0]["attr"] == "to_location"
    assert snapshot() == before


@pytest.mark.parametrize("quantity", [0, -3])
def test_transfer_quantity_must_be_positive(stocked, other_store, quantity):
    before = snapshot()

    with pytest.raises(ValidationFailed):
        services.dispatch_transfer(
            sku=SKU, from_location=stocked.code, to_location=other_store.code, quantity=quantity
        )

    assert snapshot() == before


def test_only_unreserved_units_can_leave(stocked, other_store, web):
    hold(stocked.code, 7, "cart-1")
    before = snapshot()

    with pytest.raises(InsufficientStock) as error:
        services.dispatch_transfer(
            sku=SKU, from_location=stocked.code, to_location=other_store.code, quantity=4
        )

    assert error.value.errors[0]["detail"] == "Only 3 free."
    assert snapshot() == before
    assert not StockLevel.objects.filter(location=other_store).exists()

    services.dispatch_transfer(
        sku=SKU, from_location=stocked.code, to_location=other_store.code, quantity=3
    )
    assert numbers(stocked.code) == (7, 7, 0, False)
    assert numbers(other_store.code) == (0, 0, 3, False)


def test_transfer_from_a_location_without_stock_changes_nothing(sku, store, other_store):
    with pytest.raises(InsufficientStock):
        services.dispatch_transfer(
            sku=SKU, from_location=store.code, to_location=other_store.code, quantity=1
        )

    assert StockLevel.objects.count() == 0
    assert Transfer.objects.count() == 0


# --- Shortfalls: physical truth below reserved -----------------------------------------------


@pytest.fixture
def promised(stocked, web):
    """10 on hand at STORE-001, 3 held by cart-old, then 4 held by cart-new: reserved 7."""
    old = hold(stocked.code, 3, "cart-old")
    new = hold(stocked.code, 4, "cart-new")
    return old, new


def line_of(reservation):
    return ReservationLine.objects.values_list("quantity", "shorted", "requested").get(
        reservation=reservation
    )


def test_count_below_reserved_shorts_the_newest_reservation_first(
    promised, stocked, shortfalls, django_capture_on_commit_callbacks
):
    old, new = promised

    with django_capture_on_commit_callbacks(execute=True):
        movement = services.count_stock(
            sku=SKU, location=stocked.code, counted=2, entry=Entry(reference="count-9")
        )

    # 5 units of the 7 promised are gone: cart-new loses all 4, cart-old 1 of 3.
    assert (movement.kind, movement.quantity, movement.on_hand_after) == ("count", -8, 2)
    assert numbers(stocked.code) == (2, 2, 0, True)
    assert line_of(new) == (0, 4, 4)
    assert line_of(old) == (2, 1, 3)
    assert Reservation.objects.get(pk=new.pk).status == "active"
    assert ledger(stocked.code) == [("receipt", 10, 10), ("count", -8, 2), ("shortfall", 0, 2)]
    assert StockMovement.objects.get(kind="shortfall").reference == "count-9"
    record = StockShortfall.objects.get()
    assert (record.level.location_id, record.quantity, record.cause_id) == (
        stocked.pk,
        5,
        movement.pk,
    )
    assert record.lines == [
        {"reservation": new.pk, "reference": "cart-new", "quantity": 4},
        {"reservation": old.pk, "reference": "cart-old", "quantity": 1},
    ]
    assert shortfalls == [
        ShortfallNotice(
            shortfall_id=record.pk,
            sku=SKU,
            location=stocked.code,
            quantity=5,
            reservations=(
                ShortReservation(new.pk, "cart-new", 4),
                ShortReservation(old.pk, "cart-old", 1),
            ),
        )
    ]


def test_damage_below_reserved_shorts_only_what_is_missing(
    promised, stocked, shortfalls, django_capture_on_commit_callbacks
):
    old, new = promised

    with django_capture_on_commit_callbacks(execute=True):
        services.record_damage(sku=SKU, location=stocked.code, quantity=5)

    assert numbers(stocked.code) == (5, 5, 0, True)
    assert line_of(new) == (2, 2, 4)
    assert line_of(old) == (3, 0, 3)
    assert ledger(stocked.code)[1:] == [("damage", -5, 5), ("shortfall", 0, 5)]
    record = StockShortfall.objects.get()
    assert record.lines == [{"reservation": new.pk, "reference": "cart-new", "quantity": 2}]
    assert [(n.quantity, n.reservations) for n in shortfalls] == [
        (2, (ShortReservation(new.pk, "cart-new", 2),))
    ]


def test_negative_adjustment_below_reserved_shorts_reservations(
    promised, stocked, shortfalls, django_capture_on_commit_callbacks
):
    old, new = promised

    with django_capture_on_commit_callbacks(execute=True):
        services.adjust_stock(sku=SKU, location=stocked.code, quantity=-10)

    assert numbers(stocked.code) == (0, 0, 0, True)
    assert line_of(new) == (0, 4, 4)
    assert line_of(old) == (0, 3, 3)
    assert ledger(stocked.code)[1:] == [("adjustment", -10, 0), ("shortfall", 0, 0)]
    assert [(n.quantity, [r.quantity for r in n.reservations]) for n in shortfalls] == [(7, [4, 3])]


def test_decrease_that_leaves_reservations_whole_is_no_shortfall(
    promised, stocked, shortfalls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.record_damage(sku=SKU, location=stocked.code, quantity=3)

    assert numbers(stocked.code) == (7, 7, 0, False)
    assert StockShortfall.objects.count() == 0
    assert MovementKind.SHORTFALL not in [kind for kind, _, _ in ledger(stocked.code)]
    assert callbacks == []
    assert shortfalls == []


def test_shortfall_skips_reservations_that_are_no_longer_active(
    promised, stocked, shortfalls, django_capture_on_commit_callbacks
):
    old, new = promised
    services.release(reservation_id=new.pk)

    with django_capture_on_commit_callbacks(execute=True):
        services.count_stock(sku=SKU, location=stocked.code, counted=1)

    assert numbers(stocked.code) == (1, 1, 0, True)
    assert line_of(new) == (0, 0, 4)
    assert line_of(old) == (1, 2, 3)
    assert [n.reservations for n in shortfalls] == [(ShortReservation(old.pk, "cart-old", 2),)]


def test_a_shorted_reservation_can_still_be_consumed_for_what_it_holds(
    promised, stocked, django_capture_on_commit_callbacks
):
    old, _ = promised
    with django_capture_on_commit_callbacks(execute=True):
        services.count_stock(sku=SKU, location=stocked.code, counted=2)

    services.consume(reservation_id=old.pk, reference="sale-old")

    assert numbers(stocked.code) == (0, 0, 0, True)
    assert line_of(old) == (0, 1, 3)
    assert ReservationLine.objects.get(reservation=old).consumed == 2
    assert Reservation.objects.get(pk=old.pk).status == "consumed"


def test_no_shortfall_notice_when_the_transaction_rolls_back(
    promised, stocked, shortfalls, django_capture_on_commit_callbacks
):
    before = snapshot()
    seen_inside = []

    def count_then_give_up():
        with transaction.atomic():
            services.count_stock(sku=SKU, location=stocked.code, counted=0)
            seen_inside.append(StockShortfall.objects.count())
            raise RuntimeError("the caller gave up")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="the caller gave up"),
    ):
        count_then_give_up()

    assert seen_inside == [1]  # the shortfall happened inside the transaction...
    assert callbacks == []
    assert shortfalls == []
    assert snapshot() == before  # ...and is gone with the transaction
