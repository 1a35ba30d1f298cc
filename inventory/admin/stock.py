"""Stock for merchandisers: read-only. Levels, the ledger, reservations, shortfalls and
transfers change only through services: the actions below and the CSV import call them."""

from django.contrib import admin, messages
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from inventory import selectors, services
from inventory.admin.stock_import import StockImportAdmin, admin_actor
from inventory.errors import DomainError
from inventory.models import (
    Category,
    LowStockReport,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    StockShortfall,
    Transfer,
)


def _table(headers: list[str], rows) -> str:
    """An HTML table for a read-only field; every cell is escaped."""
    if not rows:
        return "—"
    width = len(headers)
    return format_html(
        '<table class="readonly-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join("", "<tr>" + "<td>{}</td>" * width + "</tr>", rows),
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Stock changes only through services and the ledger: no add, change or delete here.
    Staff with the model's view permission see the lists and detail pages."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The same rule as selectors.stock_levels(below_reorder_point=True), over a queryset that
# already carries ``available_qty``.
AT_OR_BELOW_REORDER_POINT = Q(reorder_point__gt=0, available_qty__lte=F("reorder_point"))


class CategoryFilter(admin.SimpleListFilter):
    """The SKU's product category and everything below it."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [
            (code, "\u2003" * (path.count("/") - 1) + name)
            for code, name, path in Category.objects.order_by("path").values_list(
                "code", "name", "path"
            )
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        path = Category.objects.filter(code=self.value()).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(sku__product__category__path__startswith=path)


class ReorderFilter(admin.SimpleListFilter):
    title = "reorder point"
    parameter_name = "below_reorder_point"

    def lookups(self, request, model_admin):
        return [("yes", "At or below reorder point"), ("no", "Above reorder point")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(AT_OR_BELOW_REORDER_POINT)
        if self.value() == "no":
            return queryset.exclude(AT_OR_BELOW_REORDER_POINT)
        return queryset


class DiscrepancyFilter(admin.SimpleListFilter):
    title = "discrepancies"
    parameter_name = "discrepancy"

    def lookups(self, request, model_admin):
        return [("yes", "Needs a count or has an open shortfall")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        open_shortfall = StockShortfall.objects.filter(
            level=OuterRef("pk"), resolved_at__isnull=True
        )
        return queryset.filter(Q(needs_count=True) | Exists(open_shortfall))


@admin.register(StockLevel)
class StockLevelAdmin(StockImportAdmin, ReadOnlyAdmin):
    list_display = [
        "sku",
        "location",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "reorder_point",
        "in_transit",
        "needs_count",
    ]
    list_filter = [
        "location",
        "location__type",
        CategoryFilter,
        ReorderFilter,
        DiscrepancyFilter,
    ]
    search_fields = ["sku__sku", "=sku__barcode", "location__code", "location__name"]
    list_select_related = ["sku", "location"]
    fields = [
        "sku",
        "location",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "reorder_point",
        "in_transit",
        "needs_count",
        "updated_at",
        "open_shortfalls",
        "recent_movements",
    ]
    readonly_fields = fields
    RECENT_MOVEMENTS = 20

    def get_queryset(self, request):
        return selectors.with_available(super().get_queryset(request))

    @admin.display(description="available", ordering="available_qty")
    def available(self, level: StockLevel) -> int:
        return level.available_qty

    @admin.display(description="open shortfalls")
    def open_shortfalls(self, level: StockLevel) -> str:
        rows = [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:inventory_stockshortfall_change", args=[s.pk]),
                    s.created_at.strftime("%Y-%m-%d %H:%M"),
                ),
                s.quantity,
                len(s.lines),
            )
            for s in level.shortfalls.filter(resolved_at__isnull=True).order_by("-created_at")
        ]
        return _table(["recorded", "units", "reservations"], rows)

    @admin.display(description="ledger")
    def recent_movements(self, level: StockLevel) -> str:
        movements = level.movements.order_by("-id")[: self.RECENT_MOVEMENTS]
        rows = [
            (
                m.occurred_at.strftime("%Y-%m-%d %H:%M"),
                m.get_kind_display(),
                f"{m.quantity:+d}",
                m.on_hand_after,
                m.reason,
                m.reference,
                m.actor,
            )
            for m in movements
        ]
        link = format_html(
            '<p><a href="{}?level__id__exact={}">The whole ledger of this level</a></p>',
            reverse("admin:inventory_stockmovement_changelist"),
            level.pk,
        )
        headers = ["when", "kind", "change", "on hand after", "reason", "reference", "by"]
        return format_html("{}{}", _table(headers, rows), link)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "kind",
        "sku",
        "location",
        "quantity",
        "on_hand_after",
        "reason",
        "reference",
        "actor",
    ]
    list_filter = ["kind", "location"]
    date_hierarchy = "occurred_at"
    search_fields = ["sku__sku", "reference", "reason"]
    list_select_related = ["sku", "location"]
    show_full_result_count = False  # the ledger is the biggest table; skip a second COUNT(*)
    fields = [
        "occurred_at",
        "recorded_at",
        "kind",
        "sku",
        "location",
        "quantity",
        "on_hand_after",
        "reason",
        "reference",
        "actor",
    ]


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ["sku", "location", "requested", "quantity", "consumed", "shorted"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("level__sku", "level__location")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="SKU")
    def sku(self, line: ReservationLine) -> str:
        return line.level.sku.sku

    @admin.display(description="location")
    def location(self, line: ReservationLine) -> str:
        return line.level.location.code


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "channel",
        "reference",
        "status",
        "units_held",
        "expires_at",
        "owner",
        "created_at",
        "closed_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["reference", "owner"]
    list_select_related = ["channel"]
    inlines = [ReservationLineInline]
    actions = ["release_selected"]

    def get_queryset(self, request):
        held = (
            ReservationLine.objects.filter(reservation=OuterRef("pk"))
            .values("reservation")
            .annotate(total=Sum("quantity"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(units_held=Subquery(held, output_field=IntegerField()))
        )

    @admin.display(description="units held", ordering="units_held")
    def units_held(self, reservation: Reservation) -> int:
        return reservation.units_held or 0

    def has_release_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_reservation")

    @admin.action(description="Release selected reservations", permissions=["release"])
    def release_selected(self, request, queryset):
        selected = list(queryset.order_by("pk").values_list("pk", flat=True))
        released = sum(services.release(reservation_id=pk) for pk in selected)
        self.message_user(request, f"Released {released} reservation(s).", messages.SUCCESS)
        if released < len(selected):
            self.message_user(
                request,
                f"{len(selected) - released} were not active and were left as they were.",
                messages.WARNING,
            )


class ResolvedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", "Open"), ("yes", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(resolved_at__isnull=self.value() == "no")
        return queryset


@admin.register(StockShortfall)
class StockShortfallAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "sku",
        "location",
        "quantity",
        "reservation_count",
        "cause_kind",
        "resolved_at",
    ]
    list_filter = [ResolvedFilter, "level__location"]
    search_fields = ["level__sku__sku", "level__location__code"]
    list_select_related = ["level__sku", "level__location", "cause"]
    fields = [
        "stock_level",
        "quantity",
        "cause_kind",
        "created_at",
        "resolved_at",
        "reservations",
    ]
    readonly_fields = fields
    actions = ["mark_resolved"]

    @admin.display(description="SKU", ordering="level__sku__sku")
    def sku(self, shortfall: StockShortfall) -> str:
        return shortfall.level.sku.sku

    @admin.display(description="location", ordering="level__location__code")
    def location(self, shortfall: StockShortfall) -> str:
        return shortfall.level.location.code

    @admin.display(description="reservations")
    def reservation_count(self, shortfall: StockShortfall) -> int:
        return len(shortfall.lines)

    @admin.display(description="cause", ordering="cause__kind")
    def cause_kind(self, shortfall: StockShortfall) -> str:
        return shortfall.cause.get_kind_display()

    @admin.display(description="stock level")
    def stock_level(self, shortfall: StockShortfall) -> str:
        return format_html(
            '<a href="{}">{} at {}</a>',
            reverse("admin:inventory_stocklevel_change", args=[shortfall.level_id]),
            shortfall.level.sku.sku,
            shortfall.level.location.code,
        )

    @admin.display(description="reservations shorted")
    def reservations(self, shortfall: StockShortfall) -> str:
        rows = [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:inventory_reservation_change", args=[line["reservation"]]),
                    line["reservation"],
                ),
                line.get("reference") or "",
                line["quantity"],
            )
            for line in shortfall.lines
        ]
        return _table(["reservation", "reference", "units lost"], rows)

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_stockshortfall")

    @admin.action(description="Mark resolved", permissions=["resolve"])
    def mark_resolved(self, request, queryset):
        resolved = services.resolve_shortfalls(shortfall_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Marked {resolved} shortfall(s) resolved.", messages.SUCCESS)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "sku",
        "from_location",
        "to_location",
        "quantity",
        "status",
        "reference",
        "created_by",
        "dispatched_at",
        "received_at",
    ]
    list_filter = ["status", "from_location", "to_location"]
    search_fields = ["sku__sku", "reference"]
    list_select_related = ["sku", "from_location", "to_location"]
    date_hierarchy = "dispatched_at"
    actions = ["receive_selected"]

    def has_receive_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_transfer")

    @admin.action(description="Receive selected transfers", permissions=["receive"])
    def receive_selected(self, request, queryset):
        received, refused = 0, []
        entry = services.Entry(actor=admin_actor(request))
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                services.receive_transfer(transfer_id=pk, entry=entry)
            except DomainError as exc:
                refused.append(f"{pk}: {exc.detail}")
            else:
                received += 1
        self.message_user(request, f"Received {received} transfer(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not received: " + "; ".join(refused), messages.WARNING)


@admin.register(LowStockReport)
class LowStockReportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "line_count"]
    date_hierarchy = "created_at"
    fields = ["created_at", "lines_table"]
    readonly_fields = fields

    @admin.display(description="levels at or below reorder point")
    def line_count(self, report: LowStockReport) -> int:
        return len(report.lines)

    @admin.display(description="levels at or below reorder point")
    def lines_table(self, report: LowStockReport) -> str:
        rows = [
            (
                line["location"],
                line["sku"],
                line["on_hand"],
                line.get("reserved", ""),
                line["available"],
                line["reorder_point"],
            )
            for line in report.lines
        ]
        headers = ["location", "SKU", "on hand", "reserved", "available", "reorder point"]
        return _table(headers, rows)
