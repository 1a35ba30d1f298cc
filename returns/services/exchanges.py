"""Exchanges: replacement goods asked for with a return (see :class:`returns.models.Exchange`).

Prices. A line that ``replaces`` a returned line with another size or colour of the same
product costs what was paid per unit of that line, after the line's share of every discount
(tax included where the selling channel shows prices with tax, without it where it does
not), never more than the variant's current price, and no promotion applies to it again.
Any other line is at its current price, promotions included. Points redeemed on the original
order are a tender: they go back as points, so the price paid includes their share.

Money. The replacement is paid from the return's money first (a captured ``exchange``
payment on the new order, reference ``return:<number>``); what is left of the refund goes
back to the original tenders, and what the replacement costs beyond it is charged: tenders
at the till, or the payment given with the request online.

When. At a till (a POS terminal or store staff taking the return at once) the replacement is
a POS sale handed over there and then (``in_store``), or an order shipped or picked up.
Online, the replacement is ordered through the normal checkout and DOM once the return is
received; if it cannot be ordered then (no stock any more), the return is refunded in full
and the exchange is ``unavailable``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db import transaction

from config.api.errors import DomainError
from config.money import CENT, ZERO
from inventory import selectors as inventory_selectors
from inventory.models import Location
from orders import services as order_services
from orders.models import Order, OrderLine, Payment
from orders.services.pos import SaleLine, SaleRequest, TenderInput, sell
from pricing import services as pricing_services
from returns.errors import ValidationFailed
from returns.models import (
    Exchange,
    ExchangeLine,
    ExchangeMethod,
    ExchangeStatus,
    Return,
    ReturnLine,
)

logger = logging.getLogger(__name__)

MAX_LINES = 50
POS_CHANNEL = "pos"
EXCHANGE_TENDER = "exchange"


@dataclass(frozen=True)
class ExchangeLineInput:
    sku: str
    quantity: int
    replaces: int | None = None  # an order line id of a line being returned


@dataclass(frozen=True)
class ExchangeInput:
    lines: Sequence[ExchangeLineInput]
    method: str = ""  # default: in_store at a till, otherwise ship
    address: order_services.AddressInput | None = None
    pickup_location: str | None = None
    tenders: Sequence[TenderInput] = ()  # at the till: what pays the difference
    payment: order_services.PaymentInput | None = None  # online: what pays the difference


@dataclass
class _Problems:
    errors: list[dict[str, str]] = field(default_factory=list)

    def add(self, attr: str, detail: str, code: str = "invalid") -> None:
        self.errors.append({"attr": f"exchange.{attr}", "code": code, "detail": detail})

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors[0]["detail"], errors=self.errors)


# --- At the request ---------------------------------------------------------------------------


def create_exchange(
    *,
    ret: Return,
    order: Order,
    exchange: ExchangeInput,
    return_lines: Sequence[ReturnLine],
    order_lines: dict[int, OrderLine],
    location: Location | None,
    at_till: bool,
) -> Exchange:
    """Check ``exchange`` against the return and write it with its prices (400 naming each
    bad field, ``exchange.lines.N.sku`` and so on). Runs in the return's transaction."""
    method = _method(exchange, at_till=at_till, location=location)
    address, pickup = _where(exchange, method=method, order=order, location=location)
    returned: dict[int, int] = defaultdict(int)
    for line in return_lines:
        returned[line.order_line_id] += line.quantity
    skus = _check_lines(exchange.lines, order_lines=order_lines, returned=returned)
    record = Exchange.objects.create(
        ret=ret,
        method=method,
        shipping_address=address.as_json() if address else {},
        pickup_location=pickup,
        payment=_payment_json(exchange.payment),
    )
    channel, price_location = _selling_channel(order, method=method, location=location)
    paid = _paid_unit_prices(
        exchange.lines, order_lines=order_lines, channel=channel, price_location=price_location
    )
    ExchangeLine.objects.bulk_create(
        ExchangeLine(
            exchange=record,
            sku=skus[index],
            quantity=line.quantity,
            replaces_id=line.replaces,
            unit_price=paid.get(index),
        )
        for index, line in enumerate(exchange.lines)
    )
    try:
        record.total = _quote(record, channel=channel, price_location=price_location, order=order)
        if method != ExchangeMethod.IN_STORE:
            # The checkout's own checks now (address, pickup store), not at the receipt.
            order_services.check_request(_order_request(record, order=order, refund=ZERO))
    except DomainError as exc:
        raise _under_exchange(exc) from None
    Exchange.objects.filter(pk=record.pk).update(total=record.total)
    return record


def _method(exchange: ExchangeInput, *, at_till: bool, location: Location | None) -> str:
    method = exchange.method or (ExchangeMethod.IN_STORE if at_till else ExchangeMethod.SHIP)
    if method not in ExchangeMethod.values:
        raise ValidationFailed.field("exchange.method", "in_store, ship or pickup.")
    if method == ExchangeMethod.IN_STORE and not (
        at_till and location is not None and location.type == Location.Type.STORE
    ):
        raise ValidationFailed.field(
            "exchange.method",
            "Only a return taken at a store's till hands the replacement over there: "
            "ship it or pick it up.",
            "not_at_a_till",
        )
    return method


