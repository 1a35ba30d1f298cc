"""Orders, their lines, fulfilments, payments, history and notifications.

Lifecycle. Checkout (:func:`orders.services.place_order`) writes an ``Order`` with its
``OrderLine`` rows (unit price, the line's allocated share of every discount and of the
points redeemed, tax), one ``Fulfilment`` per planned location with its ``FulfilmentLine``
rows, an ``authorised`` ``Payment`` and a ``placed`` ``OrderEvent``; each fulfilment holds
its units with one inventory ``Reservation`` (no expiry). A fulfilment then goes
``pending → picking → ready_for_pickup → collected`` (pickup) or ``pending → picking →
shipped`` (ship), or to ``cancelled`` from any state before the hand-over; handing over
consumes the reservation, captures the payment and earns points. A short pick cancels the
missing units on the fulfilment's lines (``FulfilmentLine.short_quantity``) and creates a
new fulfilment elsewhere (``rerouted_from``), or cancels those order-line units
(``OrderLine.cancelled_quantity``) and refunds them. The order's ``status`` is never set by
hand: :func:`orders.status.derive_status` computes it from the lines and fulfilments, and
:func:`orders.services.refresh_status` stores it (it is kept on the row for filtering).
Everything that happens is an ``OrderEvent``; every message to the customer a
``Notification``.

Invariants that SQL can say are ``CheckConstraint``s below; the rest are kept by
:mod:`orders.services`, the only code that writes these tables.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from inventory.models import Channel, Location, Reservation
from loyalty.models import Customer


def _money(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    IN_PROGRESS = "in_progress", "In progress"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    PARTIALLY_CANCELLED = "partially_cancelled", "Partially cancelled"
    PARTIALLY_RETURNED = "partially_returned", "Partially returned"
    RETURNED = "returned", "Returned"


class FulfilmentMethod(models.TextChoices):
    SHIP = "ship", "Ship"
    PICKUP = "pickup", "Pickup"


class OrderNumber(models.Model):
    """A counter without a hot row: each order takes the id of a new row here, and concurrent
    checkouts never wait for one another to number their orders (gaps are fine)."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.pk)


