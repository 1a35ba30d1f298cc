"""Shapes of the POS API (API.md, "POS"): the sale in, the order and its receipt out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.serializers import OrderSerializer
from orders.models import TenderMethod
from orders.services.pos_request import (
    MAX_LINES,
    MAX_QUANTITY,
    SaleLine,
    SaleRequest,
    TenderInput,
)

CODE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class SaleLineInSerializer(serializers.Serializer):
    sku = serializers.RegexField(CODE_REGEX, max_length=64, required=False)
    barcode = serializers.CharField(max_length=64, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = money(
        required=False, allow_null=True, min_value=0, help_text="A staff price override."
    )
    discount_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="A staff line discount.",
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    approval_code = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="A store manager's code, above POS_OVERRIDE_APPROVAL_PERCENT.",
    )


class SaleLoyaltyInSerializer(serializers.Serializer):
    card_number = serializers.CharField(max_length=32, required=False)
    redeem_points = serializers.IntegerField(min_value=1)


TENDER_HELP = "One of: " + ", ".join(TenderMethod.values) + "."


class TenderInSerializer(serializers.Serializer):
    # A plain string (checked by the service, 400 naming tenders.N.method): an enum here
    # would collide in the schema with the other ``method`` choice sets.
    method = serializers.CharField(max_length=16, help_text=TENDER_HELP)
    amount = money()
    reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Card: the terminal's reference (required). Store credit: for a guest sale, the"
            " e-mail address the credit belongs to; a customer's sale spends the customer's."
        ),
    )


class SaleInSerializer(serializers.Serializer):
    lines = SaleLineInSerializer(many=True, required=False, max_length=MAX_LINES)
    cart = serializers.CharField(
        max_length=64, required=False, allow_null=True, help_text="Sell a customer's cart."
    )
    customer = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    card_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20
    )
    loyalty = SaleLoyaltyInSerializer(required=False, allow_null=True)
    tenders = TenderInSerializer(many=True, min_length=1, max_length=20)
    occurred_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When an offline terminal made the sale."
    )
    receipt_email = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="Email the receipt here (Celery, after the sale commits).",
    )


def sale_request(data: dict[str, Any], *, store: str) -> SaleRequest:
    loyalty = data.get("loyalty") or {}
    card_number = data.get("card_number") or loyalty.get("card_number") or None
    return SaleRequest(
        store=store,
        lines=[
            SaleLine(
                quantity=line["quantity"],
                sku=line.get("sku"),
                barcode=line.get("barcode"),
                unit_price=line.get("unit_price"),
                discount_percent=line.get("discount_percent"),
                reason=line.get("reason", ""),
                approval_code=line.get("approval_code", ""),
            )
            for line in data.get("lines") or ()
        ],
        tenders=[
            TenderInput(t["method"], t["amount"], t.get("reference", "")) for t in data["tenders"]
        ],
        customer_id=data.get("customer"),
        card_number=card_number,
        coupon_codes=tuple(data.get("coupon_codes") or ()),
        redeem_points=loyalty.get("redeem_points") or 0,
        occurred_at=data.get("occurred_at"),
        cart_id=data.get("cart"),
    )


class ReceiptStoreSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReceiptDiscountSerializer(serializers.Serializer):
    promotion = serializers.IntegerField()
    name = serializers.CharField()
    amount = serializers.CharField()


class ReceiptLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = money()
    list_price = money(allow_null=True, help_text="Before a staff override.")
    override_reason = serializers.CharField()
    discounts = ReceiptDiscountSerializer(many=True)
    discount_total = money()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    tax_total = money()
    total = money()


class ReceiptTenderSerializer(serializers.Serializer):
    method = serializers.CharField(help_text=TENDER_HELP)
    amount = money()
    reference = serializers.CharField()


class ReceiptSerializer(serializers.Serializer):
    number = serializers.CharField()
    store = ReceiptStoreSerializer()
    occurred_at = serializers.DateTimeField()
    customer = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    lines = ReceiptLineSerializer(many=True)
    subtotal = money()
    discount_total = money()
    tax_total = money()
    total = money()
    coupon_codes = serializers.ListField(child=serializers.CharField())
    tenders = ReceiptTenderSerializer(many=True)
    tendered = money()
    change = money()
    points_redeemed = serializers.IntegerField()
    points_earned = serializers.IntegerField()
    points_balance = serializers.IntegerField(allow_null=True)


class SaleSerializer(OrderSerializer):
    """The order (API.md: 201 order, status ``completed``) with its receipt."""

    # A plain string: the order status enum belongs to the Order component in the schema.
    status = serializers.CharField(help_text="`completed` for a sale.")
    receipt = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "receipt"]

    @extend_schema_field(ReceiptSerializer)
    def get_receipt(self, order) -> dict:
        return self.context["receipt"]


class ReceiptEmailInSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, help_text="Default: the customer's address.")


class ReceiptEmailSerializer(serializers.Serializer):
    notification = serializers.IntegerField()
    to = serializers.EmailField()
    status = serializers.CharField()
