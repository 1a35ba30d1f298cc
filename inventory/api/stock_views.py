"""Stock, transfers, availability and reservations (API.md, "Stock"). Thin: validate the
input, check where the caller may act, call one service or selector, render.

Scoping of location-bound callers (POS terminals, store staff):

- Reads are filtered to their own locations: another location's levels, ledger rows and
  transfers are simply not there (lists leave them out, detail answers 404).
- A write naming a location the caller may not act at answers 404 ``not_found`` with the
  field in ``errors`` (DESIGN.md: another principal's object is 404, not 403). The check
  comes before the location is looked up, so an unknown location is 404 for them too and the
  answer says nothing about which codes exist. For everyone else an unknown SKU or location
  in a body is 400 (API.md).
- A 403 ``permission_denied`` is only for what the role may not do anywhere (a storefront
  recording a movement, store staff changing safety stock, receiving a transfer one can see
  because one sent it but that is bound for another location).
"""

from __future__ import annotations

import re
from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import RoleForbidden
from config.api.params import bool_param
from config.api.permissions import PUBLIC, principal_of
from config.api.roles import Principal, Role
from inventory import selectors, services
from inventory.api import stock_serializers as s
from inventory.api.views import _choice_param
from inventory.errors import InvalidState, NotFound, ValidationFailed
from inventory.geo import parse_point
from inventory.models import MovementKind, Reservation, StockLevel, Transfer

MAX_AVAILABILITY_SKUS = 100

STOCK_READERS = {Role.MERCHANDISER, Role.STOREFRONT, Role.POS, Role.STORE_STAFF}
STOCK_KEEPERS = {Role.MERCHANDISER, Role.POS, Role.STORE_STAFF}
RESERVERS = {Role.MERCHANDISER, Role.STOREFRONT, Role.POS}
ID_REGEX = r"[0-9]{1,18}"  # fits a bigint: a longer id is a 404 from the router
CODE = re.compile(s.CODE_REGEX)


def is_code(value: str) -> bool:
    return len(value) <= 64 and CODE.fullmatch(value) is not None


def code_param(request, name: str) -> str | None:
    """A SKU or location code filter. Checked, because a stray byte (NUL) that reached
    PostgreSQL would be a 500; a well-formed unknown code simply matches nothing."""
    value = request.query_params.get(name) or None
    if value is not None and not is_code(value):
        raise ValidationFailed.field(name, "Letters, digits, '-', '_' and '.' only.")
    return value


def location_scope(request) -> frozenset[str] | None:
    """The location codes a location-bound caller is limited to; None: everywhere."""
    principal = principal_of(request)
    if principal is None or not principal.is_location_bound:
        return None
    return principal.location_codes


def ensure_may_act_at(request, code: str, attr: str) -> None:
    """404 for a location outside the caller's scope (see the module docstring)."""
    principal = principal_of(request)
    if principal is not None and not principal.may_act_at(code):
        detail = f"No location {code!r} that you may act at."
        raise NotFound(detail, errors=[{"attr": attr, "code": "not_found", "detail": detail}])


def entry_for(request, data) -> services.Entry:
    return services.Entry(
        reason=data.get("reason", ""),
        reference=data.get("reference", ""),
        actor=str(request.user),
    )


def level_row(*, sku: str, location: str) -> StockLevel:
    """The level as the list shows it (with ``available``), after a write."""
    return selectors.stock_levels(sku=sku, location=location).get()


# --- Levels ---------------------------------------------------------------------------------


@extend_schema(
    summary="Stock levels",
    description=(
        "POS terminals and store staff see their own locations only. "
        "`below_reorder_point=true` lists levels whose available is at or below a reorder "
        "point above zero."
    ),
    parameters=[
        OpenApiParameter("sku", str),
        OpenApiParameter("location", str, description="Location code."),
        OpenApiParameter("below_reorder_point", bool),
    ],
)
class StockLevelListView(generics.ListAPIView):
    read_roles = STOCK_READERS
    serializer_class = s.StockLevelSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.stock_levels(
            sku=code_param(self.request, "sku"),
            location=code_param(self.request, "location"),
            below_reorder_point=bool_param(self.request, "below_reorder_point"),
            location_codes=location_scope(self.request),
        )


class StockLevelUpdateView(APIView):
    """Planning numbers of one level. Merchandisers set both; store staff may set the
    reorder point of their own locations (they know what runs low), but not safety stock,
    which holds units back from every channel's promise and is the merchandiser's call."""

    roles_by_method = {"PATCH": {Role.MERCHANDISER, Role.STORE_STAFF}}
    http_method_names = ["patch", "options"]

    @extend_schema(
        summary="Set safety stock and/or reorder point of a level",
        request=s.StockLevelUpdateInSerializer,
        responses={200: s.StockLevelSerializer},
    )
    def patch(self, request):
        serializer = s.StockLevelUpdateInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if request.user.role == Role.STORE_STAFF and "safety_stock" in data:
            raise RoleForbidden("Store staff may set the reorder point, not safety stock.")
        ensure_may_act_at(request, data["location"], "location")
        services.set_stock_parameters(**data)
        level = level_row(sku=data["sku"], location=data["location"])
        return Response(s.StockLevelSerializer(level).data)


