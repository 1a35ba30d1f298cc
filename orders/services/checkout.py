"""Checkout: validate, price, plan, then one short transaction (DESIGN.md, "Concurrency").

Outside the transaction: the input is checked, the lines are priced by pricing's
:func:`~pricing.services.quote` (the same engine as quotes, so they agree to the cent) and
planned by the DOM (:func:`orders.routing.plan_order`). Inside it: the order rows are written
first (order, lines, fulfilments, the payment authorisation, the history), then coupon use
is counted and points redeemed, and the stock is reserved last, one reservation per
fulfilment location in location-code order (each takes its stock rows in primary-key
order), so that a hot SKU's row stays locked for the least time and two checkouts cannot
deadlock. When a reservation finds that someone else took the stock since the plan, the
transaction rolls back and the order is planned again (``RESERVE_ATTEMPTS`` times in all),
then 409 ``insufficient_stock`` names the lines. The ``placed`` notification is sent after
the commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.api.errors import DomainError
from config.money import ZERO, allocate
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.errors import InsufficientStock as StockTaken
from inventory.models import Channel, Location
from loyalty import services as loyalty_services
from orders.errors import InsufficientStock
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentLine,
    NotificationKind,
    Order,
    OrderEvent,
    OrderNumber,
)
from orders.routing import Method, Plan, Point
from orders.routing.service import local_date
from orders.services.carts import close_cart, from_cart
from orders.services.checkout_request import (
    OrderRequest,
    _Checked,
    _points,
    _reattr,
    check_request,
    not_feasible,
    plan,
    price,
)
from orders.services.events import explanation_for_history
from orders.services.notifications import notify
from orders.services.order_lines import write_order_lines
from orders.services.payments import authorise_payment, record_prepaid
from orders.services.pickup import new_pickup_code
from orders.services.pickup_times import pickup_ready_by
from pricing import services as pricing_services

logger = logging.getLogger(__name__)

RESERVE_ATTEMPTS = 3
RESERVATION_OWNER = "orders"  # no API client owns an order's holds, so none can release them

# --- The checkout --------------------------------------------------------------------------


def place_order(*, request: OrderRequest, actor: str = "", now: datetime | None = None) -> Order:
    """Place an order: the whole of it or nothing.

    Atomic: the order, its lines (each with its allocated discounts, tax and share of the
    points), fulfilments with their reservations (no expiry) and pickup codes, the payment
    authorisation, coupon use and points redemption commit together or not at all; the
    ``placed`` notification is sent after the commit. Not idempotent by itself: the API's
    ``Idempotency-Key`` makes a retried request answer the first order.

    Errors: 400 for bad input (see :func:`check_request`) and whatever pricing says (unknown
    SKU, no price); 409 ``coupon_unavailable``, ``price_changed``, ``insufficient_points``,
    ``insufficient_stock`` (naming the lines; for pickup with ``alternatives``).
    """
    now = now or timezone.now()
    request = from_cart(request)
    checked = check_request(request)
    quote = price(request, checked, now=now)
    points, points_value, card_number = _points(request, checked, quote.total)
    names = dict(
        inventory_selectors.skus()
        .filter(sku__in=[line.sku for line in request.lines])
        .values_list("sku", "name")
    )
    points_shares = (
        allocate(points_value, [line.total for line in quote.lines])
        if points
        else [ZERO] * len(quote.lines)
    )
    last_error: StockTaken | None = None
    for attempt in range(1, RESERVE_ATTEMPTS + 1):
        plan_ = plan(request, checked)
        if not plan_.feasible:
            raise not_feasible(plan_, request)
        try:
            order = _commit(
                request=request,
                checked=checked,
                quote=quote,
                plan_=plan_,
                names=names,
                points=points,
                points_value=points_value,
                points_shares=points_shares,
                card_number=card_number,
                actor=actor,
                now=now,
            )
        except _Taken as taken:
            last_error = taken.error
            logger.info("checkout attempt %d lost stock to another order; planning again", attempt)
            continue
        logger.info("order %s placed: %s %s", order.number, order.total, order.currency)
        return order
    raise InsufficientStock(last_error.detail, errors=last_error.errors)


class _Taken(Exception):
    """A reservation lost the race for stock; ``error`` names the order's lines."""

    def __init__(self, error: StockTaken):
        self.error = error


def order_number(channel: Channel) -> str:
    """``W-000123``: the channel's initial and a number no other order has. The number comes
    from a new ``OrderNumber`` row, so concurrent checkouts never wait for one another."""
    prefixes = getattr(settings, "ORDERS_NUMBER_PREFIXES", {})
    prefix = prefixes.get(channel.code) or channel.code[:1].upper()
    return f"{prefix}-{OrderNumber.objects.create().pk:06d}"


