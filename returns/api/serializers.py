"""Shapes of the returns API (API.md "Returns"). Component names start with Return so they
cannot collide with other apps' serializers."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.pos_serializers import TenderInSerializer
from orders.api.serializers import OrderAddressInSerializer, OrderPaymentInSerializer
from returns.models import (
    Condition,
    Exchange,
    ExchangeStatus,
    RefundMethod,
    Return,
    ReturnStatus,
)


class ReturnLineInSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    reason = serializers.CharField(max_length=40)
    condition = serializers.ChoiceField(choices=Condition.choices, default=Condition.RESELLABLE)


class ReturnExchangeLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    replaces = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The order line this replaces with another size or colour of the same "
        "product, at the price paid. Leave out for anything else, at its current price.",
    )


class ReturnExchangeInSerializer(serializers.Serializer):
    lines = ReturnExchangeLineInSerializer(many=True, allow_empty=False, max_length=50)
    # A plain string checked by the service: an enum named ``method`` collides in the schema.
    method = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text="in_store (handed over at the till: POS and store staff only), ship or "
        "pickup. Default: in_store at a till, otherwise ship.",
    )
    address = OrderAddressInSerializer(
        required=False, allow_null=True, help_text="ship: default the order's address."
    )
    pickup_location = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        help_text="pickup: the store; default the store taking the return.",
    )
    tenders = TenderInSerializer(
        many=True,
        required=False,
        max_length=10,
        help_text="At the till: what pays the difference when the replacement costs more "
        "than the refund.",
    )
    payment = OrderPaymentInSerializer(
        required=False,
        allow_null=True,
        help_text="Online: what pays the difference, authorised when the replacement is "
        "ordered (default: the manual provider).",
    )


class ReturnInSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=32, help_text="The order number.")
    lines = ReturnLineInSerializer(many=True, allow_empty=False, max_length=200)
    return_location = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The store (or warehouse) code. POS: defaults to the terminal's store.",
    )
    refund_method = serializers.ChoiceField(
        choices=RefundMethod.choices, default=RefundMethod.ORIGINAL
    )
    exchange = ReturnExchangeInSerializer(
        required=False,
        allow_null=True,
        help_text="Replacement goods, paid first from the refund (see the description).",
    )


class ReturnReceiveLineSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, required=False)
    condition = serializers.ChoiceField(choices=Condition.choices, required=False)


class ReturnReceiveInSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=64)
    lines = ReturnReceiveLineSerializer(many=True, required=False, max_length=200)


class ReturnLineOutSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    condition = serializers.ChoiceField(choices=Condition.choices)
    restocked = serializers.BooleanField()
    refund_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_value = serializers.DecimalField(max_digits=12, decimal_places=2)


class ReturnRefundSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="tender, store_credit, points or exchange.")
    payment = serializers.IntegerField(
        source="payment_id", allow_null=True, help_text="The order's payment it gives back."
    )
    method = serializers.CharField(help_text="The paying tender: card, cash, store_credit, …")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    points = serializers.IntegerField()


class ReturnExchangeLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True)
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="The price paid per unit of the replaced line; null: the current price.",
    )


class ReturnExchangeSerializer(serializers.ModelSerializer):
    # A plain string: an enum named ``method`` collides in the schema with the others.
    method = serializers.CharField(help_text="in_store, ship or pickup.")
    status = serializers.ChoiceField(choices=ExchangeStatus.choices)
    order = serializers.CharField(
        source="order.number", allow_null=True, default=None, help_text="The replacement."
    )
    pickup_location = serializers.CharField(
        source="pickup_location.code", allow_null=True, default=None
    )
    lines = ReturnExchangeLineSerializer(many=True)

    class Meta:
        model = Exchange
        fields = [
            "method",
            "status",
            "order",
            "pickup_location",
            "lines",
            "total",
            "paid_from_refund",
            "charged",
            "note",
        ]
        read_only_fields = fields


class ReturnSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    status = serializers.ChoiceField(choices=ReturnStatus.choices)
    return_location = serializers.CharField(
        source="return_location.code", allow_null=True, default=None
    )
    received_location = serializers.CharField(
        source="received_location.code", allow_null=True, default=None
    )
    lines = ReturnLineOutSerializer(many=True)
    refunds = ReturnRefundSerializer(many=True)
    exchange = ReturnExchangeSerializer(allow_null=True, default=None)

    class Meta:
        model = Return
        fields = [
            "number",
            "status",
            "order",
            "currency",
            "refund_method",
            "return_location",
            "received_location",
            "lines",
            "refund_total",
            "refunded_to_tender",
            "refunded_to_store_credit",
            "points_value",
            "points_refunded",
            "points_reversed",
            "refunds",
            "exchange",
            "created_at",
            "received_at",
        ]
        read_only_fields = fields


class ReturnRateSerializer(serializers.Serializer):
    key = serializers.CharField()
    sold = serializers.IntegerField()
    returned = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    refunded = serializers.DecimalField(max_digits=12, decimal_places=2)