# --- Movements ------------------------------------------------------------------------------


class MovementListCreateView(generics.GenericAPIView):
    """The stock ledger, and the manual movements: receipt, adjustment, count, damage."""

    read_roles = STOCK_KEEPERS
    write_roles = STOCK_KEEPERS
    serializer_class = s.MovementSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.movements(
            sku=code_param(self.request, "sku"),
            location=code_param(self.request, "location"),
            kind=_choice_param(self.request, "kind", MovementKind.values),
            location_codes=location_scope(self.request),
        )

    @extend_schema(
        summary="The stock ledger, newest first",
        parameters=[
            OpenApiParameter("sku", str),
            OpenApiParameter("location", str),
            OpenApiParameter("kind", str, enum=MovementKind.values),
        ],
        responses=s.MovementSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.MovementSerializer(page, many=True).data)

    @extend_schema(
        summary="Record a receipt, adjustment, count or damage",
        description=(
            "Answers the resulting level with the ledger row written. POS terminals and "
            "store staff record at their own locations only (another location: 404). Taking "
            "more than is on hand is 409 `insufficient_stock`."
        ),
        request=s.MovementInSerializer,
        responses={201: s.MovementResultSerializer},
    )
    def post(self, request):
        serializer = s.MovementInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_may_act_at(request, data["location"], "location")
        movement = services.record_movement(
            kind=data["kind"],
            sku=data["sku"],
            location=data["location"],
            quantity=data["quantity"],
            entry=entry_for(request, data),
        )
        level = level_row(sku=data["sku"], location=data["location"])
        body = s.MovementResultSerializer(level, context={"movement": movement}).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- Transfers ------------------------------------------------------------------------------


