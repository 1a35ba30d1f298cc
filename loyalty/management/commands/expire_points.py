import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from loyalty import services


class Command(BaseCommand):
    help = (
        "Expire loyalty points past their date (one ledger entry per lot) and recompute tiers. "
        "Safe to run twice; Celery beat runs the same jobs nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="Act as if it were this ISO 8601 moment (default: now). For tests."
        )
        parser.add_argument(
            "--skip-tiers", action="store_true", help="Only expire points; leave tiers alone."
        )

    def handle(self, *args, now=None, skip_tiers=False, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now {now!r} is not an ISO 8601 datetime.")
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=dt.UTC)
        expired = services.expire_points(now=moment)
        self.stdout.write(f"Expired {expired} lot(s) of points.")
        if not skip_tiers:
            changed = services.recompute_tiers(now=moment)
            self.stdout.write(f"Recomputed tiers: {changed} changed.")