def _where(exchange: ExchangeInput, *, method: str, order: Order, location: Location | None):
    """(address, pickup store) of the replacement; by default the original order's address,
    or the store taking the return for a pickup."""
    if method == ExchangeMethod.SHIP:
        address = exchange.address or _address(order.shipping_address)
        if address is None:
            raise ValidationFailed.field(
                "exchange.address", "Where should the replacement go?", "required"
            )
        return address, None
    if method == ExchangeMethod.PICKUP:
        code = exchange.pickup_location or (
            location.code if location and location.type == Location.Type.STORE else None
        )
        store = (
            inventory_selectors.locations(pickup_enabled=True).filter(code=code).first()
            if code
            else None
        )
        if store is None:
            raise ValidationFailed.field(
                "exchange.pickup_location", "A store that offers pickup.", "required"
            )
        return None, store
    return None, None


def _check_lines(
    lines: Sequence[ExchangeLineInput],
    *,
    order_lines: dict[int, OrderLine],
    returned: dict[int, int],
) -> list[str]:
    problems = _Problems()
    if not lines:
        problems.add("lines", "Name the replacement goods.", "required")
    elif len(lines) > MAX_LINES:
        problems.add("lines", f"At most {MAX_LINES} lines.", "max_length")
    problems.raise_any()
    found = {
        sku.sku: sku
        for sku in inventory_selectors.skus(active=True).filter(
            sku__in=[line.sku for line in lines]
        )
    }
    replaced = {
        sku.sku: sku.product_id
        for sku in inventory_selectors.skus().filter(
            sku__in=[
                order_lines[line.replaces].sku for line in lines if line.replaces in order_lines
            ]
        )
    }
    seen: set[str] = set()
    replacing: dict[int, int] = defaultdict(int)
    for index, line in enumerate(lines):
        attr = f"lines.{index}"
        if not isinstance(line.quantity, int) or line.quantity < 1:
            problems.add(f"{attr}.quantity", "A whole number above zero.", "min_value")
            continue
        sku = found.get(line.sku)
        if sku is None:
            problems.add(f"{attr}.sku", f"Unknown SKU {line.sku!r}.", "unknown_sku")
            continue
        if sku.sku in seen:
            problems.add(f"{attr}.sku", f"{sku.sku} is named twice.", "duplicate")
        seen.add(sku.sku)
        if line.replaces is None:
            continue
        if returned.get(line.replaces, 0) == 0:
            problems.add(
                f"{attr}.replaces", f"Line {line.replaces} is not being returned.", "not_returned"
            )
            continue
        original = order_lines[line.replaces]
        if replaced.get(original.sku) != sku.product_id:
            problems.add(
                f"{attr}.sku",
                f"{sku.sku} is not a variant of {original.sku}: exchange it at its current "
                "price (leave out replaces).",
                "not_same_product",
            )
        replacing[line.replaces] += line.quantity
        if replacing[line.replaces] > returned[line.replaces]:
            problems.add(
                f"{attr}.quantity",
                f"Only {returned[line.replaces]} of {original.sku} are being returned.",
                "more_than_returned",
            )
    problems.raise_any()
    return [line.sku for line in lines]


def _payment_json(payment: order_services.PaymentInput | None) -> dict[str, str]:
    if payment is None:
        return {}
    return {"method": payment.method, "reference": payment.reference, "provider": payment.provider}


def _selling_channel(order: Order, *, method: str, location: Location | None):
    """Where the replacement is sold and priced: the till's store, or the original order's
    channel (a store sale exchanged for delivery goes through the web shop)."""
    if method == ExchangeMethod.IN_STORE:
        return POS_CHANNEL, location
    channel = order.channel.code
    return ("web" if channel == POS_CHANNEL else channel), None


def _paid_unit_prices(
    lines: Sequence[ExchangeLineInput],
    *,
    order_lines: dict[int, OrderLine],
    channel: str,
    price_location: Location | None,
) -> dict[int, Decimal]:
    """Line index → unit price for lines that replace a returned line: what was paid per
    unit of it (in the selling channel's terms, tax or no tax), capped at the current price."""
    like_for_like = [(i, line) for i, line in enumerate(lines) if line.replaces is not None]
    if not like_for_like:
        return {}
    current = pricing_services.build_snapshot(
        channel=channel,
        lines=[pricing_services.CartItem(line.sku, line.quantity) for _, line in like_for_like],
        location=price_location,
    )
    include_tax = current.prices_include_tax
    out = {}
    for (index, line), now in zip(like_for_like, current.lines, strict=True):
        original = order_lines[line.replaces]
        paid = original.total if include_tax else original.total - original.tax_total
        unit = (paid / original.quantity).quantize(CENT, rounding=ROUND_DOWN)
        out[index] = min(unit, now.unit_price)
    return out


def _items(exchange: Exchange) -> list[pricing_services.CartItem]:
    return [
        pricing_services.CartItem(line.sku, line.quantity, line.unit_price)
        for line in exchange.lines.all()
    ]


