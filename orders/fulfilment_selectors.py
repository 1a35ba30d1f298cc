"""Reads for the fulfilment API and screens: who sees which fulfilments.

- merchandiser: every fulfilment;
- store staff and POS terminals: fulfilments at their own locations only (another
  location's fulfilment is 404, not 403, so ids cannot be probed);
- storefront and customers read fulfilments through their orders (``/orders/``), not here.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from config.api.roles import Principal, Role
from orders.errors import NotFound
from orders.models import Fulfilment, FulfilmentLine


def visible_fulfilments(principal: Principal | None) -> QuerySet[Fulfilment]:
    fulfilments = Fulfilment.objects.all()
    if principal is None:
        return fulfilments.none()
    if principal.role == Role.MERCHANDISER:
        return fulfilments
    if principal.role in (Role.STORE_STAFF, Role.POS):
        return fulfilments.filter(location__code__in=principal.location_codes)
    return fulfilments.none()


def _with_details(queryset: QuerySet[Fulfilment]) -> QuerySet[Fulfilment]:
    return queryset.select_related("order", "location").prefetch_related(
        Prefetch(
            "lines",
            queryset=FulfilmentLine.objects.select_related("order_line").order_by(
                "order_line__position"
            ),
        ),
        Prefetch(
            "reroutes",
            queryset=Fulfilment.objects.select_related("location").order_by("id"),
        ),
    )


def fulfilments(
    *,
    principal: Principal | None,
    location: str | None = None,
    status: str | None = None,
    method: str | None = None,
    order: str | None = None,
) -> QuerySet[Fulfilment]:
    """The caller's fulfilments, oldest first (the work queue), in a constant number of
    queries; filters narrow the caller's own scope."""
    queryset = visible_fulfilments(principal)
    if location:
        queryset = queryset.filter(location__code=location)
    if status:
        queryset = queryset.filter(status=status)
    if method:
        queryset = queryset.filter(method=method)
    if order:
        queryset = queryset.filter(order__number=order)
    return _with_details(queryset).order_by("created_at", "id")


def fulfilment_by_id(fulfilment_id: int, *, principal: Principal | None) -> Fulfilment:
    """One fulfilment the caller may see; 404 otherwise."""
    found = _with_details(visible_fulfilments(principal)).filter(pk=fulfilment_id).first()
    if found is None:
        raise NotFound(f"No fulfilment {fulfilment_id}.")
    return found
