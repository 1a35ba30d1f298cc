"""Receipts and counts from a CSV file, checked in full before anything is written.

Used by the admin's import page and by ``manage.py import_stock``. :func:`plan_import`
reads every row, validates it against the database in a few queries whatever the number of
rows, and says what each row would do (on hand now → on hand after). :func:`apply_import`
writes a clean plan through ``inventory.services`` in one transaction: every row or none.
:func:`import_stock` does both, re-validating, which is what a confirm button must do.

The file: a header ``sku,location,quantity`` plus optional ``reason`` and ``reference``
columns, read by :mod:`config.csvimport` like every import (UTF-8, commas or semicolons,
rows numbered as a spreadsheet shows them: the header is row 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from config.csvimport import Record, RowError, chunks, read_table
from inventory import services
from inventory.errors import DomainError
from inventory.models import SKU, Location, StockLevel, StockMovement

REQUIRED_COLUMNS = ("sku", "location", "quantity")
OPTIONAL_COLUMNS = ("reason", "reference")
COLUMN_ORDER = {name: i for i, name in enumerate(("", *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))}
MAX_QUANTITY = 1_000_000  # per row: more is a typo (and would overflow on hand)
MAX_ON_HAND = 2_147_483_647  # the column is a 32-bit integer
REASON_LENGTH = StockMovement._meta.get_field("reason").max_length
REFERENCE_LENGTH = StockMovement._meta.get_field("reference").max_length
LOOKUP_CHUNK = 2000  # keeps every IN (...) well under SQLite's parameter limit
INTEGER = re.compile(r"[+-]?[0-9]+")


class ImportKind(models.TextChoices):
    RECEIPT = "receipt", "Receipts: add the quantity to on hand"
    COUNT = "count", "Counts: set on hand to the counted quantity"


@dataclass
class PlannedRow:
    row: int
    sku: str
    location: str
    quantity_text: str
    reason: str = ""
    reference: str = ""
    quantity: int | None = None
    sku_id: int | None = None
    location_id: int | None = None
    level_id: int | None = None  # None: the level does not exist yet and will be created
    on_hand_before: int | None = None
    on_hand_after: int | None = None
    reserved: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_columns(self) -> set[str]:
        return {error.column for error in self.errors}

    @property
    def change(self) -> int | None:
        if self.on_hand_before is None or self.on_hand_after is None:
            return None
        return self.on_hand_after - self.on_hand_before

    @property
    def warning(self) -> str:
        """Not an error: a count below what is reserved takes units from reservations."""
        if self.ok and self.on_hand_after is not None and self.on_hand_after < self.reserved:
            return (
                f"{self.reserved - self.on_hand_after} reserved unit(s) will be taken "
                "from reservations."
            )
        return ""

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row, column, message))
        # Left to right, as the columns are listed, whatever order the checks ran in.
        self.errors.sort(key=lambda error: COLUMN_ORDER.get(error.column, 0))


@dataclass
class ImportPlan:
    kind: ImportKind
    rows: list[PlannedRow] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def errors(self) -> list[RowError]:
        return self.file_errors + [error for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for row in self.rows if not row.ok)

    @property
    def units(self) -> int:
        """The net change of on hand over all rows."""
        return sum(row.change or 0 for row in self.rows)

    @property
    def levels(self) -> int:
        return len({(row.sku, row.location) for row in self.rows})

    def summary(self) -> str:
        n = len(self.rows)
        if not self.ok:
            if self.file_errors and not self.rows:
                return "The file cannot be imported."
            return f"{self.rows_with_errors} of {n} row(s) have errors; nothing can be written."
        verb = "received" if self.kind == ImportKind.RECEIPT else "counted"
        tense = "" if self.applied else "would be "
        if self.kind == ImportKind.RECEIPT:
            return (
                f"{n} row(s) {tense}{verb}: +{self.units} unit(s) at {self.levels} stock level(s)."
            )
        changed = sum(1 for row in self.rows if row.change)
        return f"{n} stock level(s) {tense}{verb}: {changed} changed, net {self.units:+d} unit(s)."


# --- Reading -------------------------------------------------------------------------------


def plan_import(content: str | bytes, *, kind: ImportKind | str) -> ImportPlan:
    """Read and validate every row; say what each would do. Writes nothing.

    A constant handful of queries whatever the number of rows: SKUs, locations and stock
    levels are fetched in chunks of ``LOOKUP_CHUNK``."""
    plan = ImportPlan(kind=ImportKind(kind))
    table = read_table(content, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    if not table.ok:
        plan.file_errors = table.errors
        return plan
    plan.rows = [_read_row(record, plan.kind) for record in table.records]
    _resolve(plan)
    if plan.kind == ImportKind.COUNT:
        _reject_duplicate_counts(plan)
    _plan_effect(plan)
    return plan


def _read_row(record: Record, kind: ImportKind) -> PlannedRow:
    cells = record.cells
    row = PlannedRow(
        row=record.row,
        sku=cells["sku"],
        location=cells["location"],
        quantity_text=cells["quantity"],
        reason=cells.get("reason", ""),
        reference=cells.get("reference", ""),
    )
    if record.problem:
        row.error("", record.problem)
        return row
    if not row.sku:
        row.error("sku", "Required.")
    if not row.location:
        row.error("location", "Required.")
    row.quantity = _quantity(row, kind)
    if len(row.reason) > REASON_LENGTH:
        row.error("reason", f"At most {REASON_LENGTH} characters.")
    if len(row.reference) > REFERENCE_LENGTH:
        row.error("reference", f"At most {REFERENCE_LENGTH} characters.")
    return row


def _quantity(row: PlannedRow, kind: ImportKind) -> int | None:
    text = row.quantity_text
    if not text:
        row.error("quantity", "Required.")
        return None
    if not INTEGER.fullmatch(text):
        row.error("quantity", f"{text!r} is not a whole number.")
        return None
    quantity = int(text)
    if kind == ImportKind.RECEIPT and quantity <= 0:
        row.error("quantity", "A receipt must be above zero.")
    elif kind == ImportKind.COUNT and quantity < 0:
        row.error("quantity", "A count cannot be below zero.")
    elif quantity > MAX_QUANTITY:
        row.error("quantity", f"At most {MAX_QUANTITY:,} per row.")
    else:
        return quantity
    return None


# --- Checking against the database ------------------------------------------------------------


def _resolve(plan: ImportPlan) -> None:
    sku_codes = {row.sku for row in plan.rows if row.sku}
    location_codes = {row.location for row in plan.rows if row.location}
    sku_ids: dict[str, int] = {}
    for chunk in chunks(sku_codes, LOOKUP_CHUNK):
        sku_ids.update(SKU.objects.filter(sku__in=chunk).values_list("sku", "pk"))
    location_ids: dict[str, int] = {}
    for chunk in chunks(location_codes, LOOKUP_CHUNK):
        location_ids.update(Location.objects.filter(code__in=chunk).values_list("code", "pk"))
    for row in plan.rows:
        if row.sku:
            row.sku_id = sku_ids.get(row.sku)
            if row.sku_id is None:
                row.error("sku", f"Unknown SKU {row.sku!r}.")
        if row.location:
            row.location_id = location_ids.get(row.location)
            if row.location_id is None:
                row.error("location", f"Unknown location {row.location!r}.")


def _reject_duplicate_counts(plan: ImportPlan) -> None:
    first: dict[tuple[str, str], int] = {}
    for row in plan.rows:
        if not (row.sku and row.location):
            continue
        key = (row.sku, row.location)
        if key in first:
            row.error(
                "sku",
                f"{row.sku} at {row.location} is already counted on row {first[key]}; "
                "one count per SKU and location.",
            )
        else:
            first[key] = row.row


def _plan_effect(plan: ImportPlan) -> None:
    """On hand before and after each row. Receipts of one level add up in file order."""
    known = [row for row in plan.rows if row.sku_id and row.location_id]
    levels: dict[tuple[int, int], tuple[int, int, int]] = {}
    location_ids = {row.location_id for row in known}
    for chunk in chunks({row.sku_id for row in known}, LOOKUP_CHUNK):
        for pk, sku_id, location_id, on_hand, reserved in StockLevel.objects.filter(
            sku_id__in=chunk, location_id__in=location_ids
        ).values_list("pk", "sku_id", "location_id", "on_hand", "reserved"):
            levels[(sku_id, location_id)] = (pk, on_hand, reserved)
    running: dict[tuple[int, int], int] = {}
    for row in known:
        key = (row.sku_id, row.location_id)
        row.level_id, on_hand, row.reserved = levels.get(key, (None, 0, 0))
        row.on_hand_before = running.get(key, on_hand)
        if row.quantity is None:
            continue
        if plan.kind == ImportKind.RECEIPT:
            row.on_hand_after = row.on_hand_before + row.quantity
            if row.on_hand_after > MAX_ON_HAND:
                row.error("quantity", f"On hand would pass {MAX_ON_HAND:,}.")
                continue
        else:
            row.on_hand_after = row.quantity
        running[key] = row.on_hand_after


# --- Writing ----------------------------------------------------------------------------------

APPLY_CHUNK = 1000  # rows per service call: the unit of the progress bar


class _Abort(Exception):
    pass


def apply_import(
    plan: ImportPlan,
    *,
    actor: str = "",
    source: str = "",
    on_progress: Callable[[int], None] | None = None,
) -> ImportPlan:
    """Write every row of a clean plan through ``inventory.services``, in one transaction.

    Receipts go through ``receive_stock_batch``, counts through ``count_stock_batch``: the
    effect of ``receive_stock`` / ``count_stock`` per row (a count's difference to the
    recorded on hand becomes a ``count`` movement and the level no longer needs a count) in a
    few queries per thousand rows. Each ledger row carries its row's reason (default
    "CSV import <source>") and reference, and ``actor``. Rows go in stock-row primary-key
    order, chunk after chunk, so the locks are taken in the order every service takes them
    and an import cannot deadlock with a checkout; rows of one level keep their file order.
    If a service refuses a row (the database changed since the plan was made), the error is
    added to that row, everything is rolled back and the plan comes back with ``applied``
    False. ``on_progress(n)`` is called after every ``n`` rows written (a progress bar)."""
    if not plan.ok:
        raise ValueError("A plan with errors cannot be applied.")
    occurred_at = timezone.now()
    default_reason = f"CSV import {source}".strip()[:REASON_LENGTH]
    apply = (
        services.receive_stock_batch
        if plan.kind == ImportKind.RECEIPT
        else services.count_stock_batch
    )
    # New levels (no primary key yet) last: nobody else can be holding them.
    ordered = sorted(plan.rows, key=lambda row: (row.level_id is None, row.level_id or 0))
    try:
        with transaction.atomic():
            for start in range(0, len(ordered), APPLY_CHUNK):
                chunk = ordered[start : start + APPLY_CHUNK]
                lines = [
                    services.StockLine(
                        sku=row.sku,
                        location=row.location,
                        quantity=row.quantity,
                        entry=services.Entry(
                            reason=row.reason or default_reason,
                            reference=row.reference,
                            actor=actor,
                            occurred_at=occurred_at,
                        ),
                    )
                    for row in chunk
                ]
                try:
                    apply(lines=lines)
                except DomainError as exc:
                    _blame(chunk, exc)
                    raise _Abort from exc
                if on_progress is not None:
                    on_progress(len(chunk))
    except _Abort:
        return plan
    plan.applied = True
    return plan


def _blame(chunk: list[PlannedRow], exc: DomainError) -> None:
    """Put a service's error (``attr`` like ``lines.3.quantity``) on the row it names."""
    for error in exc.errors or [{"attr": "", "detail": exc.detail}]:
        parts = error.get("attr", "").split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
            row = chunk[int(parts[1])]
            column = parts[2] if len(parts) > 2 and parts[2] in REQUIRED_COLUMNS else ""
            row.error(column, error["detail"])
        else:
            chunk[0].error("", error["detail"])


def import_stock(
    content: str | bytes,
    *,
    kind: ImportKind | str,
    actor: str = "",
    source: str = "",
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportPlan:
    """Validate the whole file and, unless ``dry_run`` or any row is bad, apply it."""
    plan = plan_import(content, kind=kind)
    if plan.ok and not dry_run:
        apply_import(plan, actor=actor, source=source, on_progress=on_progress)
    return plan
