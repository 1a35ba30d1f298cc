"""Carts (API.md, "Carts and orders"). Thin: validate, scope to the caller, call one service
in :mod:`orders.services.carts`, answer the cart priced like a quote.

Scoping: a customer token sees and changes its own carts (and an anonymous cart whose id it
holds, to merge it); another customer's cart is 404. A storefront any cart. A POS terminal
loads customers' carts, except those bound to another store (404).
"""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.roles import Principal, Role
from orders.api import cart_serializers as s
from orders.errors import NotFound, ValidationFailed
from orders.models import Cart, CartStatus
from orders.services import carts

CART_USERS = {Role.STOREFRONT, Role.CUSTOMER, Role.POS}

CART_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The cart's id (UUID).")
SKU = OpenApiParameter("sku", str, OpenApiParameter.PATH, description="A SKU in the cart.")


def _render(cart: Cart, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.cart_data(carts.price_cart(cart)), status=code)


def _customer_for(principal: Principal, wanted: int | None) -> int | None:
    """Customers act for themselves (naming another is 404)."""
    if principal.role == Role.CUSTOMER:
        if wanted is not None and wanted != principal.customer_id:
            raise NotFound(f"No customer {wanted}.")
        return principal.customer_id
    return wanted


def _check_customers_cart(principal: Principal, *, channel: str, customer_id: int | None) -> None:
    """Opening a cart for a customer, or merging into one, reaches the customer's open cart:
    it must be one the caller may see (a POS terminal: not bound to another store), else 404
    as when it is named in the path."""
    if customer_id is None:
        return
    existing = (
        carts.carts_queryset()
        .filter(customer_id=customer_id, channel__code=channel, status=CartStatus.OPEN)
        .first()
    )
    if existing is not None and not carts.visible_to(principal, existing):
        raise NotFound(f"No cart of customer {customer_id} here.")


def _store_of(principal: Principal) -> str | None:
    return (
        next(iter(sorted(principal.location_codes)), None) if principal.role == Role.POS else None
    )


