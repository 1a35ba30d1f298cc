"""Catalog, channels and locations. Thin: validate, call a service or selector, render."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.api.params import bool_param
from config.api.permissions import PUBLIC
from config.api.roles import Role
from inventory import selectors, services
from inventory.api import serializers as s
from inventory.geo import parse_point

MERCHANDISER_ONLY = {Role.MERCHANDISER}


def _choice_param(request, name: str, choices) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in choices:
        raise ValidationError({name: [f"Must be one of: {', '.join(choices)}."]})
    return value


class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    read_roles = PUBLIC
    write_roles = MERCHANDISER_ONLY
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action == "partial_update" and hasattr(self, "update_serializer_class"):
            return self.update_serializer_class
        return self.serializer_class

    def respond(self, instance, status_code=status.HTTP_200_OK):
        return Response(self.serializer_class(instance).data, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="List categories"),
    create=extend_schema(summary="Create a category (merchandiser)"),
)
class CategoryViewSet(CatalogViewSet):
    serializer_class = s.CategorySerializer
    update_serializer_class = s.CategoryUpdateSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    def get_queryset(self):
        return selectors.categories()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.create_category(**serializer.validated_data)
        return self.respond(category, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        category = services.update_category(
            category=serializer.instance, **serializer.validated_data
        )
        return self.respond(category)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="List products with their SKUs",
        parameters=[
            OpenApiParameter("search", str, description="Name, description, SKU or barcode."),
            OpenApiParameter(
                "category", str, description="Category code; subcategories match too."
            ),
            OpenApiParameter("active", bool),
        ],
    ),
    create=extend_schema(
        summary="Create a product with its SKUs (merchandiser)", request=s.ProductInSerializer
    ),
    partial_update=extend_schema(
        summary="Change a product; SKUs given are added or updated by code",
        request=s.ProductInSerializer,
    ),
)
class ProductViewSet(CatalogViewSet):
    serializer_class = s.ProductSerializer

    def get_queryset(self):
        if self.action != "list":
            return selectors.products()
        return selectors.products(
            search=self.request.query_params.get("search") or None,
            category_code=self.request.query_params.get("category") or None,
            active=bool_param(self.request, "active"),
        )

    def get_object(self):
        if not self.kwargs["pk"].isdigit():
            from rest_framework.exceptions import NotFound

            raise NotFound()
        return super().get_object()

    def create(self, request, *args, **kwargs):
        serializer = s.ProductInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_product(**serializer.validated_data)
        return self.respond(selectors.products().get(pk=product.pk), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = s.ProductInSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_product(product=product, **serializer.validated_data)
        return self.respond(selectors.products().get(pk=product.pk))

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="List SKUs; POS terminals look up a scanned barcode here",
        parameters=[OpenApiParameter("barcode", str), OpenApiParameter("active", bool)],
    ),
    retrieve=extend_schema(summary="One SKU by its code"),
)
class SKUViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    read_roles = PUBLIC
    serializer_class = s.SKUDetailSerializer
    lookup_field = "sku"
    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    def get_queryset(self):
        return selectors.skus(
            barcode=self.request.query_params.get("barcode") or None,
            active=bool_param(self.request, "active"),
        ).order_by("sku")


@extend_schema_view(
    list=extend_schema(summary="List channels"),
    create=extend_schema(summary="Create a channel (merchandiser)"),
)
class ChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    read_roles = PUBLIC
    write_roles = MERCHANDISER_ONLY
    serializer_class = s.ChannelSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    def get_queryset(self):
        return selectors.channels()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel = services.create_channel(**serializer.validated_data)
        return Response(self.get_serializer(channel).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List locations, nearest first with ?near=LAT,LNG",
        parameters=[
            OpenApiParameter(
                "near", str, description="LAT,LNG: sort by distance and add distance_km."
            ),
            OpenApiParameter("type", str, enum=["store", "warehouse"]),
            OpenApiParameter("pickup_enabled", bool),
            OpenApiParameter("ship_enabled", bool),
        ],
    ),
    create=extend_schema(summary="Create a location (merchandiser)"),
    partial_update=extend_schema(summary="Change a location (merchandiser)"),
)
class LocationViewSet(CatalogViewSet):
    serializer_class = s.LocationSerializer
    update_serializer_class = s.LocationUpdateSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    def get_queryset(self):
        if self.action != "list":
            return selectors.locations()
        return selectors.locations(
            type=_choice_param(self.request, "type", ["store", "warehouse"]),
            pickup_enabled=bool_param(self.request, "pickup_enabled"),
            ship_enabled=bool_param(self.request, "ship_enabled"),
        )

    def list(self, request, *args, **kwargs):
        near = request.query_params.get("near")
        if not near:
            return super().list(request, *args, **kwargs)
        try:
            lat, lng = parse_point(near)
        except ValueError as exc:
            raise ValidationError({"near": [str(exc)]}) from exc
        rows = selectors.sort_by_distance(self.get_queryset(), lat=lat, lng=lng)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        location = services.create_location(**serializer.validated_data)
        return self.respond(location, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        location = self.get_object()
        serializer = self.get_serializer(location, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        location = services.update_location(location=location, **serializer.validated_data)
        return self.respond(location)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)
