"""Tax rates with their category rates."""

from __future__ import annotations

from django.contrib import admin

from pricing.models import TaxExemption, TaxRate


class TaxExemptionInline(admin.TabularInline):
    model = TaxExemption
    extra = 1
    autocomplete_fields = ["category"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "rate"]
    list_select_related = ["location"]
    inlines = [TaxExemptionInline]
