import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from pricing import selectors
from pricing.errors import NotFound
from pricing.imports import apply_import, plan_import

MAX_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Import prices into a price list from a CSV file with the columns sku,amount (see "
        "pricing/imports.py). Every row is checked first; any bad row and nothing is written "
        "(exit status 1). SKUs the file does not name keep their price. FILE '-' reads stdin."
    )

    def add_arguments(self, parser):
        parser.add_argument("list_code", metavar="LIST_CODE", help="The price list's code.")
        parser.add_argument("file", metavar="FILE", help="The CSV file, or '-' for stdin.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and show the changes; write nothing."
        )
        parser.add_argument(
            "--actor",
            default="command:import_prices",
            help="Who the price history names (default: %(default)s).",
        )

    def handle(self, *args, list_code, file, dry_run, actor, verbosity, **options):
        try:
            price_list = selectors.price_list_by_code(list_code)
        except NotFound as exc:
            raise CommandError(exc.detail) from None
        if file == "-":
            content, source = sys.stdin.buffer.read(), "stdin"
        else:
            path = Path(file)
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
            source = path.name

        plan = plan_import(content, price_list=price_list)
        if plan.ok and not dry_run:
            # disable=None: a bar on a terminal, nothing in a cron job's log.
            with tqdm(total=len(plan.rows), unit="price", disable=None, file=sys.stderr) as bar:
                apply_import(plan, actor=actor, source=source, on_progress=bar.update)

        for error in plan.errors[:MAX_SHOWN]:
            self.stderr.write(str(error))
        if len(plan.errors) > MAX_SHOWN:
            self.stderr.write(f"... and {len(plan.errors) - MAX_SHOWN} more error(s).")
        if plan.ok and (dry_run or verbosity >= 2):
            changed = [row for row in plan.rows if row.status in ("new", "changed")]
            for row in changed[:MAX_SHOWN] if verbosity < 3 else changed:
                before = "new" if row.current is None else str(row.current)
                warning = f"  ({row.warning})" if row.warning else ""
                self.stdout.write(f"row {row.row}: {row.sku} {before} → {row.amount}{warning}")
            if verbosity < 3 and len(changed) > MAX_SHOWN:
                self.stdout.write(f"... and {len(changed) - MAX_SHOWN} more (-v 3 shows all).")
        self.stdout.write(plan.summary() + (" Dry run: nothing written." if dry_run else ""))
        if not plan.ok or (not dry_run and not plan.applied):
            raise CommandError("Nothing was imported.", returncode=1)
