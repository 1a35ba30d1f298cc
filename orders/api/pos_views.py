"""POS sales and their receipts (API.md, "POS"). Thin: the store is the terminal's (a POS
token has exactly one location); another store's sale is 404; pickup codes are never shown.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.roles import Principal, Role
from orders import selectors
from orders.api import pos_serializers as s
from orders.api.views import ProblemExtrasMixin, order_context
from orders.errors import ValidationFailed
from orders.services import carts, pos, receipts

POS_ONLY = {Role.POS}
NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The sale's order number, e.g. P-000123."
)


def _store(principal: Principal) -> str:
    return next(iter(sorted(principal.location_codes)))


class PosSaleView(ProblemExtrasMixin, APIView):
    write_roles = POS_ONLY

    @extend_schema(
        summary="Record a POS sale at the terminal's store",
        description="Lines by `sku` or `barcode` (or `cart`: a customer's cart), priced by the "
        "same engine as quotes at the store's prices; `customer` or `card_number` for member "
        "prices and points; `loyalty.redeem_points` pays part with points. `tenders` must "
        "cover the total exactly; cash may overpay and the change is computed. The stock "
        "leaves the store at once and the sale is never refused for lack of recorded stock "
        "(the gap is a `discrepancy` in the ledger). `occurred_at` keeps an offline "
        "terminal's time; replay with the same `Idempotency-Key`. A line's `unit_price` or "
        "`discount_percent` is a staff override: it needs a `reason`, and above "
        "POS_OVERRIDE_APPROVAL_PERCENT a manager's `approval_code`. `receipt_email` mails the "
        "receipt.",
        request=s.SaleInSerializer,
        responses={201: s.SaleSerializer},
    )
    def post(self, request):
        principal: Principal = request.user
        serializer = s.SaleInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not data.get("lines") and not data.get("cart"):
            raise ValidationFailed.field("lines", "Send the lines sold (or a cart).", "required")
        if data.get("cart"):  # a cart bound to another store is 404 here too
            data = {**data, "cart": str(carts.cart_for(principal, data["cart"]).pk)}
        order = pos.sell(
            request=s.sale_request(data, store=_store(principal)), actor=principal.ident
        )
        if data.get("receipt_email"):
            receipts.email_receipt(order=order, to=data["receipt_email"])
        order = selectors.order_by_number(order.number, principal=principal)
        context = {**order_context(principal), "receipt": receipts.receipt_data(order)}
        return Response(
            s.SaleSerializer(order, context=context).data, status=status.HTTP_201_CREATED
        )


class ReceiptView(APIView):
    read_roles = POS_ONLY

    @extend_schema(
        summary="A POS sale's receipt (JSON)", parameters=[NUMBER], responses=s.ReceiptSerializer
    )
    def get(self, request, number):
        order = receipts.sale_for(number, store_codes=request.user.location_codes)
        return Response(receipts.receipt_data(order))


class ReceiptPrintView(APIView):
    read_roles = POS_ONLY

    @extend_schema(
        summary="A POS sale's receipt as a printable page",
        parameters=[NUMBER],
        responses={(200, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request, number):
        order = receipts.sale_for(number, store_codes=request.user.location_codes)
        html = render_to_string("orders/receipt.html", {"receipt": receipts.receipt_data(order)})
        return HttpResponse(html, content_type="text/html; charset=utf-8")


class ReceiptEmailView(APIView):
    write_roles = POS_ONLY

    @extend_schema(
        summary="Email a POS sale's receipt (sent by Celery; recorded as a notification)",
        parameters=[NUMBER],
        request=s.ReceiptEmailInSerializer,
        responses={
            202: s.ReceiptEmailSerializer,
            400: OpenApiResponse(description="No address: a guest sale names `email`."),
        },
    )
    def post(self, request, number):
        order = receipts.sale_for(number, store_codes=request.user.location_codes)
        serializer = s.ReceiptEmailInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to = serializer.validated_data.get("email") or order.email
        if not to:
            raise ValidationFailed.field("email", "Whom to send the receipt to.", "required")
        notification = receipts.email_receipt(order=order, to=to)
        return Response(
            {"notification": notification.pk, "to": notification.to, "status": notification.status},
            status=status.HTTP_202_ACCEPTED,
        )
