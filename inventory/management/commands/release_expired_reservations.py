from django.core.management.base import BaseCommand

from inventory import services


class Command(BaseCommand):
    help = (
        "Release every active reservation past its expiry, giving its stock back. "
        "The same job Celery beat runs every minute; safe to run at any time."
    )

    def handle(self, *args, **options):
        released = services.release_expired_reservations()
        self.stdout.write(f"Released {released} expired reservation(s).")
