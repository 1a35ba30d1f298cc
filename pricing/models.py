"""Price lists, promotions, coupons, their usage, and tax rates.

Invariants SQL can say are database constraints here; the rules that need several rows (the
active list of highest priority, stacking, coupon reasons) live in ``pricing.engine`` and
``pricing.services``. Other apps are referred to by string (``"inventory.SKU"``) so that this
module imports none of them.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Upper
from simple_history.models import HistoricalRecords

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "Letters, digits, '-', '_' and '.', starting with a letter or digit.",
)
COUPON_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_.-]*$",
    "Letters, digits, '-', '_' and '.', starting with a letter or digit.",
)

# "No end before its start", for every model with a validity window.
WINDOW_IN_ORDER = (
    Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at"))
)


# --- Price lists ---------------------------------------------------------------------------


class PriceList(models.Model):
    """Prices for one channel, at every location of it (no ``locations``) or at some. The price
    of a SKU is its amount in the active list of highest priority that applies."""

    code = models.CharField(max_length=64, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    channel = models.ForeignKey("inventory.Channel", on_delete=models.PROTECT, related_name="+")
    locations = models.ManyToManyField(
        "inventory.Location",
        blank=True,
        related_name="+",
        help_text="Empty: every location of the channel.",
    )
    priority = models.IntegerField(default=0, help_text="Higher wins when several lists apply.")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: already started.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel_id", "-priority", "code"]
        constraints = [
            models.CheckConstraint(condition=WINDOW_IN_ORDER, name="price_list_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.code


def _history_actor(instance, request=None, **kwargs):
    """Who changed a price, as text, when the service did not say (``price._history_user``):
    the API principal or staff user of the request that simple_history's middleware keeps."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "get_username"):
        return f"user:{user.get_username()}"
    return str(user)  # an API principal, e.g. "merchandiser:back office"


def _get_history_actor(historical) -> str | None:
    return historical.history_user_id


def _set_history_actor(historical, actor) -> None:
    if actor is not None:
        historical.history_user_id = str(actor)[:200]


