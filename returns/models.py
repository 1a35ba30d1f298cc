"""Returns: the policy merchandisers keep in the admin, return authorisations with their
lines and refunds. Store credit itself is loyalty's (``loyalty.models.StoreCreditAccount``);
a refund to store credit is issued there with the reference ``return:<number>``.

Lifecycle. A return created by a POS terminal or store staff at a store is received at once
and refunded (``refunded``). One created online (customer or storefront) waits as
``requested`` until a store or warehouse receives it (``refunded`` then), or is cancelled.
Units requested but not yet received count against what is left to return, so two online
requests cannot promise the same unit twice; ``OrderLine.returned_quantity`` goes up only when
the goods are received. Everything is written by :mod:`returns.services`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from inventory.models import Category, Channel, Location


def _money(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class Condition(models.TextChoices):
    RESELLABLE = "resellable", "Resellable"
    DAMAGED = "damaged", "Damaged"


class RefundMethod(models.TextChoices):
    ORIGINAL = "original", "Original tender"
    STORE_CREDIT = "store_credit", "Store credit"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    REFUNDED = "refunded", "Received and refunded"
    CANCELLED = "cancelled", "Cancelled"


# --- Policy ---------------------------------------------------------------------------------


class ReturnPolicy(models.Model):
    """The one policy row (pk 1): the default window and which conditions go back to
    sellable stock. Windows per channel and category refine the default."""

    default_window_days = models.PositiveIntegerField(default=30)
    restock_resellable = models.BooleanField(
        default=True, help_text="Resellable units go back on hand, sellable."
    )
    restock_damaged = models.BooleanField(
        default=False, help_text="Damaged units go back on hand too (normally not)."
    )

    class Meta:
        verbose_name_plural = "return policy"

    def __str__(self) -> str:
        return f"Return policy ({self.default_window_days} days by default)"


class ReturnWindow(models.Model):
    """Days to return, counted from the hand-over, for a channel, a category (and everything
    below it) or both. The most specific rule wins: channel and category, then category
    (the nearest one up the tree), then channel, then the policy's default."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True)
    days = models.PositiveIntegerField()

    class Meta:
        ordering = ["channel", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "category"],
                name="return_window_one_per_channel_category",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(channel__isnull=False) | Q(category__isnull=False),
                name="return_window_names_channel_or_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.days} days ({self.channel or 'any channel'}, {self.category or 'any'})"


class FinalSale(models.Model):
    """A SKU, or a category and everything below it, that cannot be returned."""

    sku = models.CharField("SKU", max_length=64, blank=True, db_index=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(~Q(sku="") & Q(category__isnull=True))
                | (Q(sku="") & Q(category__isnull=False)),
                name="final_sale_names_sku_or_category",
            )
        ]

    def __str__(self) -> str:
        return f"Final sale: {self.sku or self.category}"


class ReturnReason(models.Model):
    """The reasons a return may give. While none is active, any reason is accepted."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


# --- Returns --------------------------------------------------------------------------------


class ReturnNumber(models.Model):
    """A counter without a hot row (as orders number theirs)."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.pk)


class Return(models.Model):
    number = models.CharField(max_length=32, unique=True, help_text="e.g. R-000123")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12,
        choices=ReturnStatus.choices,
        default=ReturnStatus.REQUESTED,
        db_index=True,
    )
    refund_method = models.CharField(
        max_length=16, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL
    )
    return_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3)
    refund_total = _money(help_text="Money given back (tender and store credit).")
    refunded_to_tender = _money()
    refunded_to_store_credit = _money()
    points_value = _money(help_text="The part paid with points, given back as points.")
    points_refunded = models.PositiveIntegerField(default=0, help_text="Redeemed points back.")
    points_reversed = models.PositiveIntegerField(default=0, help_text="Earned points taken.")
    created_by = models.CharField(max_length=120, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReturnStatus.values), name="return_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(refund_total__gte=0)
                & Q(refunded_to_tender__gte=0)
                & Q(refunded_to_store_credit__gte=0),
                name="return_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64)
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=40)
    condition = models.CharField(max_length=12, choices=Condition.choices)
    restocked = models.BooleanField(default=False, help_text="Back to sellable stock.")
    refund_amount = _money(help_text="Money for these units (after discounts, with tax).")
    points_value = _money(help_text="The part of these units paid with points.")

    class Meta:
        ordering = ["ret", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity"),
            models.CheckConstraint(
                condition=Q(condition__in=Condition.values), name="return_line_condition_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class RefundKind(models.TextChoices):
    TENDER = "tender", "Original tender"
    STORE_CREDIT = "store_credit", "Store credit"
    POINTS = "points", "Redeemed points"
    EXCHANGE = "exchange", "Towards the exchange"


class Refund(models.Model):
    """One part of a return's refund: money to the tenders, to store credit, or points."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="refunds")
    kind = models.CharField(max_length=16, choices=RefundKind.choices)
    payment = models.ForeignKey(
        "orders.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The payment this part gives back (none for points, or for money beyond "
        "what the payments captured).",
    )
    method = models.CharField(
        max_length=32, blank=True, help_text="The paying tender: card, cash, store_credit, …"
    )
    amount = _money()
    points = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ret", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


# --- Exchanges ------------------------------------------------------------------------------


class ExchangeMethod(models.TextChoices):
    IN_STORE = "in_store", "Handed over at the till"
    SHIP = "ship", "Shipped"
    PICKUP = "pickup", "Picked up at a store"


class ExchangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the return"
    PLACED = "placed", "Replacement ordered"
    UNAVAILABLE = "unavailable", "Could not be ordered: refunded instead"
    CANCELLED = "cancelled", "Cancelled with the return"


class Exchange(models.Model):
    """Replacement goods asked for with a return. The replacement is an order of its own
    (``order``): a POS sale handed over at the till, or an order shipped or picked up through
    the normal checkout and DOM, placed when the return is received. Its total is paid first
    from the return's refund (``paid_from_refund``, a captured ``exchange`` payment on the
    new order); any difference is charged (``charged``) or refunded to the original tenders.
    Lines replacing a returned line with another size or colour of the same product carry
    the unit price paid (``ExchangeLine.unit_price``); others are at the current price."""

    ret = models.OneToOneField(Return, on_delete=models.CASCADE, related_name="exchange")
    method = models.CharField(max_length=10, choices=ExchangeMethod.choices)
    status = models.CharField(
        max_length=12, choices=ExchangeStatus.choices, default=ExchangeStatus.PENDING
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    shipping_address = models.JSONField(default=dict, blank=True)
    pickup_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.JSONField(
        default=dict, blank=True, help_text="How the difference is paid online (method, …)."
    )
    total = _money(help_text="The replacement's total (an estimate until it is ordered).")
    paid_from_refund = _money()
    charged = _money(help_text="Paid on top of the refund.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=ExchangeMethod.values), name="exchange_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ExchangeStatus.values), name="exchange_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Exchange for {self.ret}"


class ExchangeLine(models.Model):
    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField("SKU", max_length=64)
    quantity = models.PositiveIntegerField()
    replaces = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The returned line this replaces with another variant at the price paid.",
    )
    unit_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The price paid per unit of the replaced line; empty: the current price.",
    )

    class Meta:
        ordering = ["exchange", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="exchange_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"
