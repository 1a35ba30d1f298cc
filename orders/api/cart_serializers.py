"""Shapes of the carts API: a cart answers priced like a quote (the same fields as
``POST /api/v1/pricing/quote/``) plus its id, owner, store, status and availability per
line."""

from __future__ import annotations

from rest_framework import serializers

from orders.services.carts import MAX_COUPONS, MAX_QUANTITY, PricedCart
from pricing.api import serializers as pricing_serializers

CODE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class CartInSerializer(serializers.Serializer):
    channel = serializers.RegexField(CODE_REGEX, max_length=64, required=False, default="web")
    customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Empty for an anonymous cart."
    )
    location = serializers.RegexField(
        CODE_REGEX,
        max_length=64,
        required=False,
        allow_null=True,
        help_text="The chosen pickup store: its prices and its stock.",
    )
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=MAX_COUPONS
    )


class CartPatchSerializer(serializers.Serializer):
    location = serializers.RegexField(CODE_REGEX, max_length=64, required=False, allow_null=True)
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=MAX_COUPONS
    )


class CartLineInSerializer(serializers.Serializer):
    sku = serializers.RegexField(CODE_REGEX, max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CartLineQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CartMergeSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="A customer token merges into itself.",
    )


class CartAvailabilitySerializer(serializers.Serializer):
    available = serializers.IntegerField(help_text="Units the channel can promise (at the store).")
    enough = serializers.BooleanField()


class CartLineSerializer(pricing_serializers.QuoteLineSerializer):
    availability = CartAvailabilitySerializer()


class CartSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="open, ordered or merged.")
    channel = serializers.CharField()
    customer = serializers.IntegerField(allow_null=True)
    location = serializers.CharField(allow_null=True)
    coupon_codes = serializers.ListField(child=serializers.CharField())
    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    lines = CartLineSerializer(many=True)
    subtotal = pricing_serializers.money()
    discount_total = pricing_serializers.money()
    tax_total = pricing_serializers.money()
    total = pricing_serializers.money()
    applied_promotions = pricing_serializers.QuoteAppliedPromotionSerializer(many=True)
    applied_coupons = serializers.ListField(child=serializers.CharField())
    rejected_coupons = pricing_serializers.QuoteRejectedCouponSerializer(many=True)
    order = serializers.CharField(allow_null=True, help_text="The order placed from it.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def cart_data(priced: PricedCart) -> dict:
    """What :class:`CartSerializer` renders: the quote's own rendering plus the cart's."""
    cart = priced.cart
    if priced.quote is not None:
        data = pricing_serializers.quote_data(priced.quote)
    else:
        data = {
            "currency": cart.channel.currency,
            "prices_include_tax": cart.channel.prices_include_tax,
            "lines": [],
            "subtotal": "0.00",
            "discount_total": "0.00",
            "tax_total": "0.00",
            "total": "0.00",
            "applied_promotions": [],
            "applied_coupons": [],
            "rejected_coupons": [],
        }
    for line in data["lines"]:
        found = priced.availability[line["sku"]]
        line["availability"] = {"available": found.available, "enough": found.enough}
    data.update(
        id=str(cart.pk),
        status=cart.status,
        channel=cart.channel.code,
        customer=cart.customer_id,
        location=cart.location.code if cart.location_id else None,
        coupon_codes=list(cart.coupon_codes),
        order=cart.order.number if cart.order_id else None,
        created_at=serializers.DateTimeField().to_representation(cart.created_at),
        updated_at=serializers.DateTimeField().to_representation(cart.updated_at),
    )
    return {name: data[name] for name in CartSerializer().fields}
