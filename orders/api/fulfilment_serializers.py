"""Shapes of the fulfilment API (API.md, "Carts and orders"): the work of store staff, POS
terminals and merchandisers. ``pickup_code`` is deliberately absent from every shape here:
the customer shows it at the counter, staff never read it from the system."""

from __future__ import annotations

from rest_framework import serializers

from orders.models import Fulfilment, FulfilmentLine

CODE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_QUANTITY = 100_000


# --- Input ---------------------------------------------------------------------------------


class PickLineInSerializer(serializers.Serializer):
    sku = serializers.RegexField(CODE_REGEX, max_length=64)
    quantity = serializers.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, help_text="Units found (0 when none)."
    )


class PickInSerializer(serializers.Serializer):
    lines = PickLineInSerializer(
        many=True,
        required=False,
        max_length=500,
        help_text="What was found: every SKU of the fulfilment once. Leave out to only start "
        "picking. Units not found are sent to another location or cancelled and refunded.",
    )


class CollectInSerializer(serializers.Serializer):
    pickup_code = serializers.CharField(
        max_length=32, trim_whitespace=True, help_text="The code the customer shows."
    )


class ShipInSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100)


# --- Output --------------------------------------------------------------------------------


class FulfilmentLineOutSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku")
    name = serializers.CharField(source="order_line.name")
    quantity = serializers.IntegerField(help_text="Units planned here.")
    picked_quantity = serializers.IntegerField(help_text="Units found at the pick.")
    short_quantity = serializers.IntegerField(
        help_text="Units not found (or lost to a stock shortfall): re-routed or cancelled."
    )

    class Meta:
        model = FulfilmentLine
        fields = ["order_line", "sku", "name", "quantity", "picked_quantity", "short_quantity"]


class RerouteSerializer(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")

    class Meta:
        model = Fulfilment
        fields = ["id", "location", "status"]


class StaffFulfilmentSerializer(serializers.ModelSerializer):
    """A fulfilment as staff see it: never with its pickup code."""

    order = serializers.CharField(source="order.number", help_text="The order number.")
    location = serializers.CharField(source="location.code")
    lines = FulfilmentLineOutSerializer(many=True)
    rerouted_from = serializers.IntegerField(
        source="rerouted_from_id", allow_null=True, help_text="The fulfilment that came up short."
    )
    rerouted_to = RerouteSerializer(
        source="reroutes", many=True, help_text="Fulfilments that took over its missing units."
    )

    class Meta:
        model = Fulfilment
        fields = [
            "id",
            "order",
            "location",
            "method",
            "status",
            "lines",
            "ready_by",
            "ready_at",
            "carrier",
            "tracking_number",
            "rerouted_from",
            "rerouted_to",
            "created_at",
            "handed_over_at",
            "cancelled_at",
        ]
