"""What merchandisers see: the return policy (windows, final sale, reasons, restocking),
returns read-only with their lines and refunds inline, and the return-rate
report (table and chart) by SKU, category, reason, channel or location for a date range.
Store credit is loyalty's (loyalty.admin)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from returns.models import (
    Exchange,
    ExchangeLine,
    FinalSale,
    Refund,
    Return,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnWindow,
)
from returns.reports import DIMENSIONS, return_rates


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "default_window_days", "restock_resellable", "restock_damaged"]

    def has_add_permission(self, request):
        return not ReturnPolicy.objects.exists() and super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        obj.pk = 1  # one policy
        super().save_model(request, obj, form, change)


@admin.register(ReturnWindow)
class ReturnWindowAdmin(admin.ModelAdmin):
    list_display = ["channel", "category", "days"]
    list_filter = ["channel"]
    autocomplete_fields = []


@admin.register(FinalSale)
class FinalSaleAdmin(admin.ModelAdmin):
    list_display = ["sku", "category", "note"]
    search_fields = ["sku", "category__code"]


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active"]
    list_filter = ["active"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = [
        "sku",
        "quantity",
        "reason",
        "condition",
        "restocked",
        "refund_amount",
        "points_value",
    ]
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["kind", "method", "payment", "amount", "points", "reference", "created_at"]
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the services (stock, money and points move with them): read-only here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _replacement_lines(exchange: Exchange) -> str:
    return ", ".join(
        f"{line.quantity} × {line.sku}"
        + (f" at {line.unit_price} (price paid)" if line.unit_price is not None else "")
        for line in exchange.lines.all()
    )


class ExchangeInline(ReadOnlyInline, admin.StackedInline):
    model = Exchange
    fields = [
        "method",
        "status",
        "order",
        "replacement",
        "total",
        "paid_from_refund",
        "charged",
        "pickup_location",
        "note",
    ]
    readonly_fields = fields

    @admin.display(description="Replacement goods")
    def replacement(self, obj: Exchange) -> str:
        return _replacement_lines(obj)


class ExchangeLineInline(ReadOnlyInline):
    model = ExchangeLine
    fields = ["sku", "quantity", "replaces", "unit_price"]
    readonly_fields = fields


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdmin):
    """Exchanges, written with their returns: read-only."""

    list_display = ["ret", "method", "status", "order", "total", "paid_from_refund", "charged"]
    list_filter = ["status", "method"]
    search_fields = ["ret__number", "order__number", "ret__order__number", "lines__sku"]
    list_select_related = ["ret", "order"]
    inlines = [ExchangeLineInline]


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    """Returns are written by the services (stock, money and points move with them):
    read-only here."""

    list_display = [
        "number",
        "order",
        "status",
        "return_location",
        "received_location",
        "refund_total",
        "refund_method",
        "created_at",
    ]
    list_filter = ["status", "refund_method", "received_location", "created_at"]
    search_fields = ["number", "order__number", "order__email"]
    inlines = [ReturnLineInline, RefundInline, ExchangeInline]
    change_list_template = "admin/returns/return/change_list.html"
    list_select_related = ["order", "return_location", "received_location"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.report_view)
        return [path("report/", view, name="returns_return_report"), *super().get_urls()]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        form = ReportForm(request.GET or None)
        rows, start, end = [], None, None
        if form.is_valid():
            start, end = form.range()
            rows = return_rates(start=start, end=end, by=form.cleaned_data["by"])
        peak = max((row["rate"] or 0 for row in rows), default=0) or 1
        chart = [
            {**row, "width": round(float((row["rate"] or 0) * 380 / peak), 1), "y": 24 * i}
            for i, row in enumerate(rows[:30])
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Return rates",
            "form": form,
            "rows": rows,
            "chart": chart,
            "chart_height": 24 * len(chart),
        }
        return TemplateResponse(request, "admin/returns/return/report.html", context)


class ReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="Inclusive.")
    by = forms.ChoiceField(choices=[(d, d.title()) for d in DIMENSIONS])

    def range(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.cleaned_data["start"], dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.cleaned_data["end"], dt.time.min, tzinfo=tz)
        return start, end + dt.timedelta(days=1)