def _quote(exchange: Exchange, *, channel: str, price_location, order: Order) -> Decimal:
    return pricing_services.quote(
        channel=channel,
        lines=_items(exchange),
        location=price_location,
        customer_id=order.customer_id,
    ).total


def estimate(exchange: Exchange, *, refund: Decimal) -> None:
    """What a requested exchange will take from the refund and charge on top, at today's
    prices; fixed when the replacement is ordered."""
    paid_from_refund = min(refund, exchange.total)
    Exchange.objects.filter(pk=exchange.pk).update(
        paid_from_refund=paid_from_refund, charged=exchange.total - paid_from_refund
    )


# --- At the receipt -----------------------------------------------------------------------------


def order_replacement(
    *,
    ret: Return,
    order: Order,
    refund: Decimal,
    tenders: Sequence[TenderInput] = (),
    at_till: bool,
    actor: str,
) -> Decimal:
    """Order the replacement of ``ret``'s exchange, paid first from ``refund`` (the return's
    money): returns how much of the refund it took. At a till an error is the caller's (the
    customer is there to put it right); online, an order that cannot be placed any more
    leaves the exchange ``unavailable`` and takes nothing."""
    exchange = Exchange.objects.select_for_update().filter(ret=ret).first()
    if exchange is None or exchange.status != ExchangeStatus.PENDING:
        return ZERO
    try:
        with transaction.atomic():
            replacement = _place(exchange, order=order, refund=refund, tenders=tenders, actor=actor)
    except DomainError as exc:
        if at_till:
            raise _under_exchange(exc) from None
        Exchange.objects.filter(pk=exchange.pk).update(
            status=ExchangeStatus.UNAVAILABLE,
            paid_from_refund=ZERO,
            charged=ZERO,
            note=str(exc.detail)[:300],
        )
        logger.warning("exchange for return %s could not be ordered: %s", ret.number, exc.detail)
        return ZERO
    applied = sum(
        (
            p.captured_amount
            for p in Payment.objects.filter(order=replacement, method=EXCHANGE_TENDER)
        ),
        ZERO,
    )
    due = replacement.total - replacement.points_value
    Exchange.objects.filter(pk=exchange.pk).update(
        status=ExchangeStatus.PLACED,
        order=replacement,
        total=replacement.total,
        paid_from_refund=applied,
        charged=due - applied,
    )
    logger.info(
        "exchange for return %s: order %s, %s from the refund, %s charged",
        ret.number,
        replacement.number,
        applied,
        due - applied,
    )
    return applied


def _place(exchange: Exchange, *, order: Order, refund: Decimal, tenders, actor: str) -> Order:
    if exchange.method != ExchangeMethod.IN_STORE:
        return order_services.place_order(
            request=_order_request(exchange, order=order, refund=refund), actor=actor
        )
    return sell(
        request=SaleRequest(
            store=exchange.ret.return_location.code,
            lines=[
                SaleLine(quantity=line.quantity, sku=line.sku, fixed_price=line.unit_price)
                for line in exchange.lines.all()
            ],
            tenders=list(tenders),
            customer_id=order.customer_id,
            email=order.email,
            prepaid=_prepaid(exchange, refund),
        ),
        actor=actor,
    )


def _prepaid(exchange: Exchange, refund: Decimal):
    return order_services.PrepaidInput(
        amount=refund, method=EXCHANGE_TENDER, reference=f"return:{exchange.ret.number}"
    )


def _order_request(exchange: Exchange, *, order: Order, refund: Decimal):
    """The replacement as a checkout request (ship or pickup)."""
    channel, _ = _selling_channel(order, method=exchange.method, location=None)
    return order_services.OrderRequest(
        channel=channel,
        lines=[
            order_services.LineInput(line.sku, line.quantity, line.unit_price)
            for line in exchange.lines.all()
        ],
        method=exchange.method,
        pickup_location=exchange.pickup_location.code if exchange.pickup_location else None,
        address=_address(exchange.shipping_address),
        customer_id=order.customer_id,
        email=order.email,
        payment=order_services.PaymentInput(**exchange.payment)
        if exchange.payment
        else order_services.PaymentInput(),
        prepaid=_prepaid(exchange, refund),
    )


def _address(stored: dict) -> order_services.AddressInput | None:
    if not stored:
        return None
    known = order_services.AddressInput.__dataclass_fields__
    values = {k: v for k, v in stored.items() if k in known and v is not None}
    for name in ("latitude", "longitude"):
        if name in values:
            values[name] = Decimal(str(values[name]))
    return order_services.AddressInput(**values)


def _under_exchange(exc: DomainError) -> DomainError:
    """Errors of the replacement's sale name the exchange's fields (``exchange.tenders``)."""
    for error in exc.errors:
        attr = (error.get("attr") or "").removeprefix("fulfilment.")
        if not attr.startswith("exchange."):
            error["attr"] = f"exchange.{attr}" if attr else "exchange"
    return exc


def cancel_exchange(ret: Return) -> None:
    Exchange.objects.filter(ret=ret, status=ExchangeStatus.PENDING).update(
        status=ExchangeStatus.CANCELLED
    )
