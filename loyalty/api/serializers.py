"""Shapes of the customers and loyalty endpoints (API.md "Customers and loyalty")."""

from rest_framework import serializers

from loyalty.models import Customer, EntryKind, LoyaltyAccount, PointsEntry


class TierSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField()


class NextTierSerializer(TierSerializer):
    qualifying_spend = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The spend that reaches it."
    )
    spend_needed = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Still to spend within the rolling window."
    )


class LoyaltySummarySerializer(serializers.ModelSerializer):
    tier = TierSerializer(allow_null=True)

    class Meta:
        model = LoyaltyAccount
        fields = ["card_number", "points", "tier"]


class CustomerSerializer(serializers.ModelSerializer):
    loyalty = LoyaltySummarySerializer(source="account")

    class Meta:
        model = Customer
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "marketing_consent",
            "created_at",
            "loyalty",
        ]


class CustomerCreateSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=128,
        required=False,
        write_only=True,
        trim_whitespace=False,
        help_text="Required for self-sign-up; staff may enrol a customer without one.",
    )
    marketing_consent = serializers.BooleanField(required=False, default=False)


class CustomerUpdateSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    marketing_consent = serializers.BooleanField(required=False)


class TokenInSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOutSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class ExpiringPointsSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class AccountSerializer(serializers.Serializer):
    card_number = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id", help_text="The customer's id.")
    points = serializers.IntegerField(help_text="Spendable balance.")
    points_owed = serializers.IntegerField(
        help_text="Taken back by returns after being spent; settled from the next points."
    )
    tier = TierSerializer(allow_null=True)
    qualifying_spend = serializers.DecimalField(max_digits=12, decimal_places=2)
    next_tier = NextTierSerializer(allow_null=True)
    points_expiring = ExpiringPointsSerializer(many=True)


class EntrySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices)

    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "kind",
            "points",
            "owed_change",
            "balance_after",
            "amount",
            "reference",
            "reason",
            "expires_at",
            "occurred_at",
        ]


class AdjustmentInSerializer(serializers.Serializer):
    points = serializers.IntegerField(help_text="Signed: above zero adds, below zero takes.")
    reason = serializers.CharField(max_length=300)
