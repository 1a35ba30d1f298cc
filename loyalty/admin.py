"""What merchandisers see: customers with their account, tier and ledger; manual
adjustments with a required reason; the programme, tiers, earn rules and bonus campaigns.

Every change of customers or points goes through :mod:`loyalty.services`; the ledger is
read-only here (a mistake is corrected by an adjustment, never by editing an entry).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from loyalty import services
from loyalty.contact import normalise_email, normalise_phone
from loyalty.errors import DomainError
from loyalty.models import (
    BonusCampaign,
    Customer,
    EarnRule,
    EntryKind,
    LoyaltyAccount,
    LoyaltyProgram,
    ManualAdjustment,
    PointsEntry,
    StoreCreditAccount,
    StoreCreditEntry,
    Tier,
)

LEDGER_PREVIEW = 50


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Configuration --------------------------------------------------------------------------


@admin.register(LoyaltyProgram)
class LoyaltyProgramAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "points_per_unit",
        "points_valid_days",
        "qualifying_months",
        "redemption_points",
        "redemption_value",
        "redemption_minimum",
        "redemption_step",
    ]
    fieldsets = [
        ("Earning", {"fields": ["points_per_unit", "points_valid_days", "qualifying_months"]}),
        (
            "Redemption",
            {
                "fields": [
                    "redemption_points",
                    "redemption_value",
                    "redemption_minimum",
                    "redemption_step",
                ]
            },
        ),
    ]

    def has_add_permission(self, request) -> bool:
        return not LoyaltyProgram.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        super().save_model(request, obj, form, change)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "rank", "qualifying_spend", "points_multiplier", "active"]
    list_editable = ["qualifying_spend", "points_multiplier", "active"]
    search_fields = ["code", "name"]


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "multiplier", "active", "note"]
    list_filter = ["active"]
    list_editable = ["multiplier", "active"]
    autocomplete_fields = ["category"]
    list_select_related = ["category"]


@admin.register(BonusCampaign)
class BonusCampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "multiplier", "starts_at", "ends_at", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    filter_horizontal = ["categories", "tiers"]
    date_hierarchy = "starts_at"


# --- Customers and accounts -----------------------------------------------------------------


class CustomerForm(forms.ModelForm):
    """Validated as the API validates: normalised email (unique in any case) and phone."""

    class Meta:
        model = Customer
        fields = ["email", "first_name", "last_name", "phone", "marketing_consent"]

    def clean_email(self):
        try:
            email = normalise_email(self.cleaned_data["email"])
        except DomainError as exc:
            raise ValidationError(exc.detail) from exc
        taken = Customer.objects.filter(email__iexact=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("A customer with this email exists.")
        return email

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data.get("phone") or "")
        except DomainError as exc:
            raise ValidationError(exc.detail) from exc


class AccountInline(ReadOnlyMixin, admin.StackedInline):
    model = LoyaltyAccount
    fields = ["card_number", "points", "points_owed", "tier", "qualifying_spend", "ledger"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=f"Ledger (latest {LEDGER_PREVIEW})")
    def ledger(self, account: LoyaltyAccount):
        entries = account.entries.order_by("-id")[:LEDGER_PREVIEW]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{e.occurred_at:%Y-%m-%d %H:%M}",
                    e.get_kind_display(),
                    f"{e.points:+d}",
                    e.balance_after,
                    e.reference,
                    e.reason,
                )
                for e in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Kind</th><th>Points</th><th>Balance</th>"
            "<th>Reference</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ["email", "first_name", "last_name", "phone", "card_number", "points", "tier"]
    search_fields = ["email", "first_name", "last_name", "phone", "account__card_number"]
    list_filter = ["marketing_consent", "account__tier"]
    list_select_related = ["account__tier"]
    readonly_fields = ["marketing_consent_at", "created_at", "updated_at"]
    inlines = [AccountInline]

    @admin.display(ordering="account__card_number")
    def card_number(self, customer: Customer) -> str:
        return customer.account.card_number

    @admin.display(ordering="account__points")
    def points(self, customer: Customer) -> int:
        return customer.account.points

    @admin.display(ordering="account__tier__rank")
    def tier(self, customer: Customer):
        return customer.account.tier

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the ledger keeps the account; anonymise instead

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in CustomerForm.Meta.fields}
        if change:
            services.update_customer(customer_id=obj.pk, **fields)
        else:
            obj.pk = services.create_customer(**fields).pk

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the service opens the account


class LedgerInline(ReadOnlyMixin, admin.TabularInline):
    model = PointsEntry
    fk_name = "account"
    fields = [
        "occurred_at",
        "kind",
        "points",
        "owed_change",
        "balance_after",
        "amount",
        "reference",
        "reason",
        "actor",
        "expires_at",
    ]
    readonly_fields = fields
    ordering = ["-id"]
    show_change_link = False


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["card_number", "customer", "points", "points_owed", "tier", "qualifying_spend"]
    search_fields = ["card_number", "customer__email", "customer__last_name"]
    list_filter = ["tier"]
    list_select_related = ["customer", "tier"]
    fields = [
        "card_number",
        "customer",
        "points",
        "points_owed",
        "tier",
        "qualifying_spend",
        "tier_computed_at",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [LedgerInline]


# --- Manual adjustments ---------------------------------------------------------------------


class AdjustmentForm(forms.ModelForm):
    reason = forms.CharField(max_length=300, help_text="Required: why the points change.")
    points = forms.IntegerField(help_text="Above zero adds points, below zero takes them.")

    class Meta:
        model = ManualAdjustment
        fields = ["account", "points", "reason"]

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise ValidationError("Adjust by a number of points other than zero.")
        return points

    def clean(self):
        cleaned = super().clean()
        account, points = cleaned.get("account"), cleaned.get("points")
        if account is not None and points is not None and points < 0 and account.points < -points:
            raise ValidationError({"points": f"The balance is only {account.points} points."})
        return cleaned


@admin.register(ManualAdjustment)
class ManualAdjustmentAdmin(admin.ModelAdmin):
    """Add = ``adjust_points`` with the staff user as actor; existing ones are read-only."""

    form = AdjustmentForm
    list_display = ["occurred_at", "account", "points", "balance_after", "reason", "actor"]
    search_fields = ["account__card_number", "reason", "actor"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=EntryKind.ADJUST)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        entry = services.adjust_points(
            card_number=obj.account.card_number,
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
            actor=f"admin:{request.user.get_username()}",
        )
        obj.pk = entry.pk

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The whole ledger, for audits."""

    list_display = ["occurred_at", "account", "kind", "points", "balance_after", "reference"]
    list_filter = ["kind"]
    search_fields = ["account__card_number", "reference"]
    list_select_related = ["account"]
    date_hierarchy = "occurred_at"


# --- Store credit ---------------------------------------------------------------------------


class StoreCreditEntryInline(ReadOnlyMixin, admin.TabularInline):
    model = StoreCreditEntry
    fields = ["amount", "reference", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(StoreCreditAccount)
class StoreCreditAccountAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: store credit moves only through returns and tills (loyalty.services)."""

    list_display = ["email", "customer", "balance", "currency"]
    search_fields = ["email"]
    list_select_related = ["customer"]
    readonly_fields = ["email", "customer", "balance", "currency"]
    inlines = [StoreCreditEntryInline]
