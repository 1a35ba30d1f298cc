from datetime import time
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "Letters, digits, '-', '_' and '.', starting with a letter or digit.",
)


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _known_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.", code="invalid_timezone")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def validate_opening_hours(value) -> None:
    """``{"mon": ["09:00", "18:00"], ...}``: each weekday closed (``[]``) or open from–to."""
    if not isinstance(value, dict):
        raise ValidationError("Opening hours are an object keyed by weekday.", code="invalid")
    for day, hours in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(
                f"{day!r} is not a weekday ({', '.join(WEEKDAYS)}).", code="invalid"
            )
        if hours == []:
            continue
        if not (
            isinstance(hours, list) and len(hours) == 2 and all(isinstance(h, str) for h in hours)
        ):
            raise ValidationError(f'{day}: expected [] or ["HH:MM", "HH:MM"].', code="invalid")
        try:
            opens, closes = (time.fromisoformat(h) for h in hours)
        except ValueError as exc:
            raise ValidationError(f"{day}: times are HH:MM.", code="invalid") from exc
        if opens >= closes:
            raise ValidationError(f"{day}: closes before it opens.", code="invalid")


class Category(models.Model):
    """A node of the category tree. ``path`` holds the codes from the root ("apparel/tops/"),
    so that "this category and everything below it" is one indexed prefix match."""

    code = models.CharField(max_length=64, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1000, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SKU(models.Model):
    """A sellable variant (size, colour) of a product: what stock and prices attach to."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    sku = models.CharField("SKU", max_length=64, unique=True, validators=[CODE_VALIDATOR])
    barcode = models.CharField(max_length=64, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    attributes = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = "SKU"

    def __str__(self) -> str:
        return self.sku


class Channel(models.Model):
    """Where a sale happens: the web shop, the stores' tills. One currency each."""

    code = models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=100)
    currency = models.CharField(
        max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code like EUR.")]
    )
    prices_include_tax = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Location(models.Model):
    class Type(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"

    code = models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=Type.choices)
    address = models.CharField(max_length=300, blank=True)
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    pickup_enabled = models.BooleanField(default=False)
    ship_enabled = models.BooleanField(default=False)
    priority = models.IntegerField(default=0, help_text="Higher wins a tie in fulfilment routing.")
    daily_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ship-from-store orders per local day; empty: no limit."
    )
    handling_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
        help_text="Cost of preparing one shipment here; the router adds distance cost to it.",
    )
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Local opening hours by weekday, e.g. {"mon": ["09:00", "18:00"], "sun": []}; '
        "empty: always open.",
        validators=[validate_opening_hours],
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90), name="location_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# --- Stock ---------------------------------------------------------------------------------


class StockLevel(models.Model):
    """Stock of one SKU at one location. Changed only by ``inventory.services``, always with a
    ledger row in the same transaction, so that ``on_hand`` equals the sum of its ledger."""

    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    safety_stock = models.IntegerField(default=0)
    reorder_point = models.IntegerField(default=0)
    in_transit = models.IntegerField(
        default=0, help_text="Units dispatched to this location, not yet received."
    )
    needs_count = models.BooleanField(
        default=False, help_text="A discrepancy or shortfall was recorded; a count clears it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["location__code", "sku__sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "location"], name="stock_level_one_per_sku_location"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"
            ),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stock_safety_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0), name="stock_reorder_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(in_transit__gte=0), name="stock_in_transit_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["location", "sku"])]

    def __str__(self) -> str:
        # Callers that list levels select_related both; a lone level costs two small reads.
        return f"{self.sku.sku} at {self.location.code}"

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    SALE = "sale", "Sale"
    ADJUSTMENT = "adjustment", "Adjustment"
    COUNT = "count", "Count"
    DAMAGE = "damage", "Damage"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    RETURN = "return", "Return"
    SHORTFALL = "shortfall", "Reservation shortfall"
    DISCREPANCY = "discrepancy", "Discrepancy"


class StockMovement(models.Model):
    """The stock ledger: append-only. ``quantity`` is the signed change of on hand."""

    level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="movements")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=MovementKind.choices, db_index=True)
    quantity = models.IntegerField()
    on_hand_after = models.IntegerField()
    reason = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=120, blank=True, db_index=True)
    actor = models.CharField(max_length=200, blank=True, help_text="Who: API client or staff user.")
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["level", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.sku_id}@{self.location_id}"


class Reservation(models.Model):
    """Stock held for a channel (a cart, a checkout, a pickup order) until it expires, is
    released, or is consumed when the goods are handed over."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"
        CONSUMED = "consumed", "Consumed"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="reservations")
    reference = models.CharField(
        max_length=120, unique=True, null=True, blank=True, help_text="Makes reserve() idempotent."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: held until released."
    )
    owner = models.CharField(max_length=120, blank=True, help_text="The API caller that made it.")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Reservation {self.pk} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="reservation_lines"
    )
    quantity = models.PositiveIntegerField(help_text="Units still held.")
    requested = models.PositiveIntegerField()
    consumed = models.PositiveIntegerField(default=0)
    shorted = models.PositiveIntegerField(default=0, help_text="Units lost to a stock shortfall.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "level"], name="reservation_line_one_per_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.level}"


class StockShortfall(models.Model):
    """Physical truth undercut promises: a count, damage or adjustment left fewer units on hand
    than were reserved. The reservations that lost units are listed in ``lines``."""

    level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="shortfalls")
    quantity = models.PositiveIntegerField(help_text="Reserved units no longer on hand.")
    cause = models.ForeignKey(StockMovement, on_delete=models.PROTECT, related_name="+")
    lines = models.JSONField(
        default=list, help_text="[{reservation, reference, quantity}], newest first."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Shortfall of {self.quantity} at {self.level}"


class Transfer(models.Model):
    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        RECEIVED = "received", "Received"

    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+")
    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_in")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_TRANSIT)
    reference = models.CharField(max_length=120, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    dispatched_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-dispatched_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(from_location=models.F("to_location")),
                name="transfer_between_two_locations",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.pk}: {self.quantity} {self.sku_id} {self.from_location_id}→{self.to_location_id}"


class StockOperation(models.Model):
    """A service call already carried out, by its key: makes consume() and friends idempotent.
    Claimed by INSERT on a unique key inside the operation's transaction."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class LowStockReport(models.Model):
    """What was at or below its reorder point when the daily job ran."""

    created_at = models.DateTimeField(auto_now_add=True)
    lines = models.JSONField(
        default=list, help_text="[{sku, location, on_hand, available, reorder_point}]"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Low stock {self.created_at:%Y-%m-%d %H:%M} ({len(self.lines)} lines)"
