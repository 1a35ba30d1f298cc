"""The checks a fault must not break: every order complete, every hold accounted for, every
balance equal to its ledger (the apps' own check). Each returns a list of problems (empty
when the books are straight), so that a failing test names them all."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from inventory.models import Reservation, ReservationLine, StockLevel
from inventory.selectors import stock_discrepancies
from loyalty.selectors import points_discrepancies, store_credit_discrepancies
from orders.models import EventKind, Fulfilment, FulfilmentLine, Order, OrderEvent, Payment

ORDER_HOLDS = "orders"  # orders.services.checkout.RESERVATION_OWNER


def incomplete_orders() -> list[str]:
    """Every order has its lines, amounts that add up, fulfilments covering each line,
    a payment for what is due, its ``placed`` event, and an active hold per fulfilment that
    holds exactly the fulfilment's units."""
    problems = []
    orders = Order.objects.prefetch_related("lines", "fulfilments__lines__order_line")
    payments = defaultdict(list)
    for order_id, amount in Payment.objects.values_list("order_id", "amount"):
        payments[order_id].append(amount)
    placed = set(
        OrderEvent.objects.filter(kind=EventKind.PLACED).values_list("order_id", flat=True)
    )
    holds: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for reservation_id, sku, location, quantity in ReservationLine.objects.values_list(
        "reservation_id", "level__sku__sku", "level__location__code", "quantity"
    ):
        holds[reservation_id][sku, location] = quantity
    active = set(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE).values_list("pk", flat=True)
    )
    for order in orders:
        lines = list(order.lines.all())
        if not lines:
            problems.append(f"{order.number}: no lines")
            continue
        for field in ("subtotal", "discount_total", "tax_total", "total"):
            if sum(getattr(line, field) for line in lines) != getattr(order, field):
                problems.append(f"{order.number}: lines' {field} does not add up")
        due = order.total - order.points_value
        if due > 0 and payments[order.pk] != [due]:
            problems.append(f"{order.number}: payments {payments[order.pk]} for {due} due")
        if order.pk not in placed:
            problems.append(f"{order.number}: no placed event")
        planned: dict[int, int] = defaultdict(int)
        fulfilments = list(order.fulfilments.all())
        if not fulfilments:
            problems.append(f"{order.number}: no fulfilment")
        for fulfilment in fulfilments:
            units = defaultdict(int)
            for fline in fulfilment.lines.all():
                planned[fline.order_line_id] += fline.quantity
                units[fline.order_line.sku, fulfilment.location.code] += fline.quantity
            if fulfilment.reservation_id not in active:
                problems.append(f"{order.number}: fulfilment {fulfilment.pk} holds nothing")
            elif holds[fulfilment.reservation_id] != dict(units):
                problems.append(f"{order.number}: fulfilment {fulfilment.pk} hold differs")
        for line in lines:
            if planned[line.pk] != line.quantity:
                problems.append(f"{order.number}: line {line.position} not fully planned")
    return problems


def orphan_order_holds() -> list[str]:
    """Holds made by checkouts whose order (or fulfilment) does not exist."""
    used = set(
        Fulfilment.objects.exclude(reservation=None).values_list("reservation_id", flat=True)
    )
    numbers = set(Order.objects.values_list("number", flat=True))
    problems = []
    for pk, reference, status in Reservation.objects.filter(owner=ORDER_HOLDS).values_list(
        "pk", "reference", "status"
    ):
        number = (reference or "").split(":")[1] if (reference or "").count(":") == 2 else None
        if pk not in used or number not in numbers:
            problems.append(f"reservation {pk} ({reference}, {status}) belongs to no order")
    return problems


def off_books() -> list[str]:
    """The apps' own reconciliation (what ``manage.py check_books`` runs): stock on hand is
    the sum of its ledger, reserved the sum of its active holds and never more than on hand,
    a closed hold keeps no units; points and store credit balances equal their ledgers."""
    return [*stock_discrepancies(), *points_discrepancies(), *store_credit_discrepancies()]


def reserved_beyond_orders() -> list[str]:
    """Per stock level, reserved equals the units of the orders placed there: no stock is
    held for anything else."""
    ordered = {
        (sku, location): total
        for sku, location, total in FulfilmentLine.objects.values(
            "order_line__sku", "fulfilment__location__code"
        )
        .annotate(total=Sum("quantity"))
        .values_list("order_line__sku", "fulfilment__location__code", "total")
    }
    problems = []
    for sku, location, reserved in StockLevel.objects.values_list(
        "sku__sku", "location__code", "reserved"
    ):
        if reserved != ordered.get((sku, location), 0):
            problems.append(
                f"{sku}@{location}: reserved {reserved}, ordered {ordered.get((sku, location), 0)}"
            )
    return problems
