"""What a checkout is asked for, checked and priced before anything is written: the
request's plain values, 400 for bad input, the quote (409 ``coupon_unavailable`` /
``price_changed``), the points to redeem, and the plan with its 409 when no plan exists.
The routing dry run (``POST /api/v1/routing/plan/``) shares all of it with the checkout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from config.api.errors import DomainError
from config.money import ZERO, to_cents
from inventory import selectors as inventory_selectors
from inventory.geo import distance_km
from inventory.models import Channel, Location
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from orders.errors import InsufficientStock, NotFound, PriceChanged, ValidationFailed
from orders.routing import Method, Plan, PlanLine, Point, plan_order
from orders.routing.postcodes import locate
from pricing import services as pricing_services
from pricing.errors import CouponUnavailable

MAX_LINES = pricing_services.MAX_LINES


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    fixed_price: Decimal | None = None  # agreed beforehand (an exchange): no promotions


@dataclass(frozen=True)
class AddressInput:
    line1: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "line1": self.line1,
            "city": self.city,
            "postal_code": self.postal_code,
            "country": self.country,
            "latitude": None if self.latitude is None else str(self.latitude),
            "longitude": None if self.longitude is None else str(self.longitude),
        }


@dataclass(frozen=True)
class LoyaltyInput:
    card_number: str
    redeem_points: int


@dataclass(frozen=True)
class PaymentInput:
    method: str = "manual"
    reference: str = ""
    provider: str = "manual"


@dataclass(frozen=True)
class PrepaidInput:
    """Money the customer has already paid towards the order (an exchange's share of its
    return's refund): up to ``amount`` of the total becomes a captured payment of ``method``
    at checkout, and only the rest is authorised or tendered. Services set it, never a
    client."""

    amount: Decimal
    method: str = "exchange"
    reference: str = ""


@dataclass(frozen=True)
class OrderRequest:
    """Everything a checkout (or a dry-run plan) is asked for, as plain values."""

    channel: str
    lines: Sequence[LineInput]
    method: str
    pickup_location: str | None = None
    address: AddressInput | None = None
    customer_id: int | None = None
    email: str | None = None
    coupon_codes: Sequence[str] = ()
    loyalty: LoyaltyInput | None = None
    payment: PaymentInput = field(default_factory=PaymentInput)
    expected_total: Decimal | None = None
    price_location: str | None = None  # a POS terminal's store: its prices and tax
    cart_id: str | None = None  # order a cart's lines (orders.services.carts); closed on commit
    prepaid: PrepaidInput | None = None


@dataclass
class _Checked:
    channel: Channel
    method: Method
    pickup_store: Location | None
    price_location: Location | None
    destination: Point | None
    customer_id: int | None
    email: str


# --- Validation ----------------------------------------------------------------------------


def check_request(request: OrderRequest, *, for_plan: bool = False) -> _Checked:
    """400 for everything that is wrong with the request itself, before anything is priced
    or planned: the channel, lines (count, quantity, duplicates), the method and where to
    (address coordinates for ship, a store that offers pickup), the customer or email."""
    problems: list[dict[str, str]] = []

    def problem(attr: str, detail: str, code: str = "invalid") -> None:
        problems.append({"attr": attr, "code": code, "detail": detail})

    lines = list(request.lines)
    if not lines:
        problem("lines", "At least one line.", "required")
    elif len(lines) > MAX_LINES:
        raise ValidationFailed.field(
            "lines", f"At most {MAX_LINES} lines in one order; got {len(lines)}.", "max_length"
        )
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        quantity = line.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            problem(f"lines.{index}.quantity", "Must be a whole number of at least 1.", "min_value")
        if line.sku in seen:
            problem(
                f"lines.{index}.sku",
                f"SKU {line.sku} is on line {seen[line.sku]} already: add the quantities up.",
                "duplicate",
            )
        seen.setdefault(line.sku, index)

    channel = Channel.objects.filter(code=request.channel).first()
    if channel is None:
        problem("channel", f"Unknown channel {request.channel!r}.", "unknown_channel")

    try:
        method = Method(request.method)
    except ValueError:
        method = None
        problem("fulfilment.method", "Either ship or pickup.", "invalid_choice")

    wanted_codes = {c for c in (request.pickup_location, request.price_location) if c}
    found = {
        location.code: location
        for location in inventory_selectors.locations(codes=frozenset(wanted_codes))
    }
    pickup_store = destination = None
    if method == Method.PICKUP:
        code = request.pickup_location
        pickup_store = found.get(code) if code else None
        if not code:
            problem("fulfilment.pickup_location", "A pickup order names the store.", "required")
        elif pickup_store is None:
            problem("fulfilment.pickup_location", f"Unknown location {code!r}.", "unknown_location")
        elif (
            pickup_store.type != Location.Type.STORE
            or not pickup_store.pickup_enabled
            or not pickup_store.active
        ):
            problem(
                "fulfilment.pickup_location",
                f"{code} is not a store that offers pickup.",
                "not_pickup_location",
            )
    elif method == Method.SHIP:
        address = request.address
        if address is None:
            problem("fulfilment.address", "A ship order needs an address.", "required")
        else:
            if not for_plan:
                for name in ("line1", "city", "postal_code", "country"):
                    if not getattr(address, name):
                        problem(f"fulfilment.address.{name}", "This field is required.", "required")
            destination = _destination(address, problem)

    price_location = found.get(request.price_location) if request.price_location else None
    if request.price_location and price_location is None:
        problem("location", f"Unknown location {request.price_location!r}.", "unknown_location")
    if price_location is None and pickup_store is not None:
        price_location = pickup_store

    email = (request.email or "").strip()
    if request.customer_id is not None:
        customer = loyalty_selectors.customers().filter(pk=request.customer_id).first()
        if customer is None:
            problem("customer", f"No customer {request.customer_id}.", "unknown_customer")
        elif not email:
            email = customer.email
    elif not email and not for_plan:
        problem("email", "A guest order needs an email address.", "required")

    if problems:
        first = problems[0]["detail"]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ValidationFailed(f"{problems[0]['attr']}: {first}{more}", errors=problems)
    return _Checked(
        channel=channel,
        method=method,
        pickup_store=pickup_store,
        price_location=price_location,
        destination=destination,
        customer_id=request.customer_id,
        email=email,
    )


def _reattr(exc: DomainError, attr: str) -> DomainError:
    """Name the request's field on an error another app raised about its own argument."""
    for error in exc.errors:
        error["attr"] = attr
    return exc


# --- Pricing and points --------------------------------------------------------------------


def price(request: OrderRequest, checked: _Checked, *, now: datetime | None = None):
    """The quote for the order; 409 ``coupon_unavailable`` naming each coupon given that
    does nothing (a customer who typed a code expects its discount); 409 ``price_changed``
    when ``expected_total`` differs from the quote's total."""
    quote = pricing_services.quote(
        channel=checked.channel,
        lines=[
            pricing_services.CartItem(line.sku, line.quantity, line.fixed_price)
            for line in request.lines
        ],
        location=checked.price_location,
        customer_id=checked.customer_id,
        coupon_codes=list(request.coupon_codes),
        now=now,
    )
    if quote.rejected_coupons:
        typed = list(request.coupon_codes)
        errors = [
            {
                "attr": f"coupon_codes.{typed.index(r.code) if r.code in typed else 0}",
                "code": str(r.reason),
                "detail": f"Coupon {r.code} does not apply: {str(r.reason).replace('_', ' ')}.",
            }
            for r in quote.rejected_coupons
        ]
        raise CouponUnavailable(errors[0]["detail"], errors=errors)
    if request.expected_total is not None and to_cents(request.expected_total) != quote.total:
        raise PriceChanged(expected=to_cents(request.expected_total), total=quote.total)
    return quote


def _points(request: OrderRequest, checked: _Checked, total: Decimal) -> tuple[int, Decimal, str]:
    """(points, their value, card number) for the redemption asked for, checked before the
    transaction: the card exists and is the customer's, the points follow the programme's
    rules and are worth no more than the order. The balance is checked when they are
    redeemed (409 ``insufficient_points``)."""
    if request.loyalty is None:
        return 0, ZERO, ""
    try:
        account = loyalty_selectors.account_by_card_number(
            request.loyalty.card_number, attr="loyalty.card_number"
        )
    except NotFound:
        raise ValidationFailed.field(
            "loyalty.card_number", "No loyalty account with this card number.", "unknown_card"
        ) from None
    if checked.customer_id is not None and account.customer_id != checked.customer_id:
        raise ValidationFailed.field(
            "loyalty.card_number", "This card is not the customer's.", "not_customers_card"
        )
    try:
        value = loyalty_services.points_value(points=request.loyalty.redeem_points)
    except ValidationFailed as exc:
        raise _reattr(exc, "loyalty.redeem_points") from None
    if value > total:
        raise ValidationFailed.field(
            "loyalty.redeem_points",
            f"{request.loyalty.redeem_points} points are worth {value}, more than the {total} due.",
            "exceeds_total",
        )
    return request.loyalty.redeem_points, value, account.card_number


# --- Planning ------------------------------------------------------------------------------


def plan(request: OrderRequest, checked: _Checked) -> Plan:
    return plan_order(
        channel=checked.channel,
        lines=[PlanLine(i, line.sku, line.quantity) for i, line in enumerate(request.lines)],
        method=checked.method,
        destination=checked.destination,
        pickup_location=checked.pickup_store.code if checked.pickup_store else None,
    )


def not_feasible(plan_: Plan, request: OrderRequest) -> InsufficientStock:
    """409 naming the short lines (``lines.N.quantity``); for pickup with the nearest stores
    that have everything as ``alternatives``."""
    lines = list(request.lines)
    errors = [
        {
            "attr": f"lines.{short.index}.quantity",
            "code": "insufficient_stock",
            "detail": f"Only {lines[short.index].quantity - short.quantity} of SKU {short.sku} "
            + (
                "can be promised at the pickup store."
                if plan_.method == Method.PICKUP
                else "can be promised."
            ),
        }
        for short in plan_.short_lines
    ]
    if not errors:  # enough stock in all, but not within the allowed number of shipments
        why = next((e.reason for e in plan_.explanation if e.location is None), "")
        errors = [
            {"attr": f"lines.{i}.quantity", "code": "insufficient_stock", "detail": why}
            for i in range(len(lines))
        ]
    extra: dict[str, Any] = {}
    if plan_.method == Method.PICKUP:
        extra["alternatives"] = _alternatives(plan_.alternatives, request.pickup_location)
    return InsufficientStock(errors[0]["detail"], errors=errors, extra=extra)


def _alternatives(codes: Sequence[str], origin_code: str | None) -> list[dict[str, Any]]:
    if not codes:
        return []
    found = {
        location.code: location
        for location in inventory_selectors.locations(
            codes=frozenset([*codes, *([origin_code] if origin_code else [])])
        )
    }
    origin = found.get(origin_code) if origin_code else None
    out = []
    for code in codes:
        location = found[code]
        distance = None
        if origin is not None:
            distance = round(
                distance_km(
                    float(origin.latitude),
                    float(origin.longitude),
                    float(location.latitude),
                    float(location.longitude),
                ),
                3,
            )
        out.append({"location": code, "name": location.name, "distance_km": distance})
    return out


def _destination(address: AddressInput, problem) -> Point | None:
    """Where a parcel goes: the address's coordinates, else its postal code placed with the
    offline table (:mod:`orders.routing.postcodes`)."""
    if address.latitude is not None and address.longitude is not None:
        return Point(float(address.latitude), float(address.longitude))
    if address.latitude is not None or address.longitude is not None:
        missing = "longitude" if address.longitude is None else "latitude"
        problem(f"fulfilment.address.{missing}", "Give both coordinates, or neither.", "required")
        return None
    point = locate(address.postal_code or "", address.country or "NL")
    if point is None:
        problem(
            "fulfilment.address.postal_code",
            "This postal code cannot be placed; give the address's latitude and longitude.",
            "unknown_postal_code",
        )
    return point
