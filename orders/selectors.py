"""The orders app's reads, shared by the API, the admin and (later) the store screens.

Who sees which orders (DESIGN.md: another principal's order is 404, not 403):

- merchandiser: every order;
- customer: their own orders (``Order.customer``);
- storefront: the orders it placed (guest or not) and every order of a named customer. A
  storefront may place orders for any customer, so it may read them too (the web shop's
  "my orders" page); guest orders placed by another client stay hidden;
- pos and store staff: orders with a fulfilment at one of their locations, and the orders
  they placed (endless aisle).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from config.api.roles import Principal, Role
from orders.errors import NotFound
from orders.models import Fulfilment, FulfilmentLine, Order, OrderEvent, Payment

DETAIL_PREFETCH = (
    "lines",
    Prefetch(
        "fulfilments",
        queryset=Fulfilment.objects.select_related("location").order_by("location__code", "id"),
    ),
    Prefetch(
        "fulfilments__lines",
        queryset=FulfilmentLine.objects.select_related("order_line").order_by(
            "order_line__position"
        ),
    ),
    Prefetch("payments", queryset=Payment.objects.order_by("id")),
)


def visible_orders(principal: Principal | None) -> QuerySet[Order]:
    """The orders ``principal`` may see (nothing for an anonymous caller)."""
    orders = Order.objects.all()
    if principal is None:
        return orders.none()
    if principal.role == Role.MERCHANDISER:
        return orders
    if principal.role == Role.CUSTOMER:
        if principal.customer_id is None:
            return orders.none()
        return orders.filter(customer_id=principal.customer_id)
    if principal.role == Role.STOREFRONT:
        return orders.filter(Q(created_by=principal.ident) | Q(customer__isnull=False))
    if principal.role in (Role.POS, Role.STORE_STAFF):
        here = Fulfilment.objects.filter(
            order_id=OuterRef("pk"), location__code__in=principal.location_codes
        )
        return orders.filter(Q(Exists(here)) | Q(created_by=principal.ident))
    return orders.none()


def orders(
    *,
    principal: Principal | None,
    status: str | None = None,
    channel: str | None = None,
    customer_id: int | None = None,
    email: str | None = None,
    location: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Order]:
    """Orders newest first with everything the API renders, in a constant number of
    queries; filters narrow the caller's own scope."""
    queryset = visible_orders(principal).select_related("channel")
    if status:
        queryset = queryset.filter(status=status)
    if channel:
        queryset = queryset.filter(channel__code=channel)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if email:
        queryset = queryset.filter(email__iexact=email)
    if location:
        queryset = queryset.filter(
            Exists(Fulfilment.objects.filter(order_id=OuterRef("pk"), location__code=location))
        )
    if created_after is not None:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before is not None:
        queryset = queryset.filter(created_at__lt=created_before)
    return queryset.prefetch_related(*DETAIL_PREFETCH).order_by("-created_at", "-id")


def order_by_number(number: str, *, principal: Principal | None) -> Order:
    """One order the caller may see, with its lines and fulfilments; 404 otherwise."""
    order = orders(principal=principal).filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def order_events(order: Order) -> QuerySet[OrderEvent]:
    """The order's history, oldest first."""
    return OrderEvent.objects.filter(order=order).order_by("id")


def fulfilments_at(
    location_codes: Collection[str] | None, *, status: str | None = None
) -> QuerySet[Fulfilment]:
    """Fulfilments at the given locations (None: everywhere), oldest first, with their
    order and lines; for the fulfilment lists and screens."""
    queryset = Fulfilment.objects.select_related("order", "location").prefetch_related(
        Prefetch(
            "lines",
            queryset=FulfilmentLine.objects.select_related("order_line").order_by(
                "order_line__position"
            ),
        )
    )
    if location_codes is not None:
        queryset = queryset.filter(location__code__in=location_codes)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("created_at", "id")
