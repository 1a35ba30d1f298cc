"""Returns (API.md "Returns"). Thin: validate, scope to the caller, call one service or
selector, render.

Who does what: customers and storefronts request returns online (``requested``); POS
terminals and store staff take returns at their store, received and refunded at once
(``refunded``), for orders of any channel; they, and merchandisers, receive online returns
at their locations. Merchandisers may create returns too (``requested``, as online ones).
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import principal_of
from config.api.roles import Principal, Role
from orders.api.serializers import address_input
from orders.services import PaymentInput
from orders.services.pos import TenderInput
from returns import selectors, services, slips
from returns.api import serializers as s
from returns.errors import NotFound, ValidationFailed
from returns.models import Return, ReturnStatus

READERS = {Role.MERCHANDISER, Role.STOREFRONT, Role.POS, Role.STORE_STAFF, Role.CUSTOMER}
CREATORS = READERS
RECEIVERS = {Role.MERCHANDISER, Role.POS, Role.STORE_STAFF}
AT_A_STORE = {Role.POS, Role.STORE_STAFF}

NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The return number, e.g. R-000123."
)


def _staff_location(principal: Principal, code: str | None, attr: str) -> str:
    """POS and store staff act at their own locations only (404 elsewhere); a terminal's
    store is the default."""
    if not code:
        if len(principal.location_codes) == 1:
            return next(iter(principal.location_codes))
        raise ValidationFailed.field(attr, "Name the location.", "required")
    if code not in principal.location_codes:
        raise NotFound(f"No location {code} of yours.")
    return code


class ReturnListView(generics.GenericAPIView):
    read_roles = READERS
    write_roles = CREATORS
    serializer_class = s.ReturnSerializer
    queryset = Return.objects.none()  # for the schema; reads go through returns.selectors

    @extend_schema(
        summary="List returns (each caller sees its own scope)",
        description="Customers see returns of their orders; storefronts returns of the "
        "orders they may read; POS terminals and store staff returns at their locations, "
        "those they created and those of orders they may read; merchandisers all.",
        parameters=[
            OpenApiParameter("status", str, enum=ReturnStatus.values),
            OpenApiParameter("order", str, description="An order number."),
            OpenApiParameter("location", str, description="Taken or received there."),
        ],
        responses=s.ReturnSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        status_ = params.get("status") or None
        if status_ is not None and status_ not in ReturnStatus.values:
            raise ValidationFailed.field("status", f"One of {', '.join(ReturnStatus.values)}.")
        queryset = selectors.returns(
            principal=principal_of(request),
            status=status_,
            order=params.get("order") or None,
            location=params.get("location") or None,
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ReturnSerializer(page, many=True).data)

    @extend_schema(
        summary="Return goods of an order",
        description="Accepted at any store for any channel's order. From a POS terminal or "
        "store staff the return is received at once at `return_location` (default: the "
        "terminal's store) and refunded (`refunded`); from a customer or storefront it waits "
        "(`requested`) until `POST /returns/{number}/receive/`. Refunds are what was paid for "
        "the units (after every discount, with tax), to the original tenders or store credit; "
        "points redeemed come back as points, points earned are reversed. 409 "
        "`not_returnable` names each refused line in `errors` with the reason "
        "(`outside_window`, `final_sale`, `more_than_left`); nothing is written then.\n\n"
        "**Exchanges.** `exchange.lines` asks for replacement goods. A line with `replaces` "
        "(an order line being returned) is another size or colour of the same product at "
        "the unit price paid for that line, never above its current price; any other line is "
        "at its current price. The replacement is paid from the refund first; what is left "
        "is refunded, and what it costs beyond the refund is charged: `exchange.tenders` at "
        "the till, `exchange.payment` online. At a till the replacement is handed over at "
        "once (`in_store`, a POS sale) or shipped or picked up; online it is ordered through "
        "the normal checkout and routing when the return is received, and if it can no "
        "longer be ordered then the return is refunded in full (`exchange.status` "
        "`unavailable`).",
        request=s.ReturnInSerializer,
        responses={201: s.ReturnSerializer},
    )
    def post(self, request):
        principal = principal_of(request)
        serializer = s.ReturnInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = selectors.order_for_return(data["order"], principal=principal)
        at_store = principal.role in AT_A_STORE
        location = data.get("return_location") or None
        if at_store:
            location = _staff_location(principal, location, "return_location")
        ret = services.create_return(
            order=order,
            lines=[services.ReturnLineInput(**line) for line in data["lines"]],
            return_location=location,
            refund_method=data["refund_method"],
            receive_now=at_store,
            exchange=_exchange(data.get("exchange")),
            actor=principal.ident,
        )
        ret = _reread(ret.number)
        return Response(s.ReturnSerializer(ret).data, status=status.HTTP_201_CREATED)


def _exchange(data: dict | None) -> services.ExchangeInput | None:
    if not data:
        return None
    payment = data.get("payment")
    return services.ExchangeInput(
        lines=[services.ExchangeLineInput(**line) for line in data["lines"]],
        method=data.get("method") or "",
        address=address_input(data.get("address")),
        pickup_location=data.get("pickup_location") or None,
        tenders=[TenderInput(**tender) for tender in data.get("tenders") or ()],
        payment=PaymentInput(payment["method"], payment.get("reference", "")) if payment else None,
    )


def _reread(number: str) -> Return:
    return selectors.returns(principal=selectors.ALL_ORDERS).get(number=number)


class ReturnDetailView(APIView):
    read_roles = READERS

    @extend_schema(
        summary="One return by its number", parameters=[NUMBER], responses=s.ReturnSerializer
    )
    def get(self, request, number: str):
        ret = selectors.return_by_number(number, principal=principal_of(request))
        return Response(s.ReturnSerializer(ret).data)


class ReturnReceiveView(APIView):
    write_roles = RECEIVERS

    @extend_schema(
        summary="Receive an online return at a store or warehouse",
        description="The goods go to stock at `location` (resellable ones on hand, damaged "
        "ones to the ledger as damaged), the refund is made and points are settled. `lines` "
        "may say fewer units arrived, or in another condition. 409 `invalid_state` when the "
        "return is not `requested`.",
        parameters=[NUMBER],
        request=s.ReturnReceiveInSerializer,
        responses={200: s.ReturnSerializer},
    )
    def post(self, request, number: str):
        principal = principal_of(request)
        serializer = s.ReturnReceiveInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        location = data["location"]
        allowed = None
        if principal.role in AT_A_STORE:
            location = _staff_location(principal, location, "location")
            allowed = frozenset(principal.location_codes)
        selectors.return_by_number(number, principal=principal)  # 404 outside the scope
        services.receive_return(
            number=number,
            location=location,
            lines=[services.ReceivedLineInput(**line) for line in data.get("lines", [])],
            actor=principal.ident,
            allowed_locations=allowed,
        )
        return Response(s.ReturnSerializer(_reread(number)).data)


class ReturnSlipView(APIView):
    read_roles = READERS

    @extend_schema(
        summary="The printable return slip (HTML) with the return number as a QR code",
        description="For an online return: print it, put it in the parcel or show it at a "
        "store. The QR code holds the return number; scanning it at a store or warehouse "
        "opens the return to receive.",
        parameters=[NUMBER],
        responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The slip.")},
    )
    def get(self, request, number: str):
        ret = selectors.return_by_number(number, principal=principal_of(request))
        return HttpResponse(slips.slip_html(ret), content_type="text/html; charset=utf-8")


class ReturnSlipPdfView(APIView):
    read_roles = READERS

    @extend_schema(
        summary="The return slip as a PDF (A4) with the return number as a QR code",
        parameters=[NUMBER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The slip.")
        },
    )
    def get(self, request, number: str):
        ret = selectors.return_by_number(number, principal=principal_of(request))
        response = HttpResponse(slips.slip_pdf(ret), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{ret.number}.pdf"'
        return response


class ReturnCancelView(APIView):
    write_roles = READERS

    @extend_schema(
        summary="Withdraw a requested return",
        description="Only while it is `requested` (409 `invalid_state` after); its units can "
        "be returned again.",
        parameters=[NUMBER],
        request=None,
        responses={200: s.ReturnSerializer},
    )
    def post(self, request, number: str):
        principal = principal_of(request)
        if not selectors.returns(principal=principal).filter(number=number).exists():
            raise NotFound(f"No return {number}.")
        services.cancel_return(number=number, actor=principal.ident)
        return Response(s.ReturnSerializer(_reread(number)).data)
