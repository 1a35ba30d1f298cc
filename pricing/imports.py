"""Prices from a CSV file into one price list, checked in full before anything is written.

Used by the admin's import page and by ``manage.py import_prices``. :func:`plan_import`
reads every row, validates it against the database in a few queries whatever the number of
rows, and says what each row would do (current amount → new amount). :func:`apply_import`
writes a clean plan through :func:`pricing.services.bulk.set_prices` in one transaction:
every row or none, each change in the price history. :func:`import_prices` does both,
re-validating, which is what a confirm button must do.

The file: a header ``sku,amount`` (any order, any case); comma- or semicolon-separated;
UTF-8 (see ``config.csvimport``). Amounts are written with a point and at most two decimals
(``12.50``), above zero. One row per SKU. SKUs of the list that the file does not name keep
their price: an import adds and changes, it never removes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from config.csvimport import RowError, chunks, read_table
from inventory import selectors as inventory_selectors
from pricing.errors import DomainError
from pricing.models import Price, PriceList
from pricing.services.bulk import AmountError, parse_amount, set_prices
from pricing.services.catalog import MAX_PRICES, PriceChanges, PriceEntry

COLUMNS = ("sku", "amount")
HUNDRED = Decimal(100)


@dataclass
class PlannedPrice:
    row: int
    sku: str
    amount_text: str
    amount: Decimal | None = None
    sku_id: int | None = None
    sku_active: bool = True
    current: Decimal | None = None  # None: the SKU has no price in this list yet
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        if not self.ok:
            return "error"
        if self.current is None:
            return "new"
        return "unchanged" if self.amount == self.current else "changed"

    @property
    def change_percent(self) -> Decimal | None:
        if self.current is None or self.amount is None:
            return None
        return ((self.amount - self.current) * HUNDRED / self.current).quantize(Decimal("0.1"))

    @property
    def warning(self) -> str:
        """Not an error: the SKU is switched off in the catalog, so the price sells nothing."""
        return "" if self.sku_active or not self.ok else "The SKU is inactive."

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row, column, message))


@dataclass
class PriceImportPlan:
    price_list: PriceList
    rows: list[PlannedPrice] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    changes: PriceChanges | None = None  # set once applied

    @property
    def applied(self) -> bool:
        return self.changes is not None

    @property
    def errors(self) -> list[RowError]:
        return self.file_errors + [error for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.rows) and all(row.ok for row in self.rows)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def fingerprint(self) -> str:
        """Changes when what the plan would do changes (a price edited since the preview)."""
        digest = hashlib.sha256()
        for row in self.rows:
            digest.update(f"{row.row}|{row.sku}|{row.current}|{row.amount}\n".encode())
        return digest.hexdigest()[:16]

    def summary(self) -> str:
        n = len(self.rows)
        if not self.ok:
            if self.file_errors and not self.rows:
                return "The file cannot be imported."
            bad = self.count("error")
            return f"{bad} of {n} row(s) have errors; nothing can be written."
        if self.applied:
            c = self.changes
            return (
                f"{n} row(s) imported into {self.price_list.code}: {c.created} new, "
                f"{c.updated} changed, {c.unchanged} unchanged."
            )
        return (
            f"{n} row(s) would be imported into {self.price_list.code}: "
            f"{self.count('new')} new, {self.count('changed')} changed, "
            f"{self.count('unchanged')} unchanged."
        )


def plan_import(content: str | bytes, *, price_list: PriceList) -> PriceImportPlan:
    """Read and validate every row; say what each would do. Writes nothing.

    A constant handful of queries whatever the number of rows (SKUs and current prices are
    fetched in chunks)."""
    plan = PriceImportPlan(price_list=price_list)
    table = read_table(content, required=COLUMNS, max_rows=MAX_PRICES)
    plan.file_errors = table.errors
    for record in table.records:
        row = PlannedPrice(
            row=record.row, sku=record.cells["sku"], amount_text=record.cells["amount"]
        )
        plan.rows.append(row)
        if record.problem:
            row.error("", record.problem)
            continue
        if not row.sku:
            row.error("sku", "Required.")
        try:
            row.amount = parse_amount(row.amount_text)
        except AmountError as exc:
            row.error("amount", str(exc))
    if plan.file_errors:
        return plan
    _resolve(plan)
    return plan


def _resolve(plan: PriceImportPlan) -> None:
    codes = {row.sku for row in plan.rows if row.sku}
    skus: dict[str, tuple[int, bool]] = {}
    for chunk in chunks(codes):
        skus.update(
            (code, (pk, active))
            for code, pk, active in inventory_selectors.skus()
            .filter(sku__in=chunk)
            .values_list("sku", "pk", "active")
        )
    current: dict[int, Decimal] = {}
    for chunk in chunks(pk for pk, _ in skus.values()):
        current.update(
            Price.objects.filter(price_list=plan.price_list, sku_id__in=chunk).values_list(
                "sku_id", "amount"
            )
        )
    first: dict[str, int] = {}
    for row in plan.rows:
        if not row.sku:
            continue
        if row.sku in first:
            row.error("sku", f"{row.sku} is already on row {first[row.sku]}; one price per SKU.")
            continue
        first[row.sku] = row.row
        found = skus.get(row.sku)
        if found is None:
            row.error("sku", f"Unknown SKU {row.sku!r}.")
            continue
        row.sku_id, row.sku_active = found
        row.current = current.get(row.sku_id)


def apply_import(
    plan: PriceImportPlan,
    *,
    actor: str = "",
    source: str = "",
    on_progress: Callable[[int], None] | None = None,
) -> PriceImportPlan:
    """Write a clean plan in one transaction (every row or none). If the service refuses it
    (the catalog changed since the plan was made), its errors are added to the plan's rows
    (or the file) and nothing is written. The change reason in the price history is
    "CSV import <source>"."""
    if not plan.ok:
        raise ValueError("A plan with errors cannot be applied.")
    entries = [PriceEntry(sku=row.sku, amount=row.amount) for row in plan.rows]
    try:
        plan.changes = set_prices(
            price_list=plan.price_list,
            prices=entries,
            actor=actor,
            reason=f"CSV import {source}".strip(),
            on_progress=on_progress,
        )
    except DomainError as exc:
        _attach(plan, exc)
    return plan


def _attach(plan: PriceImportPlan, exc: DomainError) -> None:
    if not exc.errors:
        plan.file_errors.append(RowError(0, "", exc.detail))
    for error in exc.errors:
        index, _, column = error.get("attr", "").partition(".")
        if index.isdigit() and int(index) < len(plan.rows):
            plan.rows[int(index)].error(column if column in COLUMNS else "", error["detail"])
        else:
            plan.file_errors.append(RowError(0, "", error["detail"]))


def import_prices(
    content: str | bytes,
    *,
    price_list: PriceList,
    actor: str = "",
    source: str = "",
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> PriceImportPlan:
    """Validate the whole file and, unless ``dry_run`` or any row is bad, apply it."""
    plan = plan_import(content, price_list=price_list)
    if plan.ok and not dry_run:
        apply_import(plan, actor=actor, source=source, on_progress=on_progress)
    return plan
