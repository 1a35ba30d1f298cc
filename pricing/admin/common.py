"""What the pricing admin pages share: who the history names, counts without joins,
the schedule filter."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.db.models import F, Func, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

SOON = timedelta(days=7)
MAX_SHOWN_ROWS = 500  # rows a preview table shows
ADMIN_REASON = "admin"  # the change reason of prices edited in the admin


def actor_of(request) -> str:
    return f"user:{request.user.get_username()}"


def count_of(related) -> Coalesce:
    """How many rows of ``related`` (filtered on ``OuterRef("pk")``), as a subquery: no join
    and no GROUP BY on the list's own query, whatever it is filtered or searched by."""
    counted = related.order_by().annotate(n=Func(F("pk"), function="COUNT"))
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


# --- Schedules -----------------------------------------------------------------------------


class ScheduleFilter(admin.SimpleListFilter):
    """Live now, starting within 7 days, later, ended, switched off: for anything with
    ``active``, ``starts_at`` and ``ends_at`` (empty: open-ended)."""

    title = "schedule"
    parameter_name = "schedule"

    def lookups(self, request, model_admin):
        return [
            ("live", "Live now"),
            ("soon", "Starts soon (next 7 days)"),
            ("later", "Starts later"),
            ("ended", "Ended"),
            ("off", "Switched off"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        started = Q(starts_at__isnull=True) | Q(starts_at__lte=now)
        running = started & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        where = {
            "live": Q(active=True) & running,
            "soon": Q(active=True, starts_at__gt=now, starts_at__lte=now + SOON),
            "later": Q(active=True, starts_at__gt=now + SOON),
            "ended": Q(ends_at__lte=now),
            "off": Q(active=False),
        }.get(self.value())
        return queryset if where is None else queryset.filter(where)


def schedule_status(obj) -> str:
    now = timezone.now()
    if not obj.active:
        return "switched off"
    if obj.ends_at is not None and obj.ends_at <= now:
        return "ended"
    if obj.starts_at is not None and obj.starts_at > now:
        days = (obj.starts_at - now).days
        return "starts today" if days == 0 else f"starts in {days} day(s)"
    return "live"
