"""Price a cart: promotions stacked in priority order, exclusives weighed against the stack,
coupons accepted or rejected with a reason, tax per line after discounts.

The rules, in the order they act:

1. A promotion is eligible when it is active and running at ``now``, under its usage limits,
   meant for this channel, location and loyalty tier, unlocked by a coupon if it needs one,
   and targets at least one line.
2. The non-exclusive eligible promotions apply one after the other, highest ``priority``
   first, then lowest id, each to what the ones before it left of the lines (percentages
   compound). Minimums (``min_quantity``, ``min_subtotal``) are measured on the targeted
   items at shelf price, the subtotal the customer sees, so one promotion never disqualifies
   another.
3. Each exclusive eligible promotion is priced on its own. The customer gets whichever of
   these candidates (the stack, or one exclusive) takes off most; a tie goes to the stack,
   then to the exclusive that comes first in priority order.
4. Every part is rounded half up to the cent and capped at what is left of its line: no line
   goes below zero, and the line discounts add up to the order's discount exactly.
5. Tax per line, on the amount after discounts, half up to the cent: extracted from it where
   prices include tax (the total stays shelf price minus discounts), added to it elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from config.money import to_cents
from pricing.engine.promotions import LineIndex, discount_amounts, static_rejection
from pricing.engine.types import (
    ZERO,
    AppliedPromotion,
    CartLine,
    CouponInfo,
    LineDiscount,
    PricingSnapshot,
    PromotionRule,
    Quote,
    QuoteLine,
    RejectedCoupon,
    RejectReason,
    normalize_code,
)

HUNDRED = Decimal(100)


@dataclass
class _Run:
    """The outcome of applying some promotions in order to fresh lines."""

    amounts: list[dict[int, Decimal]] = field(default_factory=list)  # per promotion applied
    applied: list[PromotionRule] = field(default_factory=list)
    refused: dict[int, RejectReason] = field(default_factory=dict)  # promotion id → why not
    total: Decimal = ZERO


def price_cart(snapshot: PricingSnapshot) -> Quote:
    """The quote for ``snapshot``. Deterministic: the same snapshot (in any order of its
    promotions) gives the same quote."""
    lines = snapshot.lines
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"{line.sku}: quantity must be at least 1")
        if line.unit_price < 0:
            raise ValueError(f"{line.sku}: unit price must not be negative")
    subtotals = [to_cents(line.unit_price * line.quantity) for line in lines]
    index = LineIndex.of(lines)

    rules = _in_priority_order(snapshot.promotions)
    coupons = {normalize_code(c.code): c for c in snapshot.coupons}
    given = _given_codes(snapshot.coupon_codes)
    unlocking = _unlocking_coupons(given, coupons)  # promotion id → first usable code

    eligible: list[tuple[PromotionRule, tuple[int, ...]]] = []
    refused: dict[int, RejectReason] = {}
    for rule in rules:
        reason = static_rejection(rule, snapshot, unlocked=rule.id in unlocking)
        targeted = index.targeted_by(rule) if reason is None else ()
        if reason is None and not targeted:
            reason = RejectReason.NOT_APPLICABLE
        if reason is None:
            eligible.append((rule, targeted))
        else:
            refused[rule.id] = reason

    stack = _apply(lines, subtotals, [e for e in eligible if not e[0].exclusive])
    best = stack
    runs: dict[int, _Run] = {rule.id: stack for rule, _ in eligible if not rule.exclusive}
    for entry in eligible:
        if entry[0].exclusive:
            run = _apply(lines, subtotals, [entry])
            runs[entry[0].id] = run
            if run.total > best.total:
                best = run
    for rule_id, run in runs.items():
        if rule_id in run.refused:
            refused[rule_id] = run.refused[rule_id]

    winners = {rule.id for rule in best.applied}
    applied_codes = {rule_id: code for rule_id, code in unlocking.items() if rule_id in winners}
    rejected = _rejected_coupons(given, coupons, rules, snapshot, refused, applied_codes)
    return _quote(snapshot, subtotals, best, applied_codes, rejected)


def _in_priority_order(promotions: Sequence[PromotionRule]) -> list[PromotionRule]:
    unique = {rule.id: rule for rule in promotions}
    return sorted(unique.values(), key=lambda rule: (-rule.priority, rule.id))


def _given_codes(codes: Sequence[str]) -> list[tuple[str, str]]:
    """(as typed, normalised), each code once, blanks dropped, in the order given."""
    seen: set[str] = set()
    out = []
    for raw in codes:
        code = normalize_code(raw)
        if code and code not in seen:
            seen.add(code)
            out.append((raw.strip(), code))
    return out


def _coupon_usable(coupon: CouponInfo) -> bool:
    return coupon.active and (coupon.usage_limit is None or coupon.used_count < coupon.usage_limit)


def _unlocking_coupons(
    given: list[tuple[str, str]], coupons: dict[str, CouponInfo]
) -> dict[int, str]:
    unlocking: dict[int, str] = {}
    for _, code in given:
        coupon = coupons.get(code)
        if coupon is not None and _coupon_usable(coupon):
            unlocking.setdefault(coupon.promotion_id, code)
    return unlocking


def _apply(
    lines: Sequence[CartLine],
    subtotals: Sequence[Decimal],
    entries: Sequence[tuple[PromotionRule, tuple[int, ...]]],
) -> _Run:
    remaining = list(subtotals)
    run = _Run()
    for rule, targeted in entries:
        amounts = discount_amounts(rule, targeted, lines, subtotals, remaining)
        if isinstance(amounts, RejectReason):
            run.refused[rule.id] = amounts
            continue
        for i, amount in amounts.items():
            remaining[i] -= amount
            run.total += amount
        run.applied.append(rule)
        run.amounts.append(amounts)
    return run


def _rejected_coupons(
    given: list[tuple[str, str]],
    coupons: dict[str, CouponInfo],
    rules: list[PromotionRule],
    snapshot: PricingSnapshot,
    refused: dict[int, RejectReason],
    applied_codes: dict[int, str],
) -> list[RejectedCoupon]:
    by_id = {rule.id: rule for rule in rules}
    applied = set(applied_codes.values())
    rejected = []
    for typed, code in given:
        if code in applied:
            continue
        coupon = coupons.get(code)
        rule = by_id.get(coupon.promotion_id) if coupon is not None else None
        if coupon is None or rule is None:
            reason = RejectReason.UNKNOWN
        elif not coupon.active:
            reason = RejectReason.EXPIRED
        else:
            reason = static_rejection(rule, snapshot, unlocked=True)
            if reason is None and not _coupon_usable(coupon):
                reason = RejectReason.LIMIT_REACHED
            if reason is None:
                # Refused when applied (no items, minimum not met), lost to a better
                # candidate, or its promotion was already unlocked by another code.
                reason = refused.get(rule.id, RejectReason.NOT_APPLICABLE)
        rejected.append(RejectedCoupon(code=typed, reason=reason))
    return rejected


def line_tax(net: Decimal, rate: Decimal, *, prices_include_tax: bool) -> Decimal:
    """Tax on one line's amount after discounts, half up to the cent."""
    if not rate:
        return ZERO
    if prices_include_tax:
        return to_cents(net * rate / (HUNDRED + rate))
    return to_cents(net * rate / HUNDRED)


