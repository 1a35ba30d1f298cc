from decimal import Decimal

from rest_framework import serializers

from pricing.engine import Kind, RejectReason
from pricing.models import Coupon, Price, PriceList, Promotion
from pricing.services import MAX_LINES
from pricing.services.quotes import MAX_COUPONS, MAX_QUANTITY

CODE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
CENT = Decimal("0.01")
RATE = Decimal("0.001")
MAX_TARGETS = 10_000


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def codes(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=MAX_TARGETS, **kwargs
    )


# --- Price lists ---------------------------------------------------------------------------


class PriceListSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    locations = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = PriceList
        fields = [
            "code",
            "name",
            "channel",
            "locations",
            "priority",
            "starts_at",
            "ends_at",
            "active",
            "created_at",
            "updated_at",
        ]


class PriceListInSerializer(serializers.Serializer):
    code = serializers.RegexField(CODE_REGEX, max_length=64)
    name = serializers.CharField(max_length=200)
    channel = serializers.CharField(max_length=32, help_text="Channel code.")
    locations = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=10_000,
        help_text="Location codes; empty: every location of the channel.",
    )
    priority = serializers.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        starts_at, ends_at = attrs.get("starts_at"), attrs.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            raise serializers.ValidationError(
                {"ends_at": ["Must be after starts_at."]}, code="ends_before_start"
            )
        return attrs


class PriceListUpdateSerializer(PriceListInSerializer):
    code = None


class PriceInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    amount = money(min_value=CENT)


class PriceSerializer(serializers.ModelSerializer):
    sku = serializers.SlugRelatedField(slug_field="sku", read_only=True)

    class Meta:
        model = Price
        fields = ["sku", "amount", "updated_at"]


class PriceChangesSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()
    unchanged = serializers.IntegerField()


# --- Promotions and coupons ----------------------------------------------------------------


class PromotionSerializer(serializers.ModelSerializer):
    skus = serializers.SlugRelatedField(slug_field="sku", many=True, read_only=True)
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    channels = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    locations = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    tiers = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Promotion
        fields = [
            "id",
            "name",
            "kind",
            "value",
            "skus",
            "categories",
            "channels",
            "locations",
            "min_quantity",
            "min_subtotal",
            "buy_quantity",
            "get_quantity",
            "tiers",
            "requires_coupon",
            "starts_at",
            "ends_at",
            "priority",
            "exclusive",
            "usage_limit",
            "per_customer_limit",
            "used_count",
            "active",
            "created_at",
            "updated_at",
        ]


PERCENT_KIND_VALUES = {Kind.PERCENT_OFF.value, Kind.BUY_X_GET_Y.value}


class PromotionInSerializer(serializers.Serializer):
    """A promotion's fields. ``value`` is a percentage (at most 100) for ``percent_off`` and
    ``buy_x_get_y``, an amount otherwise. Cross-field rules of a partial change are checked
    against the whole promotion by the service."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=[k.value for k in Kind])
    value = money(min_value=CENT)
    skus = codes(required=False, help_text="SKU codes; with categories empty: every item.")
    categories = codes(required=False, help_text="Category codes; subcategories match too.")
    channels = codes(required=False, help_text="Channel codes; empty: every channel.")
    locations = codes(required=False, help_text="Location codes; empty: every location.")
    min_quantity = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)
    min_subtotal = money(required=False, allow_null=True, min_value=Decimal(0))
    buy_quantity = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10_000
    )
    get_quantity = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10_000
    )
    tiers = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=100,
        help_text="Loyalty tier codes; empty: every customer.",
    )
    requires_coupon = serializers.BooleanField(required=False)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    exclusive = serializers.BooleanField(required=False)
    usage_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )
    per_customer_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )
    active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        errors = {}
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        value = attrs.get("value", getattr(self.instance, "value", None))
        if kind in PERCENT_KIND_VALUES and value is not None and value > 100:
            errors["value"] = [serializers.ErrorDetail("A percentage is at most 100.", "max_value")]
        starts_at = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends_at = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts_at and ends_at and ends_at <= starts_at:
            errors["ends_at"] = [
                serializers.ErrorDetail("Must be after starts_at.", "ends_before_start")
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CouponInSerializer(serializers.Serializer):
    code = serializers.RegexField(CODE_REGEX, max_length=64, help_text="Case-insensitive.")
    usage_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )
    active = serializers.BooleanField(required=False)


class CouponSerializer(serializers.ModelSerializer):
    class Meta:
        model = Coupon
        fields = ["code", "promotion", "usage_limit", "used_count", "active", "created_at"]


# --- Quotes --------------------------------------------------------------------------------


class QuoteLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class QuoteInSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=32)
    location = serializers.CharField(
        max_length=32,
        required=False,
        allow_null=True,
        help_text="Store of a POS sale or pickup, or shipping warehouse: its prices and tax.",
    )
    customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Customer id (member prices)."
    )
    lines = QuoteLineInSerializer(many=True, max_length=MAX_LINES)
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64, allow_blank=True),
        required=False,
        max_length=MAX_COUPONS,
    )


class QuoteDiscountSerializer(serializers.Serializer):
    promotion = serializers.IntegerField()
    name = serializers.CharField()
    amount = money()


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = money()
    subtotal = money()
    discounts = QuoteDiscountSerializer(many=True)
    discount_total = money()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    tax_total = money()
    total = money()


class QuoteAppliedPromotionSerializer(serializers.Serializer):
    promotion = serializers.IntegerField()
    name = serializers.CharField()
    amount = money()
    coupon = serializers.CharField(allow_null=True)


class QuoteRejectedCouponSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.ChoiceField(choices=[r.value for r in RejectReason])


class QuoteSerializer(serializers.Serializer):
    channel = serializers.CharField()
    location = serializers.CharField(allow_null=True)
    customer = serializers.IntegerField(source="customer_id", allow_null=True)
    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    lines = QuoteLineSerializer(many=True)
    subtotal = money()
    discount_total = money()
    tax_total = money()
    total = money()
    applied_promotions = QuoteAppliedPromotionSerializer(many=True)
    applied_coupons = serializers.ListField(child=serializers.CharField())
    rejected_coupons = QuoteRejectedCouponSerializer(many=True)


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def quote_data(quote) -> dict:
    """What :class:`QuoteSerializer` renders, built directly: a 50-line cart under many
    promotions has thousands of fields, and DRF's field machinery cost more than pricing it.
    ``tests/pricing/test_quote_api.py`` holds the two to the same output."""
    return {
        "channel": quote.channel,
        "location": quote.location,
        "customer": quote.customer_id,
        "currency": quote.currency,
        "prices_include_tax": quote.prices_include_tax,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "subtotal": _money(line.subtotal),
                "discounts": [
                    {"promotion": d.promotion, "name": d.name, "amount": _money(d.amount)}
                    for d in line.discounts
                ],
                "discount_total": _money(line.discount_total),
                "tax_rate": str(line.tax_rate.quantize(RATE)),
                "tax_total": _money(line.tax_total),
                "total": _money(line.total),
            }
            for line in quote.lines
        ],
        "subtotal": _money(quote.subtotal),
        "discount_total": _money(quote.discount_total),
        "tax_total": _money(quote.tax_total),
        "total": _money(quote.total),
        "applied_promotions": [
            {
                "promotion": p.promotion,
                "name": p.name,
                "amount": _money(p.amount),
                "coupon": p.coupon,
            }
            for p in quote.applied_promotions
        ],
        "applied_coupons": list(quote.applied_coupons),
        "rejected_coupons": [
            {"code": r.code, "reason": str(r.reason)} for r in quote.rejected_coupons
        ],
    }
