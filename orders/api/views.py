"""Orders and routing plans (API.md, "Carts and orders"). Thin: validate the input, scope it
to the caller, call one service or selector, render.

Scoping: a customer orders and reads only for itself (naming another customer is 404); a
storefront orders for guests and any customer it names; a POS terminal orders for its
store's customers at its store's prices (endless aisle). Who reads which orders is said in
:mod:`orders.selectors`. ``pickup_code`` is shown to the customer and the storefront only.
"""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import exception_handler as problem_handler
from config.api.permissions import principal_of
from config.api.roles import Principal, Role
from inventory import selectors as inventory_selectors
from orders import selectors, services
from orders.api import serializers as s
from orders.errors import NotFound, ValidationFailed
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import carts

ORDER_READERS = {Role.MERCHANDISER, Role.STOREFRONT, Role.POS, Role.STORE_STAFF, Role.CUSTOMER}
ORDER_PLACERS = {Role.STOREFRONT, Role.CUSTOMER, Role.POS}
ORDER_CANCELLERS = {Role.MERCHANDISER, Role.STOREFRONT, Role.POS, Role.CUSTOMER}
PLANNERS = {Role.MERCHANDISER, Role.STOREFRONT, Role.POS}
PICKUP_CODE_READERS = {Role.CUSTOMER, Role.STOREFRONT}


def with_extra_members(exc, context):
    """The problem+json handler, plus the extension members a domain error carries in
    ``extra`` (RFC 9457 allows them): ``alternatives`` for a pickup store that lacks
    something, ``total`` for ``price_changed``."""
    response = problem_handler(exc, context)
    extra = getattr(exc, "extra", None)
    if response is not None and extra:
        response.data = {**response.data, **extra}
    return response


class ProblemExtrasMixin:
    def get_exception_handler(self):
        return with_extra_members


def order_context(principal: Principal | None) -> dict[str, Any]:
    return {"show_pickup_code": principal is not None and principal.role in PICKUP_CODE_READERS}


def scoped_request(request, data: dict[str, Any]) -> services.OrderRequest:
    """The order as the caller may place it: customers for themselves, POS at its store."""
    principal: Principal = request.user
    overrides: dict[str, Any] = {}
    if data.get("cart") is not None:
        overrides["cart_id"] = str(carts.cart_for(principal, data["cart"]).pk)
    elif not data.get("lines"):
        raise ValidationFailed.field("lines", "Send the lines to order.", "required")
    if principal.role == Role.CUSTOMER:
        wanted = data.get("customer")
        if wanted is not None and wanted != principal.customer_id:
            raise NotFound(f"No customer {wanted}.")
        overrides["customer_id"] = principal.customer_id
    if principal.role == Role.POS:
        overrides["price_location"] = next(iter(sorted(principal.location_codes)), None)
    return s.order_request(data, **overrides)


NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The order number, e.g. W-000123."
)


