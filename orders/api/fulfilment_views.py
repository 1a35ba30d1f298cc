"""Fulfilment work (API.md, "Carts and orders"): list, read, pick, ready, collect, ship.

Store staff and POS terminals work only at their own locations (another location's
fulfilment is 404); merchandisers everywhere. Storefronts and customers follow fulfilments
through their orders. Thin: validate, scope with :mod:`orders.fulfilment_selectors`, call one
service from :mod:`orders.services`, render. No response here carries ``pickup_code``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import principal_of
from config.api.roles import Role
from orders import fulfilment_selectors as selectors
from orders.api import fulfilment_serializers as s
from orders.errors import ValidationFailed
from orders.models import Fulfilment, FulfilmentMethod, FulfilmentStatus
from orders.services.fulfilment import PickedLine, record_pick, start_picking
from orders.services.fulfilment import mark_ready as mark_ready_service
from orders.services.handover import collect, ship

FULFILMENT_WORKERS = {Role.MERCHANDISER, Role.STORE_STAFF, Role.POS}

CONFLICTS = {
    404: OpenApiResponse(description="No such fulfilment at the caller's locations."),
    409: OpenApiResponse(description="`invalid_state`: the fulfilment's state forbids it."),
}


def _render(request, fulfilment_id: int) -> Response:
    fulfilment = selectors.fulfilment_by_id(fulfilment_id, principal=principal_of(request))
    return Response(s.StaffFulfilmentSerializer(fulfilment).data)


class FulfilmentListView(generics.GenericAPIView):
    read_roles = FULFILMENT_WORKERS
    serializer_class = s.StaffFulfilmentSerializer
    queryset = Fulfilment.objects.none()  # for the schema; reads go through the selectors

    @extend_schema(
        summary="Fulfilments to work on (staff and POS: their own locations)",
        description="Oldest first: the pick list. Store staff and POS terminals see their "
        "own locations only; merchandisers every location. Never shows pickup codes.",
        parameters=[
            OpenApiParameter("location", str, description="Location code."),
            OpenApiParameter("status", str, enum=FulfilmentStatus.values),
            OpenApiParameter("method", str, enum=FulfilmentMethod.values),
            OpenApiParameter("order", str, description="Order number."),
        ],
        responses=s.StaffFulfilmentSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        status = params.get("status") or None
        if status is not None and status not in FulfilmentStatus.values:
            raise ValidationFailed.field(
                "status", f"One of {', '.join(FulfilmentStatus.values)}.", "invalid_choice"
            )
        method = params.get("method") or None
        if method is not None and method not in FulfilmentMethod.values:
            raise ValidationFailed.field(
                "method", f"One of {', '.join(FulfilmentMethod.values)}.", "invalid_choice"
            )
        queryset = selectors.fulfilments(
            principal=principal_of(request),
            location=params.get("location") or None,
            status=status,
            method=method,
            order=params.get("order") or None,
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.StaffFulfilmentSerializer(page, many=True).data)


class FulfilmentDetailView(APIView):
    read_roles = FULFILMENT_WORKERS

    @extend_schema(
        summary="One fulfilment",
        responses={200: s.StaffFulfilmentSerializer, 404: CONFLICTS[404]},
    )
    def get(self, request, fulfilment_id: int):
        return _render(request, fulfilment_id)


class FulfilmentPickView(APIView):
    write_roles = FULFILMENT_WORKERS

    @extend_schema(
        summary="Pick: say what was found (starts picking)",
        description="`lines` lists every SKU of the fulfilment with the units found. Units "
        "not found are recorded in the stock ledger as an adjustment at this location; for a "
        "ship fulfilment they are planned again at other locations (new fulfilments, see "
        "`rerouted_to`), and whatever no location has is cancelled and refunded. A pickup's "
        "missing units are cancelled and refunded (the customer collects the rest here). "
        "Without `lines` the call only starts picking. 409 `invalid_state` once the pick is "
        "recorded or the fulfilment is past picking.",
        request=s.PickInSerializer,
        responses={200: s.StaffFulfilmentSerializer, **CONFLICTS},
    )
    def post(self, request, fulfilment_id: int):
        principal = principal_of(request)
        selectors.fulfilment_by_id(fulfilment_id, principal=principal)
        serializer = s.PickInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = serializer.validated_data.get("lines")
        if lines is None:
            start_picking(fulfilment_id=fulfilment_id, actor=principal.ident)
        else:
            record_pick(
                fulfilment_id=fulfilment_id,
                lines=[PickedLine(line["sku"], line["quantity"]) for line in lines],
                actor=principal.ident,
            )
        return _render(request, fulfilment_id)


class FulfilmentReadyView(APIView):
    write_roles = FULFILMENT_WORKERS

    @extend_schema(
        summary="A picked pickup is ready at the counter",
        description="Tells the customer, with the pickup code. 409 `invalid_state` for a "
        "ship fulfilment, before the pick is recorded, or when it is not being picked.",
        request=None,
        responses={200: s.StaffFulfilmentSerializer, **CONFLICTS},
    )
    def post(self, request, fulfilment_id: int):
        principal = principal_of(request)
        selectors.fulfilment_by_id(fulfilment_id, principal=principal)
        mark_ready_service(fulfilment_id=fulfilment_id, actor=principal.ident)
        return _render(request, fulfilment_id)


class FulfilmentCollectView(APIView):
    write_roles = FULFILMENT_WORKERS

    @extend_schema(
        summary="Hand a pickup over to the customer, who shows the pickup code",
        description="Consumes the held stock (a `sale` in the ledger), captures the payment "
        "for the units and earns the customer's loyalty points. 409 `invalid_pickup_code` "
        "for a wrong code (nothing changes); 409 `invalid_state` unless it is ready for "
        "pickup.",
        request=s.CollectInSerializer,
        responses={
            200: s.StaffFulfilmentSerializer,
            404: CONFLICTS[404],
            409: OpenApiResponse(description="`invalid_pickup_code` or `invalid_state`."),
        },
    )
    def post(self, request, fulfilment_id: int):
        principal = principal_of(request)
        selectors.fulfilment_by_id(fulfilment_id, principal=principal)
        serializer = s.CollectInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        collect(
            fulfilment_id=fulfilment_id,
            pickup_code=serializer.validated_data["pickup_code"],
            actor=principal.ident,
        )
        return _render(request, fulfilment_id)


class FulfilmentShipView(APIView):
    write_roles = FULFILMENT_WORKERS

    @extend_schema(
        summary="A picked parcel leaves with a carrier",
        description="Consumes the held stock (a `sale` in the ledger), captures the payment "
        "for the units, earns loyalty points and tells the customer. 409 `invalid_state` for "
        "a pickup, before the pick is recorded, or when it is not being picked.",
        request=s.ShipInSerializer,
        responses={200: s.StaffFulfilmentSerializer, **CONFLICTS},
    )
    def post(self, request, fulfilment_id: int):
        principal = principal_of(request)
        selectors.fulfilment_by_id(fulfilment_id, principal=principal)
        serializer = s.ShipInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ship(
            fulfilment_id=fulfilment_id,
            carrier=serializer.validated_data["carrier"],
            tracking_number=serializer.validated_data["tracking_number"],
            actor=principal.ident,
        )
        return _render(request, fulfilment_id)
