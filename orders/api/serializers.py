"""Shapes of the orders API (API.md, "Carts and orders"): small input serializers that turn
JSON into the services' plain values, and output serializers for orders, fulfilments,
history and routing plans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import (
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)
from orders.routing import Plan
from orders.services import (
    MAX_LINES,
    AddressInput,
    LineInput,
    LoyaltyInput,
    OrderRequest,
    PaymentInput,
)

CODE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SIX_PLACES = Decimal("0.000001")
MAX_QUANTITY = 100_000
MAX_COUPONS = 20


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def code(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(CODE_REGEX, max_length=64, **kwargs)


# --- Input ---------------------------------------------------------------------------------


class OrderLineInSerializer(serializers.Serializer):
    sku = code()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderAddressInSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2."
    )
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )


class OrderFulfilmentInSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=FulfilmentMethod.choices)
    pickup_location = code(
        required=False, allow_null=True, help_text="The store to collect from (pickup)."
    )
    address = OrderAddressInSerializer(
        required=False, allow_null=True, help_text="Where to ship to (ship)."
    )


class OrderLoyaltyInSerializer(serializers.Serializer):
    card_number = serializers.CharField(max_length=32)
    redeem_points = serializers.IntegerField(min_value=1)


class OrderPaymentInSerializer(serializers.Serializer):
    method = serializers.RegexField(
        r"^[a-z][a-z0-9_]*$", max_length=32, help_text="card, ideal, paypal, cash, invoice, …"
    )
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class OrderInSerializer(serializers.Serializer):
    channel = code(required=False, default="web")
    customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Customer id; guests give email."
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    lines = OrderLineInSerializer(many=True, required=False, max_length=MAX_LINES)
    cart = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=64,
        help_text="An open cart's id: order its lines (instead of `lines`) and close it.",
    )
    fulfilment = OrderFulfilmentInSerializer()
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=MAX_COUPONS
    )
    loyalty = OrderLoyaltyInSerializer(required=False, allow_null=True)
    payment = OrderPaymentInSerializer(required=False, allow_null=True)
    expected_total = money(
        required=False,
        allow_null=True,
        help_text="The order total the customer saw (a quote's `total`, before points); 409 "
        "`price_changed` when the server's differs.",
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(SIX_PLACES)


def address_input(address: dict[str, Any] | None) -> AddressInput | None:
    """The service's address from validated ``OrderAddressInSerializer`` data."""
    if not address:
        return None
    return AddressInput(
        line1=address.get("line1", ""),
        city=address.get("city", ""),
        postal_code=address.get("postal_code", ""),
        country=address.get("country", "").upper(),
        latitude=_decimal(address.get("latitude")),
        longitude=_decimal(address.get("longitude")),
    )


def order_request(data: dict[str, Any], **overrides: Any) -> OrderRequest:
    """The service's request from validated ``OrderInSerializer`` data."""
    fulfilment = data["fulfilment"]
    address = fulfilment.get("address")
    loyalty = data.get("loyalty")
    payment = data.get("payment")
    values: dict[str, Any] = {
        "channel": data["channel"],
        "lines": [LineInput(line["sku"], line["quantity"]) for line in data.get("lines") or ()],
        "method": fulfilment["method"],
        "pickup_location": fulfilment.get("pickup_location"),
        "address": address_input(address),
        "customer_id": data.get("customer"),
        "email": data.get("email") or None,
        "coupon_codes": tuple(data.get("coupon_codes") or ()),
        "loyalty": LoyaltyInput(loyalty["card_number"], loyalty["redeem_points"])
        if loyalty
        else None,
        "payment": PaymentInput(payment["method"], payment.get("reference", ""))
        if payment
        else PaymentInput(),
        "expected_total": data.get("expected_total"),
    }
    values.update(overrides)
    return OrderRequest(**values)


class OrderCancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- Output --------------------------------------------------------------------------------


class OrderLineDiscountSerializer(serializers.Serializer):
    promotion = serializers.IntegerField()
    name = serializers.CharField()
    amount = money()


class OrderLineSerializer(serializers.ModelSerializer):
    discounts = OrderLineDiscountSerializer(many=True)
    unit_price = money()
    discount_total = money()
    tax_total = money()
    total = money()
    points_value = money()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "discounts",
            "discount_total",
            "tax_rate",
            "tax_total",
            "total",
            "points_value",
            "cancelled_quantity",
            "returned_quantity",
        ]


class FulfilmentLineSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku")

    class Meta:
        model = FulfilmentLine
        fields = ["order_line", "sku", "quantity", "picked_quantity", "short_quantity"]


class FulfilmentSerializer(serializers.ModelSerializer):
    """``pickup_code`` is only filled in for the customer and the storefront (context
    ``show_pickup_code``); everyone else gets null."""

    location = serializers.CharField(source="location.code")
    lines = FulfilmentLineSerializer(many=True)
    pickup_code = serializers.SerializerMethodField()
    cost = money()

    class Meta:
        model = Fulfilment
        fields = [
            "id",
            "location",
            "method",
            "status",
            "lines",
            "pickup_code",
            "ready_by",
            "carrier",
            "tracking_number",
            "distance_km",
            "cost",
            "created_at",
            "ready_at",
            "handed_over_at",
            "cancelled_at",
        ]

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="Six digits; only for the customer and the storefront."
        )
    )
    def get_pickup_code(self, fulfilment: Fulfilment) -> str | None:
        if not self.context.get("show_pickup_code") or not fulfilment.pickup_code:
            return None
        return fulfilment.pickup_code


class PaymentSerializer(serializers.ModelSerializer):
    amount = money()
    captured_amount = money()
    refunded_amount = money()

    class Meta:
        model = Payment
        fields = [
            "id",
            "method",
            "provider",
            "reference",
            "amount",
            "captured_amount",
            "refunded_amount",
            "status",
        ]


class OrderSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    # Not an EmailField: an anonymous POS sale has no address, and "" is no email.
    email = serializers.CharField(help_text="The contact address; empty for an anonymous sale.")
    customer = serializers.IntegerField(source="customer_id", allow_null=True)
    lines = OrderLineSerializer(many=True)
    fulfilments = FulfilmentSerializer(many=True)
    payments = PaymentSerializer(many=True)
    subtotal = money()
    discount_total = money()
    tax_total = money()
    total = money()
    points_value = money()
    amount_due = money(help_text="The total less what points paid.")
    coupon_codes = serializers.ListField(child=serializers.CharField())
    shipping_address = serializers.DictField(allow_empty=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "channel",
            "customer",
            "email",
            "currency",
            "method",
            "lines",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "points_redeemed",
            "points_value",
            "amount_due",
            "coupon_codes",
            "shipping_address",
            "fulfilments",
            "payments",
            "cancel_reason",
            "cancelled_at",
            "created_at",
        ]


class OrderEventSerializer(serializers.ModelSerializer):
    detail = serializers.DictField()

    class Meta:
        model = OrderEvent
        fields = ["id", "kind", "detail", "actor", "created_at"]


# --- Routing plans -------------------------------------------------------------------------


class RoutingPlannedLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="index", help_text="Index of the request's line.")
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class RoutingPlannedFulfilmentSerializer(serializers.Serializer):
    location = serializers.CharField()
    method = serializers.CharField()
    lines = RoutingPlannedLineSerializer(many=True)
    distance_km = serializers.FloatField()
    cost = money()


class RoutingExplanationSerializer(serializers.Serializer):
    location = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["chosen", "rejected", "plan"])
    reason = serializers.CharField()


class RoutingPlanSerializer(serializers.Serializer):
    feasible = serializers.BooleanField()
    method = serializers.CharField()
    fulfilments = RoutingPlannedFulfilmentSerializer(many=True)
    cost = money(source="total_cost")
    explanation = RoutingExplanationSerializer(many=True)
    short_lines = RoutingPlannedLineSerializer(
        many=True, help_text="Units no plan could cover (when not feasible)."
    )
    alternatives = serializers.ListField(
        child=serializers.CharField(),
        help_text="Pickup: the nearest stores that have everything.",
    )
    exact = serializers.BooleanField(
        help_text="False when a heuristic decided (too many candidates to try every set)."
    )


def plan_data(plan: Plan) -> dict[str, Any]:
    return RoutingPlanSerializer(plan).data


__all__ = [
    "OrderCancelInSerializer",
    "OrderEventSerializer",
    "OrderInSerializer",
    "OrderSerializer",
    "RoutingPlanSerializer",
    "order_request",
    "plan_data",
]
