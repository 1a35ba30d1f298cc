from django.contrib import admin

from inventory import services
from inventory.models import SKU, Category, Channel, Location, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "path"]
    search_fields = ["code", "name"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        if change:
            services.update_category(category=obj, name=obj.name, parent=obj.parent)
        else:
            saved = services.create_category(code=obj.code, name=obj.name, parent=obj.parent)
            obj.pk, obj.path = saved.pk, saved.path


class SKUInline(admin.TabularInline):
    model = SKU
    extra = 1
    fields = ["sku", "barcode", "name", "attributes", "active"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "sku_count", "active", "updated_at"]
    list_filter = ["active", "category"]
    search_fields = ["name", "description", "skus__sku", "skus__barcode"]
    autocomplete_fields = ["category"]
    inlines = [SKUInline]
    list_select_related = ["category"]

    @admin.display(description="SKUs")
    def sku_count(self, product: Product) -> int:
        return product.skus.count()


@admin.register(SKU)
class SKUAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "barcode", "product", "active"]
    list_filter = ["active", "product__category"]
    search_fields = ["sku", "barcode", "name", "product__name"]
    autocomplete_fields = ["product"]
    list_select_related = ["product"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "currency", "prices_include_tax"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "type",
        "pickup_enabled",
        "ship_enabled",
        "priority",
        "daily_capacity",
        "timezone",
        "active",
    ]
    list_filter = ["type", "pickup_enabled", "ship_enabled", "active", "timezone"]
    search_fields = ["code", "name", "address"]
    list_editable = ["pickup_enabled", "ship_enabled", "priority", "daily_capacity"]
