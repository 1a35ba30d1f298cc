"""A minimal registration so merchandisers can see pricing data; the full admin (prices
inline, CSV import, bulk changes, promotion preview) is built on top of this."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from pricing.models import Coupon, Price, PriceList, Promotion, TaxExemption, TaxRate


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "channel", "priority", "starts_at", "ends_at", "active"]


@admin.register(Price)
class PriceAdmin(SimpleHistoryAdmin):
    list_display = ["price_list", "sku", "amount", "updated_at"]
    list_select_related = ["price_list", "sku"]
    raw_id_fields = ["sku"]


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "value", "priority", "exclusive", "starts_at", "ends_at"]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "promotion", "usage_limit", "used_count", "active"]


class TaxExemptionInline(admin.TabularInline):
    model = TaxExemption
    extra = 1


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "rate"]
    inlines = [TaxExemptionInline]
