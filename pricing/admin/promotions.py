"""Promotions with their coupons inline, the channel and schedule filters, and the preview
of a promotion on a sample cart."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from inventory import selectors as inventory_selectors
from pricing.admin.common import ScheduleFilter, count_of, schedule_status
from pricing.engine import normalize_code
from pricing.errors import ValidationFailed
from pricing.models import Coupon, Promotion
from pricing.services import (
    CartItem,
    check_promotion,
    create_coupon,
    create_promotion,
    update_coupon,
    update_promotion,
)
from pricing.services.bulk import preview_promotion
from pricing.services.catalog import PROMOTION_FIELDS


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = ["promotion", "code", "usage_limit", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # a code may already be printed on flyers
            self.fields["code"].disabled = True
        self.fields["code"].help_text = "Case does not matter: stored upper case."

    def clean_code(self):
        return normalize_code(self.cleaned_data["code"])


class CouponInline(admin.TabularInline):
    model = Coupon
    form = CouponForm
    fields = ["code", "usage_limit", "used_count", "active", "created_at"]
    readonly_fields = ["used_count", "created_at"]
    extra = 1


class ChannelFilter(admin.SimpleListFilter):
    """A promotion without channels runs on every channel, so it is listed under each."""

    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return list(inventory_selectors.channels().values_list("code", "name"))

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        everywhere = ~Q(pk__in=Promotion.channels.through.objects.values("promotion_id"))
        return queryset.filter(
            Q(
                pk__in=Promotion.channels.through.objects.filter(channel__code=self.value()).values(
                    "promotion_id"
                )
            )
            | everywhere
        )


class PromotionForm(forms.ModelForm):
    """Checks what the service checks (``check_promotion``), so that a rule it refuses is
    shown on the field it concerns rather than as a database constraint's name."""

    class Meta:
        model = Promotion
        fields = [*PROMOTION_FIELDS, "skus", "categories", "channels", "locations"]

    def clean_tiers(self):
        tiers = self.cleaned_data["tiers"]
        if not isinstance(tiers, list) or not all(isinstance(t, str) and t for t in tiers):
            raise forms.ValidationError('A list of loyalty tier codes: ["gold", "silver"].')
        return tiers

    def clean(self):
        data = super().clean()
        if any(data.get(f) is None for f in ("kind", "value")):
            return data  # already reported by the fields themselves
        try:
            check_promotion(Promotion(**{f: data[f] for f in PROMOTION_FIELDS if f in data}))
        except ValidationFailed as exc:
            for error in exc.errors:
                field = error["attr"] if error["attr"] in self.fields else None
                self.add_error(field, error["detail"])
        return data


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    form = PromotionForm
    list_display = [
        "name",
        "kind",
        "value",
        "priority",
        "exclusive",
        "active",
        "starts_at",
        "ends_at",
        "status",
        "usage",
        "coupon_count",
    ]
    list_filter = ["kind", "active", "exclusive", ChannelFilter, ScheduleFilter]
    search_fields = ["name", "coupons__code"]
    autocomplete_fields = ["skus", "categories", "locations"]
    filter_horizontal = ["channels"]
    readonly_fields = ["used_count"]
    inlines = [CouponInline]
    change_form_template = "admin/pricing/promotion/change_form.html"

    def get_queryset(self, request):
        coupons = Coupon.objects.filter(promotion=OuterRef("pk"))
        return super().get_queryset(request).annotate(n_coupons=count_of(coupons))

    @admin.display(description="status")
    def status(self, promotion: Promotion) -> str:
        return schedule_status(promotion)

    @admin.display(description="used")
    def usage(self, promotion: Promotion) -> str:
        if promotion.usage_limit is None:
            return str(promotion.used_count) if promotion.used_count else "-"
        return f"{promotion.used_count} of {promotion.usage_limit}"

    @admin.display(description="coupons", ordering="n_coupons")
    def coupon_count(self, promotion: Promotion) -> int:
        return promotion.n_coupons

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {f: data[f] for f in PROMOTION_FIELDS if f in data}
        targets = {
            "skus": [sku.sku for sku in data.get("skus", [])],
            "categories": [category.code for category in data.get("categories", [])],
            "channels": [channel.code for channel in data.get("channels", [])],
            "locations": [location.code for location in data.get("locations", [])],
        }
        if change:
            saved = update_promotion(promotion=obj, **fields, **targets)
        else:
            saved = create_promotion(**fields, **targets)
        obj.pk, obj.used_count = saved.pk, saved.used_count
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # the targets were set by the service
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for coupon in formset.deleted_objects:
            coupon.delete()
        for coupon, _ in formset.changed_objects:
            update_coupon(coupon=coupon, usage_limit=coupon.usage_limit, active=coupon.active)
        for coupon in formset.new_objects:
            create_coupon(
                promotion=form.instance,
                code=coupon.code,
                usage_limit=coupon.usage_limit,
                active=coupon.active,
            )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="pricing_promotion_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        promotion = get_object_or_404(Promotion, pk=object_id)
        if not self.has_view_permission(request, promotion):
            raise PermissionDenied
        form = PromotionPreviewForm(request.POST or None, promotion=promotion)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                preview = preview_promotion(
                    promotion=promotion,
                    channel=data["channel"],
                    location=data["location"] or None,
                    tier=data["tier"] or None,
                    lines=data["cart"],
                    with_others=data["with_others"],
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {promotion.name}",
            "opts": self.model._meta,
            "original": promotion,
            "form": form,
            "preview": preview,
            "rows": _preview_rows(preview) if preview else [],
        }
        return TemplateResponse(request, "admin/pricing/promotion/preview.html", context)


