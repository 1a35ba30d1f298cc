"""The returns app's reads, shared by the API and the admin.

Who sees which returns (another principal's return is 404, not 403):

- merchandiser: every return;
- customer: returns of their own orders;
- storefront: returns of the orders it may read (``orders.selectors.visible_orders``);
- pos and store staff: returns to be taken or received at one of their locations, returns
  they created, and returns of orders they may read. A requested return is also found by
  its exact number (``return_for_receiving``): whoever scans a slip at a store or warehouse
  must be able to open it, wherever the customer said they would bring it.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from config.api.roles import Principal, Role
from orders import selectors as order_selectors
from orders.models import Order
from returns.errors import NotFound
from returns.models import Exchange, ExchangeLine, Refund, Return, ReturnLine, ReturnStatus

ALL_ORDERS = Principal(role=Role.MERCHANDISER, name="returns")

PREFETCH = (
    Prefetch("lines", queryset=ReturnLine.objects.order_by("id")),
    Prefetch("refunds", queryset=Refund.objects.order_by("id")),
    Prefetch(
        "exchange",
        queryset=Exchange.objects.select_related("order", "pickup_location").prefetch_related(
            Prefetch("lines", queryset=ExchangeLine.objects.order_by("id"))
        ),
    ),
)


def visible_returns(principal: Principal | None) -> QuerySet[Return]:
    returns = Return.objects.all()
    if principal is None:
        return returns.none()
    if principal.role == Role.MERCHANDISER:
        return returns
    if principal.role == Role.CUSTOMER:
        if principal.customer_id is None:
            return returns.none()
        return returns.filter(order__customer_id=principal.customer_id)
    orders = order_selectors.visible_orders(principal).values("pk")
    if principal.role == Role.STOREFRONT:
        return returns.filter(order_id__in=orders)
    if principal.role in (Role.POS, Role.STORE_STAFF):
        codes = list(principal.location_codes)
        return returns.filter(
            Q(return_location__code__in=codes)
            | Q(received_location__code__in=codes)
            | Q(created_by=principal.ident)
            | Q(order_id__in=orders)
        )
    return returns.none()


def returns(
    *,
    principal: Principal | None,
    status: str | None = None,
    order: str | None = None,
    location: str | None = None,
) -> QuerySet[Return]:
    queryset = visible_returns(principal).select_related(
        "order", "return_location", "received_location"
    )
    if status:
        queryset = queryset.filter(status=status)
    if order:
        queryset = queryset.filter(order__number=order)
    if location:
        queryset = queryset.filter(
            Q(return_location__code=location) | Q(received_location__code=location)
        )
    return queryset.prefetch_related(*PREFETCH).order_by("-created_at", "-id")


def return_by_number(number: str, *, principal: Principal | None) -> Return:
    found = returns(principal=principal).filter(number=number).first()
    if found is None and principal is not None and principal.role in (Role.POS, Role.STORE_STAFF):
        found = return_for_receiving(number)
    if found is None:
        raise NotFound(f"No return {number}.")
    return found


def return_for_receiving(number: str) -> Return | None:
    """A requested return by its exact number (the slip's code), for whoever receives it."""
    return (
        Return.objects.filter(number=number, status=ReturnStatus.REQUESTED)
        .select_related("order", "return_location", "received_location")
        .prefetch_related(*PREFETCH)
        .first()
    )


def order_for_return(number: str, *, principal: Principal) -> Order:
    """The order a return is made for. Stores take returns of any channel's order (buy
    anywhere, return anywhere), so POS terminals, store staff and merchandisers find any
    order by its number; customers and storefronts only the orders they may read (404)."""
    staff = principal.role in (Role.POS, Role.STORE_STAFF, Role.MERCHANDISER)
    return order_selectors.order_by_number(number, principal=ALL_ORDERS if staff else principal)
