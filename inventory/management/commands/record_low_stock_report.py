from django.core.management.base import BaseCommand

from inventory import services


class Command(BaseCommand):
    help = (
        "Record a low-stock report: every stock level whose available stock is at or below "
        "its reorder point. Celery beat records one a day; this records one now. "
        "With -v 2 the lines are printed too."
    )

    def handle(self, *args, verbosity, **options):
        report = services.record_low_stock_report()
        self.stdout.write(
            f"Low-stock report {report.pk}: {len(report.lines)} level(s) at or below "
            "their reorder point."
        )
        if verbosity >= 2:
            for line in report.lines:
                self.stdout.write(
                    f"  {line['location']} {line['sku']}: available {line['available']} "
                    f"(on hand {line['on_hand']}, reserved {line['reserved']}), "
                    f"reorder point {line['reorder_point']}"
                )
