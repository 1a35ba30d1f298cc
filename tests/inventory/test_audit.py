"""The stock books' check (``inventory.selectors.stock_discrepancies``): empty after real
work through the services, and names the level or hold when a raw UPDATE went around them."""

import pytest
from django.db.models import F

from inventory import services
from inventory.models import Reservation, ReservationLine, StockLevel
from inventory.selectors import stock_discrepancies
from inventory.services import HoldLine
from tests.factories import ChannelFactory, SKUFactory

TEE = "TEE-RED-M"
CAP = "CAP-BLUE"


@pytest.fixture
def books(db, store, other_store):
    """Receipts, a sale-like adjustment, one active hold (2 TEE) and one released hold."""
    ChannelFactory(code="web", name="Web shop")
    for code in (TEE, CAP):
        SKUFactory(sku=code)
    services.receive_stock(sku=TEE, location=store.code, quantity=10)
    services.receive_stock(sku=CAP, location=other_store.code, quantity=5)
    services.adjust_stock(sku=CAP, location=other_store.code, quantity=-1)
    held = services.reserve(channel="web", lines=[HoldLine(TEE, store.code, 2)])
    released = services.reserve(channel="web", lines=[HoldLine(CAP, other_store.code, 3)])
    services.release(reservation_id=released.pk)
    return held, released


def level(sku):
    return StockLevel.objects.filter(sku__sku=sku)


def test_books_kept_by_the_services_balance_in_two_queries(books, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert stock_discrepancies() == []


def test_on_hand_changed_without_a_movement_is_named(books):
    level(TEE).update(on_hand=F("on_hand") + 3)
    assert stock_discrepancies() == ["TEE-RED-M@STORE-001: on hand 13 != sum of its ledger 10"]


def test_reserved_changed_without_a_hold_is_named(books):
    level(CAP).update(reserved=1)
    assert stock_discrepancies() == [
        "CAP-BLUE@STORE-002: reserved 1 != units of its active holds 0"
    ]


def test_a_closed_hold_that_still_holds_units_is_named(books):
    _, released = books
    ReservationLine.objects.filter(reservation=released).update(quantity=3)
    assert stock_discrepancies() == [f"reservation {released.pk} (released): still holds 3 units"]


def test_a_hold_closed_without_giving_its_units_back_is_named_twice(books):
    held, _ = books
    Reservation.objects.filter(pk=held.pk).update(status=Reservation.Status.EXPIRED)
    assert stock_discrepancies() == [
        "TEE-RED-M@STORE-001: reserved 2 != units of its active holds 0",
        f"reservation {held.pk} (expired): still holds 2 units",
    ]