@transaction.atomic
def _commit(
    *,
    request: OrderRequest,
    checked: _Checked,
    quote,
    plan_: Plan,
    names: dict[str, str],
    points: int,
    points_value: Decimal,
    points_shares: list[Decimal],
    card_number: str,
    actor: str,
    now: datetime,
) -> Order:
    channel = checked.channel
    number = order_number(channel)
    address = request.address if checked.method == Method.SHIP else None
    order = Order.objects.create(
        number=number,
        channel=channel,
        customer_id=checked.customer_id,
        email=checked.email,
        currency=quote.currency,
        method=checked.method,
        prices_include_tax=quote.prices_include_tax,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        tax_total=quote.tax_total,
        total=quote.total,
        points_redeemed=points,
        points_value=points_value,
        loyalty_card_number=card_number,
        coupon_codes=list(quote.applied_coupons),
        shipping_address=address.as_json() if address else {},
        # The coordinates routing used: the address's own, or its postal code's area.
        destination_latitude=_coordinate(checked.destination, "latitude"),
        destination_longitude=_coordinate(checked.destination, "longitude"),
        created_by=actor,
    )
    lines = write_order_lines(
        order=order, priced_lines=quote.lines, names=names, points_shares=points_shares
    )

    locations = {
        location.code: location
        for location in Location.objects.filter(
            code__in=[f.location for f in plan_.fulfilments]
        ).only("id", "code", "timezone", "opening_hours")
    }
    planned = sorted(plan_.fulfilments, key=lambda f: f.location)
    fulfilments = Fulfilment.objects.bulk_create(
        Fulfilment(
            order=order,
            location=locations[f.location],
            method=checked.method,
            pickup_code=new_pickup_code() if checked.method == Method.PICKUP else "",
            ready_by=(
                pickup_ready_by(
                    now=now,
                    opening_hours=locations[f.location].opening_hours,
                    timezone_name=locations[f.location].timezone,
                )
                if checked.method == Method.PICKUP
                else None
            ),
            distance_km=Decimal(str(f.distance_km)),
            cost=f.cost,
            local_date=local_date(locations[f.location], now),
        )
        for f in planned
    )
    if any(f.pk is None for f in fulfilments):
        fulfilments = list(Fulfilment.objects.filter(order=order).order_by("location__code"))
    FulfilmentLine.objects.bulk_create(
        FulfilmentLine(fulfilment=fulfilment, order_line=lines[p.index], quantity=p.quantity)
        for fulfilment, f in zip(fulfilments, planned, strict=True)
        for p in f.lines
    )

    amount_due = quote.total - points_value
    if request.prepaid is not None:
        amount_due -= record_prepaid(order=order, prepaid=request.prepaid, due=amount_due)
    if amount_due > 0:
        authorise_payment(
            order=order,
            amount=amount_due,
            method=request.payment.method,
            reference=request.payment.reference,
            provider=request.payment.provider,
            actor=actor,
        )
    events = [
        OrderEvent(
            order=order,
            kind=EventKind.PLACED,
            actor=actor,
            detail={
                "total": str(quote.total),
                "method": str(checked.method),
                "fulfilments": [
                    {"location": f.location, "lines": {str(p.index): p.quantity for p in f.lines}}
                    for f in planned
                ],
                "explanation": explanation_for_history(plan_.explanation),
            },
        )
    ]

    if quote.applied_promotions:
        claim = pricing_services.claim_coupons(
            codes=list(quote.applied_coupons),
            customer_id=checked.customer_id,
            order_reference=number,
            promotion_ids=[p.promotion for p in quote.applied_promotions],
        )
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.COUPONS_CLAIMED,
                actor=actor,
                detail={"coupons": list(claim.coupons), "promotions": list(claim.promotions)},
            )
        )
    if points:
        try:
            redemption = loyalty_services.redeem_points(
                points=points,
                reference=points_reference(order),
                card_number=card_number,
                actor=actor,
            )
        except DomainError as exc:
            raise _reattr(exc, "loyalty.redeem_points") from None
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.POINTS_REDEEMED,
                actor=actor,
                detail={"points": points, "amount": str(redemption.amount), "card": card_number},
            )
        )

    # The stock rows last, location by location in code order (fixed lock order).
    for fulfilment, f in zip(fulfilments, planned, strict=True):
        holds = [inventory_services.HoldLine(p.sku, f.location, p.quantity) for p in f.lines]
        try:
            reservation = inventory_services.reserve(
                channel=channel,
                lines=holds,
                reference=f"order:{number}:{f.location}",
                owner=RESERVATION_OWNER,
                expires_at=None,
            )
        except StockTaken as exc:
            raise _Taken(_on_order_lines(exc, f)) from None
        fulfilment.reservation_id = reservation.pk
    Fulfilment.objects.bulk_update(fulfilments, ["reservation"])
    events.append(
        OrderEvent(
            order=order,
            kind=EventKind.STOCK_RESERVED,
            actor=actor,
            detail={
                f.location: fulfilment.reservation_id
                for fulfilment, f in zip(fulfilments, planned, strict=True)
            },
        )
    )
    OrderEvent.objects.bulk_create(events)
    if request.cart_id:
        close_cart(cart_id=request.cart_id, order=order, now=now)
    notify(order=order, kind=NotificationKind.PLACED)
    return order


def _on_order_lines(exc: StockTaken, planned) -> StockTaken:
    """Inventory names the lines of one reservation (``lines.K.quantity``); say which order
    lines they are."""
    errors = []
    for error in exc.errors:
        attr = error.get("attr") or ""
        parts = attr.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            k = int(parts[1])
            if k < len(planned.lines):
                attr = f"lines.{planned.lines[k].index}.quantity"
        errors.append({**error, "attr": attr})
    return StockTaken(exc.detail, errors=errors)


def points_reference(order: Order) -> str:
    """The loyalty redemption's reference for an order (refund its points with it)."""
    return f"order:{order.number}"


__all__ = ["RESERVE_ATTEMPTS", "order_number", "place_order", "points_reference"]


def _coordinate(point: Point | None, name: str) -> Decimal | None:
    if point is None:
        return None
    return Decimal(str(round(getattr(point, name), 6)))
