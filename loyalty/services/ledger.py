"""The points ledger's primitives, shared by the use cases in this package (not exported).

Locking (DESIGN.md "Concurrency"): the account row is the lock for everything of one
account. Every write takes it first, either with a conditional UPDATE (debits: the database
decides in the statement that changes the balance) or ``SELECT ... FOR UPDATE``; lots, lot
movements and entries of the account are only touched while it is held. No transaction
holds two accounts, so two writers cannot deadlock.

Callers hold the transaction. After any change of ``points`` or ``points_owed`` the caller
writes exactly one entry with :func:`write_entry`, so balance = Σ ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from loyalty.errors import InsufficientPoints
from loyalty.models import (
    EntryKind,
    LotMovement,
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
)

logger = logging.getLogger(__name__)

SOONEST_FIRST = (F("expires_at").asc(nulls_last=True), "id")


@dataclass(frozen=True)
class Note:
    """What the ledger should say about a change, besides the numbers."""

    reference: str = ""
    reason: str = ""
    actor: str = ""
    occurred_at: dt.datetime | None = None
    amount: Decimal | None = None


def program() -> LoyaltyProgram:
    """The programme's settings (created with defaults if a test flushed the table)."""
    return LoyaltyProgram.objects.get_or_create(pk=1)[0]


def expiry_for(at: dt.datetime, settings: LoyaltyProgram) -> dt.datetime | None:
    """Points credited at ``at`` expire at midnight UTC ``points_valid_days`` later (never
    when that is 0), so that a day's lots expire together in the nightly run."""
    if not settings.points_valid_days:
        return None
    day = at.astimezone(dt.UTC).date() + dt.timedelta(days=settings.points_valid_days)
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def lock_account(account_id: int) -> LoyaltyAccount:
    return LoyaltyAccount.objects.select_for_update().get(pk=account_id)


def write_entry(
    *,
    account_id: int,
    kind: str,
    points: int,
    owed_change: int = 0,
    note: Note,
    expires_at: dt.datetime | None = None,
    expired_lot: PointsLot | None = None,
) -> PointsEntry:
    """Append to the ledger, right after changing the account row in the same transaction:
    the row is locked by that change, so the re-read balance is exactly ours."""
    balance = LoyaltyAccount.objects.filter(pk=account_id).values_list("points", flat=True).get()
    return PointsEntry.objects.create(
        account_id=account_id,
        kind=kind,
        points=points,
        owed_change=owed_change,
        balance_after=balance,
        amount=note.amount,
        reference=note.reference[:120],
        reason=note.reason[:300],
        actor=note.actor[:200],
        expires_at=expires_at,
        expired_lot=expired_lot,
        occurred_at=note.occurred_at or timezone.now(),
    )


def take_points(*, account_id: int, points: int, attr: str = "points") -> None:
    """Debit the balance with one conditional UPDATE, or raise 409 ``insufficient_points``.
    The database decides in the statement that changes the row, so concurrent debits can
    never overdraw: no read-decide-write."""
    updated = LoyaltyAccount.objects.filter(pk=account_id, points__gte=points).update(
        points=F("points") - points
    )
    if not updated:
        balance = LoyaltyAccount.objects.filter(pk=account_id).values_list("points", flat=True)
        raise InsufficientPoints(balance=balance.first() or 0, wanted=points, attr=attr)


def consume_lots(
    *, account_id: int, points: int, entry: PointsEntry, first: Sequence[int] = ()
) -> list[LotMovement]:
    """Take ``points`` out of the account's open lots: the lots in ``first`` (in that order),
    then the rest soonest expiry first (lots that never expire last). The balance has
    already been debited, so the lots must hold enough."""
    left = points
    moves: list[LotMovement] = []
    lots = list(
        PointsLot.objects.filter(account_id=account_id, remaining__gt=0).order_by(*SOONEST_FIRST)
    )
    if first:
        rank = {lot_id: index for index, lot_id in enumerate(first)}
        lots.sort(key=lambda lot: rank.get(lot.pk, len(rank)))  # stable: the rest keep order
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        moves.append(LotMovement(entry=entry, lot=lot, points=take))
        left -= take
    if left:
        # Σ lots and the balance disagree: an invariant is broken; refuse rather than hide it.
        raise RuntimeError(f"account {account_id}: {left} points of the balance are in no lot")
    return LotMovement.objects.bulk_create(moves)


