"""Points spent as money at a checkout or POS sale, and given back when the order is
cancelled or returned."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from config.money import to_cents
from loyalty import selectors
from loyalty.errors import InvalidState, NotFound, ReferenceConflict, ValidationFailed
from loyalty.models import (
    EntryKind,
    LotMovement,
    LoyaltyProgram,
    PointsLot,
    Redemption,
    RedemptionRefund,
)
from loyalty.services.ledger import (
    Note,
    consume_lots,
    expire_due_lots,
    give_back,
    lock_account,
    program,
    settle_owed,
    take_points,
    write_entry,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedemptionResult:
    reference: str
    customer_id: int
    card_number: str
    points: int
    amount: Decimal  # what the points pay for, in the channel's currency
    balance: int  # after this redemption (or, for a replay, now)
    replayed: bool = False


@dataclass(frozen=True)
class RefundResult:
    reference: str
    redemption_reference: str
    points: int
    amount: Decimal
    replayed: bool = False


def points_value(*, points: int, settings: LoyaltyProgram | None = None) -> Decimal:
    """What ``points`` are worth at the configured rate, after checking the minimum and the
    step (400 ``below_minimum`` / ``invalid_step`` on the ``points`` field). For quotes:
    writes nothing."""
    settings = settings or program()
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationFailed.field("points", "Must be a whole number above zero.")
    if points < settings.redemption_minimum:
        raise ValidationFailed.field(
            "points",
            f"At least {settings.redemption_minimum} points per redemption.",
            code="below_minimum",
        )
    if points % settings.redemption_step:
        raise ValidationFailed.field(
            "points",
            f"Points are redeemed in steps of {settings.redemption_step}.",
            code="invalid_step",
        )
    return to_cents(points * settings.redemption_value / settings.redemption_points)


def redeem_points(
    *,
    points: int,
    reference: str,
    customer_id: int | None = None,
    card_number: str | None = None,
    occurred_at: dt.datetime | None = None,
    actor: str = "",
) -> RedemptionResult:
    """Spend ``points`` of the customer's balance (by customer id or card number) and say
    what they are worth at the configured rate. Points past their expiry date are expired
    first and never spent; the points are taken from the lots that expire soonest.

    The balance is debited with one conditional UPDATE (``points >= n``), so concurrent
    redemptions can never overdraw it: of 20 redemptions of 100 against 1,000, exactly 10
    succeed.

    Atomic. Idempotent on ``reference`` (the checkout or sale): a repeat with the same
    customer and points returns the first result and spends nothing. Errors: 409
    ``insufficient_points``; 400 points not a whole number above zero, ``below_minimum``,
    ``invalid_step``, ``invalid_card_number``; 404 unknown customer or card; 409
    ``reference_conflict`` when the reference was used for other points or another customer.
    """
    if not reference:
        raise ValidationFailed.field("reference", "A reference (the order or sale) is required.")
    settings = program()
    amount = points_value(points=points, settings=settings)
    account = selectors.account_for(customer_id=customer_id, card_number=card_number)
    existing = Redemption.objects.filter(reference=reference).first()
    if existing is not None:
        return _replayed(existing, account.pk, points)
    note = Note(
        reference=reference,
        reason=f"Redeemed for {amount}",
        actor=actor,
        occurred_at=occurred_at,
        amount=amount,
    )
    try:
        with transaction.atomic():
            # Claim the reference first: a concurrent repeat waits on the unique index.
            redemption = Redemption.objects.create(
                account=account, reference=reference, points=points, amount=amount
            )
            expire_due_lots(account_id=account.pk, now=timezone.now())
            take_points(account_id=account.pk, points=points)
            entry = write_entry(
                account_id=account.pk, kind=EntryKind.REDEEM, points=-points, note=note
            )
            consume_lots(account_id=account.pk, points=points, entry=entry)
            Redemption.objects.filter(pk=redemption.pk).update(entry=entry)
    except IntegrityError:
        existing = Redemption.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return _replayed(existing, account.pk, points)
    logger.info("%s redeemed %d points (%s) on %s", account.card_number, points, amount, reference)
    return RedemptionResult(
        reference=reference,
        customer_id=account.customer_id,
        card_number=account.card_number,
        points=points,
        amount=amount,
        balance=entry.balance_after,
    )


def _replayed(existing: Redemption, account_id: int, points: int) -> RedemptionResult:
    if existing.account_id != account_id or existing.points != points:
        raise ReferenceConflict(
            f"Reference {existing.reference!r} already redeemed {existing.points} points "
            "for another order or customer."
        )
    account = existing.account
    return RedemptionResult(
        reference=existing.reference,
        customer_id=account.customer_id,
        card_number=account.card_number,
        points=existing.points,
        amount=existing.amount,
        balance=account.points,
        replayed=True,
    )


def refund_redemption(
    *,
    reference: str,
    refund_reference: str,
    points: int | None = None,
    occurred_at: dt.datetime | None = None,
    actor: str = "",
) -> RefundResult:
    """Give back ``points`` of the redemption ``reference`` (all that is left when None),
    worth their share of its amount. Points go back into the lots they came from, latest
    expiry first; those of lots already past their expiry go into a new lot valid for the
    normal period from now. Points owed after a return are settled from them first.

    Atomic. Idempotent on ``refund_reference`` (the cancellation or return): a repeat
    returns the first result. Errors: 404 unknown redemption; 400 points not a whole
    number above zero; 409 ``invalid_state`` when more than is left would be refunded or
    nothing is left; 409 ``reference_conflict`` when the refund reference was used for
    another redemption or other points.
    """
    if not refund_reference:
        raise ValidationFailed.field("refund_reference", "A reference (the refund) is required.")
    if points is not None and (
        not isinstance(points, int) or isinstance(points, bool) or points <= 0
    ):
        raise ValidationFailed.field("points", "Must be a whole number above zero.")
    redemption = Redemption.objects.filter(reference=reference).first()
    if redemption is None:
        raise NotFound(f"No points were redeemed on {reference!r}.")
    existing = RedemptionRefund.objects.filter(reference=refund_reference).first()
    if existing is not None:
        return _replayed_refund(existing, redemption, points)
    try:
        with transaction.atomic():
            lock_account(redemption.account_id)
            result = _refund(
                redemption=Redemption.objects.get(pk=redemption.pk),
                refund_reference=refund_reference,
                points=points,
                note=Note(reference=refund_reference, actor=actor, occurred_at=occurred_at),
            )
    except IntegrityError:
        existing = RedemptionRefund.objects.filter(reference=refund_reference).first()
        if existing is None:
            raise
        return _replayed_refund(existing, redemption, points)
    logger.info("%s: %d points of %s given back", refund_reference, result.points, reference)
    return result


def _refund(
    *, redemption: Redemption, refund_reference: str, points: int | None, note: Note
) -> RefundResult:
    left = redemption.points - redemption.refunded_points
    if left == 0:
        raise InvalidState(f"The points of {redemption.reference} have all been given back.")
    points = left if points is None else points
    if points > left:
        raise InvalidState(f"Only {left} points of {redemption.reference} are left to give back.")
    # The amount is the points' share of the whole, cumulative, so the parts add up exactly.
    refunded_after = redemption.refunded_points + points
    already = to_cents(redemption.amount * redemption.refunded_points / redemption.points)
    amount = to_cents(redemption.amount * refunded_after / redemption.points) - already
    now = timezone.now()
    expire_due_lots(account_id=redemption.account_id, now=now, locked=True)
    entries = [redemption.entry_id, *redemption.refunds.values_list("entry_id", flat=True)]
    held: dict[int, int] = defaultdict(int)
    for lot_id, moved in (
        LotMovement.objects.filter(entry_id__in=entries)
        .values("lot_id")
        .annotate(moved=Sum("points"))
        .values_list("lot_id", "moved")
    ):
        held[lot_id] += moved
    lots = PointsLot.objects.in_bulk([lot_id for lot_id, moved in held.items() if moved > 0])
    # Latest expiry first: the points the customer gets back keep the longest life. (Points
    # of a lapsed lot given back earlier still count as held by it; they sort last and, being
    # lapsed again, go to a new lot again, so the totals stay exact.)
    order = sorted(
        lots.values(),
        key=lambda lot: (lot.expires_at is None, lot.expires_at or now, lot.pk),
        reverse=True,
    )
    taken, wanted = [], points
    for lot in order:
        if wanted == 0:
            break
        back = min(held[lot.pk], wanted)
        taken.append((lot, back))
        wanted -= back
    if wanted:
        raise RuntimeError(f"redemption {redemption.pk}: {wanted} points are in no lot")
    entry = give_back(
        account_id=redemption.account_id,
        kind=EntryKind.REFUND,
        taken=taken,
        now=now,
        note=Note(
            reference=note.reference,
            reason=f"Given back from redemption {redemption.reference}",
            actor=note.actor,
            occurred_at=note.occurred_at,
            amount=amount,
        ),
        settings=program(),
    )
    Redemption.objects.filter(pk=redemption.pk).update(
        refunded_points=F("refunded_points") + points
    )
    RedemptionRefund.objects.create(
        redemption=redemption, reference=refund_reference, points=points, amount=amount, entry=entry
    )
    settle_owed(account_id=redemption.account_id, note=note)
    return RefundResult(
        reference=refund_reference,
        redemption_reference=redemption.reference,
        points=points,
        amount=amount,
    )


def _replayed_refund(
    existing: RedemptionRefund, redemption: Redemption, points: int | None
) -> RefundResult:
    if existing.redemption_id != redemption.pk or (
        points is not None and points != existing.points
    ):
        raise ReferenceConflict(
            f"Reference {existing.reference!r} already gave back points of another redemption."
        )
    return RefundResult(
        reference=existing.reference,
        redemption_reference=redemption.reference,
        points=existing.points,
        amount=existing.amount,
        replayed=True,
    )