class CartListView(generics.GenericAPIView):
    read_roles = CART_USERS
    write_roles = CART_USERS
    serializer_class = s.CartSerializer
    queryset = Cart.objects.none()

    @extend_schema(
        summary="Find carts (a customer's open carts, e.g. at a POS)",
        description="Customers see their own carts. Storefronts and POS terminals filter by "
        "`customer`; a POS never sees carts bound to another store. Open carts unless "
        "`status` says otherwise.",
        parameters=[
            OpenApiParameter("customer", int),
            OpenApiParameter("channel", str),
            OpenApiParameter("status", str, enum=CartStatus.values),
        ],
        responses=s.CartSerializer(many=True),
    )
    def get(self, request):
        principal: Principal = request.user
        params = request.query_params
        raw = params.get("customer")
        try:
            customer = int(raw) if raw else None
        except ValueError:
            raise ValidationFailed.field("customer", "A customer id.") from None
        status_ = params.get("status") or CartStatus.OPEN
        if status_ not in CartStatus.values:
            raise ValidationFailed.field("status", f"One of {', '.join(CartStatus.values)}.")
        queryset = carts.carts_queryset().filter(status=status_).order_by("-updated_at", "pk")
        if principal.role == Role.CUSTOMER:
            queryset = queryset.filter(customer_id=_customer_for(principal, customer))
        elif customer is not None:
            queryset = queryset.filter(customer_id=customer)
        elif principal.role == Role.POS:
            raise ValidationFailed.field(
                "customer", "A POS looks carts up by customer.", "required"
            )
        if params.get("channel"):
            queryset = queryset.filter(channel__code=params["channel"])
        if principal.role == Role.POS:
            queryset = queryset.filter(
                Q(location__isnull=True) | Q(location__code__in=principal.location_codes)
            )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response([s.cart_data(carts.price_cart(cart)) for cart in page])

    @extend_schema(
        summary="Open a cart (a customer's open cart is answered when there is one)",
        description="A customer has one open cart per channel, the same on every device: "
        "opening one while it exists answers it (200); a new cart is 201. Without "
        "`customer` the cart is anonymous: keep its id, and merge it on sign-in.",
        request=s.CartInSerializer,
        responses={201: s.CartSerializer, 200: s.CartSerializer},
    )
    def post(self, request):
        principal: Principal = request.user
        serializer = s.CartInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _customer_for(principal, data.get("customer"))
        _check_customers_cart(principal, channel=data["channel"], customer_id=customer)
        cart, created = carts.open_cart(
            channel=data["channel"],
            customer_id=customer,
            location=_store_of(principal) or data.get("location"),
            actor=principal.ident,
        )
        if data.get("coupon_codes"):
            carts.update_cart(cart=cart, coupon_codes=data["coupon_codes"])
        return _render(cart, code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CartDetailView(APIView):
    read_roles = CART_USERS
    write_roles = CART_USERS

    @extend_schema(
        summary="A cart, priced like a quote, with availability per line",
        parameters=[CART_ID],
        responses=s.CartSerializer,
    )
    def get(self, request, id):
        return _render(carts.cart_for(request.user, id))

    @extend_schema(
        summary="Change a cart's coupon codes or chosen pickup store",
        parameters=[CART_ID],
        request=s.CartPatchSerializer,
        responses=s.CartSerializer,
    )
    def patch(self, request, id):
        cart = carts.cart_for(request.user, id)
        serializer = s.CartPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        location = data.get("location")
        if request.user.role == Role.POS and "location" in data:
            location = _store_of(request.user)
        carts.update_cart(
            cart=cart,
            coupon_codes=data.get("coupon_codes"),
            location=location,
            clear_location="location" in data and location is None,
        )
        return _render(carts.cart_by_id(cart.pk))


class CartLinesView(APIView):
    write_roles = CART_USERS

    @extend_schema(
        summary="Add units of a SKU to a cart (added to its line when it is there)",
        parameters=[CART_ID],
        request=s.CartLineInSerializer,
        responses={201: s.CartSerializer},
    )
    def post(self, request, id):
        cart = carts.cart_for(request.user, id)
        serializer = s.CartLineInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        carts.add_line(cart=cart, **serializer.validated_data)
        return _render(carts.cart_by_id(cart.pk), code=status.HTTP_201_CREATED)


class CartLineDetailView(APIView):
    write_roles = CART_USERS

    @extend_schema(
        summary="Set the quantity of a cart line",
        parameters=[CART_ID, SKU],
        # A plain schema, not the serializer: spectacular makes every field of a PATCH
        # serializer optional, but this view needs the quantity.
        request={
            "application/json": {
                "type": "object",
                "properties": {
                    "quantity": {"type": "integer", "minimum": 1, "maximum": s.MAX_QUANTITY}
                },
                "required": ["quantity"],
            }
        },
        responses=s.CartSerializer,
    )
    def patch(self, request, id, sku):
        cart = carts.cart_for(request.user, id)
        serializer = s.CartLineQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        carts.set_line_quantity(cart=cart, sku=sku, quantity=serializer.validated_data["quantity"])
        return _render(carts.cart_by_id(cart.pk))

    @extend_schema(
        summary="Remove a line from a cart",
        parameters=[CART_ID, SKU],
        request=None,
        responses={200: s.CartSerializer},  # the cart as it is now, not a bare 204
    )
    def delete(self, request, id, sku):
        cart = carts.cart_for(request.user, id)
        carts.remove_line(cart=cart, sku=sku)
        return _render(carts.cart_by_id(cart.pk))


class CartMergeView(APIView):
    write_roles = CART_USERS

    @extend_schema(
        summary="Sign-in: merge an anonymous cart into the customer's open cart",
        description="Quantities are added; coupon codes joined; the anonymous cart is closed "
        "(`merged`). A customer token merges into its own cart; storefront and POS name "
        "`customer`. Answers the customer's cart; repeating the merge answers it again.",
        parameters=[CART_ID],
        request=s.CartMergeSerializer,
        responses={200: s.CartSerializer, 404: OpenApiResponse(description="No such cart.")},
    )
    def post(self, request, id):
        principal: Principal = request.user
        serializer = s.CartMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = _customer_for(principal, serializer.validated_data.get("customer"))
        if customer is None:
            raise ValidationFailed.field("customer", "Name the customer signing in.", "required")
        cart = carts.cart_for(principal, id)  # merged or not: another store's cart is 404
        _check_customers_cart(principal, channel=cart.channel.code, customer_id=customer)
        merged = carts.merge_cart(cart=cart, customer_id=customer, actor=principal.ident)
        return _render(merged)
