"""Prices, one by one: who changed each last, its history (simple_history), edits and
removals through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from simple_history.admin import SimpleHistoryAdmin

from pricing.admin.common import ADMIN_REASON, actor_of
from pricing.admin.percent_change import percent_change_view
from pricing.models import Price
from pricing.services import set_price
from pricing.services.bulk import AmountError, parse_amount, remove_prices


class PriceForm(forms.ModelForm):
    class Meta:
        model = Price
        fields = ["price_list", "sku", "amount"]

    def clean_amount(self):
        try:
            return parse_amount(self.cleaned_data["amount"])
        except AmountError as exc:
            raise forms.ValidationError(str(exc)) from None


class LastChangedBy(admin.SimpleListFilter):
    title = "last changed by"
    parameter_name = "changed_by"

    def lookups(self, request, model_admin):
        recent = (
            Price.history.order_by("-history_date")
            .exclude(history_user_id=None)
            .values_list("history_user_id", flat=True)[:500]
        )
        return [(actor, actor) for actor in sorted(set(recent))[:30]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(last_changed_by=self.value())
        return queryset


@admin.register(Price)
class PriceAdmin(SimpleHistoryAdmin):
    list_display = ["sku", "price_list", "amount", "updated_at", "last_changed_by"]
    list_filter = ["price_list__channel", "price_list", LastChangedBy]
    list_select_related = ["price_list", "sku"]
    search_fields = ["sku__sku", "sku__name", "price_list__code"]
    autocomplete_fields = ["sku"]
    form = PriceForm
    actions = ["change_prices_by_percent"]
    object_history_list_template = "admin/pricing/price/object_history_list.html"

    def get_queryset(self, request):
        last = (
            Price.history.filter(id=OuterRef("pk"))
            .order_by("-history_date", "-history_id")
            .values("history_user_id")[:1]
        )
        return super().get_queryset(request).annotate(last_changed_by=Subquery(last))

    def get_readonly_fields(self, request, obj=None):
        return ["price_list", "sku", "updated_at"] if obj else ["updated_at"]

    @admin.display(description="last changed by", ordering="last_changed_by")
    def last_changed_by(self, price: Price) -> str:
        return getattr(price, "last_changed_by", None) or "-"

    def save_model(self, request, obj, form, change):
        saved = set_price(
            price_list=obj.price_list, sku=obj.sku.sku, amount=obj.amount, actor=actor_of(request)
        )
        obj.pk, obj.updated_at = saved.pk, saved.updated_at

    def delete_model(self, request, obj):
        remove_prices(prices=[obj], actor=actor_of(request), reason=ADMIN_REASON)

    def delete_queryset(self, request, queryset):
        remove_prices(prices=list(queryset), actor=actor_of(request), reason=ADMIN_REASON)

    @admin.action(description="Raise or lower the selected prices", permissions=["change"])
    def change_prices_by_percent(self, request, queryset):
        return percent_change_view(
            self, request, prices=queryset, what=f"{queryset.count()} price(s)"
        )