def credit(
    *, account_id: int, kind: str, points: int, expires_at: dt.datetime | None, note: Note
) -> PointsEntry:
    """Add ``points`` (> 0) to the balance as a new lot, with its entry."""
    LoyaltyAccount.objects.filter(pk=account_id).update(points=F("points") + points)
    entry = write_entry(
        account_id=account_id, kind=kind, points=points, note=note, expires_at=expires_at
    )
    PointsLot.objects.create(
        account_id=account_id, entry=entry, points=points, remaining=points, expires_at=expires_at
    )
    return entry


def give_back(
    *,
    account_id: int,
    kind: str,
    taken: Iterable[tuple[PointsLot, int]],
    now: dt.datetime,
    note: Note,
    settings: LoyaltyProgram,
) -> PointsEntry:
    """Return points to the lots they were taken from, where those have not expired yet;
    what belonged to lots already past their expiry goes into one new lot valid for the
    normal period from ``now`` (the customer did not choose to let them lapse)."""
    taken = [(lot, points) for lot, points in taken if points > 0]
    total = sum(points for _, points in taken)
    LoyaltyAccount.objects.filter(pk=account_id).update(points=F("points") + total)
    alive = [(lot, p) for lot, p in taken if _alive(lot, now)]
    lapsed = total - sum(points for _, points in alive)
    entry = write_entry(
        account_id=account_id,
        kind=kind,
        points=total,
        note=note,
        expires_at=expiry_for(now, settings) if lapsed else None,
    )
    for lot, points in alive:
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") + points)
    LotMovement.objects.bulk_create(
        [LotMovement(entry=entry, lot=lot, points=-points) for lot, points in alive]
    )
    if lapsed:
        PointsLot.objects.create(
            account_id=account_id,
            entry=entry,
            points=lapsed,
            remaining=lapsed,
            expires_at=entry.expires_at,
        )
    return entry


def _alive(lot: PointsLot, now: dt.datetime) -> bool:
    """A lot may take points back while it has not expired, by date or by the expiry job
    (which may have run with a later clock): a lot is expired by one entry, once."""
    return lot.expired_at is None and (lot.expires_at is None or lot.expires_at > now)


def settle_owed(*, account_id: int, note: Note) -> PointsEntry | None:
    """Points owed after a return are paid from the balance as soon as there is some. Call
    after any credit, with the account row locked."""
    account = LoyaltyAccount.objects.only("points", "points_owed").get(pk=account_id)
    pay = min(account.points, account.points_owed)
    if pay <= 0:
        return None
    LoyaltyAccount.objects.filter(pk=account_id).update(
        points=F("points") - pay, points_owed=F("points_owed") - pay
    )
    entry = write_entry(
        account_id=account_id,
        kind=EntryKind.REVERSE,
        points=-pay,
        owed_change=-pay,
        note=Note(
            reference=note.reference,
            reason=f"Settles {pay} points owed after an earlier return",
            actor=note.actor,
            occurred_at=note.occurred_at,
        ),
    )
    consume_lots(account_id=account_id, points=pay, entry=entry)
    return entry


def expire_due_lots(*, account_id: int, now: dt.datetime, locked: bool = False) -> int:
    """Expire the account's lots past their date, one ``expire`` entry per lot. Points
    past their date are never spent: every debit calls this first. Returns the lots
    expired. Safe to repeat: an expired lot has nothing left to expire."""
    due = PointsLot.objects.filter(account_id=account_id, remaining__gt=0, expires_at__lte=now)
    if not locked:
        if not due.exists():
            return 0
        lock_account(account_id)
    lots = list(due.order_by(*SOONEST_FIRST))  # re-read under the lock
    for lot in lots:
        LoyaltyAccount.objects.filter(pk=account_id).update(points=F("points") - lot.remaining)
        entry = write_entry(
            account_id=account_id,
            kind=EntryKind.EXPIRE,
            points=-lot.remaining,
            note=Note(
                reference=f"lot:{lot.pk}",
                reason=f"{lot.remaining} points expired on {lot.expires_at:%Y-%m-%d}",
                occurred_at=now,
            ),
            expired_lot=lot,
        )
        PointsLot.objects.filter(pk=lot.pk).update(remaining=0, expired_at=now)
        LotMovement.objects.create(entry=entry, lot=lot, points=lot.remaining)
    if lots:
        logger.info("account %s: %d lot(s) expired", account_id, len(lots))
    return len(lots)
