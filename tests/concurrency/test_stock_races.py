"""Stock services under real concurrency: threads, each with its own PostgreSQL connection,
released together by a barrier. The database must decide; the totals must add up."""

import random
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import Sum

from inventory import services
from inventory.errors import InsufficientStock, InvalidState
from inventory.models import (
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    StockShortfall,
)
from inventory.services import HoldLine
from tests.factories import ChannelFactory, SKUFactory, StoreFactory

pytestmark = [pytest.mark.postgres]

TEE = "RACE-TEE"
CAP = "RACE-CAP"
STORE = "RACE-STORE"


@pytest.fixture
def shop(transactional_db):
    ChannelFactory(code="web")
    SKUFactory(sku=TEE)
    SKUFactory(sku=CAP)
    StoreFactory(code=STORE)


def run_together(count: int, work: Callable[[int], object], timeout: float = 60) -> list:
    """Run ``work(i)`` in ``count`` threads started at once; return what each returned.
    Any exception a thread did not expect fails the test, with all of them listed."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == [], errors
    return results


def assert_stock_consistent() -> None:
    """The invariants of DESIGN.md, over every level in the database."""
    ledger = dict(
        StockMovement.objects.values("level_id")
        .annotate(total=Sum("quantity"))
        .values_list("level_id", "total")
    )
    held = dict(
        ReservationLine.objects.values("level_id")
        .annotate(total=Sum("quantity"))
        .values_list("level_id", "total")
    )
    for level in StockLevel.objects.all():
        assert level.on_hand == (ledger.get(level.pk) or 0), "on hand is not its ledger"
        assert 0 <= level.reserved <= level.on_hand
        assert level.reserved == (held.get(level.pk) or 0), "reserved is not its lines"
        running = 0
        for quantity, on_hand_after in (
            StockMovement.objects.filter(level=level)
            .order_by("id")
            .values_list("quantity", "on_hand_after")
        ):
            running += quantity
            assert on_hand_after == running
    assert (
        not ReservationLine.objects.exclude(reservation__status="active")
        .filter(quantity__gt=0)
        .exists()
    ), "a closed reservation still holds units"
    shorted = ReservationLine.objects.aggregate(total=Sum("shorted"))["total"] or 0
    assert shorted == (StockShortfall.objects.aggregate(total=Sum("quantity"))["total"] or 0)


def level(sku: str = TEE) -> StockLevel:
    return StockLevel.objects.get(sku__sku=sku, location__code=STORE)


def test_fifty_checkouts_for_the_last_ten_units(shop):
    services.receive_stock(sku=TEE, location=STORE, quantity=100)
    services.reserve(channel="web", lines=[HoldLine(TEE, STORE, 90)], reference="earlier")

    def checkout(index: int) -> str:
        try:
            services.reserve(
                channel="web", lines=[HoldLine(TEE, STORE, 1)], reference=f"cart-{index}"
            )
        except InsufficientStock:
            return "short"
        return "held"

    outcomes = Counter(run_together(50, checkout))

    assert outcomes == {"held": 10, "short": 40}
    tee = level()
    assert (tee.on_hand, tee.reserved) == (100, 100)
    assert Reservation.objects.filter(reference__startswith="cart-").count() == 10
    assert_stock_consistent()


def test_multi_line_holds_in_opposite_orders_never_deadlock(shop):
    services.receive_stock(sku=TEE, location=STORE, quantity=10_000)
    services.receive_stock(sku=CAP, location=STORE, quantity=10_000)
    iterations = 200

    def shopper(index: int) -> int:
        lines = [HoldLine(TEE, STORE, 1), HoldLine(CAP, STORE, 2)]
        if index % 2:
            lines.reverse()
        sold = 0
        for i in range(iterations):
            held = services.reserve(channel="web", lines=lines)
            if i % 2:
                services.consume(reservation_id=held.pk, reference=f"sale-{index}-{i}")
                sold += 1
            else:
                services.release(reservation_id=held.pk)
        return sold

    sold = sum(run_together(2, shopper))  # a deadlock would surface as OperationalError

    assert sold == iterations
    assert (level(TEE).on_hand, level(TEE).reserved) == (10_000 - sold, 0)
    assert (level(CAP).on_hand, level(CAP).reserved) == (10_000 - 2 * sold, 0)
    assert Counter(Reservation.objects.values_list("status", flat=True)) == {
        "consumed": iterations,
        "released": iterations,
    }
    assert StockMovement.objects.filter(kind="sale").count() == 2 * sold
    assert_stock_consistent()


def test_concurrent_consume_with_one_reference_sells_once(shop):
    services.receive_stock(sku=TEE, location=STORE, quantity=10)
    services.receive_stock(sku=CAP, location=STORE, quantity=10)
    held = services.reserve(channel="web", lines=[HoldLine(TEE, STORE, 3), HoldLine(CAP, STORE, 2)])

    outcomes = run_together(
        8, lambda _: services.consume(reservation_id=held.pk, reference="order-1")
    )

    assert sorted(outcomes) == [False] * 7 + [True]
    assert (level(TEE).on_hand, level(TEE).reserved) == (7, 0)
    assert (level(CAP).on_hand, level(CAP).reserved) == (8, 0)
    assert list(
        StockMovement.objects.filter(kind="sale")
        .order_by("sku__sku")
        .values_list("sku__sku", "quantity", "reference")
    ) == [(CAP, -2, "order-1"), (TEE, -3, "order-1")]
    assert_stock_consistent()


def test_concurrent_consume_with_different_references_sells_once(shop):
    services.receive_stock(sku=TEE, location=STORE, quantity=10)
    held = services.reserve(channel="web", lines=[HoldLine(TEE, STORE, 4)])

    def hand_over(index: int) -> str:
        try:
            services.consume(reservation_id=held.pk, reference=f"till-{index}")
        except InvalidState:
            return "already consumed"
        return "sold"

    outcomes = Counter(run_together(8, hand_over))

    assert outcomes == {"sold": 1, "already consumed": 7}
    assert (level().on_hand, level().reserved) == (6, 0)
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert_stock_consistent()


def test_counts_racing_reservations_keep_the_books_straight(shop):
    services.receive_stock(sku=TEE, location=STORE, quantity=30)
    counts = [25, 4, 18, 0, 12, 7, 20, 3]
    done = threading.Event()

    def work(index: int) -> Counter:
        outcomes: Counter = Counter()
        if index == 0:  # the stock clerk
            for counted in counts:
                services.count_stock(sku=TEE, location=STORE, counted=counted)
                outcomes["counted"] += 1
                time.sleep(0.02)
            done.set()
            return outcomes
        rng = random.Random(index)
        while not done.is_set():  # the checkouts
            try:
                held = services.reserve(
                    channel="web", lines=[HoldLine(TEE, STORE, rng.randint(1, 3))]
                )
                outcomes["held"] += 1
                if rng.random() < 0.3:
                    services.release(reservation_id=held.pk)
            except InsufficientStock:
                outcomes["short"] += 1
        return outcomes

    outcomes = sum(run_together(6, work), Counter())

    assert outcomes["counted"] == len(counts)
    assert outcomes["held"] > 0
    tee = level()
    assert tee.on_hand == counts[-1]
    assert StockMovement.objects.filter(kind="count").count() == len(counts)
    assert_stock_consistent()


def test_mixed_traffic_on_two_rows_keeps_every_invariant(shop):
    services.receive_stock(sku=TEE, location=STORE, quantity=40)
    services.receive_stock(sku=CAP, location=STORE, quantity=40)
    deadline = time.monotonic() + 3

    def work(index: int) -> Counter:
        rng = random.Random(1000 + index)
        outcomes: Counter = Counter()
        mine: list[int] = []
        step = 0
        while time.monotonic() < deadline:
            step += 1
            roll = rng.random()
            sku = rng.choice((TEE, CAP))
            try:
                if roll < 0.35:
                    lines = [HoldLine(TEE, STORE, rng.randint(1, 3))]
                    if rng.random() < 0.5:
                        lines.insert(rng.randint(0, 1), HoldLine(CAP, STORE, rng.randint(1, 3)))
                    mine.append(services.reserve(channel="web", lines=lines).pk)
                elif roll < 0.5 and mine:
                    services.release(reservation_id=mine.pop(rng.randrange(len(mine))))
                elif roll < 0.65 and mine:
                    services.consume(
                        reservation_id=mine.pop(rng.randrange(len(mine))),
                        reference=f"sale-{index}-{step}",
                    )
                elif roll < 0.75:
                    services.receive_stock(sku=sku, location=STORE, quantity=rng.randint(1, 8))
                elif roll < 0.85:
                    services.record_damage(sku=sku, location=STORE, quantity=rng.randint(1, 4))
                elif roll < 0.93:
                    services.count_stock(sku=sku, location=STORE, counted=rng.randint(0, 30))
                else:
                    services.adjust_stock(
                        sku=sku, location=STORE, quantity=rng.choice([-3, -1, 2, 5])
                    )
                outcomes["ok"] += 1
            except (InsufficientStock, InvalidState):
                # Short of stock, or a reservation consumed after a shortfall emptied it.
                outcomes["refused"] += 1
        return outcomes

    outcomes = sum(run_together(6, work), Counter())

    assert outcomes["ok"] > 100
    assert_stock_consistent()