def _quote(
    snapshot: PricingSnapshot,
    subtotals: Sequence[Decimal],
    best: _Run,
    applied_codes: dict[int, str],
    rejected: list[RejectedCoupon],
) -> Quote:
    per_line: list[list[LineDiscount]] = [[] for _ in snapshot.lines]
    applied = []
    for rule, amounts in zip(best.applied, best.amounts, strict=True):
        for i, amount in sorted(amounts.items()):
            per_line[i].append(LineDiscount(promotion=rule.id, name=rule.name, amount=amount))
        applied.append(
            AppliedPromotion(
                promotion=rule.id,
                name=rule.name,
                amount=sum(amounts.values(), ZERO),
                coupon=applied_codes.get(rule.id),
            )
        )

    quoted = []
    for line, subtotal, discounts in zip(snapshot.lines, subtotals, per_line, strict=True):
        discount_total = sum((d.amount for d in discounts), ZERO)
        net = subtotal - discount_total
        tax = line_tax(net, line.tax_rate, prices_include_tax=snapshot.prices_include_tax)
        quoted.append(
            QuoteLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=to_cents(line.unit_price),
                subtotal=subtotal,
                discounts=tuple(discounts),
                discount_total=discount_total,
                tax_rate=line.tax_rate,
                tax_total=tax,
                total=net if snapshot.prices_include_tax else net + tax,
            )
        )
    return Quote(
        currency=snapshot.currency,
        prices_include_tax=snapshot.prices_include_tax,
        lines=tuple(quoted),
        subtotal=sum((q.subtotal for q in quoted), ZERO),
        discount_total=sum((q.discount_total for q in quoted), ZERO),
        tax_total=sum((q.tax_total for q in quoted), ZERO),
        total=sum((q.total for q in quoted), ZERO),
        applied_promotions=tuple(applied),
        rejected_coupons=tuple(rejected),
        channel=snapshot.channel,
        location=snapshot.location,
        customer_id=snapshot.customer_id,
        tier=snapshot.tier,
        priced_at=snapshot.now,
    )
