from django.core.management.base import BaseCommand

from orders.services.carts import purge_stale_carts, stale_days


class Command(BaseCommand):
    help = "Delete carts not touched for CARTS_STALE_DAYS days (ordered carts stay)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Override CARTS_STALE_DAYS.")

    def handle(self, *args, days=None, **options):
        purged = purge_stale_carts(days=days)
        self.stdout.write(f"Purged {purged} cart(s) older than {days or stale_days()} days.")
