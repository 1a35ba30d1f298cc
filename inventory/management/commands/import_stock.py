import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inventory import imports

PROGRESS_FROM_ROWS = 1000  # smaller files are written before a bar would be worth drawing


class Command(BaseCommand):
    help = (
        "Import receipts or counts from a CSV file (header sku,location,quantity, optionally "
        "reason and reference). Every row is checked first; if any row is bad nothing is "
        "written and the command exits with status 1. Otherwise all rows are written in one "
        "transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file; '-' reads standard input.")
        parser.add_argument(
            "--kind",
            required=True,
            choices=[kind.value for kind in imports.ImportKind],
            help="receipt: add to on hand; count: set on hand to the counted number.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and show the effect; write nothing."
        )
        parser.add_argument(
            "--actor", default="", help="Who, for the ledger (default: import_stock)."
        )

    def handle(self, *args, file, kind, dry_run, actor, verbosity, **options):
        content, source = self._read(file)
        plan = imports.plan_import(content, kind=kind)
        for error in plan.errors:
            self.stderr.write(str(error))
        if verbosity >= 2 or (dry_run and verbosity >= 1 and plan.ok):
            for row in plan.rows:
                self.stdout.write(self._describe(row))
        if not plan.ok:
            raise CommandError(f"{plan.summary()}", returncode=1)
        if dry_run:
            self.stdout.write(f"Dry run: {plan.summary()} Nothing was written.")
            return
        with tqdm(
            total=len(plan.rows),
            unit="row",
            desc="Writing",
            file=getattr(self.stderr, "_out", sys.stderr),
            # Only for big files, and only on a terminal (None: tqdm decides).
            disable=True if len(plan.rows) < PROGRESS_FROM_ROWS else None,
        ) as bar:
            imports.apply_import(
                plan, actor=actor or "import_stock", source=source, on_progress=bar.update
            )
        if not plan.applied:
            for error in plan.errors:
                self.stderr.write(str(error))
            raise CommandError(
                "The stock changed while the file was being written; nothing was written. "
                "Run the import again.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(plan.summary()))

    def _read(self, file: str) -> tuple[bytes, str]:
        if file == "-":
            return sys.stdin.buffer.read(), "stdin"
        path = Path(file)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.", returncode=2) from exc

    @staticmethod
    def _describe(row: imports.PlannedRow) -> str:
        effect = (
            f"{row.on_hand_before} → {row.on_hand_after}"
            if row.on_hand_after is not None
            else "not checked"
        )
        note = f"  ({row.warning})" if row.warning else ""
        flag = "" if row.ok else "  [error]"
        return f"row {row.row}: {row.sku} at {row.location}: {effect}{note}{flag}"
