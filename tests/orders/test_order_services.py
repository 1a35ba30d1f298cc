"""The pieces the fulfilment lifecycle builds on: status derivation, payments, what units
are worth, pickup codes and ready-by times, and ship-from-store capacity by local day."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.api.errors import InvalidState
from config.money import to_cents
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    Notification,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from orders.payments import ManualProvider, get_provider
from orders.routing.service import ship_orders_today
from orders.routing.types import Explanation
from orders.services import (
    LineInput,
    OrderRequest,
    capture_payment,
    new_pickup_code,
    pickup_ready_by,
    place_order,
    refund_payment,
    units_value,
    void_payments,
)
from orders.services.checkout_request import AddressInput, PaymentInput
from orders.services.events import REJECTIONS_KEPT, explanation_for_history
from orders.status import LineState, derive_status
from tests.orders.conftest import AMSTERDAM, stock

F = FulfilmentStatus
S = OrderStatus


# --- Status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "fulfilments", "expected"),
    [
        ([LineState(2)], [F.PENDING], S.PLACED),
        ([LineState(2)], [F.PENDING, F.PENDING], S.PLACED),
        ([LineState(2)], [F.PICKING, F.PENDING], S.IN_PROGRESS),
        ([LineState(2)], [F.SHIPPED, F.PENDING], S.IN_PROGRESS),
        ([LineState(2)], [F.READY_FOR_PICKUP], S.READY_FOR_PICKUP),
        ([LineState(2)], [F.READY_FOR_PICKUP, F.COLLECTED], S.READY_FOR_PICKUP),
        ([LineState(2)], [F.READY_FOR_PICKUP, F.PICKING], S.IN_PROGRESS),
        ([LineState(2)], [F.COLLECTED], S.COMPLETED),
        ([LineState(2)], [F.SHIPPED, F.COLLECTED, F.CANCELLED], S.COMPLETED),
        ([LineState(2, cancelled=1)], [F.SHIPPED, F.CANCELLED], S.PARTIALLY_CANCELLED),
        ([LineState(2, cancelled=1)], [F.PENDING], S.PLACED),
        ([LineState(2, cancelled=2)], [F.CANCELLED], S.CANCELLED),
        (
            [LineState(2, cancelled=2), LineState(1)],
            [F.CANCELLED, F.SHIPPED],
            S.PARTIALLY_CANCELLED,
        ),
        ([LineState(2, returned=1)], [F.SHIPPED], S.PARTIALLY_RETURNED),
        ([LineState(2, returned=2)], [F.SHIPPED], S.RETURNED),
        ([LineState(3, cancelled=1, returned=2)], [F.SHIPPED], S.RETURNED),
        ([LineState(2)], [], S.PLACED),
    ],
)
def test_status_is_derived_from_lines_and_fulfilments(lines, fulfilments, expected):
    assert derive_status(lines, fulfilments) == expected


# --- Orders to work with -------------------------------------------------------------------


def ship_order(*lines, points=None, customer=None) -> Order:
    from orders.services import LoyaltyInput

    return place_order(
        request=OrderRequest(
            channel="web",
            lines=[LineInput(sku, quantity) for sku, quantity in lines],
            method="ship",
            address=AddressInput(
                "Damrak 1",
                "Amsterdam",
                "1012LG",
                "NL",
                Decimal(str(AMSTERDAM["latitude"])),
                Decimal(str(AMSTERDAM["longitude"])),
            ),
            email="guest@example.com",
            customer_id=customer.pk if customer else None,
            loyalty=LoyaltyInput(customer.account.card_number, points) if points else None,
            payment=PaymentInput("card", "psp-9"),
        ),
        actor="test",
    )


# --- Payments ------------------------------------------------------------------------------


def test_capture_in_parts_then_the_rest_and_again_nothing(network):
    stock("TEE", "WH-NEAR", 5)
    order = ship_order(("TEE", 3))  # 60.00
    [payment] = capture_payment(order=order, amount=Decimal("20.00"), actor="staff")
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CAPTURED, Decimal("20.00"))
    [payment] = capture_payment(order=order, actor="staff")
    assert payment.captured_amount == Decimal("60.00")
    assert capture_payment(order=order) == []  # nothing left: idempotent
    with pytest.raises(InvalidState):
        capture_payment(order=order, amount=Decimal("0.01"))
    captured = order.events.filter(kind=EventKind.PAYMENT_CAPTURED)
    assert [e.detail["amount"] for e in captured] == ["20.00", "40.00"]


def test_refund_reduces_the_hold_first_then_gives_back_captured_money(
    network, django_capture_on_commit_callbacks
):
    stock("TEE", "WH-NEAR", 5)
    order = ship_order(("TEE", 3))  # 60.00
    capture_payment(order=order, amount=Decimal("40.00"))
    with django_capture_on_commit_callbacks(execute=True):
        assert refund_payment(
            order=order, amount=Decimal("30.00"), reference="refund-1", reason="short pick"
        ) == Decimal("30.00")
    payment = order.payments.get()
    # 20.00 was only held: released; 10.00 of the captured 40.00 sent back.
    assert (payment.amount, payment.captured_amount, payment.refunded_amount) == (
        Decimal("40.00"),
        Decimal("40.00"),
        Decimal("10.00"),
    )
    assert refund_payment(order=order, amount=Decimal("30.00"), reference="refund-1") == Decimal(
        "30.00"
    )  # the same reference again: nothing more
    assert order.payments.get().refunded_amount == Decimal("10.00")
    with pytest.raises(InvalidState):
        refund_payment(order=order, amount=Decimal("30.01"), reference="refund-2")
    refund_payment(order=order, amount=Decimal("30.00"), reference="refund-3")
    assert order.payments.get().status == PaymentStatus.REFUNDED
    notification = Notification.objects.get(key=f"{order.number}:refunded:refund-1")
    assert notification.status == "sent"
    assert "30.00 EUR" in notification.body


def test_void_releases_only_what_is_not_captured(network):
    stock("TEE", "WH-NEAR", 5)
    order = ship_order(("TEE", 1))
    [voided] = void_payments(order=order)
    assert voided.status == PaymentStatus.VOIDED
    assert void_payments(order=order) == []


def test_the_manual_provider_records_and_calls_nothing():
    provider = get_provider("manual")
    assert isinstance(provider, ManualProvider)
    result = provider.authorise(
        order_number="W-1", amount=Decimal("1.00"), currency="EUR", method="cash", reference=""
    )
    assert result.reference == "manual:W-1"
    with pytest.raises(Exception, match="Unknown payment provider"):
        get_provider("stripe")


# --- What units are worth ------------------------------------------------------------------


def test_points_are_allocated_to_lines_and_units_value_adds_up(network, customer):
    from tests.orders.conftest import fund

    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-NEAR", 5)
    stock("CAP", "WH-NEAR", 5)
    fund(customer, 1000)
    order = ship_order(("TEE", 3), ("MUG", 1), ("CAP", 1), points=1000, customer=customer)
    lines = list(order.lines.order_by("position"))
    assert sum(line.points_value for line in lines) == Decimal("10.00")
    assert order.amount_due == order.total - Decimal("10.00")
    tee = lines[0]
    parts = [units_value(tee, 1, before=i) for i in range(3)]
    assert sum(p.total for p in parts) == tee.total
    assert sum(p.points_value for p in parts) == tee.points_value
    assert sum(p.amount for p in parts) == tee.total - tee.points_value


@given(
    total=st.integers(min_value=0, max_value=10_000_00),
    points_share=st.integers(min_value=0, max_value=100),
    quantity=st.integers(min_value=1, max_value=12),
    data=st.data(),
)
def test_units_value_over_any_split_adds_up_to_the_line(total, points_share, quantity, data):
    line_total = Decimal(total) / 100
    line = OrderLine(
        quantity=quantity,
        total=line_total,
        points_value=to_cents(line_total * points_share / 100),
    )
    done, amounts, points = 0, [], []
    while done < quantity:
        units = data.draw(st.integers(min_value=1, max_value=quantity - done))
        value = units_value(line, units, before=done)
        assert value.amount >= 0
        assert value.points_value >= 0
        amounts.append(value.amount)
        points.append(value.points_value)
        done += units
    assert sum(amounts) + sum(points) == line.total
    assert sum(points) == line.points_value


def test_units_value_refuses_more_units_than_the_line():
    with pytest.raises(ValueError, match="units"):
        units_value(OrderLine(quantity=2, total=Decimal("2.00")), 2, before=1)


# --- Pickup codes and ready-by times -------------------------------------------------------


def test_pickup_codes_are_six_random_digits():
    codes = {new_pickup_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190


WEEKDAYS = {d: ["09:00", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Tuesday 10:00 in Amsterdam (08:00 UTC): two hours later.
        (datetime(2025, 6, 3, 8, 0, tzinfo=UTC), datetime(2025, 6, 3, 10, 0, tzinfo=UTC)),
        # Tuesday 17:00 local: cannot finish before 18:00, so Wednesday 09:00 + 2 h.
        (datetime(2025, 6, 3, 15, 0, tzinfo=UTC), datetime(2025, 6, 4, 9, 0, tzinfo=UTC)),
        # Saturday evening: closed on Sunday, so Monday 11:00 local.
        (datetime(2025, 6, 7, 19, 0, tzinfo=UTC), datetime(2025, 6, 9, 9, 0, tzinfo=UTC)),
        # Before opening: 09:00 + 2 h.
        (datetime(2025, 6, 3, 4, 0, tzinfo=UTC), datetime(2025, 6, 3, 9, 0, tzinfo=UTC)),
    ],
)
def test_ready_by_counts_pick_time_in_opening_hours(now, expected):
    got = pickup_ready_by(
        now=now, opening_hours=WEEKDAYS, timezone_name="Europe/Amsterdam", minutes=120
    )
    assert got == expected


def test_ready_by_without_opening_hours_is_now_plus_pick_time():
    now = datetime(2025, 6, 3, 8, 0, tzinfo=UTC)
    assert pickup_ready_by(
        now=now, opening_hours={}, timezone_name="UTC", minutes=30
    ) == now + timedelta(minutes=30)


def test_a_pickup_order_gets_the_ready_by_of_its_store(network, settings):
    settings.ORDERS_PICK_MINUTES = 60
    store = network.store
    store.opening_hours = WEEKDAYS
    store.save()
    stock("TEE", "STORE-AMS", 2)
    now = datetime(2025, 6, 7, 19, 0, tzinfo=UTC)  # Saturday evening
    order = place_order(
        request=OrderRequest(
            channel="web",
            lines=[LineInput("TEE", 1)],
            method="pickup",
            pickup_location="STORE-AMS",
            email="guest@example.com",
        ),
        now=now,
    )
    assert order.fulfilments.get().ready_by == datetime(2025, 6, 9, 8, 0, tzinfo=UTC)


# --- Capacity by local day -----------------------------------------------------------------


def test_capacity_counts_ship_orders_created_today_in_the_locations_own_day(network):
    from tests.factories import StoreFactory

    tokyo = StoreFactory(code="STORE-TYO", timezone="Asia/Tokyo", ship_enabled=True)
    stock("TEE", "WH-NEAR", 10)
    order = ship_order(("TEE", 1))
    now = datetime(2025, 6, 3, 20, 0, tzinfo=UTC)  # Tokyo: already 4 June
    for location, day, status in [
        (network.wh_near, now.date(), F.PENDING),  # today in Amsterdam
        (network.wh_near, now.date(), F.CANCELLED),  # given back
        (network.wh_near, now.date() - timedelta(days=1), F.SHIPPED),  # yesterday
        (tokyo, now.date(), F.PENDING),  # 3 June: yesterday in Tokyo
        (tokyo, now.date() + timedelta(days=1), F.PENDING),  # today in Tokyo
        (tokyo, now.date() + timedelta(days=1), F.PICKING),
    ]:
        Fulfilment.objects.create(
            order=order,
            location=location,
            method=FulfilmentMethod.SHIP,
            status=status,
            local_date=day,
        )
    counts = ship_orders_today([network.wh_near, tokyo], now=now)
    # One order has several fulfilments at Tokyo today: it counts once.
    assert counts == {"WH-NEAR": 1, "STORE-TYO": 1}
    assert ship_orders_today([], now=now) == {}


def test_the_history_keeps_the_chosen_locations_and_counts_most_rejections():
    notes = [
        Explanation(None, "plan", "1 shipment(s), cost 1.00; optimal"),
        Explanation("WH-1", "chosen", "cost 1.00"),
        *(
            Explanation(f"ST-{i}", "rejected", f"has every line but costs {i}.50, more than 1.00")
            for i in range(20)
        ),
        *(Explanation(f"X-{i}", "rejected", "has none of the ordered SKUs") for i in range(500)),
    ]
    kept = explanation_for_history(notes)
    assert kept[:2] == [
        {"location": None, "outcome": "plan", "reason": "1 shipment(s), cost 1.00; optimal"},
        {"location": "WH-1", "outcome": "chosen", "reason": "cost 1.00"},
    ]
    assert len(kept) == 2 + REJECTIONS_KEPT + 1
    assert kept[-1] == {
        "location": None,
        "outcome": "rejected",
        "reason": "510 more locations rejected: has none of the ordered SKUs (500); "
        "has every line but costs …, more than … (10)",
    }
