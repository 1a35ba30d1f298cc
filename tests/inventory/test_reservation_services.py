"""Holding stock through inventory.services: reserve, release, consume, expire. Exact numbers;
on every failure path, nothing changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

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
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    StockOperation,
)
from inventory.services import Entry, HoldLine
from tests.factories import ChannelFactory, SKUFactory

TEE = "TEE-RED-M"
CAP = "CAP-BLUE"
SOCK = "SOCK-WHITE"


@pytest.fixture
def web(db):
    return ChannelFactory(code="web", name="Web shop")


@pytest.fixture
def stock(db, web, store, other_store):
    """TEE 10 and CAP 5 at STORE-001; SOCK 3 at STORE-002."""
    for code in (TEE, CAP, SOCK):
        SKUFactory(sku=code)
    services.receive_stock(sku=TEE, location=store.code, quantity=10)
    services.receive_stock(sku=CAP, location=store.code, quantity=5)
    services.receive_stock(sku=SOCK, location=other_store.code, quantity=3)
    return store, other_store


def numbers(sku, location="STORE-001"):
    """(on_hand, reserved) of one level."""
    return StockLevel.objects.values_list("on_hand", "reserved").get(
        sku__sku=sku, location__code=location
    )


def lines_of(reservation):
    """(sku, quantity held, requested, consumed) per line, by SKU."""
    return list(
        ReservationLine.objects.filter(reservation=reservation)
        .order_by("level__sku__sku")
        .values_list("level__sku__sku", "quantity", "requested", "consumed")
    )


def status_of(reservation):
    return Reservation.objects.values_list("status", flat=True).get(pk=reservation.pk)


def snapshot():
    return (
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        list(StockMovement.objects.order_by("pk").values_list("pk", "kind", "quantity")),
        list(Reservation.objects.order_by("pk").values_list("pk", "status", "closed_at")),
        list(
            ReservationLine.objects.order_by("pk").values_list(
                "pk", "quantity", "consumed", "shorted"
            )
        ),
        StockOperation.objects.count(),
    )


def basket(tee=2, cap=1, sock=None):
    lines = [HoldLine(TEE, "STORE-001", tee), HoldLine(CAP, "STORE-001", cap)]
    if sock is not None:
        lines.append(HoldLine(SOCK, "STORE-002", sock))
    return lines


# --- Reserve -------------------------------------------------------------------------------


def test_reserve_holds_every_line(stock, web):
    before = timezone.now()

    reservation = services.reserve(
        channel="web", lines=basket(sock=3), ttl_seconds=900, reference="cart-1", owner="shop"
    )

    assert (reservation.status, reservation.reference, reservation.owner) == (
        "active",
        "cart-1",
        "shop",
    )
    assert reservation.channel == web
    assert (
        before + timedelta(seconds=900)
        <= reservation.expires_at
        <= timezone.now() + timedelta(seconds=900)
    )
    assert lines_of(reservation) == [(CAP, 1, 1, 0), (SOCK, 3, 3, 0), (TEE, 2, 2, 0)]
    assert numbers(TEE) == (10, 2)
    assert numbers(CAP) == (5, 1)
    assert numbers(SOCK, "STORE-002") == (3, 3)
    assert StockMovement.objects.exclude(kind="receipt").count() == 0  # a hold is not a movement


def test_reserve_without_expiry_holds_until_released(stock):
    reservation = services.reserve(channel="web", lines=basket())

    assert reservation.expires_at is None
    assert reservation.reference is None


def test_reserve_accepts_a_channel_object(stock, web):
    reservation = services.reserve(channel=web, lines=basket())

    assert reservation.channel_id == web.pk


def test_reserve_is_all_or_nothing(stock):
    services.reserve(channel="web", lines=[HoldLine(SOCK, "STORE-002", 2)], reference="other")
    before = snapshot()

    with pytest.raises(InsufficientStock) as error:
        services.reserve(channel="web", lines=basket(tee=2, cap=1, sock=2), reference="cart-1")

    assert error.value.status == 409
    assert error.value.code == "insufficient_stock"
    assert error.value.errors == [
        {
            "attr": "lines.2.quantity",
            "code": "insufficient_stock",
            "detail": "Only 1 of SKU SOCK-WHITE can be promised at STORE-002.",
        }
    ]
    assert snapshot() == before
    assert not Reservation.objects.filter(reference="cart-1").exists()


def test_reserve_names_every_short_line(stock):
    before = snapshot()

    with pytest.raises(InsufficientStock) as error:
        services.reserve(channel="web", lines=basket(tee=11, cap=6, sock=1))

    assert [e["attr"] for e in error.value.errors] == ["lines.0.quantity", "lines.1.quantity"]
    assert error.value.errors[0]["detail"] == (
        "Only 10 of SKU TEE-RED-M can be promised at STORE-001."
    )
    assert snapshot() == before


def test_reserve_where_the_sku_was_never_stocked_is_insufficient(stock):
    before = snapshot()

    with pytest.raises(InsufficientStock) as error:
        services.reserve(channel="web", lines=[*basket(), HoldLine(SOCK, "STORE-001", 1)])

    assert error.value.errors == [
        {
            "attr": "lines.2.quantity",
            "code": "insufficient_stock",
            "detail": "Only 0 of SKU SOCK-WHITE can be promised at STORE-001.",
        }
    ]
    assert snapshot() == before


def test_reserve_the_last_unit_then_nothing_more(stock):
    services.reserve(channel="web", lines=[HoldLine(TEE, "STORE-001", 10)])

    with pytest.raises(InsufficientStock):
        services.reserve(channel="web", lines=[HoldLine(TEE, "STORE-001", 1)])

    assert numbers(TEE) == (10, 10)


@pytest.mark.parametrize(
    ("lines", "error_type", "attr"),
    [
        ([], ValidationFailed, "lines"),
        ([HoldLine(TEE, "STORE-001", 0)], ValidationFailed, "lines.0.quantity"),
        ([HoldLine(TEE, "STORE-001", 1), HoldLine(CAP, "STORE-001", -1)], ValidationFailed, "lines.1.quantity"),
        ([HoldLine(TEE, "STORE-001", 1), HoldLine(TEE, "STORE-001", 1)], ValidationFailed, "lines.1"),
        ([HoldLine(TEE, "STORE-001", 1), HoldLine("NOPE", "STORE-001", 1)], UnknownSKU, "lines.1.sku"),
        ([HoldLine(TEE, "NOWHERE", 1)], UnknownLocation, "lines.0.location"),
    ],
)  # fmt: skip
def test_reserve_refuses_bad_lines_and_changes_nothing(stock, lines, error_type, attr):
    before = snapshot()

    with pytest.raises(error_type) as error:
        services.reserve(channel="web", lines=lines)

    assert error.value.status == 400
    assert error.value.errors[0]["attr"] == attr
    assert snapshot() == before


@pytest.mark.parametrize("ttl", [0, -5, 60 * 60 * 24 * 31, "60"])
def test_reserve_refuses_a_bad_ttl(stock, ttl):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.reserve(channel="web", lines=basket(), ttl_seconds=ttl)

    assert error.value.errors[0]["attr"] == "ttl_seconds"
    assert snapshot() == before


def test_reserve_refuses_an_unknown_channel(stock):
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.reserve(channel="fax", lines=basket())

    assert error.value.errors[0]["code"] == "unknown_channel"
    assert snapshot() == before


def test_reserve_again_with_the_same_reference_and_lines_is_the_same_reservation(stock):
    first = services.reserve(channel="web", lines=basket(), reference="cart-1")

    again = services.reserve(channel="web", lines=list(reversed(basket())), reference="cart-1")

    assert again.pk == first.pk
    assert Reservation.objects.count() == 1
    assert numbers(TEE) == (10, 2)
    assert numbers(CAP) == (5, 1)


def test_reserve_with_a_used_reference_and_other_lines_changes_nothing(stock):
    services.reserve(channel="web", lines=basket(), reference="cart-1")
    before = snapshot()

    for other in (basket(tee=3), basket(sock=1), [HoldLine(TEE, "STORE-001", 2)]):
        with pytest.raises(ValidationFailed) as error:
            services.reserve(channel="web", lines=other, reference="cart-1")
        assert error.value.errors[0]["attr"] == "reference"

    assert snapshot() == before


def test_reserve_with_the_reference_of_a_released_reservation_returns_it(stock):
    first = services.reserve(channel="web", lines=basket(), reference="cart-1")
    services.release(reservation_id=first.pk)

    again = services.reserve(channel="web", lines=basket(), reference="cart-1")

    assert (again.pk, again.status) == (first.pk, "released")
    assert numbers(TEE) == (10, 0)


# --- Release -------------------------------------------------------------------------------


def test_release_gives_everything_back(stock):
    reservation = services.reserve(channel="web", lines=basket(sock=2))

    assert services.release(reservation_id=reservation.pk) is True

    reservation.refresh_from_db()
    assert reservation.status == "released"
    assert reservation.closed_at is not None
    assert numbers(TEE) == (10, 0)
    assert numbers(CAP) == (5, 0)
    assert numbers(SOCK, "STORE-002") == (3, 0)
    assert lines_of(reservation) == [(CAP, 0, 1, 0), (SOCK, 0, 2, 0), (TEE, 0, 2, 0)]


def test_release_twice_changes_nothing_the_second_time(stock):
    reservation = services.reserve(channel="web", lines=basket())
    services.reserve(channel="web", lines=basket(tee=3, cap=2))  # someone else's hold stays
    services.release(reservation_id=reservation.pk)
    before = snapshot()

    assert services.release(reservation_id=reservation.pk) is False

    assert snapshot() == before
    assert numbers(TEE) == (10, 3)


def test_release_of_an_unknown_reservation_is_false(stock):
    assert services.release(reservation_id=12345) is False


def test_release_as_expired_leaves_a_reservation_that_has_not_expired(stock):
    reservation = services.reserve(channel="web", lines=basket(), ttl_seconds=600)
    before = snapshot()

    assert services.release(reservation_id=reservation.pk, expired=True) is False

    assert snapshot() == before


# --- Consume -------------------------------------------------------------------------------


def test_consume_takes_on_hand_and_reserved_down_with_a_sale(stock):
    reservation = services.reserve(channel="web", lines=basket(tee=2, cap=1))

    done = services.consume(
        reservation_id=reservation.pk, reference="order-1", entry=Entry(actor="till-3")
    )

    assert done is True
    assert numbers(TEE) == (8, 0)
    assert numbers(CAP) == (5 - 1, 0)
    assert status_of(reservation) == "consumed"
    assert lines_of(reservation) == [(CAP, 0, 1, 1), (TEE, 0, 2, 2)]
    sales = StockMovement.objects.filter(kind="sale").order_by("sku__sku")
    assert [
        (m.sku.sku, m.quantity, m.on_hand_after, m.reference, m.reason, m.actor) for m in sales
    ] == [
        (CAP, -1, 4, "order-1", "handed over", "till-3"),
        (TEE, -2, 8, "order-1", "handed over", "till-3"),
    ]


def test_consume_twice_with_the_same_reference_sells_once(stock):
    reservation = services.reserve(channel="web", lines=basket(tee=5, cap=1))
    assert services.consume(
        reservation_id=reservation.pk, reference="order-1", quantities={(TEE, "STORE-001"): 2}
    )
    before = snapshot()

    again = services.consume(
        reservation_id=reservation.pk, reference="order-1", quantities={(TEE, "STORE-001"): 2}
    )

    assert again is False
    assert snapshot() == before
    assert numbers(TEE) == (8, 3)


def test_partial_consume_then_the_rest(stock):
    reservation = services.reserve(channel="web", lines=basket(tee=5, cap=2))

    services.consume(
        reservation_id=reservation.pk,
        reference="pick-1",
        quantities={(TEE, "STORE-001"): 2, (CAP, "STORE-001"): 2},
    )

    assert status_of(reservation) == "active"
    assert lines_of(reservation) == [(CAP, 0, 2, 2), (TEE, 3, 5, 2)]
    assert numbers(TEE) == (8, 3)
    assert numbers(CAP) == (3, 0)

    services.consume(reservation_id=reservation.pk, reference="pick-2")

    assert status_of(reservation) == "consumed"
    assert lines_of(reservation) == [(CAP, 0, 2, 2), (TEE, 0, 5, 5)]
    assert numbers(TEE) == (5, 0)
    assert list(
        StockMovement.objects.filter(kind="sale", sku__sku=TEE)
        .order_by("id")
        .values_list("quantity", "on_hand_after", "reference")
    ) == [(-2, 8, "pick-1"), (-3, 5, "pick-2")]


def test_consume_of_more_than_held_changes_nothing_and_the_reference_stays_free(stock):
    reservation = services.reserve(channel="web", lines=basket(tee=2))
    before = snapshot()

    with pytest.raises(InvalidState):
        services.consume(
            reservation_id=reservation.pk, reference="order-1", quantities={(TEE, "STORE-001"): 3}
        )

    assert snapshot() == before
    assert services.consume(
        reservation_id=reservation.pk, reference="order-1", quantities={(TEE, "STORE-001"): 2}
    )
    assert numbers(TEE) == (8, 0)


def test_consume_of_a_line_not_in_the_reservation_changes_nothing(stock):
    reservation = services.reserve(channel="web", lines=basket())
    before = snapshot()

    with pytest.raises(ValidationFailed):
        services.consume(
            reservation_id=reservation.pk,
            reference="order-1",
            quantities={(SOCK, "STORE-002"): 1},
        )

    assert snapshot() == before


@pytest.mark.parametrize("quantity", [0, -1])
def test_consume_of_a_non_positive_quantity_changes_nothing(stock, quantity):
    reservation = services.reserve(channel="web", lines=basket())
    before = snapshot()

    with pytest.raises(InvalidState):
        services.consume(
            reservation_id=reservation.pk,
            reference="order-1",
            quantities={(TEE, "STORE-001"): quantity},
        )

    assert snapshot() == before


def test_consume_of_a_released_reservation_changes_nothing(stock):
    reservation = services.reserve(channel="web", lines=basket())
    services.release(reservation_id=reservation.pk)
    before = snapshot()

    with pytest.raises(InvalidState):
        services.consume(reservation_id=reservation.pk, reference="order-1")

    assert snapshot() == before


def test_consume_of_a_consumed_reservation_with_a_new_reference_changes_nothing(stock):
    reservation = services.reserve(channel="web", lines=basket())
    services.consume(reservation_id=reservation.pk, reference="order-1")
    before = snapshot()

    with pytest.raises(InvalidState):
        services.consume(reservation_id=reservation.pk, reference="order-2")

    assert snapshot() == before


def test_consume_of_an_unknown_reservation_is_not_found(stock):
    before = snapshot()

    with pytest.raises(NotFound):
        services.consume(reservation_id=12345, reference="order-1")

    assert snapshot() == before


def test_consume_needs_a_reference(stock):
    reservation = services.reserve(channel="web", lines=basket())
    before = snapshot()

    with pytest.raises(ValidationFailed) as error:
        services.consume(reservation_id=reservation.pk, reference="")

    assert error.value.errors[0]["attr"] == "reference"
    assert snapshot() == before


def test_release_after_consume_changes_nothing(stock):
    reservation = services.reserve(channel="web", lines=basket())
    services.consume(reservation_id=reservation.pk, reference="order-1")
    before = snapshot()

    assert services.release(reservation_id=reservation.pk) is False

    assert snapshot() == before


def test_release_after_partial_consume_gives_back_the_rest(stock):
    reservation = services.reserve(channel="web", lines=basket(tee=4))
    services.consume(
        reservation_id=reservation.pk, reference="pick-1", quantities={(TEE, "STORE-001"): 1}
    )

    assert services.release(reservation_id=reservation.pk) is True

    assert numbers(TEE) == (9, 0)
    assert numbers(CAP) == (5, 0)
    assert lines_of(reservation) == [(CAP, 0, 1, 0), (TEE, 0, 4, 1)]
    assert status_of(reservation) == "released"


# --- Expiry --------------------------------------------------------------------------------


def test_release_expired_reservations_releases_only_expired_ones(stock):
    now = timezone.now()
    expired = services.reserve(
        channel="web", lines=basket(tee=1, cap=1), expires_at=now - timedelta(seconds=1)
    )
    fresh = services.reserve(channel="web", lines=basket(tee=2, cap=1), ttl_seconds=600)
    forever = services.reserve(channel="web", lines=basket(tee=3, cap=1))
    released = services.reserve(
        channel="web", lines=basket(tee=4, cap=1), expires_at=now - timedelta(hours=1)
    )
    services.release(reservation_id=released.pk)

    assert services.release_expired_reservations() == 1

    assert [status_of(r) for r in (expired, fresh, forever, released)] == [
        "expired",
        "active",
        "active",
        "released",
    ]
    assert numbers(TEE) == (10, 5)
    assert numbers(CAP) == (5, 2)
    assert services.release_expired_reservations() == 0


def test_release_expired_reservations_as_of_a_given_time(stock):
    """``now`` is the clock the job judges by, e.g. a scheduler's tick."""
    now = timezone.now()
    soon = services.reserve(channel="web", lines=basket(tee=1), ttl_seconds=60)
    later = services.reserve(channel="web", lines=basket(tee=2), ttl_seconds=3600)

    assert services.release_expired_reservations(now=now + timedelta(minutes=5)) == 1

    assert [status_of(r) for r in (soon, later)] == ["expired", "active"]
    assert numbers(TEE) == (10, 2)


def test_release_expired_reservations_in_batches(stock):
    past = timezone.now() - timedelta(minutes=1)
    for _ in range(5):
        services.reserve(channel="web", lines=[HoldLine(TEE, "STORE-001", 1)], expires_at=past)

    assert services.release_expired_reservations(batch_size=2) == 5

    assert numbers(TEE) == (10, 0)
    assert set(Reservation.objects.values_list("status", flat=True)) == {"expired"}


def test_an_expired_reservation_cannot_be_consumed(stock):
    reservation = services.reserve(
        channel="web", lines=basket(), expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.release_expired_reservations()
    before = snapshot()

    with pytest.raises(InvalidState):
        services.consume(reservation_id=reservation.pk, reference="order-1")

    assert snapshot() == before