class Order(models.Model):
    number = models.CharField(max_length=32, unique=True, help_text="e.g. W-000123")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    email = models.EmailField(max_length=254)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED, db_index=True
    )
    method = models.CharField(max_length=10, choices=FulfilmentMethod.choices)
    prices_include_tax = models.BooleanField(default=True)
    subtotal = _money()
    discount_total = _money()
    tax_total = _money()
    total = _money(help_text="What the goods cost, tax included, before points.")
    points_redeemed = models.PositiveIntegerField(default=0)
    points_value = _money(help_text="The part of the total paid with points.")
    loyalty_card_number = models.CharField(
        max_length=13, blank=True, help_text="The card points were redeemed from (and earn on)."
    )
    coupon_codes = models.JSONField(default=list, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    destination_latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True
    )
    destination_longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.CharField(
        max_length=120, blank=True, db_index=True, help_text="The principal that placed it."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(discount_total__gte=0)
                & Q(tax_total__gte=0)
                & Q(total__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(points_value__gte=0) & Q(points_value__lte=F("total")),
                name="order_points_value_within_total",
            ),
            models.CheckConstraint(
                condition=Q(method__in=FulfilmentMethod.values), name="order_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_due(self) -> Decimal:
        """What is paid with money: the total less the points."""
        return self.total - self.points_value


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(help_text="The line's index in the request.")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = _money()
    subtotal = _money(help_text="unit price × quantity")
    discount_total = _money(help_text="The line's allocated share of every discount.")
    discounts = models.JSONField(
        default=list, blank=True, help_text='[{"promotion", "name", "amount"}]'
    )
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    tax_total = _money()
    total = _money(help_text="What the line costs, tax included.")
    points_value = _money(help_text="The line's share of the points redeemed.")
    cancelled_quantity = models.PositiveIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity"),
            models.CheckConstraint(
                condition=Q(cancelled_quantity__lte=F("quantity") - F("returned_quantity")),
                name="order_line_cancelled_returned_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0)
                & Q(discount_total__gte=0)
                & Q(tax_total__gte=0)
                & Q(total__gte=0)
                & Q(points_value__gte=0),
                name="order_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(points_value__lte=F("total")), name="order_line_points_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity - self.returned_quantity


class FulfilmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PICKING = "picking", "Picking"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


HANDED_OVER = frozenset({FulfilmentStatus.COLLECTED, FulfilmentStatus.SHIPPED})
OPEN_FULFILMENT = frozenset(
    {FulfilmentStatus.PENDING, FulfilmentStatus.PICKING, FulfilmentStatus.READY_FOR_PICKUP}
)


class Fulfilment(models.Model):
    """Units of an order served from one location, held by one reservation there."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfilments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="fulfilments")
    method = models.CharField(max_length=10, choices=FulfilmentMethod.choices)
    status = models.CharField(
        max_length=20,
        choices=FulfilmentStatus.choices,
        default=FulfilmentStatus.PENDING,
        db_index=True,
    )
    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pickup_code = models.CharField(
        max_length=6, blank=True, help_text="Six digits; shown to the customer only."
    )
    ready_by = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    distance_km = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    cost = _money(help_text="Planned handling and shipping cost.")
    rerouted_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reroutes"
    )
    local_date = models.DateField(
        help_text="The location's local date when created: ship-from-store capacity counts it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [
            models.Index(fields=["location", "status"]),
            models.Index(fields=["location", "method", "local_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=FulfilmentMethod.values), name="fulfilment_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=FulfilmentStatus.values), name="fulfilment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(method=FulfilmentMethod.PICKUP) | Q(pickup_code=""),
                name="fulfilment_pickup_code_only_for_pickup",
            ),
            models.CheckConstraint(
                condition=~Q(status=FulfilmentStatus.READY_FOR_PICKUP)
                & ~Q(status=FulfilmentStatus.COLLECTED)
                | Q(method=FulfilmentMethod.PICKUP),
                name="fulfilment_pickup_statuses_only_for_pickup",
            ),
            models.CheckConstraint(
                condition=~Q(status=FulfilmentStatus.SHIPPED) | Q(method=FulfilmentMethod.SHIP),
                name="fulfilment_shipped_only_for_ship",
            ),
        ]

    def __str__(self) -> str:
        return f"Fulfilment {self.pk} of {self.order_id} at {self.location_id} ({self.status})"


class FulfilmentLine(models.Model):
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="fulfilment_lines"
    )
    quantity = models.PositiveIntegerField(help_text="Units planned here.")
    picked_quantity = models.PositiveIntegerField(default=0)
    short_quantity = models.PositiveIntegerField(
        default=0, help_text="Units not found at the pick (re-routed or cancelled)."
    )

    class Meta:
        ordering = ["fulfilment", "order_line__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["fulfilment", "order_line"], name="fulfilment_line_one_per_order_line"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fulfilment_line_quantity"),
            models.CheckConstraint(
                condition=Q(picked_quantity__lte=F("quantity") - F("short_quantity")),
                name="fulfilment_line_picked_short_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"

    @property
    def units(self) -> int:
        """What this fulfilment still hands over: planned, less what a short pick cancelled."""
        return self.quantity - self.short_quantity


class PaymentStatus(models.TextChoices):
    AUTHORISED = "authorised", "Authorised"
    CAPTURED = "captured", "Captured"
    VOIDED = "voided", "Voided"
    REFUNDED = "refunded", "Refunded"


class Payment(models.Model):
    """Money for an order, through a provider (``orders.payments``). Authorised at checkout,
    captured at the hand-over, voided on a cancellation before capture, refunded after."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=32, help_text="card, cash, invoice, …")
    provider = models.CharField(max_length=32, default="manual")
    reference = models.CharField(max_length=200, blank=True)
    amount = _money()
    captured_amount = _money()
    refunded_amount = _money()
    status = models.CharField(
        max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.AUTHORISED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0) & Q(captured_amount__lte=F("amount")),
                name="payment_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} ({self.status})"


class EventKind(models.TextChoices):
    PLACED = "placed", "Placed"
    CANCELLED = "cancelled", "Cancelled"
    LINES_CANCELLED = "lines_cancelled", "Lines cancelled"
    STATUS_CHANGED = "status_changed", "Status changed"
    PAYMENT_AUTHORISED = "payment_authorised", "Payment authorised"
    PAYMENT_CAPTURED = "payment_captured", "Payment captured"
    PAYMENT_VOIDED = "payment_voided", "Payment voided"
    PAYMENT_REFUNDED = "payment_refunded", "Payment refunded"
    POINTS_REDEEMED = "points_redeemed", "Points redeemed"
    POINTS_REFUNDED = "points_refunded", "Points given back"
    POINTS_EARNED = "points_earned", "Points earned"
    COUPONS_CLAIMED = "coupons_claimed", "Coupons claimed"
    COUPONS_RELEASED = "coupons_released", "Coupons released"
    STOCK_RESERVED = "stock_reserved", "Stock reserved"
    STOCK_RELEASED = "stock_released", "Stock released"
    PICKING = "picking", "Picking started"
    PICKED = "picked", "Picked"
    SHORT_PICK = "short_pick", "Short pick"
    SHORTFALL = "shortfall", "Stock shortfall"
    REROUTED = "rerouted", "Re-routed"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    SHIPPED = "shipped", "Shipped"
    FULFILMENT_CANCELLED = "fulfilment_cancelled", "Fulfilment cancelled"
    PICKUP_EXPIRED = "pickup_expired", "Pickup expired"
    RETURNED = "returned", "Returned"
    NOTIFICATION_SENT = "notification_sent", "Notification sent"
    NOTE = "note", "Note"


class OrderEvent(models.Model):
    """The order's history: append-only, who and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor or 'system'}"


class NotificationKind(models.TextChoices):
    PLACED = "placed", "Order placed"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """A message to the customer, recorded so staff can see what was sent. ``key`` makes
    sending idempotent: one notification per order and occasion."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notifications")
    fulfilment = models.ForeignKey(
        Fulfilment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    key = models.CharField(max_length=200, unique=True)
    context = models.JSONField(default=dict, blank=True, help_text="Extra template values.")
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


# --- Carts and POS sales (issue 7) ---------------------------------------------------------


class CartStatus(models.TextChoices):
    OPEN = "open", "Open"
    ORDERED = "ordered", "Ordered"
    MERGED = "merged", "Merged into the customer's cart"


class Cart(models.Model):
    """A basket kept on the server, priced on every read by the pricing engine. Anonymous
    (the storefront holds the id, an unguessable UUID) or a customer's: one open cart per
    customer and channel, so the same cart shows on every device and at the till."""

    id = models.UUIDField(primary_key=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="carts")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="carts"
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carts",
        help_text="The chosen pickup store (or a POS cart's store): its prices and stock.",
    )
    coupon_codes = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=CartStatus.choices, default=CartStatus.OPEN, db_index=True
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="carts"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(db_index=True, help_text="Last touched (staleness).")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel"],
                condition=Q(status="open") & Q(customer__isnull=False),
                name="cart_one_open_per_customer_and_channel",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CartStatus.values), name="cart_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.status})"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField("SKU", max_length=64)
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cart", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_one_per_sku"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class TenderMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    POINTS = "points", "Loyalty points"
    STORE_CREDIT = "store_credit", "Store credit"


class PosSale(models.Model):
    """What a till adds to a ``pos`` order: the store, when the sale happened (an offline
    terminal's replay keeps it), what was tendered and the change given."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="pos_sale")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="pos_sales")
    occurred_at = models.DateTimeField(db_index=True)
    tendered = _money()
    change = _money()
    points_earned = models.PositiveIntegerField(default=0)
    points_balance = models.IntegerField(null=True, blank=True)
    cart = models.ForeignKey(
        Cart, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(change__gte=0), name="pos_sale_change_not_negative")
        ]

    def __str__(self) -> str:
        return f"POS sale {self.order_id} at {self.location_id}"


class Tender(models.Model):
    sale = models.ForeignKey(PosSale, on_delete=models.CASCADE, related_name="tenders")
    method = models.CharField(max_length=16, choices=TenderMethod.choices)
    amount = _money(help_text="What was handed over (cash may exceed what was due).")
    reference = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["sale", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="tender_amount_positive"),
            models.CheckConstraint(
                condition=Q(method__in=TenderMethod.values), name="tender_method_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount}"


class ManagerApprovalCode(models.Model):
    """A store manager's code that approves staff discounts above the limit. Only its hash is
    kept; set it in the admin."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="manager_approval_codes"
    )
    manager = models.CharField(max_length=120, help_text="Who the code belongs to.")
    code_hash = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["location", "manager"]

    def __str__(self) -> str:
        return f"{self.manager} at {self.location_id}"


class PriceOverride(models.Model):
    """A staff price override or line discount on a POS sale: who, why, and who approved."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="price_overrides")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64)
    list_price = _money()
    unit_price = _money()
    percent = models.DecimalField(max_digits=6, decimal_places=2)
    reason = models.CharField(max_length=300)
    approved_by = models.CharField(max_length=120, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sku} {self.list_price} → {self.unit_price}"
