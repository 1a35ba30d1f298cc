"""Customers, loyalty accounts, the points ledger, tiers, and the rules that earn and burn points.

Invariants, kept by :mod:`loyalty.services` and, where SQL can say them, by constraints:

- ``LoyaltyAccount.points`` = Σ ``PointsEntry.points`` of the account = Σ ``PointsLot.remaining``,
  and never below zero (a ``CheckConstraint``; debits are conditional UPDATEs).
- ``LoyaltyAccount.points_owed`` = Σ ``PointsEntry.owed_change``: points a return took back
  after the customer had already spent them, settled from the next points credited.
- The ledger is append-only; a lot is expired by exactly one ledger entry.
- ``StoreCreditAccount.balance`` = Σ ``StoreCreditEntry.amount`` of the account, never below
  zero (a ``CheckConstraint``; spends are conditional UPDATEs); entries are append-only and
  unique by ``reference``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "Letters, digits, '-', '_' and '.', starting with a letter or digit.",
)
POSITIVE = [MinValueValidator(Decimal("0.01"))]


# --- Configuration (merchandisers, in the admin) -------------------------------------------


class LoyaltyProgram(models.Model):
    """The programme's settings: one row (pk 1), created by a migration."""

    points_per_unit = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Points per currency unit of net spend (after discounts, without tax).",
    )
    points_valid_days = models.PositiveIntegerField(
        default=365,
        help_text="Points expire at midnight UTC this many days after they were earned; 0: never.",
    )
    qualifying_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1)],
        help_text="Tiers follow the qualifying spend of this many rolling months.",
    )
    redemption_points = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1)],
        help_text="This many points …",
    )
    redemption_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=POSITIVE,
        help_text="… are worth this much at checkout.",
    )
    redemption_minimum = models.PositiveIntegerField(
        default=100, help_text="The fewest points one redemption may use."
    )
    redemption_step = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1)],
        help_text="Redemptions are a multiple of this many points.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "loyalty programme"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="loyalty_program_single_row"),
            models.CheckConstraint(
                condition=Q(redemption_value__gt=0), name="loyalty_redemption_value_positive"
            ),
            models.CheckConstraint(
                condition=Q(redemption_points__gt=0) & Q(redemption_step__gt=0),
                name="loyalty_redemption_rate_positive",
            ),
        ]

    def __str__(self) -> str:
        return "Loyalty programme"


class Tier(models.Model):
    """A membership level reached by qualifying spend over the rolling window."""

    code = models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="Higher is better.")
    qualifying_spend = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Net spend over the window that reaches this tier.",
    )
    points_multiplier = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Earned points are multiplied by this for members of the tier.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["qualifying_spend"], name="tier_threshold_unique"),
            models.CheckConstraint(
                condition=Q(qualifying_spend__gte=0), name="tier_threshold_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EarnRule(models.Model):
    """A points multiplier for a category and everything below it. The deepest matching
    category's rule applies to a line; lines without a rule earn at multiplier 1."""

    category = models.ForeignKey(
        "inventory.Category", on_delete=models.CASCADE, related_name="earn_rules"
    )
    multiplier = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="0 earns nothing (gift cards, tobacco); 2 earns double.",
    )
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["category__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(active=True),
                name="earn_rule_one_active_per_category",
            ),
        ]

    def __str__(self) -> str:
        return f"×{self.multiplier} on {self.category_id}"


class BonusCampaign(models.Model):
    """Extra points for a while ("double points weekend"). Campaigns do not stack: a line
    earns with the highest multiplier among the campaigns that apply to it; the extra over
    the normal points is booked as a separate ``bonus`` ledger entry."""

    name = models.CharField(max_length=200)
    multiplier = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("1"))],
        help_text="2 doubles the points of the lines it applies to.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    categories = models.ManyToManyField(
        "inventory.Category", blank=True, related_name="+", help_text="Empty: every category."
    )
    tiers = models.ManyToManyField(
        Tier, blank=True, related_name="+", help_text="Empty: every member."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="bonus_campaign_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gte=1), name="bonus_campaign_multiplier_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- Customers and accounts -----------------------------------------------------------------


class Customer(models.Model):
    """One profile for web, app and store."""

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(
        max_length=20, blank=True, db_index=True, help_text="E.164, e.g. +31201234567."
    )
    password = models.CharField(
        max_length=128, blank=True, help_text="A Django password hash; empty: no self-service."
    )
    marketing_consent = models.BooleanField(default=False)
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class LoyaltyAccount(models.Model):
    """Every customer has one. ``points`` is the spendable balance."""

    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="account")
    card_number = models.CharField(max_length=32, unique=True)
    points = models.IntegerField(default=0)
    points_owed = models.IntegerField(
        default=0, help_text="Taken back by returns after being spent; settled from new points."
    )
    tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    qualifying_spend = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="Net spend in the rolling window when the tier was last computed.",
    )
    tier_computed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="loyalty_points_not_negative"),
            models.CheckConstraint(
                condition=Q(points_owed__gte=0), name="loyalty_points_owed_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.card_number


# --- The ledger --------------------------------------------------------------------------


class EntryKind(models.TextChoices):
    EARN = "earn", "Earned"
    BONUS = "bonus", "Bonus"
    REDEEM = "redeem", "Redeemed"
    REFUND = "refund", "Redemption refunded"
    REVERSE = "reverse", "Reversed (return)"
    ADJUST = "adjust", "Adjustment"
    EXPIRE = "expire", "Expired"


class PointsEntry(models.Model):
    """The points ledger: append-only. ``points`` is the signed change of the balance,
    ``owed_change`` the signed change of ``points_owed``."""

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    points = models.IntegerField()
    owed_change = models.IntegerField(default=0)
    balance_after = models.IntegerField()
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Money: spend that earned the points, or the value of a redemption.",
    )
    reference = models.CharField(
        max_length=120, blank=True, db_index=True, help_text="Order, return or staff reference."
    )
    reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=200, blank=True, help_text="Who: API client or staff user.")
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="For credits: when the points they add expire."
    )
    expired_lot = models.OneToOneField(
        "PointsLot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expiry_entry",
        help_text="For expiries: the lot expired (at most once).",
    )
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "points entries"
        indexes = [models.Index(fields=["account", "-id"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(points=0) | ~Q(owed_change=0), name="points_entry_changes_something"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="points_entry_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} on {self.account_id}"


class PointsLot(models.Model):
    """Points credited together, with one expiry. Debits take from the lots that expire
    soonest first (lots without expiry last), so expiry is exact."""

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [
            models.Index(
                fields=["account", "expires_at", "id"],
                condition=Q(remaining__gt=0),
                name="points_lot_open_by_expiry",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(remaining__gt=0), name="points_lot_open_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")),
                name="points_lot_remaining_within_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_at}"


class LotMovement(models.Model):
    """Which lots a ledger entry took points from (positive) or gave points back to
    (negative): what makes a partial refund exact and lets an audit replay the lots."""

    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="lot_movements")
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="movements")
    points = models.IntegerField(help_text="Taken from the lot (>0) or given back (<0).")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.points:+d} from lot {self.lot_id}"