class Price(models.Model):
    """One SKU's amount in one price list. Every change is kept (who and when) in its history."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey("inventory.SKU", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    # API clients are not Django users, so "who" is kept as text: "merchandiser:back office",
    # "user:alice".
    history = HistoricalRecords(
        history_user_id_field=models.CharField(max_length=200, null=True, blank=True),
        history_user_getter=_get_history_actor,
        history_user_setter=_set_history_actor,
        get_user=_history_actor,
    )

    class Meta:
        ordering = ["price_list_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "sku"], name="price_one_per_list_sku"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="price_amount_positive"),
        ]
        indexes = [models.Index(fields=["sku", "price_list"])]

    def __str__(self) -> str:
        return f"{self.sku_id} {self.amount} in {self.price_list_id}"


# --- Promotions and coupons ----------------------------------------------------------------


class PromotionKind(models.TextChoices):
    PERCENT_OFF = "percent_off", "Percent off"
    AMOUNT_OFF = "amount_off", "Amount off each unit"
    BUY_X_GET_Y = "buy_x_get_y", "Buy X, get Y at a percent off"
    SPEND_THRESHOLD = "spend_threshold", "Amount off the order above a minimum"


PERCENT_KINDS = (PromotionKind.PERCENT_OFF, PromotionKind.BUY_X_GET_Y)


class Promotion(models.Model):
    """A discount rule. ``value`` is a percentage for ``percent_off`` and ``buy_x_get_y``, an
    amount per unit for ``amount_off`` and an amount off the targeted items for
    ``spend_threshold``. Empty ``skus`` and ``categories`` target every item; empty
    ``channels``, ``locations`` and ``tiers`` admit all."""

    Kind = PromotionKind

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PromotionKind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    skus = models.ManyToManyField("inventory.SKU", blank=True, related_name="+")
    categories = models.ManyToManyField(
        "inventory.Category", blank=True, related_name="+", help_text="Subcategories match too."
    )
    channels = models.ManyToManyField("inventory.Channel", blank=True, related_name="+")
    locations = models.ManyToManyField("inventory.Location", blank=True, related_name="+")
    min_quantity = models.PositiveIntegerField(
        default=1, help_text="Units of the targeted items the cart must hold."
    )
    min_subtotal = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Amount of the targeted items at shelf price, before discounts.",
    )
    buy_quantity = models.PositiveIntegerField(null=True, blank=True)
    get_quantity = models.PositiveIntegerField(null=True, blank=True)
    tiers = models.JSONField(
        default=list, blank=True, help_text="Loyalty tier codes; empty: every customer."
    )
    requires_coupon = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=0, help_text="Higher applies first.")
    exclusive = models.BooleanField(default=False, help_text="Never combined with others.")
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders that may use it; empty: no limit."
    )
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    used_count = models.PositiveIntegerField(
        default=0, help_text="Orders that used it (counted while a usage limit is set)."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="promotion_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind__in=PERCENT_KINDS) | Q(value__lte=100),
                name="promotion_percent_at_most_100",
            ),
            models.CheckConstraint(condition=WINDOW_IN_ORDER, name="promotion_ends_after_start"),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="promotion_min_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_subtotal__isnull=True) | Q(min_subtotal__gte=0),
                name="promotion_min_subtotal_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind=PromotionKind.BUY_X_GET_Y)
                | Q(buy_quantity__gte=1, get_quantity__gte=1),
                name="promotion_buy_x_get_y_quantities",
            ),
            models.CheckConstraint(
                condition=Q(buy_quantity__isnull=True) | Q(buy_quantity__gte=1),
                name="promotion_buy_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(get_quantity__isnull=True) | Q(get_quantity__gte=1),
                name="promotion_get_quantity_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind=PromotionKind.SPEND_THRESHOLD) | Q(min_subtotal__isnull=False),
                name="promotion_spend_threshold_has_minimum",
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(usage_limit__gte=1),
                name="promotion_usage_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(per_customer_limit__isnull=True) | Q(per_customer_limit__gte=1),
                name="promotion_per_customer_limit_positive",
            ),
        ]
        indexes = [models.Index(fields=["active", "ends_at"])]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    """A code that unlocks a promotion. Codes are stored upper case, so that uniqueness and
    look-ups are case-insensitive with a plain index."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(max_length=64, unique=True, validators=[COUPON_CODE_VALIDATOR])
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders that may use it; empty: no limit."
    )
    used_count = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code=Upper("code")), name="coupon_code_upper_case"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(usage_limit__gte=1),
                name="coupon_usage_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PromotionRedemption(models.Model):
    """A promotion (and the coupon that unlocked it, if any) used by one order: written when the
    order is placed, released when it is cancelled. The report of who used what, and the key
    that makes claiming idempotent."""

    order_reference = models.CharField(max_length=120)
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="redemptions")
    coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions"
    )
    customer_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="loyalty.Customer id; empty: a guest."
    )
    claimed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_reference", "promotion"], name="redemption_one_per_order_promotion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id} for {self.order_reference}"


class CustomerPromotionUsage(models.Model):
    """How many orders of one customer used one promotion: the row the per-customer limit is
    checked against, in the UPDATE that counts the use."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField()
    used_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "customer_id"], name="customer_usage_one_per_promotion"
            ),
        ]
        indexes = [models.Index(fields=["customer_id", "promotion"])]

    def __str__(self) -> str:
        return f"customer {self.customer_id}: {self.used_count} of {self.promotion_id}"


# --- Tax -----------------------------------------------------------------------------------


class TaxRate(models.Model):
    """The tax rate where goods change hands: the store for POS sales and pickups, the
    shipping warehouse for deliveries. The rate without a location is the default, used
    where a location has none of its own or none is known yet (a web quote)."""

    location = models.ForeignKey(
        "inventory.Location",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: the default rate.",
    )
    name = models.CharField(max_length=100)
    rate = models.DecimalField(max_digits=6, decimal_places=3, help_text="A percentage: 21.000.")

    class Meta:
        ordering = ["location_id"]
        constraints = [
            models.UniqueConstraint(
                Coalesce("location", 0), name="tax_rate_one_per_location_and_one_default"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="tax_rate_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}%"


class TaxExemption(models.Model):
    """A category (and everything below it) taxed at another rate: 0 exempts it, anything
    else is a reduced rate. The deepest matching category wins."""

    tax_rate = models.ForeignKey(TaxRate, on_delete=models.CASCADE, related_name="exemptions")
    category = models.ForeignKey("inventory.Category", on_delete=models.CASCADE, related_name="+")
    rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)

    class Meta:
        ordering = ["tax_rate_id", "category_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_rate", "category"], name="tax_exemption_one_per_category"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="tax_exemption_rate_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} at {self.rate}%"
