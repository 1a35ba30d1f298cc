"""Price lists, promotions, coupons and quotes. Thin: validate, call a service or selector,
render."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.params import bool_param
from config.api.permissions import PUBLIC, principal_of
from config.api.roles import Role
from pricing import selectors, services
from pricing.api import serializers as s
from pricing.engine import Kind
from pricing.errors import NotFound
from pricing.services.catalog import MAX_PRICES

MERCHANDISER_ONLY = {Role.MERCHANDISER}


@extend_schema_view(
    list=extend_schema(
        summary="List price lists (merchandiser)", parameters=[OpenApiParameter("channel", str)]
    ),
    retrieve=extend_schema(summary="One price list by its code"),
    create=extend_schema(
        summary="Create a price list (merchandiser)",
        request=s.PriceListInSerializer,
        responses={201: s.PriceListSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a price list (merchandiser)",
        request=s.PriceListUpdateSerializer,
        responses=s.PriceListSerializer,
    ),
)
class PriceListViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Price lists reveal scheduled price changes, so only merchandisers read them; everyone
    else sees prices through quotes."""

    read_roles = MERCHANDISER_ONLY
    write_roles = MERCHANDISER_ONLY
    serializer_class = s.PriceListSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    def get_queryset(self):
        return selectors.price_lists(channel_code=self.request.query_params.get("channel") or None)

    def get_object(self):
        return selectors.price_list_by_code(self.kwargs["code"])

    def create(self, request, *args, **kwargs):
        serializer = s.PriceListInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        price_list = services.create_price_list(**serializer.validated_data)
        return Response(
            s.PriceListSerializer(selectors.price_list_by_code(price_list.code)).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, *args, **kwargs):
        price_list = self.get_object()
        serializer = s.PriceListUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_price_list(price_list=price_list, **serializer.validated_data)
        return Response(s.PriceListSerializer(selectors.price_list_by_code(price_list.code)).data)

    @extend_schema(
        methods=["GET"],
        summary="The prices of a price list",
        responses=s.PriceSerializer(many=True),
    )
    @extend_schema(
        methods=["PUT"],
        summary="Replace the prices of a price list (merchandiser)",
        description="The body becomes the whole list: SKUs not in it lose their price here. "
        "All or nothing; every change is kept in the price history with who and when.",
        request=s.PriceInSerializer(many=True),
        responses=s.PriceChangesSerializer,
    )
    @action(detail=True, methods=["get", "put"], url_path="prices")
    def prices(self, request, *args, **kwargs):
        price_list = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.prices(price_list=price_list))
            return self.get_paginated_response(s.PriceSerializer(page, many=True).data)
        serializer = s.PriceInSerializer(data=request.data, many=True, max_length=MAX_PRICES)
        serializer.is_valid(raise_exception=True)
        changes = services.replace_prices(
            price_list=price_list,
            prices=[services.PriceEntry(**row) for row in serializer.validated_data],
            actor=str(request.user),
        )
        return Response(s.PriceChangesSerializer(changes).data)


@extend_schema_view(
    list=extend_schema(
        summary="List promotions (merchandiser)",
        parameters=[
            OpenApiParameter("active", bool),
            OpenApiParameter("kind", str, enum=[k.value for k in Kind]),
            OpenApiParameter("live", bool, description="Running now (true) or not (false)."),
        ],
    ),
    retrieve=extend_schema(summary="One promotion"),
    create=extend_schema(
        summary="Create a promotion (merchandiser)",
        request=s.PromotionInSerializer,
        responses={201: s.PromotionSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a promotion (merchandiser)",
        request=s.PromotionInSerializer,
        responses=s.PromotionSerializer,
    ),
)
class PromotionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    read_roles = MERCHANDISER_ONLY
    write_roles = MERCHANDISER_ONLY
    serializer_class = s.PromotionSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        kind = self.request.query_params.get("kind") or None
        if kind is not None and kind not in {k.value for k in Kind}:
            raise ValidationError({"kind": ["Unknown promotion kind."]})
        return selectors.promotions(
            active=bool_param(self.request, "active"),
            kind=kind,
            live=bool_param(self.request, "live"),
        )

    def get_object(self):
        return selectors.promotion_by_id(self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = s.PromotionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        promotion = services.create_promotion(**serializer.validated_data)
        return Response(
            s.PromotionSerializer(selectors.promotion_by_id(promotion.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, *args, **kwargs):
        promotion = self.get_object()
        serializer = s.PromotionInSerializer(promotion, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_promotion(promotion=promotion, **serializer.validated_data)
        return Response(s.PromotionSerializer(selectors.promotion_by_id(promotion.pk)).data)

    @extend_schema(
        methods=["GET"],
        summary="The coupons of a promotion",
        responses=s.CouponSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a coupon to a promotion (merchandiser)",
        request=s.CouponInSerializer,
        responses={201: s.CouponSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="coupons")
    def coupons(self, request, *args, **kwargs):
        promotion = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.coupons(promotion=promotion))
            return self.get_paginated_response(s.CouponSerializer(page, many=True).data)
        serializer = s.CouponInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = services.create_coupon(promotion=promotion, **serializer.validated_data)
        return Response(s.CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)


class QuoteView(APIView):
    """Price a cart: the same engine and the same answer as the order placed from it."""

    read_roles = PUBLIC
    write_roles = PUBLIC

    @extend_schema(
        summary="Price a cart (anyone; a customer is priced as themselves)",
        description="A customer token always quotes as that customer; a POS terminal at its "
        "own store (the default location). Naming a customer needs a token.",
        request=s.QuoteInSerializer,
        responses=s.QuoteSerializer,
    )
    def post(self, request):
        serializer = s.QuoteInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer_id, location = _scope(request, data.get("customer"), data.get("location"))
        result = services.quote(
            channel=data["channel"],
            location=location,
            customer_id=customer_id,
            lines=[services.CartItem(**line) for line in data["lines"]],
            coupon_codes=data.get("coupon_codes", ()),
        )
        return Response(s.quote_data(result))


def _scope(request, customer_id: int | None, location: str | None):
    """Who and where a caller may quote for: customers as themselves, POS terminals at their
    store; naming a customer needs a token (member prices are the member's business)."""
    principal = principal_of(request)
    if principal is None:
        if customer_id is not None:
            raise NotAuthenticated("Sign in to quote for a customer.")
        return None, location
    if principal.role == Role.CUSTOMER:
        if customer_id is not None and customer_id != principal.customer_id:
            raise NotFound(f"No customer {customer_id}.")
        customer_id = principal.customer_id
    if principal.role == Role.POS:
        if location is None and len(principal.location_codes) == 1:
            (location,) = principal.location_codes
        elif location is not None and not principal.may_act_at(location):
            raise NotFound(f"No location {location!r}.")
    return customer_id, location
