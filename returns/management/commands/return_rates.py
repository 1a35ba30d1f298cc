"""Print the return-rate report (the admin's table) for a date range, for cron or a shell."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from returns.reports import DIMENSIONS, return_rates


class Command(BaseCommand):
    help = (
        "Return rates (units returned / units sold) by sku, category, reason, channel or location."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="YYYY-MM-DD (inclusive)")
        parser.add_argument("--end", required=True, help="YYYY-MM-DD (inclusive)")
        parser.add_argument("--by", choices=DIMENSIONS, default="sku")

    def handle(self, *args, start, end, by, **options):
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError as exc:
            raise CommandError(f"Dates are YYYY-MM-DD: {exc}") from exc
        tz = timezone.get_current_timezone()
        rows = return_rates(
            start=dt.datetime.combine(first, dt.time.min, tzinfo=tz),
            end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
            by=by,
        )
        self.stdout.write(f"{by:<24}{'sold':>8}{'returned':>10}{'rate %':>9}{'refunded':>12}")
        for row in rows:
            rate = "-" if row["rate"] is None else str(row["rate"])
            self.stdout.write(
                f"{str(row['key'])[:23]:<24}{row['sold']:>8}{row['returned']:>10}{rate:>9}"
                f"{row['refunded']:>12}"
            )
