"""Orders in the admin: read-only records (every change goes through
:mod:`orders.services`), with lines, fulfilments, payments, history and notifications inline,
filters by status, channel, fulfilment location and date, search by number and email, and
one action: cancel, through the same service as the API.

Pickup codes are not shown here: staff read them from the customer at the counter.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from config.api.errors import DomainError
from orders import services
from orders.models import (
    Fulfilment,
    FulfilmentLine,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "position",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "discount_total",
        "tax_total",
        "total",
        "points_value",
        "cancelled_quantity",
        "returned_quantity",
    ]
    readonly_fields = fields


class FulfilmentInline(ReadOnlyInline):
    model = Fulfilment
    fields = [
        "location",
        "method",
        "status",
        "reservation",
        "ready_by",
        "carrier",
        "tracking_number",
        "distance_km",
        "cost",
        "rerouted_from",
        "created_at",
        "handed_over_at",
        "cancelled_at",
    ]
    readonly_fields = fields
    show_change_link = True


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = [
        "method",
        "provider",
        "reference",
        "amount",
        "captured_amount",
        "refunded_amount",
        "status",
        "created_at",
    ]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "actor", "detail"]
    readonly_fields = fields
    ordering = ["id"]


class NotificationInline(ReadOnlyInline):
    model = Notification
    fields = ["kind", "to", "subject", "status", "sent_at", "attempts", "error"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "created_at",
        "channel",
        "status",
        "method",
        "email",
        "total",
        "currency",
        "fulfilment_count",
    ]
    list_filter = ["status", "channel", "method", "fulfilments__location", "created_at"]
    search_fields = ["=number", "email"]
    date_hierarchy = "created_at"
    list_select_related = ["channel"]
    readonly_fields = [
        "number",
        "channel",
        "customer",
        "email",
        "currency",
        "status",
        "method",
        "prices_include_tax",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "points_redeemed",
        "points_value",
        "loyalty_card_number",
        "coupon_codes",
        "shipping_address",
        "destination_latitude",
        "destination_longitude",
        "cancel_reason",
        "cancelled_at",
        "created_at",
        "created_by",
    ]
    inlines = [
        OrderLineInline,
        FulfilmentInline,
        PaymentInline,
        OrderEventInline,
        NotificationInline,
    ]
    actions = ["cancel_orders"]

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is the order's read-only record; staff who may view orders see it.
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(fulfilment_total=Count("fulfilments", distinct=True))
            .distinct()
        )

    @admin.display(description="Fulfilments", ordering="fulfilment_total")
    def fulfilment_count(self, order: Order) -> int:
        return order.fulfilment_total

    @admin.action(description="Cancel the selected orders (nothing handed over yet)")
    def cancel_orders(self, request, queryset):
        done = 0
        for order in queryset.order_by("id"):
            try:
                services.cancel_order(
                    order=order, reason="cancelled in the admin", actor=f"admin:{request.user}"
                )
            except DomainError as exc:
                self.message_user(request, f"{order.number}: {exc.detail}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} order(s) cancelled.", messages.SUCCESS)


class FulfilmentLineInline(ReadOnlyInline):
    model = FulfilmentLine
    fields = ["order_line", "quantity", "picked_quantity", "short_quantity"]
    readonly_fields = fields


@admin.register(Fulfilment)
class FulfilmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "order", "location", "method", "status", "ready_by", "created_at"]
    list_filter = ["status", "method", "location", "created_at"]
    search_fields = ["=order__number", "tracking_number"]
    list_select_related = ["order", "location"]
    exclude = ["pickup_code"]
    readonly_fields = [
        "order",
        "location",
        "method",
        "status",
        "reservation",
        "ready_by",
        "carrier",
        "tracking_number",
        "distance_km",
        "cost",
        "rerouted_from",
        "local_date",
        "created_at",
        "ready_at",
        "handed_over_at",
        "cancelled_at",
    ]
    inlines = [FulfilmentLineInline]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["order", "kind", "to", "status", "sent_at", "attempts"]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["=order__number", "to"]
    list_select_related = ["order"]
    readonly_fields = [
        "order",
        "fulfilment",
        "kind",
        "key",
        "to",
        "subject",
        "body",
        "status",
        "error",
        "attempts",
        "created_at",
        "sent_at",
    ]
    exclude = ["context"]


# --- Carts, POS staff overrides and manager approval codes (issue 7) -----------------------

from django import forms  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402

from orders.models import Cart, CartLine, ManagerApprovalCode, PriceOverride  # noqa: E402


@admin.register(PriceOverride)
class PriceOverrideAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The staff discounts report: every manual price or line discount of a POS sale, with
    its reason and the manager who approved it."""

    list_display = (
        "created_at",
        "location",
        "order",
        "sku",
        "list_price",
        "unit_price",
        "percent",
        "reason",
        "approved_by",
        "actor",
    )
    list_filter = ("location", "approved_by", "created_at")
    search_fields = ("order__number", "sku", "reason", "approved_by", "actor")
    date_hierarchy = "created_at"
    list_select_related = ("location", "order")


class ManagerApprovalCodeForm(forms.ModelForm):
    code = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The code the manager types at the till; only its hash is kept. Leave "
        "empty to keep the current code.",
    )

    class Meta:
        model = ManagerApprovalCode
        fields = ("location", "manager", "active")

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("code"):
            self.add_error("code", "A new approval code needs the code.")
        return cleaned

    def save(self, commit=True):
        code = self.cleaned_data.get("code")
        if code:
            self.instance.code_hash = make_password(code)
        return super().save(commit=commit)


@admin.register(ManagerApprovalCode)
class ManagerApprovalCodeAdmin(admin.ModelAdmin):
    """Store managers' approval codes for staff discounts above
    ``POS_OVERRIDE_APPROVAL_PERCENT``; issued and revoked here, kept hashed."""

    form = ManagerApprovalCodeForm
    list_display = ("manager", "location", "active", "created_at")
    list_filter = ("location", "active")
    search_fields = ("manager",)


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = ("sku", "quantity", "added_at")


@admin.register(Cart)
class CartAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "channel", "customer", "location", "status", "updated_at")
    list_filter = ("status", "channel")
    search_fields = ("id", "customer__email")
    inlines = [CartLineInline]