def _preview_rows(preview) -> list[dict]:
    """Per line: what this promotion took off, and what the others did."""
    rows = []
    for line in preview.quote.lines:
        mine = (d.amount for d in line.discounts if d.promotion == preview.promotion_id)
        this = sum(mine, Decimal("0.00"))
        rows.append({"line": line, "this": this, "others": line.discount_total - this})
    return rows


class PromotionPreviewForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=None, to_field_name="code")
    location = forms.CharField(
        required=False, help_text="A store or warehouse code; empty: the channel's prices."
    )
    tier = forms.CharField(required=False, help_text="A loyalty tier code, for member promotions.")
    cart = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text="One line per item: a SKU and a quantity (SKU-00001 2); no quantity: 1.",
    )
    with_others = forms.BooleanField(
        required=False,
        label="Stack with the promotions running now",
        help_text="Off: this promotion alone. On: as a customer would get it, with the others.",
    )

    def __init__(self, *args, promotion: Promotion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = inventory_selectors.channels()
        channel = promotion.channels.first()
        skus = list(promotion.skus.order_by("sku").values_list("sku", flat=True)[:3])
        self.initial.setdefault("channel", channel.code if channel else "web")
        self.initial.setdefault("tier", (promotion.tiers or [""])[0])
        self.initial.setdefault("cart", "\n".join(f"{sku} 1" for sku in skus))

    def clean_cart(self) -> list[CartItem]:
        items, problems = [], []
        for number, text in enumerate(self.cleaned_data["cart"].splitlines(), start=1):
            parts = text.replace(",", " ").replace(";", " ").split()
            if not parts:
                continue
            if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
                problems.append(f"Line {number}: write a SKU and a whole quantity, e.g. ABC-1 2.")
                continue
            items.append(CartItem(sku=parts[0], quantity=int(parts[1]) if len(parts) > 1 else 1))
        if problems:
            raise forms.ValidationError(problems)
        if not items:
            raise forms.ValidationError("Put at least one item in the cart.")
        self.line_numbers = [
            n for n, t in enumerate(self.cleaned_data["cart"].splitlines(), 1) if t.strip()
        ]
        return items

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors or [{"attr": "", "detail": exc.detail}]:
            attr = error.get("attr", "")
            if attr.startswith("lines."):
                index = int(attr.split(".")[1])
                self.add_error("cart", f"Line {self.line_numbers[index]}: {error['detail']}")
            else:
                self.add_error(attr if attr in self.fields else None, error["detail"])


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponForm
    list_display = ["code", "promotion", "usage_limit", "used_count", "active", "created_at"]
    list_filter = ["active"]
    list_select_related = ["promotion"]
    search_fields = ["code", "promotion__name"]
    autocomplete_fields = ["promotion"]
    readonly_fields = ["used_count"]

    def get_readonly_fields(self, request, obj=None):
        return ["code", "promotion", "used_count"] if obj else ["used_count"]

    def save_model(self, request, obj, form, change):
        if change:
            update_coupon(coupon=obj, usage_limit=obj.usage_limit, active=obj.active)
        else:
            saved = create_coupon(
                promotion=obj.promotion,
                code=obj.code,
                usage_limit=obj.usage_limit,
                active=obj.active,
            )
            obj.pk, obj.code = saved.pk, saved.code