class OrderListView(ProblemExtrasMixin, generics.GenericAPIView):
    read_roles = ORDER_READERS
    write_roles = ORDER_PLACERS
    serializer_class = s.OrderSerializer
    queryset = Order.objects.none()  # for the schema; reads go through orders.selectors

    @extend_schema(
        summary="List orders (each caller sees its own scope)",
        description="Customers see their own orders; a storefront the orders it placed and "
        "every named customer's; POS terminals and store staff orders with a fulfilment at "
        "their locations and those they placed; merchandisers all. Newest first.",
        parameters=[
            OpenApiParameter("status", str, enum=OrderStatus.values),
            OpenApiParameter("channel", str),
            OpenApiParameter("customer", int),
            OpenApiParameter("email", str),
            OpenApiParameter("location", str, description="Orders with a fulfilment there."),
            OpenApiParameter("created_after", str, description="ISO 8601 datetime."),
            OpenApiParameter("created_before", str, description="ISO 8601 datetime."),
        ],
        responses=s.OrderSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        status_ = params.get("status") or None
        if status_ is not None and status_ not in OrderStatus.values:
            raise ValidationFailed.field("status", f"One of {', '.join(OrderStatus.values)}.")
        queryset = selectors.orders(
            principal=principal_of(request),
            status=status_,
            channel=params.get("channel") or None,
            customer_id=_int_param(params, "customer"),
            email=params.get("email") or None,
            location=params.get("location") or None,
            created_after=_datetime_param(params, "created_after"),
            created_before=_datetime_param(params, "created_before"),
        )
        page = self.paginate_queryset(queryset)
        context = order_context(principal_of(request))
        return self.get_paginated_response(s.OrderSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="Place an order (storefront, customer; POS for endless aisle)",
        description="Prices the lines (coupons, loyalty points), plans the fulfilment over "
        "the network (ship) or at the chosen store (pickup), and reserves the stock, all or "
        "nothing. 409 `insufficient_stock` names the lines (`lines.N.quantity`); for pickup "
        "the problem adds `alternatives`, the nearest stores that have everything. 409 "
        "`price_changed` when `expected_total` differs (the problem adds `total`). `cart` (an "
        "open cart's id) orders the cart's lines instead of `lines` and closes the cart.",
        request=s.OrderInSerializer,
        responses={201: s.OrderSerializer},
    )
    def post(self, request):
        serializer = s.OrderInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.place_order(
            request=scoped_request(request, serializer.validated_data), actor=request.user.ident
        )
        principal = principal_of(request)
        order = selectors.order_by_number(order.number, principal=principal)
        return Response(
            s.OrderSerializer(order, context=order_context(principal)).data,
            status=status.HTTP_201_CREATED,
        )


def _int_param(params, name: str) -> int | None:
    value = params.get(name)
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationFailed.field(name, "A whole number.")
    return int(value)


def _datetime_param(params, name: str):
    value = params.get(name)
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed.field(name, "An ISO 8601 datetime with an offset.")
    return parsed


class OrderDetailView(APIView):
    read_roles = ORDER_READERS

    @extend_schema(
        summary="One order by its number", parameters=[NUMBER], responses=s.OrderSerializer
    )
    def get(self, request, number: str):
        principal = principal_of(request)
        order = selectors.order_by_number(number, principal=principal)
        return Response(s.OrderSerializer(order, context=order_context(principal)).data)


class OrderCancelView(APIView):
    write_roles = ORDER_CANCELLERS

    @extend_schema(
        summary="Cancel a whole order while nothing is handed over",
        parameters=[NUMBER],
        description="Releases the stock, gives back coupon use and redeemed points, voids "
        "the payment and tells the customer. 409 `invalid_state` once something was "
        "collected, shipped or returned, or when it is cancelled already.",
        request=s.OrderCancelInSerializer,
        responses={200: s.OrderSerializer},
    )
    def post(self, request, number: str):
        principal = principal_of(request)
        serializer = s.OrderCancelInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = selectors.order_by_number(number, principal=principal)
        services.cancel_order(
            order=order, reason=serializer.validated_data["reason"], actor=principal.ident
        )
        order = selectors.order_by_number(number, principal=principal)
        return Response(s.OrderSerializer(order, context=order_context(principal)).data)


class OrderEventsView(generics.GenericAPIView):
    read_roles = ORDER_READERS
    serializer_class = s.OrderEventSerializer
    queryset = OrderEvent.objects.none()  # for the schema; reads go through orders.selectors

    @extend_schema(
        summary="The order's history: what happened, who did it and when (oldest first)",
        parameters=[NUMBER],
        responses=s.OrderEventSerializer(many=True),
    )
    def get(self, request, number: str):
        order = selectors.order_by_number(number, principal=principal_of(request))
        page = self.paginate_queryset(selectors.order_events(order))
        return self.get_paginated_response(s.OrderEventSerializer(page, many=True).data)


class RoutingPlanView(ProblemExtrasMixin, APIView):
    write_roles = PLANNERS

    @extend_schema(
        summary="Plan an order without placing it (a dry run of the DOM)",
        description="The same body as an order; reserves nothing. Says which locations would "
        "serve which lines, at what cost, and why each candidate was chosen or rejected. "
        "`email` and the address lines are not needed here, only the coordinates.",
        request=s.OrderInSerializer,
        responses={
            200: s.RoutingPlanSerializer,
            400: OpenApiResponse(description="Invalid input."),
        },
    )
    def post(self, request):
        serializer = s.OrderInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_request = scoped_request(request, serializer.validated_data)
        checked = services.check_request(order_request, for_plan=True)
        _check_skus(order_request)
        return Response(s.plan_data(services.plan(order_request, checked)))


def _check_skus(order_request: services.OrderRequest) -> None:
    """Unknown SKUs are 400 here too (the planner would just find no stock for them)."""
    skus = [line.sku for line in order_request.lines]
    known = set(inventory_selectors.skus().filter(sku__in=skus).values_list("sku", flat=True))
    errors = [
        {"attr": f"lines.{i}.sku", "code": "unknown_sku", "detail": f"Unknown SKU {sku!r}."}
        for i, sku in enumerate(skus)
        if sku not in known
    ]
    if errors:
        raise ValidationFailed(errors[0]["detail"], errors=errors)
