"""Many receipts or counts in one transaction: a delivery note, a stocktake, a CSV import.

The same effect as calling :func:`~inventory.services.stock.receive_stock` or
:func:`~inventory.services.stock.count_stock` once per line, in a constant number of queries
per thousand lines instead of half a dozen per line: SKUs, locations and levels are fetched
in chunks, the level rows are locked in primary-key order (as every stock service does, so a
batch cannot deadlock with a checkout), and the ledger is written with ``bulk_create``.
On hand still equals the sum of its ledger, row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from inventory.errors import UnknownLocation, UnknownSKU, ValidationFailed
from inventory.models import SKU, Location, MovementKind, StockLevel, StockMovement
from inventory.services.stock import Entry, count_stock

CHUNK = 1000  # rows per IN (...) list, UPDATE and INSERT: far below SQLite's parameter limit


@dataclass(frozen=True)
class StockLine:
    sku: str
    location: str
    quantity: int
    entry: Entry = Entry()


@transaction.atomic
def receive_stock_batch(*, lines: Sequence[StockLine]) -> int:
    """Goods arrived, many lines at once: each line's ``quantity`` (> 0) is added to on hand
    with a ``receipt`` in the ledger. Atomic: every line or none. Several lines for one level
    add up in the order given. Returns the number of ledger rows written.
    Errors name the line: ``lines.<i>.quantity``, ``lines.<i>.sku``, ``lines.<i>.location``."""
    for index, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise ValidationFailed.field(
                f"lines.{index}.quantity", "Must be a whole number above zero."
            )
    level_ids = _level_ids(lines)
    locked = _lock(level_ids)
    movements = []
    for line, level_id in zip(lines, level_ids, strict=True):
        level = locked[level_id]
        level.on_hand += line.quantity
        movements.append(_movement(level, MovementKind.RECEIPT, line.quantity, line.entry))
    _save(locked.values(), ["on_hand"])
    StockMovement.objects.bulk_create(movements, batch_size=CHUNK)
    return len(movements)


@transaction.atomic
def count_stock_batch(*, lines: Sequence[StockLine]) -> int:
    """A stocktake: each line's ``quantity`` is the counted number (≥ 0) for its level; the
    difference to the recorded on hand becomes a ``count`` movement (possibly of zero) and
    the level no longer needs a count. One line per level. Atomic: every line or none.
    A count below what is reserved goes through :func:`count_stock`, which shorts the newest
    reservations and records a shortfall. Returns the number of count movements written."""
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity < 0:
            raise ValidationFailed.field(
                f"lines.{index}.quantity", "A count is a whole number, zero or more."
            )
        if (line.sku, line.location) in seen:
            raise ValidationFailed.field(
                f"lines.{index}", "The same SKU and location twice; one count each."
            )
        seen.add((line.sku, line.location))
    level_ids = _level_ids(lines)
    locked = _lock(level_ids)
    movements, changed, short = [], [], []
    for line, level_id in zip(lines, level_ids, strict=True):
        level = locked[level_id]
        if line.quantity < level.reserved:
            short.append(line)
            continue
        delta = line.quantity - level.on_hand
        level.on_hand, level.needs_count = line.quantity, False
        changed.append(level)
        movements.append(_movement(level, MovementKind.COUNT, delta, line.entry))
    _save(changed, ["on_hand", "needs_count"])
    StockMovement.objects.bulk_create(movements, batch_size=CHUNK)
    for line in short:  # rare: the truth undercuts promises; the single service knows how
        count_stock(sku=line.sku, location=line.location, counted=line.quantity, entry=line.entry)
    return len(movements) + len(short)


def _chunks(values: Iterable, size: int | None = None) -> Iterator[list]:
    size = size or CHUNK  # read at call time, so that tests can make it small
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _level_ids(lines: Sequence[StockLine]) -> list[int]:
    """The level of every line, created empty where there is none yet."""
    skus: dict[str, int] = {}
    for chunk in _chunks({line.sku for line in lines}):
        skus.update(SKU.objects.filter(sku__in=chunk).values_list("sku", "pk"))
    locations: dict[str, int] = {}
    for chunk in _chunks({line.location for line in lines}):
        locations.update(Location.objects.filter(code__in=chunk).values_list("code", "pk"))
    for index, line in enumerate(lines):
        if line.sku not in skus:
            raise UnknownSKU(line.sku, attr=f"lines.{index}.sku")
        if line.location not in locations:
            raise UnknownLocation(line.location, attr=f"lines.{index}.location")
    pairs = {(skus[line.sku], locations[line.location]) for line in lines}
    levels = _existing_levels(pairs)
    missing = pairs - levels.keys()
    if missing:
        # ignore_conflicts: someone else may create the same level at the same moment.
        StockLevel.objects.bulk_create(
            [StockLevel(sku_id=sku_id, location_id=loc_id) for sku_id, loc_id in missing],
            batch_size=CHUNK,
            ignore_conflicts=True,
        )
        levels.update(_existing_levels(missing))
    return [levels[(skus[line.sku], locations[line.location])] for line in lines]


def _existing_levels(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    location_ids = {location_id for _, location_id in pairs}
    found: dict[tuple[int, int], int] = {}
    for chunk in _chunks({sku_id for sku_id, _ in pairs}):
        for pk, sku_id, location_id in StockLevel.objects.filter(
            sku_id__in=chunk, location_id__in=location_ids
        ).values_list("pk", "sku_id", "location_id"):
            if (sku_id, location_id) in pairs:
                found[(sku_id, location_id)] = pk
    return found


def _lock(level_ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock the rows in ascending primary key, chunk after chunk, and read them: what we read
    stays true until commit (SQLite serialises writers instead)."""
    locked: dict[int, StockLevel] = {}
    for chunk in _chunks(sorted(set(level_ids))):
        for level in (
            StockLevel.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .only("pk", "sku_id", "location_id", "on_hand", "reserved", "needs_count")
        ):
            locked[level.pk] = level
    return locked


def _save(levels: Iterable[StockLevel], fields: list[str]) -> None:
    """Write ``fields`` of rows locked by :func:`_lock`: one parameterised UPDATE run with
    ``executemany`` (``bulk_update``'s CASE expressions cost seconds per 50,000 rows)."""
    levels = list(levels)
    if not levels:
        return
    now = timezone.now()
    meta = StockLevel._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in [*fields, "updated_at"]]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - identifiers from the model, values are parameters
    params = [
        [
            *(
                column.get_db_prep_save(getattr(level, column.attname), connection)
                for column in columns[:-1]
            ),
            columns[-1].get_db_prep_save(now, connection),
            level.pk,
        ]
        for level in levels
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(params):
            cursor.executemany(sql, chunk)


def _movement(level: StockLevel, kind: str, quantity: int, entry: Entry) -> StockMovement:
    return StockMovement(
        level_id=level.pk,
        sku_id=level.sku_id,
        location_id=level.location_id,
        kind=kind,
        quantity=quantity,
        on_hand_after=level.on_hand,
        reason=entry.reason[:300],
        reference=entry.reference[:120],
        actor=entry.actor[:200],
        occurred_at=entry.occurred_at or timezone.now(),
    )
