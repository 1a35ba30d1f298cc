"""Manual adjustments by merchandisers, and the nightly expiry of points."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from loyalty import selectors
from loyalty.errors import ValidationFailed
from loyalty.models import EntryKind, PointsEntry, PointsLot
from loyalty.services.ledger import (
    Note,
    consume_lots,
    credit,
    expire_due_lots,
    expiry_for,
    lock_account,
    program,
    settle_owed,
    take_points,
    write_entry,
)

logger = logging.getLogger(__name__)

MAX_ADJUSTMENT = 10_000_000


@transaction.atomic
def adjust_points(
    *,
    card_number: str,
    points: int,
    reason: str,
    actor: str,
    reference: str = "",
    occurred_at: dt.datetime | None = None,
) -> PointsEntry:
    """A signed correction by a person, with a required ``reason`` and ``actor``. Points
    added are a lot valid for the normal period (settling points owed first); points taken
    come from the lots that expire soonest, and never more than the balance.

    Atomic; not idempotent by itself (the API's Idempotency-Key covers retries). Errors:
    400 ``invalid_card_number``, points zero or not whole, missing reason; 404 unknown card;
    409 ``insufficient_points`` when taking more than the balance.
    """
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise ValidationFailed.field("points", "Must be a whole number other than zero.")
    if abs(points) > MAX_ADJUSTMENT:
        raise ValidationFailed.field("points", f"At most {MAX_ADJUSTMENT} points at a time.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "Say why the points are adjusted.", code="required")
    if not actor:
        raise ValidationFailed.field("actor", "Say who adjusts the points.", code="required")
    account = selectors.account_by_card_number(card_number)
    now = timezone.now()
    note = Note(reference=reference, reason=reason, actor=actor, occurred_at=occurred_at or now)
    if points > 0:
        lock_account(account.pk)
        expire_due_lots(account_id=account.pk, now=now, locked=True)
        entry = credit(
            account_id=account.pk,
            kind=EntryKind.ADJUST,
            points=points,
            expires_at=expiry_for(now, program()),
            note=note,
        )
        settle_owed(account_id=account.pk, note=note)
    else:
        expire_due_lots(account_id=account.pk, now=now)
        take_points(account_id=account.pk, points=-points)
        entry = write_entry(account_id=account.pk, kind=EntryKind.ADJUST, points=points, note=note)
        consume_lots(account_id=account.pk, points=-points, entry=entry)
    logger.info("%s adjusted %s by %+d: %s", actor, account.card_number, points, reason)
    return entry


def expire_points(*, now: dt.datetime | None = None) -> int:
    """The nightly job: expire every lot past its date, one ``expire`` ledger entry per lot,
    one short transaction per account. Safe to run twice, and alongside redemptions (each
    account is locked while its lots expire). Returns the number of lots expired."""
    now = now or timezone.now()
    account_ids = (
        PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("account_id")
        .values_list("account_id", flat=True)
        .distinct()
    )
    expired = 0
    for account_id in list(account_ids):
        with transaction.atomic():
            lock_account(account_id)
            expired += expire_due_lots(account_id=account_id, now=now, locked=True)
    logger.info("points expiry: %d lot(s) expired", expired)
    return expired
