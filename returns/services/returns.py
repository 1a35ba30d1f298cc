"""Creating and receiving returns: the checks, the refund, the stock and the points.

Locking. Every write locks the order row first (as the orders services do for hand-overs,
picks and cancellations), so returns, hand-overs and cancellations of one order run one after
another; what is left to return is computed under that lock, and ``returned_quantity`` is
raised with a conditional UPDATE that re-checks it in the same statement.

Values. Returned units of a line are valued from the bottom of the line
(:func:`orders.services.units_value` with ``before`` = units already returned), the same
range the hand-overs captured, so the refunds of several partial returns add up exactly to
what was paid for the units and never to more than was captured.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from config.money import ZERO, to_cents
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from orders import services as order_services
from orders.models import HANDED_OVER, FulfilmentLine, Order, OrderLine
from returns.errors import InvalidState, NotFound, NotReturnable, ValidationFailed
from returns.models import (
    Condition,
    Refund,
    RefundKind,
    RefundMethod,
    Return,
    ReturnLine,
    ReturnNumber,
    ReturnStatus,
)
from returns.services import exchanges
from returns.services.exchanges import ExchangeInput
from returns.services.policy import Rules, sku_facts
from returns.services.refunds import credit_store_credit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReturnLineInput:
    order_line: int
    quantity: int
    reason: str = ""
    condition: str = Condition.RESELLABLE


@dataclass(frozen=True)
class ReceivedLineInput:
    order_line: int
    quantity: int | None = None
    condition: str | None = None


def _lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("channel").get(pk=order_id)


def _handed_over(order: Order) -> dict[int, tuple[int, datetime | None]]:
    """Order line id → (units handed over, the last hand-over of that line)."""
    rows = (
        FulfilmentLine.objects.filter(
            fulfilment__order=order, fulfilment__status__in=list(HANDED_OVER)
        )
        .values("order_line_id")
        .annotate(units=Sum("picked_quantity"), last=Max("fulfilment__handed_over_at"))
        .values_list("order_line_id", "units", "last")
    )
    return {line_id: (units or 0, last) for line_id, units, last in rows}


def _pending(order: Order, *, exclude: int | None = None) -> dict[int, int]:
    """Order line id → units requested online and not yet received."""
    rows = (
        ReturnLine.objects.filter(ret__order=order, ret__status=ReturnStatus.REQUESTED)
        .exclude(ret_id=exclude)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    return {line_id: units or 0 for line_id, units in rows}


def _problem(index: int, attr: str, code: str, detail: str) -> dict[str, str]:
    return {"attr": f"lines.{index}.{attr}", "code": code, "detail": detail}


def _check(
    *,
    order: Order,
    lines: Sequence[ReturnLineInput],
    order_lines: dict[int, OrderLine],
    rules: Rules,
    now: datetime,
) -> None:
    if not lines:
        raise ValidationFailed.field("lines", "Name the lines to return.", "required")
    invalid = []
    for index, line in enumerate(lines):
        if line.order_line not in order_lines:
            invalid.append(
                _problem(
                    index, "order_line", "invalid", f"No line {line.order_line} on this order."
                )
            )
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            invalid.append(_problem(index, "quantity", "invalid", "A whole number above zero."))
        if line.condition not in Condition.values:
            invalid.append(_problem(index, "condition", "invalid", "resellable or damaged."))
        if not line.reason or not rules.reason_allowed(line.reason):
            invalid.append(
                _problem(index, "reason", "invalid", f"Not a return reason: {line.reason!r}.")
            )
    if invalid:
        raise ValidationFailed(invalid[0]["detail"], errors=invalid)

    handed = _handed_over(order)
    pending = _pending(order)
    facts = sku_facts(line.sku for line in order_lines.values())
    wanted: dict[int, int] = defaultdict(int)
    refused = []
    for index, line in enumerate(lines):
        order_line = order_lines[line.order_line]
        units, last = handed.get(order_line.pk, (0, None))
        wanted[order_line.pk] += line.quantity
        left = units - order_line.returned_quantity - pending.get(order_line.pk, 0)
        sku_fact = facts.get(order_line.sku)
        if rules.final_sale(order_line.sku, sku_fact):
            refused.append(
                _problem(index, "order_line", "final_sale", f"{order_line.sku} is a final sale.")
            )
        elif wanted[order_line.pk] > left:
            refused.append(
                _problem(
                    index,
                    "quantity",
                    "more_than_left",
                    f"Only {max(left, 0)} of {order_line.sku} can be returned.",
                )
            )
        else:
            days = rules.window_days(order.channel.code, sku_fact)
            if last is None or now > last + timedelta(days=days):
                refused.append(
                    _problem(
                        index,
                        "order_line",
                        "outside_window",
                        f"{order_line.sku} was handed over more than {days} days ago.",
                    )
                )
    if refused:
        raise NotReturnable(refused[0]["detail"], errors=refused)


def create_return(
    *,
    order: Order,
    lines: Sequence[ReturnLineInput],
    return_location: str | None,
    refund_method: str = RefundMethod.ORIGINAL,
    receive_now: bool = False,
    exchange: ExchangeInput | None = None,
    actor: str = "",
    now: datetime | None = None,
) -> Return:
    """A return of ``lines`` of ``order``. With ``receive_now`` (a POS terminal or store
    staff at ``return_location``) the goods are received and refunded in the same
    transaction (status ``refunded``); otherwise the return waits as ``requested`` and its
    units are held against other requests until :func:`receive_return` (online returns).

    Atomic; the order row is locked first. Errors: 400 unknown line or location, bad
    quantity, condition or reason; 409 ``not_returnable`` (``errors`` name each line and
    the reason: ``final_sale``, ``outside_window``, ``more_than_left``); nothing is written
    then."""
    now = now or timezone.now()
    if refund_method not in RefundMethod.values:
        raise ValidationFailed.field("refund_method", "original or store_credit.")
    location = _location(return_location, required=receive_now)
    rules = Rules()
    with transaction.atomic():
        order = _lock_order(order.pk)
        order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
        _check(order=order, lines=lines, order_lines=order_lines, rules=rules, now=now)
        number = f"R-{ReturnNumber.objects.create().pk:06d}"
        ret = Return.objects.create(
            number=number,
            order=order,
            status=ReturnStatus.REQUESTED,
            refund_method=refund_method,
            return_location=location,
            currency=order.currency,
            created_by=actor[:120],
        )
        return_lines = ReturnLine.objects.bulk_create(
            ReturnLine(
                ret=ret,
                order_line_id=line.order_line,
                sku=order_lines[line.order_line].sku,
                quantity=line.quantity,
                reason=line.reason,
                condition=line.condition,
            )
            for line in lines
        )
        order_services.record_event(
            order=order,
            kind="note",
            actor=actor,
            detail={"return": number, "status": "requested" if not receive_now else "received"},
        )
        record = None
        if exchange is not None:
            record = exchanges.create_exchange(
                ret=ret,
                order=order,
                exchange=exchange,
                return_lines=return_lines,
                order_lines=order_lines,
                location=location,
                at_till=receive_now,
            )
        if receive_now:
            _receive(
                order=order,
                ret=ret,
                location=location,
                rules=rules,
                actor=actor,
                now=now,
                at_till=True,
                tenders=exchange.tenders if exchange else (),
            )
        else:
            _estimate(ret=ret, order_lines=order_lines, pending=_pending(order, exclude=ret.pk))
            if record is not None:
                exchanges.estimate(record, refund=ret.refund_total)
    logger.info("return %s of order %s: %s", ret.number, order.number, ret.status)
    return ret


def _location(code: str | None, *, required: bool):
    if not code:
        if required:
            raise ValidationFailed.field(
                "return_location", "Name the store taking the return.", "required"
            )
        return None
    location = inventory_selectors.locations().filter(code=code).first()
    if location is None:
        raise ValidationFailed.field("return_location", f"No location {code}.")
    return location


def _estimate(*, ret: Return, order_lines: dict[int, OrderLine], pending: dict[int, int]) -> None:
    """A requested return shows what it will refund if received as requested next."""
    offset: dict[int, int] = defaultdict(int)
    total = ZERO
    for line in ret.lines.all():
        order_line = order_lines[line.order_line_id]
        before = order_line.returned_quantity + pending.get(order_line.pk, 0)
        before += offset[order_line.pk]
        before = min(before, order_line.quantity - line.quantity)
        value = order_services.units_value(order_line, line.quantity, before=before)
        offset[order_line.pk] += line.quantity
        ReturnLine.objects.filter(pk=line.pk).update(
            refund_amount=value.amount, points_value=value.points_value
        )
        total += value.amount
    Return.objects.filter(pk=ret.pk).update(refund_total=total)
    ret.refund_total = total


def receive_return(
    *,
    number: str,
    location: str,
    lines: Sequence[ReceivedLineInput] = (),
    actor: str = "",
    allowed_locations: frozenset[str] | None = None,
    now: datetime | None = None,
) -> Return:
    """An online return arrives at ``location`` (a store or warehouse): the goods go to
    stock, the refund is made and the points are settled. ``lines`` may say that fewer units
    arrived, or in another condition, than requested; lines not named arrive as requested.

    Atomic; the order row is locked, then the return row. Errors: 404 unknown return (or a
    location the caller may not act at); 400 bad lines; 409 ``invalid_state`` when it is not
    ``requested``."""
    now = now or timezone.now()
    loc = _location(location, required=True)
    if allowed_locations is not None and loc.code not in allowed_locations:
        raise NotFound(f"No location {location} of yours.")
    rules = Rules()
    order_id = Return.objects.filter(number=number).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound(f"No return {number}.")
    with transaction.atomic():
        order = _lock_order(order_id)
        ret = Return.objects.select_for_update().get(number=number)
        if ret.status != ReturnStatus.REQUESTED:
            raise InvalidState(f"Return {number} is {ret.status}, not requested.")
        by_line = {line.order_line_id: line for line in ret.lines.all()}
        for index, change in enumerate(lines):
            line = by_line.get(change.order_line)
            if line is None:
                raise ValidationFailed.field(
                    f"lines.{index}.order_line", f"Line {change.order_line} is not on {number}."
                )
            updates = {}
            if change.quantity is not None:
                if not 0 < change.quantity <= line.quantity:
                    raise ValidationFailed.field(
                        f"lines.{index}.quantity", f"Between 1 and {line.quantity}."
                    )
                updates["quantity"] = change.quantity
            if change.condition is not None:
                if change.condition not in Condition.values:
                    raise ValidationFailed.field(
                        f"lines.{index}.condition", "resellable or damaged."
                    )
                updates["condition"] = change.condition
            if updates:
                ReturnLine.objects.filter(pk=line.pk).update(**updates)
        _receive(order=order, ret=ret, location=loc, rules=rules, actor=actor, now=now)
    return ret


def _receive(
    *,
    order: Order,
    ret: Return,
    location,
    rules: Rules,
    actor: str,
    now: datetime,
    at_till: bool = False,
    tenders: Sequence = (),
):
    handed = _handed_over(order)
    pending = _pending(order, exclude=ret.pk)
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    returned_before = {pk: line.returned_quantity for pk, line in order_lines.items()}
    returned = dict(returned_before)
    amount = points_value = ZERO
    entry = inventory_services.Entry(
        reason=f"Return {ret.number} of order {order.number}",
        reference=f"return:{ret.number}",
        actor=actor,
        occurred_at=now,
    )
    lines = list(ret.lines.all())
    for line in lines:
        order_line = order_lines[line.order_line_id]
        units = handed.get(order_line.pk, (0, None))[0]
        ceiling = units - pending.get(order_line.pk, 0) - line.quantity
        changed = OrderLine.objects.filter(pk=order_line.pk, returned_quantity__lte=ceiling).update(
            returned_quantity=F("returned_quantity") + line.quantity
        )
        if not changed:
            raise NotReturnable(
                f"{order_line.sku}: more than is left to return.",
                errors=[
                    {
                        "attr": "lines.quantity",
                        "code": "more_than_left",
                        "detail": f"More than is left of {order_line.sku}.",
                    }
                ],
            )
        value = order_services.units_value(
            order_line, line.quantity, before=returned[order_line.pk]
        )
        returned[order_line.pk] += line.quantity
        amount += value.amount
        points_value += value.points_value
        restock = rules.restock(line.condition)
        inventory_services.receive_return(
            sku=order_line.sku,
            location=location.code,
            quantity=line.quantity,
            resellable=restock,
            entry=entry,
        )
        ReturnLine.objects.filter(pk=line.pk).update(
            refund_amount=value.amount, points_value=value.points_value, restocked=restock
        )

    points_back = _give_back_points(
        order=order,
        ret=ret,
        order_lines=order_lines,
        before=returned_before,
        after=returned,
        actor=actor,
    )
    exchanged = exchanges.order_replacement(
        ret=ret, order=order, refund=amount, tenders=tenders, at_till=at_till, actor=actor
    )
    if exchanged:
        ret.refunds.create(
            kind=RefundKind.EXCHANGE,
            amount=exchanged,
            method=exchanges.EXCHANGE_TENDER,
            reference=f"return:{ret.number}:exchange",
        )
    to_tender, to_credit = _refund_money(
        order=order,
        ret=ret,
        amount=amount - exchanged,
        points=points_back,
        at_till=at_till,
        actor=actor,
    )
    if points_back:
        ret.refunds.create(
            kind=RefundKind.POINTS,
            amount=points_value,
            points=points_back,
            reference=f"return:{ret.number}:points",
        )
    reversed_points = _reverse_earnings(
        order=order, ret=ret, lines=lines, order_lines=order_lines, before=returned_before, now=now
    )
    order_services.record_event(
        order=order,
        kind="returned",
        actor=actor,
        detail={
            "return": ret.number,
            "location": location.code,
            "lines": [
                {"order_line": line.order_line_id, "sku": line.sku, "quantity": line.quantity}
                for line in lines
            ],
            "amount": str(amount),
            "exchange": str(exchanged),
            "store_credit": str(to_credit),
            "points_refunded": points_back,
            "points_reversed": reversed_points,
        },
    )
    order_services.refresh_status(order=order, actor=actor)
    fields = {
        "status": ReturnStatus.REFUNDED,
        "received_location": location,
        "received_at": now,
        "refund_total": amount,
        "refunded_to_tender": to_tender,
        "refunded_to_store_credit": to_credit,
        "points_value": points_value,
        "points_refunded": points_back,
        "points_reversed": reversed_points,
    }
    Return.objects.filter(pk=ret.pk).update(**fields)
    for name, value in fields.items():
        setattr(ret, name, value)


def _refund_money(
    *, order: Order, ret: Return, amount: Decimal, points: int, at_till: bool, actor: str
) -> tuple[Decimal, Decimal]:
    """The money back, in proportion to the tenders that paid (orders'
    :func:`~orders.services.refund_captured`), one :class:`Refund` per part against its
    payment; the parts for store credit (chosen, or a tender that cannot take money back)
    are issued as one credit. Returns (to the tenders, to store credit)."""
    if not amount and not points:
        return ZERO, ZERO
    reference = f"return:{ret.number}"
    parts = order_services.refund_captured(
        order=order,
        amount=amount,
        reference=reference,
        reason=f"Return {ret.number}",
        actor=actor,
        to_store_credit=ret.refund_method == RefundMethod.STORE_CREDIT,
        at_till=at_till,
        points=points,
    )
    Refund.objects.bulk_create(
        Refund(
            ret=ret,
            kind=RefundKind.STORE_CREDIT if part.to_store_credit else RefundKind.TENDER,
            payment_id=part.payment_id,
            method=part.method,
            amount=part.amount,
            reference=f"{reference}:credit" if part.to_store_credit else reference,
        )
        for part in parts
    )
    to_credit = sum((part.amount for part in parts if part.to_store_credit), ZERO)
    if to_credit:
        credit_store_credit(order=order, ret=ret, amount=to_credit)
    return amount - to_credit, to_credit


def _points_for(order: Order, value: Decimal) -> int:
    if not order.points_redeemed or not order.points_value:
        return 0
    exact = Decimal(order.points_redeemed) * value / order.points_value
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _give_back_points(*, order, ret, order_lines, before, after, actor) -> int:
    """Redeemed points back in proportion to the points value of the units returned,
    counted over every return of the order so that rounding never drifts."""
    if not order.points_redeemed:
        return 0

    def returned_value(counts):
        return sum(
            (
                order_services.units_value(line, counts[pk]).points_value
                for pk, line in order_lines.items()
            ),
            ZERO,
        )

    due = _points_for(order, returned_value(after)) - _points_for(order, returned_value(before))
    left = order.points_redeemed - order_services.points_refunded(order)
    due = max(0, min(due, left))
    if not due:
        return 0
    reference = order_services.points_reference(order)
    refund = loyalty_services.refund_redemption(
        reference=reference,
        refund_reference=f"{reference}:return:{ret.number}",
        points=due,
        actor=actor,
    )
    order_services.record_event(
        order=order,
        kind="points_refunded",
        actor=actor,
        detail={
            "points": refund.points,
            "amount": str(refund.amount),
            "reference": refund.reference,
        },
    )
    return refund.points


def _reverse_earnings(*, order, ret, lines, order_lines, before, now) -> int:
    """Take back the points earned on the returned units. Points were earned per hand-over
    (reference ``fulfilment:<id>``) on the net value (after discounts, without tax) of the
    units it handed over, valued from the bottom of each line in hand-over order; the
    returned units are mapped onto those same ranges, and each earning gives back the share
    of its net value that came back (shares add up to 1 when everything is returned)."""
    ranges: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # line → (fid, start, n)
    starts: dict[int, int] = defaultdict(int)
    handed = (
        FulfilmentLine.objects.filter(
            fulfilment__order=order, fulfilment__status__in=list(HANDED_OVER), picked_quantity__gt=0
        )
        .order_by("fulfilment__handed_over_at", "fulfilment_id")
        .values_list("fulfilment_id", "order_line_id", "picked_quantity")
    )
    for fid, line_id, units in handed:
        ranges[line_id].append((fid, starts[line_id], units))
        starts[line_id] += units
    net_back: dict[int, Decimal] = defaultdict(lambda: ZERO)
    cursor = dict(before)
    for line in lines:
        order_line = order_lines[line.order_line_id]
        lo, hi = cursor[order_line.pk], cursor[order_line.pk] + line.quantity
        cursor[order_line.pk] = hi
        net = order_line.total - order_line.tax_total
        for fid, start, units in ranges[order_line.pk]:
            a, b = max(lo, start), min(hi, start + units)
            if a < b:
                net_back[fid] += to_cents(net * b / order_line.quantity) - to_cents(
                    net * a / order_line.quantity
                )
    total = 0
    for fid, value in sorted(net_back.items()):
        earning = loyalty_selectors.earning_by_reference(f"fulfilment:{fid}")
        if earning is None or not earning.net_amount or value <= 0:
            continue
        share = min(Decimal(1), value / earning.net_amount)
        result = loyalty_services.reverse_earning(
            reference=earning.reference,
            reversal_reference=f"return:{ret.number}:fulfilment:{fid}",
            share=share,
            occurred_at=now,
            actor=f"return:{ret.number}",
        )
        total += result.points
    return total


def cancel_return(*, number: str, actor: str = "") -> Return:
    """Withdraw a ``requested`` return: its units are free to return again. Nothing was
    refunded or moved, so nothing is given back. Atomic; the order row is locked first.
    Errors: 404 unknown return; 409 ``invalid_state`` once it is received or cancelled."""
    order_id = Return.objects.filter(number=number).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound(f"No return {number}.")
    with transaction.atomic():
        order = _lock_order(order_id)
        ret = Return.objects.select_for_update().get(number=number)
        if ret.status != ReturnStatus.REQUESTED:
            raise InvalidState(f"Return {number} is {ret.status}, not requested.")
        Return.objects.filter(pk=ret.pk).update(status=ReturnStatus.CANCELLED)
        ret.status = ReturnStatus.CANCELLED
        exchanges.cancel_exchange(ret)
        order_services.record_event(
            order=order, kind="note", actor=actor, detail={"return": number, "status": "cancelled"}
        )
    return ret
