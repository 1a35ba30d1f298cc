"""Shapes of the stock endpoints: small input serializers for bodies, output serializers for
what the selectors return. No business rules here: the services decide what a quantity may
be for each kind of movement; these only insist on the right types and sane bounds."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.models import (
    Location,
    MovementKind,
    Reservation,
    StockLevel,
    StockMovement,
    Transfer,
)
from inventory.services.reservations import MAX_TTL_SECONDS
from inventory.services.stock import MANUAL_KINDS

# Well above any real single movement, well below the 32-bit columns the numbers live in:
# an absurd quantity is a 400, never a database overflow (a 500).
MAX_QUANTITY = 1_000_000
MAX_RESERVATION_LINES = 100
DEFAULT_TTL_SECONDS = 15 * 60
CODE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class WholeNumberField(serializers.IntegerField):
    """A JSON integer and nothing else: ``true``, ``1.5``, ``2.0`` and ``"3"`` are 400."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def code_field(*, max_length: int = 64, **kwargs):
    """A business key (SKU, location or channel code)."""
    return serializers.RegexField(CODE_REGEX, max_length=max_length, **kwargs)


# --- Levels ---------------------------------------------------------------------------------


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.sku")
    location = serializers.CharField(source="location.code")
    available = serializers.IntegerField(
        source="available_qty", help_text=("on_hand − reserved − safety_stock, never below 0.")
    )

    class Meta:
        model = StockLevel
        fields = [
            "sku",
            "location",
            "on_hand",
            "reserved",
            "safety_stock",
            "available",
            "reorder_point",
            "in_transit",
            "needs_count",
        ]
        read_only_fields = fields


class StockLevelUpdateInSerializer(serializers.Serializer):
    sku = code_field()
    location = code_field()
    safety_stock = WholeNumberField(min_value=0, max_value=MAX_QUANTITY, required=False)
    reorder_point = WholeNumberField(min_value=0, max_value=MAX_QUANTITY, required=False)

    def validate(self, attrs):
        if "safety_stock" not in attrs and "reorder_point" not in attrs:
            raise serializers.ValidationError(
                "Give safety_stock, reorder_point or both.", code="required"
            )
        return attrs


# --- Movements (the ledger) -----------------------------------------------------------------


class MovementInSerializer(serializers.Serializer):
    sku = code_field()
    location = code_field()
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in MANUAL_KINDS])
    quantity = WholeNumberField(
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text=(
            "receipt: units in (> 0); adjustment: signed change (≠ 0); count: the counted "
            "on hand (≥ 0); damage: units that leave sellable stock (> 0)."
        ),
    )
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    reference = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")


class MovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.sku")
    location = serializers.CharField(source="location.code")
    kind = serializers.ChoiceField(choices=MovementKind.choices)
    quantity = serializers.IntegerField(help_text="The signed change of on hand.")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "sku",
            "location",
            "kind",
            "quantity",
            "on_hand_after",
            "reason",
            "reference",
            "actor",
            "occurred_at",
        ]
        read_only_fields = fields


class MovementResultSerializer(StockLevelSerializer):
    """The level after the movement, with the ledger row that was written."""

    movement = serializers.SerializerMethodField()

    class Meta(StockLevelSerializer.Meta):
        fields = [*StockLevelSerializer.Meta.fields, "movement"]
        read_only_fields = fields

    @extend_schema_field(MovementSerializer)
    def get_movement(self, level):
        return MovementSerializer(self.context["movement"]).data


# --- Transfers ------------------------------------------------------------------------------


class TransferInSerializer(serializers.Serializer):
    sku = code_field()
    from_location = code_field()
    to_location = code_field()
    quantity = WholeNumberField(min_value=1, max_value=MAX_QUANTITY)
    reference = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")


class TransferSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.sku")
    from_location = serializers.CharField(source="from_location.code")
    to_location = serializers.CharField(source="to_location.code")
    status = serializers.ChoiceField(choices=Transfer.Status.choices)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "status",
            "sku",
            "from_location",
            "to_location",
            "quantity",
            "reference",
            "created_by",
            "dispatched_at",
            "received_at",
        ]
        read_only_fields = fields


# --- Availability ---------------------------------------------------------------------------


class LocationAvailabilitySerializer(serializers.Serializer):
    location = serializers.CharField()
    type = serializers.ChoiceField(choices=Location.Type.choices)
    available = serializers.IntegerField()
    pickup_enabled = serializers.BooleanField()
    ship_enabled = serializers.BooleanField()
    distance_km = serializers.FloatField(
        allow_null=True, help_text="Great-circle distance from `near`; null without it."
    )


class SKUAvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    available = serializers.IntegerField(help_text="Sum over the locations listed.")
    locations = LocationAvailabilitySerializer(many=True)


class AvailabilitySerializer(serializers.Serializer):
    results = SKUAvailabilitySerializer(many=True)


# --- Reservations ---------------------------------------------------------------------------


class ReservationLineInSerializer(serializers.Serializer):
    sku = code_field()
    location = code_field()
    quantity = WholeNumberField(min_value=1, max_value=MAX_QUANTITY)


class ReservationInSerializer(serializers.Serializer):
    channel = code_field(max_length=32)
    lines = ReservationLineInSerializer(
        many=True, allow_empty=False, max_length=MAX_RESERVATION_LINES
    )
    ttl_seconds = WholeNumberField(
        min_value=1,
        max_value=MAX_TTL_SECONDS,
        required=False,
        default=DEFAULT_TTL_SECONDS,
        help_text=f"How long the hold lasts; {DEFAULT_TTL_SECONDS} seconds when omitted.",
    )
    reference = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your key for this hold (a cart id): repeating it with the same lines "
        "answers the same reservation instead of holding twice.",
    )


class ReservationLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="level.sku.sku")
    location = serializers.CharField(source="level.location.code")
    quantity = serializers.IntegerField(help_text="Units still held.")
    requested = serializers.IntegerField(help_text="Units asked for.")


class ReservationSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    status = serializers.ChoiceField(choices=Reservation.Status.choices)
    reference = serializers.CharField(allow_null=True)
    lines = ReservationLineSerializer(many=True)

    class Meta:
        model = Reservation
        fields = ["id", "channel", "status", "reference", "expires_at", "created_at", "lines"]
        read_only_fields = fields
