"""``python manage.py check_books``: reconcile every balance with its ledger, read only.

Stock levels with the stock ledger and the active holds, loyalty points with the points
ledger and the open lots, store credit with its entries (the rules of DESIGN.md, "Data
rules"). Safe on a live database: it only reads, one aggregate query per check. Prints each
discrepancy and exits 1 when there is any, so cron or CI can alert on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import stock_discrepancies
from loyalty.selectors import points_discrepancies, store_credit_discrepancies

CHECKS: list[tuple[str, Callable[[], list[str]]]] = [
    ("stock", stock_discrepancies),
    ("points", points_discrepancies),
    ("store credit", store_credit_discrepancies),
]


def counted(n: int) -> str:
    return f"{n} discrepancy" if n == 1 else f"{n} discrepancies"


class Command(BaseCommand):
    help = (
        "Check that every stock level, points balance and store credit balance equals the "
        "sum of its ledger. Read only; exits 1 and lists the discrepancies if any."
    )

    def handle(self, *args, **options):
        found = 0
        for name, check in CHECKS:
            self.stdout.write(f"Checking {name} ...", ending="")
            self.stdout.flush()
            started = time.monotonic()
            problems = check()
            seconds = time.monotonic() - started
            verdict = "ok" if not problems else counted(len(problems))
            self.stdout.write(f" {verdict} ({seconds:.1f} s)")
            for problem in problems:
                self.stdout.write(f"  {problem}")
            found += len(problems)
        if found:
            raise CommandError(f"{counted(found)}: the books do not balance.", returncode=1)
        self.stdout.write(self.style.SUCCESS("The books balance."))
