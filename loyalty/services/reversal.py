"""Taking points back when goods come back (returns): ``reverse_earning``."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.money import to_cents
from loyalty.errors import NotFound, ReferenceConflict, ValidationFailed
from loyalty.models import Earning, EarningReversal, EntryKind, LoyaltyAccount, PointsLot
from loyalty.services.ledger import (
    Note,
    consume_lots,
    expire_due_lots,
    lock_account,
    write_entry,
)
from loyalty.services.tiers import recompute_tier

logger = logging.getLogger(__name__)

ONE = Decimal(1)
SHARE_PLACES = Decimal("1e-12")
SHARE_TOLERANCE = Decimal("1e-9")  # shares computed by division may add up to 1.000000000x


@dataclass(frozen=True)
class ReversalResult:
    reference: str
    earning_reference: str
    points: int  # due back for this return
    points_taken: int  # taken from the balance now
    points_owed: int  # could not be taken (already spent): owed, settled from future points
    amount: Decimal  # qualifying spend taken back
    tier: str | None
    replayed: bool = False


def reverse_earning(
    *,
    reference: str,
    reversal_reference: str,
    share: Decimal | None = None,
    points: int | None = None,
    occurred_at: dt.datetime | None = None,
    actor: str = "",
) -> ReversalResult:
    """Take back the points earned on the returned part of the earning ``reference``: give
    either ``share`` (0 < share ≤ 1 of the order's net spend) or ``points``.

    Shares add up across returns and are applied cumulatively (points due so far =
    round half up(earned × Σ shares)), so returning an order in parts takes back exactly
    what it earned, bonus included; the qualifying spend is reduced the same way and the
    tier recomputed.

    **Points already spent.** The balance never goes below zero. What cannot be taken now
    is recorded as ``points_owed`` on the account (and on the entry, ``owed_change``), and
    is settled automatically from the next points credited (earning, refund, adjustment),
    each settlement a ``reverse`` entry. So a customer cannot earn, spend, then return the
    goods and keep the points; and a reversal never blocks a refund.

    Points are taken from the earning's own lots first, then soonest expiry first.

    Atomic. Idempotent on ``reversal_reference`` (the return): a repeat returns the first
    result. Errors: 404 unknown earning; 400 neither or both of share and points, a share
    outside (0, 1], more than is left to reverse; 409 ``reference_conflict`` when the
    reversal reference was used for another earning or amount.
    """
    if not reversal_reference:
        raise ValidationFailed.field("reversal_reference", "A reference (the return) is required.")
    if (share is None) == (points is None):
        raise ValidationFailed.field("share", "Give either a share or points, not both.")
    if share is not None:
        share = _share(share).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)
        if share == 0:
            raise ValidationFailed.field("share", "A share is a decimal above 0 and at most 1.")
    elif not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationFailed.field("points", "Must be a whole number above zero.")
    earning = Earning.objects.filter(reference=reference).first()
    if earning is None:
        raise NotFound(f"No points were earned on {reference!r}.")
    occurred_at = occurred_at or timezone.now()
    existing = EarningReversal.objects.filter(reference=reversal_reference).first()
    if existing is not None:
        return _replayed_reversal(existing, earning, share, points)
    try:
        with transaction.atomic():
            account = lock_account(earning.account_id)
            earning = Earning.objects.select_for_update().get(pk=earning.pk)
            result = _reverse(
                account=account,
                earning=earning,
                reversal_reference=reversal_reference,
                share=share,
                points=points,
                note=Note(reference=reversal_reference, actor=actor, occurred_at=occurred_at),
            )
    except IntegrityError:
        existing = EarningReversal.objects.filter(reference=reversal_reference).first()
        if existing is None:
            raise
        return _replayed_reversal(existing, earning, share, points)
    logger.info(
        "%s: %d points reversed on %s (%d owed)",
        reversal_reference,
        result.points,
        reference,
        result.points_owed,
    )
    return result


def _share(value) -> Decimal:
    try:
        share = Decimal(value) if not isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        share = None
    if share is None or not share.is_finite() or not 0 < share <= 1:
        raise ValidationFailed.field("share", "A share is a decimal above 0 and at most 1.")
    return share


def _reverse(
    *,
    account: LoyaltyAccount,
    earning: Earning,
    reversal_reference: str,
    share: Decimal | None,
    points: int | None,
    note: Note,
) -> ReversalResult:
    earned = earning.total_points
    left = earned - earning.reversed_points
    if share is not None:
        cumulative = earning.reversed_share + share
        if cumulative > ONE + SHARE_TOLERANCE:
            raise ValidationFailed.field(
                "share",
                f"Only {ONE - earning.reversed_share:.6f} of {earning.reference} is left to reverse.",
            )
        cumulative = min(ONE, cumulative)
        due = max(0, _round(earned * cumulative) - earning.reversed_points)
    else:
        if points > left:
            raise ValidationFailed.field(
                "points", f"Only {left} points of {earning.reference} are left to reverse."
            )
        due = points
        cumulative = min(ONE, Decimal(earning.reversed_points + points) / earned)
    cumulative = cumulative.quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)
    spend_target = to_cents(earning.net_amount * cumulative)
    spend = max(Decimal("0.00"), spend_target - earning.reversed_amount)
    now = timezone.now()
    expire_due_lots(account_id=account.pk, now=now, locked=True)
    balance = LoyaltyAccount.objects.values_list("points", flat=True).get(pk=account.pk)
    taken = min(due, balance)
    owed = due - taken
    if taken or owed:
        LoyaltyAccount.objects.filter(pk=account.pk).update(
            points=F("points") - taken, points_owed=F("points_owed") + owed
        )
        reason = f"Returned: {due} of {earned} points earned on {earning.reference}"
        if owed:
            reason += f"; {owed} already spent, now owed"
        entry = write_entry(
            account_id=account.pk,
            kind=EntryKind.REVERSE,
            points=-taken,
            owed_change=owed,
            note=replace(note, reason=reason, amount=spend),
        )
        if taken:
            own_lots = PointsLot.objects.filter(
                account_id=account.pk,
                entry__reference=earning.reference,
                entry__kind__in=[EntryKind.EARN, EntryKind.BONUS],
            ).order_by("id")
            consume_lots(
                account_id=account.pk,
                points=taken,
                entry=entry,
                first=list(own_lots.values_list("pk", flat=True)),
            )
    Earning.objects.filter(pk=earning.pk).update(
        reversed_share=cumulative,
        reversed_points=F("reversed_points") + due,
        reversed_amount=F("reversed_amount") + spend,
    )
    EarningReversal.objects.create(
        earning=earning,
        reference=reversal_reference,
        share=share,
        requested_points=points,
        points=due,
        points_taken=taken,
        points_owed=owed,
        amount=spend,
    )
    change = recompute_tier(account_id=account.pk)
    return ReversalResult(
        reference=reversal_reference,
        earning_reference=earning.reference,
        points=due,
        points_taken=taken,
        points_owed=owed,
        amount=spend,
        tier=change.new_tier,
    )


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _replayed_reversal(
    existing: EarningReversal, earning: Earning, share: Decimal | None, points: int | None
) -> ReversalResult:
    same = existing.earning_id == earning.pk and (
        (share is not None and existing.share == share)
        or (points is not None and existing.requested_points == points)
    )
    if not same:
        raise ReferenceConflict(
            f"Reference {existing.reference!r} already reversed points for another "
            "earning or amount."
        )
    tier = (
        LoyaltyAccount.objects.filter(pk=earning.account_id).values_list("tier__code", flat=True)
    ).get()
    return ReversalResult(
        reference=existing.reference,
        earning_reference=earning.reference,
        points=existing.points,
        points_taken=existing.points_taken,
        points_owed=existing.points_owed,
        amount=existing.amount,
        tier=tier,
        replayed=True,
    )
