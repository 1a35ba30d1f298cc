"""Shapes of the returns API (API.md "Returns"). Component names start with Return so they
cannot collide with other apps' serializers."""

from __future__ import annotations

from rest_framework import serializers

from returns.models import Condition, RefundMethod, Return, ReturnStatus


class ReturnLineInSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    reason = serializers.CharField(max_length=40)
    condition = serializers.ChoiceField(choices=Condition.choices, default=Condition.RESELLABLE)


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
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    points = serializers.IntegerField()


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
