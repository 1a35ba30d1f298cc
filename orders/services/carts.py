"""Carts kept on the server (API.md, "Carts and orders").

A cart holds SKUs and quantities, coupon codes and optionally a chosen store; it holds no
prices: every read prices it with :func:`pricing.services.quote`, the engine that prices
quotes, orders and POS sales, so a cart and the order placed from it agree to the cent. A
customer has at most one open cart per channel (a partial unique index), so phone, laptop
and till see the same one. An anonymous cart merges into the customer's on sign-in
(quantities added, capped at the line limit). Checkout with ``"cart": ID`` orders its lines
and closes it. Carts untouched for ``CARTS_STALE_DAYS`` are purged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import selectors as inventory_selectors
from inventory.models import Channel, Location
from loyalty import selectors as loyalty_selectors
from orders.errors import InvalidState, NotFound, ValidationFailed
from orders.models import Cart, CartLine, CartStatus, Order
from pricing import services as pricing_services

MAX_QUANTITY = 100_000
MAX_LINES = pricing_services.MAX_LINES
MAX_COUPONS = 20


def stale_days() -> int:
    return int(getattr(settings, "CARTS_STALE_DAYS", 30))


# --- Reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineAvailability:
    available: int
    enough: bool


@dataclass(frozen=True)
class PricedCart:
    """A cart with its quote (None when empty) and availability per SKU."""

    cart: Cart
    lines: list[CartLine]
    quote: Any
    availability: dict[str, LineAvailability]


def price_cart(cart: Cart, *, now: datetime | None = None) -> PricedCart:
    """Price ``cart`` like a quote (its channel, its store's prices when it has one, the
    customer's member prices, its coupons) and say per line how much its channel can promise
    (at the chosen store when there is one). A constant number of queries."""
    lines = list(cart.lines.all())
    if not lines:
        return PricedCart(cart=cart, lines=lines, quote=None, availability={})
    quote = pricing_services.quote(
        channel=cart.channel,
        lines=[pricing_services.CartItem(line.sku, line.quantity) for line in lines],
        location=cart.location,
        customer_id=cart.customer_id,
        coupon_codes=list(cart.coupon_codes),
        now=now,
    )
    found = inventory_selectors.available_to_promise(
        skus=[line.sku for line in lines],
        channel=cart.channel,
        location_codes={cart.location.code} if cart.location_id else None,
    )
    available = {a.sku: a.available for a in found}
    availability = {
        line.sku: LineAvailability(
            available=available.get(line.sku, 0),
            enough=available.get(line.sku, 0) >= line.quantity,
        )
        for line in lines
    }
    return PricedCart(cart=cart, lines=lines, quote=quote, availability=availability)


def carts_queryset():
    return Cart.objects.select_related("channel", "location", "order")


# --- Writes --------------------------------------------------------------------------------


def _touch(cart: Cart, now: datetime) -> None:
    cart.updated_at = now
    Cart.objects.filter(pk=cart.pk).update(updated_at=now)


def _open(cart: Cart) -> None:
    if cart.status != CartStatus.OPEN:
        raise InvalidState(f"The cart is {cart.status}; it can no longer change.")


def _location(code: str | None) -> Location | None:
    if not code:
        return None
    location = inventory_selectors.locations(codes=frozenset({code})).first()
    if location is None or location.type != Location.Type.STORE:
        raise ValidationFailed.field("location", f"Unknown store {code!r}.", "unknown_location")
    return location


@transaction.atomic
def open_cart(
    *,
    channel: str,
    customer_id: int | None = None,
    location: str | None = None,
    actor: str = "",
    now: datetime | None = None,
) -> tuple[Cart, bool]:
    """A new cart, or the customer's open cart on that channel (``(cart, created)``).

    Idempotent per customer and channel: two devices opening a cart at once get the same
    one (the partial unique index decides). 400 unknown channel, customer or store."""
    now = now or timezone.now()
    channel_ = Channel.objects.filter(code=channel).first()
    if channel_ is None:
        raise ValidationFailed.field("channel", f"Unknown channel {channel!r}.", "unknown_channel")
    if (
        customer_id is not None
        and not loyalty_selectors.customers().filter(pk=customer_id).exists()
    ):
        raise ValidationFailed.field("customer", f"No customer {customer_id}.", "unknown_customer")
    store = _location(location)
    if customer_id is not None:
        existing = _open_cart_of(customer_id, channel_)
        if existing is not None:
            if store is not None and existing.location_id != store.pk:
                existing.location = store
                Cart.objects.filter(pk=existing.pk).update(location=store)
            _touch(existing, now)
            return existing, False
    cart = Cart(
        id=uuid.uuid4(),
        channel=channel_,
        customer_id=customer_id,
        location=store,
        created_by=actor,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            cart.save(force_insert=True)
    except IntegrityError:
        existing = _open_cart_of(customer_id, channel_) if customer_id is not None else None
        if existing is None:
            raise
        return existing, False
    return cart, True


def _open_cart_of(customer_id: int, channel: Channel) -> Cart | None:
    return (
        carts_queryset()
        .filter(customer_id=customer_id, channel=channel, status=CartStatus.OPEN)
        .first()
    )


def _check_quantity(quantity: Any, attr: str = "quantity") -> None:
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or quantity < 1
        or quantity > MAX_QUANTITY
    ):
        raise ValidationFailed.field(
            attr, f"Must be a whole number from 1 to {MAX_QUANTITY}.", "min_value"
        )


def _check_sku(cart: Cart, sku: str) -> None:
    """400 ``unknown_sku`` / ``no_price`` on ``sku`` when the cart's channel cannot sell it."""
    try:
        pricing_services.quote(
            channel=cart.channel,
            lines=[pricing_services.CartItem(sku, 1)],
            location=cart.location,
        )
    except ValidationFailed as exc:
        for error in exc.errors:
            error["attr"] = "sku"
        raise


@transaction.atomic
def add_line(*, cart: Cart, sku: str, quantity: int, now: datetime | None = None) -> CartLine:
    """Add ``quantity`` of ``sku`` (added to the line when the SKU is there already).
    400 bad quantity, unknown SKU or no price on the cart's channel; 409 ``invalid_state``
    for a closed cart."""
    now = now or timezone.now()
    _open(cart)
    _check_quantity(quantity)
    line = CartLine.objects.select_for_update().filter(cart=cart, sku=sku).first()
    if line is None:
        _check_sku(cart, sku)
        if CartLine.objects.filter(cart=cart).count() >= MAX_LINES:
            raise ValidationFailed.field("sku", f"At most {MAX_LINES} lines.", "max_length")
        line = CartLine.objects.create(cart=cart, sku=sku, quantity=quantity)
    else:
        total = line.quantity + quantity
        _check_quantity(total)
        CartLine.objects.filter(pk=line.pk).update(quantity=total)
        line.quantity = total
    _touch(cart, now)
    return line


@transaction.atomic
def set_line_quantity(
    *, cart: Cart, sku: str, quantity: int, now: datetime | None = None
) -> CartLine:
    """Set the line's quantity (404 when the SKU is not in the cart)."""
    now = now or timezone.now()
    _open(cart)
    _check_quantity(quantity)
    updated = CartLine.objects.filter(cart=cart, sku=sku).update(quantity=quantity)
    if not updated:
        raise NotFound(f"SKU {sku} is not in the cart.")
    _touch(cart, now)
    return CartLine.objects.get(cart=cart, sku=sku)


@transaction.atomic
def remove_line(*, cart: Cart, sku: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    _open(cart)
    deleted, _ = CartLine.objects.filter(cart=cart, sku=sku).delete()
    if not deleted:
        raise NotFound(f"SKU {sku} is not in the cart.")
    _touch(cart, now)


@transaction.atomic
def update_cart(
    *,
    cart: Cart,
    coupon_codes: list[str] | None = None,
    location: str | None = None,
    clear_location: bool = False,
    now: datetime | None = None,
) -> Cart:
    """Change the cart's coupon codes (replaced as a whole) or its chosen store."""
    now = now or timezone.now()
    _open(cart)
    fields: dict[str, Any] = {}
    if coupon_codes is not None:
        codes = list(dict.fromkeys(c.strip() for c in coupon_codes if c and c.strip()))
        if len(codes) > MAX_COUPONS:
            raise ValidationFailed.field("coupon_codes", f"At most {MAX_COUPONS}.", "max_length")
        fields["coupon_codes"] = codes
    if clear_location:
        fields["location"] = None
    elif location:
        fields["location"] = _location(location)
    for name, value in fields.items():
        setattr(cart, name, value)
    if fields:
        Cart.objects.filter(pk=cart.pk).update(**fields)
    _touch(cart, now)
    return cart


@transaction.atomic
def merge_cart(
    *, cart: Cart, customer_id: int, actor: str = "", now: datetime | None = None
) -> Cart:
    """Sign-in: move the anonymous ``cart`` into the customer's open cart on its channel
    (created when there is none). Quantities are added, capped at the line limit; coupon
    codes are joined. The anonymous cart is closed as ``merged``. Idempotent: merging a cart
    that was merged into this customer's cart already answers that cart. 409
    ``invalid_state`` for a customer's cart or a closed one."""
    now = now or timezone.now()
    source = Cart.objects.select_for_update().get(pk=cart.pk)
    if source.status == CartStatus.MERGED and source.merged_into_id:
        target = carts_queryset().get(pk=source.merged_into_id)
        if target.customer_id == customer_id:
            return target
    _open(source)
    if source.customer_id is not None:
        if source.customer_id == customer_id:
            return carts_queryset().get(pk=source.pk)
        raise InvalidState("Only an anonymous cart can be merged into a customer's.")
    target, _ = open_cart(
        channel=source.channel.code,
        customer_id=customer_id,
        location=source.location.code if source.location_id else None,
        actor=actor,
        now=now,
    )
    existing = {line.sku: line for line in CartLine.objects.select_for_update().filter(cart=target)}
    for line in CartLine.objects.filter(cart=source):
        if line.sku in existing:
            quantity = min(existing[line.sku].quantity + line.quantity, MAX_QUANTITY)
            CartLine.objects.filter(pk=existing[line.sku].pk).update(quantity=quantity)
        else:
            CartLine.objects.create(cart=target, sku=line.sku, quantity=line.quantity)
    codes = list(dict.fromkeys([*target.coupon_codes, *source.coupon_codes]))[:MAX_COUPONS]
    Cart.objects.filter(pk=target.pk).update(coupon_codes=codes, updated_at=now)
    Cart.objects.filter(pk=source.pk).update(
        status=CartStatus.MERGED, merged_into=target, closed_at=now, updated_at=now
    )
    return carts_queryset().get(pk=target.pk)


def close_cart(*, cart_id: uuid.UUID, order: Order, now: datetime | None = None) -> None:
    """Mark the cart ordered (inside the checkout's or the sale's transaction)."""
    now = now or timezone.now()
    updated = Cart.objects.filter(pk=cart_id, status=CartStatus.OPEN).update(
        status=CartStatus.ORDERED, order=order, closed_at=now, updated_at=now
    )
    if not updated:
        raise InvalidState("The cart was ordered or closed meanwhile.")


def cart_by_id(cart_id: Any) -> Cart:
    """The cart (404 for an unknown or malformed id)."""
    try:
        return carts_queryset().get(pk=uuid.UUID(str(cart_id)))
    except (Cart.DoesNotExist, ValueError):
        raise NotFound(f"No cart {cart_id}.") from None


def lines_for_order(cart_id: Any) -> tuple[Cart, list[tuple[str, int]]]:
    """The open cart's ``(sku, quantity)`` lines for a checkout or sale; 404 unknown cart,
    409 ``invalid_state`` closed, 400 empty."""
    try:
        cart = carts_queryset().get(pk=uuid.UUID(str(cart_id)))
    except (Cart.DoesNotExist, ValueError):
        raise NotFound(f"No cart {cart_id}.") from None
    _open(cart)
    lines = list(cart.lines.values_list("sku", "quantity"))
    if not lines:
        raise ValidationFailed.field("cart", "The cart is empty.", "empty_cart")
    return cart, lines


def purge_stale_carts(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete carts (open or merged) not touched for ``days`` (``CARTS_STALE_DAYS``); ordered
    carts stay with their order. Returns how many went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=stale_days() if days is None else days)
    stale = Cart.objects.filter(
        updated_at__lt=cutoff, status__in=[CartStatus.OPEN, CartStatus.MERGED]
    )
    _, per_model = stale.delete()
    return per_model.get(Cart._meta.label, 0)


def from_cart(request):
    """The checkout request with the cart's lines (and its coupon codes when the request
    names none, its customer when it names none). 400 when both lines and a cart are sent,
    for another channel's cart or another customer's; 404 unknown cart; 409 closed."""
    from orders.services.checkout_request import LineInput

    if not request.cart_id:
        return request
    if request.lines:
        raise ValidationFailed.field("cart", "Send either lines or a cart, not both.", "invalid")
    cart, lines = lines_for_order(request.cart_id)
    if cart.channel.code != request.channel:
        raise ValidationFailed.field(
            "cart", f"The cart is for channel {cart.channel.code}.", "wrong_channel"
        )
    customer_id = request.customer_id
    if cart.customer_id is not None:
        if customer_id is not None and customer_id != cart.customer_id:
            raise NotFound(f"No cart {request.cart_id}.")
        customer_id = cart.customer_id
    return replace(
        request,
        cart_id=str(cart.pk),
        lines=tuple(LineInput(sku, quantity) for sku, quantity in lines),
        coupon_codes=tuple(request.coupon_codes or cart.coupon_codes),
        customer_id=customer_id,
    )


def cart_for(principal, cart_id: Any) -> Cart:
    """The cart as ``principal`` may see it, else 404: a customer its own carts and
    anonymous ones (whoever holds an anonymous cart's unguessable id holds the cart); a
    POS terminal carts not bound to another store; a storefront any."""
    cart = cart_by_id(cart_id)
    if not visible_to(principal, cart):
        raise NotFound(f"No cart {cart_id}.")
    return cart


def visible_to(principal, cart: Cart) -> bool:
    from config.api.roles import Role

    if principal is None:
        return False
    if principal.role == Role.CUSTOMER:
        return cart.customer_id is None or cart.customer_id == principal.customer_id
    if principal.role == Role.POS:
        return cart.location_id is None or cart.location.code in principal.location_codes
    return principal.role == Role.STOREFRONT
