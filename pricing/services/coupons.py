"""Counting coupon and promotion use when an order is placed, and giving it back when the
order is cancelled.

Concurrency (DESIGN.md): each count is one conditional UPDATE
(``used_count < usage_limit``), so the database decides who gets the last use in the
statement that takes it. Rows are touched in a fixed order (coupons, then promotions, then
per-customer counts, each by primary key) so that two orders cannot deadlock.

Counters are kept only while a limit is set: a promotion without a usage limit (10 % off
everything) would otherwise make one row that every checkout waits for. The redemption rows
are the full record; setting a limit later recounts from them
(:func:`recount_promotion_usage`, :func:`recount_coupon_usage`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from pricing.engine import RejectReason, normalize_code
from pricing.errors import CouponUnavailable, InvalidState, ValidationFailed
from pricing.models import Coupon, CustomerPromotionUsage, Promotion, PromotionRedemption

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """What one order uses: promotions by id, and the coupon codes that unlocked some."""

    order_reference: str
    promotions: tuple[int, ...]
    coupons: tuple[str, ...]


def claim_coupons(
    *,
    codes: Sequence[str],
    customer_id: int | None,
    order_reference: str,
    promotion_ids: Sequence[int] = (),
) -> Claim:
    """Count one use of each coupon in ``codes`` and of its promotion, and of each promotion in
    ``promotion_ids`` (those a quote applied without a coupon), for the order
    ``order_reference``. An order passes ``quote.applied_coupons`` and the ids of
    ``quote.applied_promotions``.

    All or nothing, in one transaction (a savepoint inside the order's). Idempotent on
    ``order_reference``: a second call returns the first claim (409 ``invalid_state`` if it
    names other coupons or promotions, or was released). Raises ``CouponUnavailable`` (409)
    naming each code or promotion that is unknown, expired, not yet valid, or whose usage
    limit or the customer's limit is reached; nothing is counted then.
    """
    if not order_reference:
        raise ValidationFailed.field("order_reference", "An order reference is required.")
    codes = list(dict.fromkeys(normalize_code(c) for c in codes if c and c.strip()))
    try:
        return _claim(codes, customer_id, order_reference, list(dict.fromkeys(promotion_ids)))
    except IntegrityError:
        # Another call claimed this order reference at the same moment: it won.
        existing = _existing_claim(order_reference)
        if existing is None:
            raise
        return _same_claim(existing, codes, promotion_ids)


@transaction.atomic
def _claim(
    codes: list[str], customer_id: int | None, order_reference: str, promotion_ids: list[int]
) -> Claim:
    existing = _existing_claim(order_reference)
    if existing is not None:
        return _same_claim(existing, codes, promotion_ids)

    coupons = {c.code: c for c in Coupon.objects.filter(code__in=codes)}
    wanted = {c.promotion_id for c in coupons.values()} | set(promotion_ids)
    promotions = Promotion.objects.in_bulk(wanted)
    now = timezone.now()
    problems: list[tuple[str, str, str]] = []

    for index, code in enumerate(codes):
        coupon = coupons.get(code)
        if coupon is None:
            problems.append((f"coupon_codes.{index}", RejectReason.UNKNOWN, f"No coupon {code}."))
        elif not coupon.active:
            problems.append(
                (f"coupon_codes.{index}", RejectReason.EXPIRED, f"Coupon {code} has ended.")
            )
    for pid in sorted(wanted):
        promotion = promotions.get(pid)
        reason = _unusable(promotion, now, customer_id)
        if reason is not None:
            problems.append((f"promotions.{pid}", reason, _explain(pid, promotion, reason)))
    if problems:
        raise _unavailable(problems)

    # Claim the order reference first: a concurrent claim of the same order waits here and
    # then fails on the unique constraint, before it counts anything.
    by_promotion = {c.promotion_id: c for c in sorted(coupons.values(), key=lambda c: c.pk)}
    PromotionRedemption.objects.bulk_create(
        [
            PromotionRedemption(
                order_reference=order_reference,
                promotion_id=pid,
                coupon=by_promotion.get(pid),
                customer_id=customer_id,
            )
            for pid in sorted(wanted)
        ]
    )

    for coupon in sorted(coupons.values(), key=lambda c: c.pk):
        if coupon.usage_limit is None:
            continue
        taken = Coupon.objects.filter(
            pk=coupon.pk, active=True, used_count__lt=F("usage_limit")
        ).update(used_count=F("used_count") + 1)
        if not taken:
            index = codes.index(coupon.code)
            problems.append(
                (
                    f"coupon_codes.{index}",
                    RejectReason.LIMIT_REACHED,
                    f"Coupon {coupon.code} has been used as often as it may.",
                )
            )
    for pid in sorted(wanted):
        if promotions[pid].usage_limit is None:
            continue
        taken = Promotion.objects.filter(pk=pid, used_count__lt=F("usage_limit")).update(
            used_count=F("used_count") + 1
        )
        if not taken:
            problems.append(
                (
                    f"promotions.{pid}",
                    RejectReason.LIMIT_REACHED,
                    f"Promotion {promotions[pid].name!r} has reached its usage limit.",
                )
            )
    per_customer = sorted(pid for pid in wanted if promotions[pid].per_customer_limit is not None)
    if per_customer and customer_id is not None:
        CustomerPromotionUsage.objects.bulk_create(
            [
                CustomerPromotionUsage(promotion_id=pid, customer_id=customer_id)
                for pid in per_customer
            ],
            ignore_conflicts=True,
        )
        for pid in per_customer:
            taken = CustomerPromotionUsage.objects.filter(
                promotion_id=pid,
                customer_id=customer_id,
                used_count__lt=promotions[pid].per_customer_limit,
            ).update(used_count=F("used_count") + 1)
            if not taken:
                problems.append(
                    (
                        f"promotions.{pid}",
                        RejectReason.LIMIT_REACHED,
                        f"This customer has used {promotions[pid].name!r} as often as they may.",
                    )
                )
    if problems:
        raise _unavailable(problems)  # rolls back the redemptions and every count above

    logger.info(
        "order %s claims promotions %s with coupons %s", order_reference, sorted(wanted), codes
    )
    return Claim(
        order_reference=order_reference,
        promotions=tuple(sorted(wanted)),
        coupons=tuple(sorted(codes)),
    )


def _unusable(promotion: Promotion | None, now, customer_id: int | None) -> RejectReason | None:
    if promotion is None:
        return RejectReason.UNKNOWN
    if not promotion.active or (promotion.ends_at is not None and now >= promotion.ends_at):
        return RejectReason.EXPIRED
    if promotion.starts_at is not None and now < promotion.starts_at:
        return RejectReason.NOT_YET_VALID
    if promotion.per_customer_limit is not None and customer_id is None:
        return RejectReason.NOT_APPLICABLE
    return None


def _explain(pid: int, promotion: Promotion | None, reason: RejectReason) -> str:
    name = repr(promotion.name) if promotion is not None else str(pid)
    return {
        RejectReason.UNKNOWN: f"No promotion {pid}.",
        RejectReason.EXPIRED: f"Promotion {name} has ended.",
        RejectReason.NOT_YET_VALID: f"Promotion {name} has not started yet.",
        RejectReason.NOT_APPLICABLE: f"Promotion {name} is limited per customer: name one.",
    }[reason]


def _unavailable(problems: list[tuple[str, str, str]]) -> CouponUnavailable:
    errors = [
        {"attr": attr, "code": str(code), "detail": detail} for attr, code, detail in problems
    ]
    return CouponUnavailable(problems[0][2], errors=errors)


def _existing_claim(order_reference: str) -> list[PromotionRedemption] | None:
    rows = list(
        PromotionRedemption.objects.filter(order_reference=order_reference).select_related("coupon")
    )
    return rows or None


def _same_claim(
    rows: list[PromotionRedemption], codes: Sequence[str], promotion_ids: Sequence[int]
) -> Claim:
    reference = rows[0].order_reference
    if any(row.released_at is not None for row in rows):
        raise InvalidState(
            f"The coupons of order {reference} were released; it cannot claim again."
        )
    claim = Claim(
        order_reference=reference,
        promotions=tuple(sorted(row.promotion_id for row in rows)),
        coupons=tuple(sorted(row.coupon.code for row in rows if row.coupon is not None)),
    )
    codes_match = set(claim.coupons) == set(codes)
    promotions_match = set(promotion_ids) <= set(claim.promotions)
    if not (codes_match and promotions_match):
        raise InvalidState(f"Order {reference} already claimed other coupons or promotions.")
    return claim


@transaction.atomic
def release_coupons(*, order_reference: str) -> Claim:
    """Give back what ``order_reference`` claimed (its order was cancelled). Idempotent: a
    second call releases nothing. Returns what this call released."""
    rows = list(
        PromotionRedemption.objects.filter(order_reference=order_reference, released_at=None)
        .select_related("coupon", "promotion")
        .order_by("promotion_id")
    )
    now = timezone.now()
    released = []
    for row in rows:
        # The conditional UPDATE makes two concurrent releases give a use back once.
        if PromotionRedemption.objects.filter(pk=row.pk, released_at=None).update(released_at=now):
            released.append(row)
    for row in sorted((r for r in released if r.coupon is not None), key=lambda r: r.coupon_id):
        if row.coupon.usage_limit is not None:
            Coupon.objects.filter(pk=row.coupon_id, used_count__gt=0).update(
                used_count=F("used_count") - 1
            )
    for row in released:
        if row.promotion.usage_limit is not None:
            Promotion.objects.filter(pk=row.promotion_id, used_count__gt=0).update(
                used_count=F("used_count") - 1
            )
    for row in released:
        if row.promotion.per_customer_limit is not None and row.customer_id is not None:
            CustomerPromotionUsage.objects.filter(
                promotion_id=row.promotion_id, customer_id=row.customer_id, used_count__gt=0
            ).update(used_count=F("used_count") - 1)
    if released:
        logger.info(
            "order %s released promotions %s", order_reference, [r.promotion_id for r in released]
        )
    return Claim(
        order_reference=order_reference,
        promotions=tuple(r.promotion_id for r in released),
        coupons=tuple(sorted(r.coupon.code for r in released if r.coupon is not None)),
    )


# --- Recounting when a limit is set --------------------------------------------------------


def recount_promotion_usage(promotion: Promotion) -> None:
    """Set the promotion's counters from its redemptions not released: called (inside the
    updating transaction) when a usage or per-customer limit is set where none was."""
    active = PromotionRedemption.objects.filter(promotion=promotion, released_at=None)
    Promotion.objects.filter(pk=promotion.pk).update(used_count=active.count())
    promotion.refresh_from_db(fields=["used_count"])
    CustomerPromotionUsage.objects.filter(promotion=promotion).delete()
    per_customer = (
        active.filter(customer_id__isnull=False)
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    CustomerPromotionUsage.objects.bulk_create(
        [
            CustomerPromotionUsage(promotion=promotion, customer_id=customer_id, used_count=n)
            for customer_id, n in per_customer
        ]
    )


def recount_coupon_usage(coupon: Coupon) -> None:
    used = PromotionRedemption.objects.filter(coupon=coupon, released_at=None).count()
    Coupon.objects.filter(pk=coupon.pk).update(used_count=used)
    coupon.refresh_from_db(fields=["used_count"])