# --- What the services did, by business reference (idempotency) ---------------------------


class Earning(models.Model):
    """Points earned for one handed-over order (or part of one), by its reference."""

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="earnings")
    reference = models.CharField(max_length=120, unique=True)
    net_amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Qualifying spend: after discounts, no tax."
    )
    points = models.PositiveIntegerField(help_text="Earned at the normal rate.")
    bonus_points = models.PositiveIntegerField(default=0)
    reversed_share = models.DecimalField(
        max_digits=13, decimal_places=12, default=Decimal("0"), help_text="Σ shares returned."
    )
    reversed_points = models.PositiveIntegerField(default=0)
    reversed_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "occurred_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(reversed_points__lte=F("points") + F("bonus_points")),
                name="earning_reversed_within_earned",
            ),
            models.CheckConstraint(
                condition=Q(reversed_share__gte=0) & Q(reversed_share__lte=1),
                name="earning_reversed_share_within_one",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.points}+{self.bonus_points}"

    @property
    def total_points(self) -> int:
        return self.points + self.bonus_points


class EarningReversal(models.Model):
    """A return taking back (part of) an earning, by the return's reference."""

    earning = models.ForeignKey(Earning, on_delete=models.PROTECT, related_name="reversals")
    reference = models.CharField(max_length=120, unique=True)
    share = models.DecimalField(max_digits=13, decimal_places=12, null=True, blank=True)
    requested_points = models.PositiveIntegerField(null=True, blank=True)
    points = models.PositiveIntegerField(help_text="Points due back for this return.")
    points_taken = models.PositiveIntegerField(help_text="Taken from the balance.")
    points_owed = models.PositiveIntegerField(help_text="Could not be taken: now owed.")
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Qualifying spend taken back."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.reference}: -{self.points} of {self.earning_id}"


class Redemption(models.Model):
    """Points spent as money at a checkout or POS sale, by its reference."""

    account = models.ForeignKey(
        LoyaltyAccount, on_delete=models.PROTECT, related_name="redemptions"
    )
    reference = models.CharField(max_length=120, unique=True)
    points = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_points = models.PositiveIntegerField(default=0)
    entry = models.OneToOneField(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="redemption"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_points__lte=F("points")),
                name="redemption_refunded_within_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.points} points"


class RedemptionRefund(models.Model):
    """Points of a redemption given back (a cancelled or returned order), by its reference."""

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="refunds")
    reference = models.CharField(max_length=120, unique=True)
    points = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    entry = models.OneToOneField(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.points} points back"


class ManualAdjustment(PointsEntry):
    """Adjustments, as the admin lists and creates them (through ``adjust_points``)."""

    class Meta:
        proxy = True
        verbose_name = "manual adjustment"


# --- Store credit -----------------------------------------------------------------------------


class StoreCreditAccount(models.Model):
    """Store credit of one customer (or a guest's e-mail address), kept by
    :mod:`loyalty.services.store_credit`. ``balance`` always equals the sum of its entries and
    never goes below zero (a ``CheckConstraint``; spends are conditional UPDATEs)."""

    email = models.EmailField(unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="store_credit_balance_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.balance} {self.currency}"


class StoreCreditEntry(models.Model):
    """The store credit ledger: append-only. Credits are positive, spends negative; the
    unique ``reference`` names what moved the money (``return:R-000001``,
    ``pos:P-000001:store_credit``) and makes every movement happen at most once."""

    account = models.ForeignKey(
        StoreCreditAccount, on_delete=models.PROTECT, related_name="entries"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    reference = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "id"]
        verbose_name_plural = "store credit entries"

    def __str__(self) -> str:
        return f"{self.amount} ({self.reference})"