class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """POS terminals and store staff see transfers from or to their locations, dispatch
    from their own locations only and receive at their own locations only."""

    read_roles = STOCK_KEEPERS
    write_roles = STOCK_KEEPERS
    queryset = Transfer.objects.none()  # tells the schema the id is an integer
    serializer_class = s.TransferSerializer
    filter_backends = []
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return selectors.transfers(
            location_codes=location_scope(self.request),
            sku=code_param(self.request, "sku"),
            status=_choice_param(self.request, "status", Transfer.Status.values),
        )

    def get_object(self):
        return selectors.transfer_by_id(
            int(self.kwargs["pk"]), location_codes=location_scope(self.request)
        )

    @extend_schema(
        summary="Transfers, newest first",
        parameters=[
            OpenApiParameter("sku", str),
            OpenApiParameter("status", str, enum=Transfer.Status.values),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One transfer")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Dispatch units from one location to another",
        description=(
            "The units leave the source's on hand now (only units nobody holds) and show as "
            "`in_transit` at the destination until received."
        ),
        request=s.TransferInSerializer,
        responses={201: s.TransferSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = s.TransferInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_may_act_at(request, data["from_location"], "from_location")
        transfer = services.dispatch_transfer(
            sku=data["sku"],
            from_location=data["from_location"],
            to_location=data["to_location"],
            quantity=data["quantity"],
            entry=entry_for(request, data),
        )
        body = s.TransferSerializer(selectors.transfer_by_id(transfer.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Receive a transfer at its destination",
        description="Receiving it twice is 409 `invalid_state`.",
        request=None,
        responses={200: s.TransferSerializer},
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        transfer = self.get_object()
        if not request.user.may_act_at(transfer.to_location.code):
            raise RoleForbidden("A transfer is received at its destination, by its staff.")
        services.receive_transfer(
            transfer_id=transfer.pk, entry=services.Entry(actor=str(request.user))
        )
        return Response(s.TransferSerializer(selectors.transfer_by_id(transfer.pk)).data)


# --- Availability ---------------------------------------------------------------------------


class AvailabilityView(APIView):
    """Network and per-location available-to-promise, in a constant number of queries.

    Unknown and inactive SKUs are left out of ``results``; a known SKU with nothing to
    promise is listed with ``available: 0`` and no locations. A POS terminal always gets
    the ``pos`` channel at its own store, whatever ``channel`` says.
    """

    read_roles = PUBLIC

    @extend_schema(
        summary="Available to promise, per SKU and per location",
        parameters=[
            OpenApiParameter(
                "sku",
                str,
                many=True,
                required=True,
                explode=True,
                description=(
                    f"Repeat it (`?sku=A&sku=B`) or separate with commas; at most "
                    f"{MAX_AVAILABILITY_SKUS} distinct SKUs."
                ),
            ),
            OpenApiParameter(
                "channel", str, description="Channel code; locations that ship or offer pickup."
            ),
            OpenApiParameter(
                "near", str, description="LAT,LNG: locations nearest first, with distance_km."
            ),
            OpenApiParameter(
                "max_locations",
                int,
                description=(
                    "List at most this many locations per SKU (the nearest with `near`); "
                    "`available` still counts the whole network."
                ),
            ),
        ],
        responses={200: s.AvailabilitySerializer},
    )
    def get(self, request):
        skus = self.requested_skus(request)
        near = self.near(request)
        principal = principal_of(request)
        location_codes = None
        if principal is not None and principal.role == Role.POS:
            channel = self.channel("pos")
            location_codes = principal.location_codes
        else:
            code = request.query_params.get("channel") or None
            channel = self.channel(code) if code else None
        results = selectors.available_to_promise(
            skus=skus,
            channel=channel,
            near=near,
            location_codes=location_codes,
            max_locations=self.max_locations(request),
        )
        # Plain dicts: thousands of location entries are too many for serializer fields.
        return Response({"results": [asdict(result) for result in results]})

    @staticmethod
    def max_locations(request) -> int | None:
        value = request.query_params.get("max_locations")
        if value in (None, ""):
            return None
        if not value.isdigit() or not 1 <= int(value) <= 10_000:
            raise ValidationFailed.field("max_locations", "A whole number from 1 to 10000.")
        return int(value)

    @staticmethod
    def requested_skus(request) -> list[str]:
        skus: dict[str, None] = {}  # distinct, in the order asked
        for value in request.query_params.getlist("sku"):
            for code in filter(None, (part.strip() for part in value.split(","))):
                if not is_code(code):
                    raise ValidationFailed.field("sku", f"{code[:64]!r} is not a SKU code.")
                skus[code] = None
        if not skus:
            raise ValidationFailed.field("sku", "Give at least one sku.", code="required")
        if len(skus) > MAX_AVAILABILITY_SKUS:
            raise ValidationFailed.field(
                "sku", f"At most {MAX_AVAILABILITY_SKUS} SKUs per request.", code="max_length"
            )
        return list(skus)

    @staticmethod
    def near(request) -> tuple[float, float] | None:
        value = request.query_params.get("near")
        if not value:
            return None
        try:
            return parse_point(value)
        except ValueError as exc:
            raise ValidationFailed.field("near", str(exc)) from exc

    @staticmethod
    def channel(code: str):
        channel = selectors.channels().filter(code=code).first()
        if channel is None:
            raise ValidationFailed.field(
                "channel", f"Unknown channel {code!r}.", code="unknown_channel"
            )
        return channel


# --- Reservations ---------------------------------------------------------------------------


class ReservationViewSet(viewsets.GenericViewSet):
    """Holds for carts and checkouts. A reservation belongs to the caller that made it:
    another caller's is 404 (merchandisers see all). POS terminals hold at their own store
    only."""

    read_roles = RESERVERS
    write_roles = RESERVERS
    queryset = Reservation.objects.none()  # tells the schema the id is an integer
    serializer_class = s.ReservationSerializer
    lookup_value_regex = ID_REGEX

    def get_object(self) -> Reservation:
        principal: Principal = self.request.user
        owner = None if principal.role == Role.MERCHANDISER else principal.ident
        return selectors.reservation_by_id(int(self.kwargs["pk"]), owner=owner)

    @extend_schema(
        summary="Hold stock for a channel",
        description=(
            "All lines or none: 409 `insufficient_stock` names each short line in `errors` "
            "(`lines.N.quantity`)."
        ),
        request=s.ReservationInSerializer,
        responses={201: s.ReservationSerializer},
    )
    def create(self, request):
        serializer = s.ReservationInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        for index, line in enumerate(data["lines"]):
            ensure_may_act_at(request, line["location"], f"lines.{index}.location")
        reservation = services.reserve(
            channel=data["channel"],
            lines=[services.HoldLine(**line) for line in data["lines"]],
            ttl_seconds=data["ttl_seconds"],
            reference=data["reference"] or None,
            owner=request.user.ident,
        )
        body = s.ReservationSerializer(selectors.reservation_by_id(reservation.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One reservation", responses={200: s.ReservationSerializer})
    def retrieve(self, request, pk=None):
        return Response(s.ReservationSerializer(self.get_object()).data)

    @extend_schema(
        summary="Release a reservation",
        description=(
            "Idempotent: releasing a released or expired reservation answers 204 again. A "
            "consumed one (the goods were handed over) is 409 `invalid_state`."
        ),
        responses={204: OpenApiResponse(description="Released (or already released).")},
    )
    def destroy(self, request, pk=None):
        reservation = self.get_object()
        if not services.release(reservation_id=reservation.pk):
            reservation = self.get_object()
            if reservation.status == Reservation.Status.CONSUMED:
                raise InvalidState(f"Reservation {reservation.pk} was handed over.")
        return Response(status=status.HTTP_204_NO_CONTENT)
