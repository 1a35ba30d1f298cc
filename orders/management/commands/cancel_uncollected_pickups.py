import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orders.services.pickup_expiry import cancel_uncollected_pickups


class Command(BaseCommand):
    help = (
        "Cancel pickups not collected within the channel's hold period "
        "(ORDERS_PICKUP_HOLD_DAYS, per channel ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL): release "
        "the stock, give back the money and points, tell the customer. Safe to run twice; "
        "Celery beat runs it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only list what would be cancelled."
        )
        parser.add_argument(
            "--now", help="Act as if it were this ISO 8601 moment (default: now). For tests."
        )

    def handle(self, *args, dry_run=False, now=None, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now {now!r} is not an ISO 8601 datetime.")
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=dt.UTC)
        done = cancel_uncollected_pickups(now=moment, dry_run=dry_run)
        verb = "Would cancel" if dry_run else "Cancelled"
        for pickup in done:
            money = (
                "" if dry_run else f", {pickup.refunded} given back, {pickup.points} points back"
            )
            self.stdout.write(
                f"{verb} pickup {pickup.fulfilment} of order {pickup.order} at "
                f"{pickup.location}: {pickup.units} unit(s), ready since "
                f"{pickup.ready_at.isoformat()} ({pickup.channel}: held {pickup.hold_days} "
                f"days){money}."
            )
        summary = "would be cancelled" if dry_run else "cancelled"
        self.stdout.write(f"{len(done)} uncollected pickup(s) {summary}.")
