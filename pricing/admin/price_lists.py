"""Price lists with their prices inline, the CSV import with its dry-run preview, and the
price history of a whole list."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Window
from django.db.models.functions import Lag
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from pricing import selectors
from pricing.admin.common import (
    ADMIN_REASON,
    MAX_SHOWN_ROWS,
    ScheduleFilter,
    actor_of,
    count_of,
    schedule_status,
)
from pricing.admin.percent_change import percent_change_view
from pricing.admin.prices import PriceForm
from pricing.imports import apply_import, plan_import
from pricing.models import Price, PriceList
from pricing.services import PriceEntry, create_price_list, update_price_list
from pricing.services.bulk import remove_prices, set_prices

MAX_INLINE_PRICES = 300  # more, and the list links to the price changelist instead
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # kept in the session between preview and confirm
PENDING_IMPORT = "pricing_pending_price_import"


class PriceInlineForm(PriceForm):
    class Meta:
        model = Price
        fields = ["sku", "amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # another SKU is another price: remove this one, add that one
            self.fields["sku"].disabled = True


class PriceInline(admin.TabularInline):
    model = Price
    form = PriceInlineForm
    fields = ["sku", "amount", "updated_at", "history"]
    readonly_fields = ["updated_at", "history"]
    autocomplete_fields = ["sku"]
    extra = 1
    ordering = ["sku__sku"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku")

    @admin.display(description="who changed it")
    def history(self, price: Price) -> str:
        if not price.pk:
            return "-"
        url = reverse("admin:pricing_price_history", args=[price.pk])
        return format_html('<a href="{}">history</a>', url)


class PriceListForm(forms.ModelForm):
    class Meta:
        model = PriceList
        fields = [
            "code",
            "name",
            "channel",
            "locations",
            "priority",
            "starts_at",
            "ends_at",
            "active",
        ]


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    form = PriceListForm
    list_display = [
        "code",
        "name",
        "channel",
        "priority",
        "starts_at",
        "ends_at",
        "active",
        "status",
        "price_count",
    ]
    list_filter = ["channel", "active", ScheduleFilter]
    search_fields = ["code", "name"]
    autocomplete_fields = ["locations"]
    readonly_fields = ["prices_link"]
    actions = ["change_all_prices_by_percent"]
    inlines = [PriceInline]
    change_form_template = "admin/pricing/pricelist/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("channel")
            .annotate(n_prices=count_of(Price.objects.filter(price_list=OuterRef("pk"))))
        )

    def get_readonly_fields(self, request, obj=None):
        return ["code", "prices_link"] if obj else []

    def get_inlines(self, request, obj):
        if obj is not None and obj.prices.count() > MAX_INLINE_PRICES:
            return []
        return self.inlines

    @admin.display(description="status")
    def status(self, price_list: PriceList) -> str:
        return schedule_status(price_list)

    @admin.display(description="prices", ordering="n_prices")
    def price_count(self, price_list: PriceList) -> int:
        return price_list.n_prices

    @admin.display(description="prices")
    def prices_link(self, price_list: PriceList) -> str:
        count = price_list.prices.count()
        url = reverse("admin:pricing_price_changelist") + f"?price_list__id__exact={price_list.pk}"
        note = (
            f" (more than {MAX_INLINE_PRICES}: edit them there, or import a CSV file)"
            if count > MAX_INLINE_PRICES
            else ""
        )
        return format_html('<a href="{}">{} price(s)</a>{}', url, count, note)

    # Writes go through the services.

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {f: data[f] for f in ("name", "priority", "starts_at", "ends_at", "active")}
        locations = [location.code for location in data.get("locations", [])]
        if change:
            update_price_list(
                price_list=obj, channel=data["channel"], locations=locations, **fields
            )
        else:
            saved = create_price_list(
                code=data["code"], channel=data["channel"], locations=locations, **fields
            )
            obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # the locations were set by the service
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        actor = actor_of(request)
        formset.save(commit=False)
        remove_prices(prices=formset.deleted_objects, actor=actor, reason=ADMIN_REASON)
        saved = formset.new_objects + [price for price, _ in formset.changed_objects]
        if saved:
            set_prices(
                price_list=form.instance,
                prices=[PriceEntry(sku=price.sku.sku, amount=price.amount) for price in saved],
                actor=actor,
                reason=ADMIN_REASON,
            )

    # The action, the import and the history.

    @admin.action(
        description="Raise or lower all prices of the selected lists", permissions=["change"]
    )
    def change_all_prices_by_percent(self, request, queryset):
        if not request.user.has_perm("pricing.change_price"):
            raise PermissionDenied
        prices = Price.objects.filter(price_list__in=queryset)
        what = ", ".join(queryset.values_list("code", flat=True)[:20])
        return percent_change_view(self, request, prices=prices, what=f"lists {what}")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/import-prices/",
                view(self.import_prices_view),
                name="pricing_pricelist_import",
            ),
            path(
                "<path:object_id>/price-history/",
                view(self.price_history_view),
                name="pricing_pricelist_price_history",
            ),
            *super().get_urls(),
        ]

    def _price_list_or_404(self, request, object_id) -> PriceList:
        price_list = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, price_list):
            raise PermissionDenied
        return price_list

    def import_prices_view(self, request, object_id):
        """Upload → preview (a dry run; the file waits in the session under a one-time token,
        as in the stock import) → confirm (the file is checked again; if a price it touches
        changed since the preview, the new preview is shown to confirm again; else it is
        applied, every row or none)."""
        price_list = self._price_list_or_404(request, object_id)
        if not request.user.has_perms(["pricing.add_price", "pricing.change_price"]):
            raise PermissionDenied
        here = reverse("admin:pricing_pricelist_import", args=[price_list.pk])
        form = PriceImportForm(request.POST or None, request.FILES or None)
        plan, stale, filename = None, False, ""
        if request.method == "POST" and "_confirm" in request.POST:
            pending = request.session.pop(PENDING_IMPORT, None)
            token = request.POST.get("token", "")
            if (
                not pending
                or pending["price_list"] != price_list.pk
                or not secrets.compare_digest(pending["token"], token)
            ):
                self.message_user(
                    request,
                    "That preview is no longer pending (confirmed already, or replaced by "
                    "another upload). Upload the file again.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(here)
            content, filename = pending["content"], pending["name"]
            plan = plan_import(content, price_list=price_list)
            stale = plan.fingerprint != pending["fingerprint"]
            if plan.ok and not stale:
                apply_import(plan, actor=actor_of(request), source=filename)
                if plan.applied:
                    self.message_user(request, f"{filename}: {plan.summary()}", messages.SUCCESS)
                    url = reverse("admin:pricing_pricelist_change", args=[price_list.pk])
                    return HttpResponseRedirect(url)
            form = PriceImportForm()
        elif request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            content, filename = upload.read(), upload.name
            plan = plan_import(content, price_list=price_list)
        token = ""
        if plan is not None and plan.ok and not plan.applied:
            token = secrets.token_urlsafe(16)
            request.session[PENDING_IMPORT] = {
                "token": token,
                "price_list": price_list.pk,
                "content": content if isinstance(content, str) else content.decode("utf-8-sig"),
                "name": filename,
                "fingerprint": plan.fingerprint,
            }
        rows = plan.rows if plan else []
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import prices into {price_list.code}",
            "opts": self.model._meta,
            "original": price_list,
            "form": form,
            "plan": plan,
            "stale": stale,
            "token": token,
            "filename": filename,
            "error_rows": [row for row in rows if not row.ok][:MAX_SHOWN_ROWS],
            "change_rows": [row for row in rows if row.status in ("new", "changed")][
                :MAX_SHOWN_ROWS
            ],
            "max_shown": MAX_SHOWN_ROWS,
        }
        return TemplateResponse(request, "admin/pricing/pricelist/import_prices.html", context)

    def price_history_view(self, request, object_id):
        price_list = self._price_list_or_404(request, object_id)
        sku = request.GET.get("sku", "").strip()
        records = selectors.price_history(price_list=price_list, sku_code=sku or None).annotate(
            previous=Window(
                Lag("amount"),
                partition_by=[F("id")],
                order_by=[F("history_date").asc(), F("history_id").asc()],
            )
        )
        page = Paginator(records, 100).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Price history of {price_list.code}",
            "opts": self.model._meta,
            "original": price_list,
            "page": page,
            "sku": sku,
        }
        return TemplateResponse(request, "admin/pricing/pricelist/price_history.html", context)


class PriceImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV, UTF-8, with the header sku,amount; amounts like 12.50. SKUs the file "
        "does not name keep their price.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it, "
                "or use manage.py import_prices."
            )
        return upload
