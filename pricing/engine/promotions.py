"""One promotion at a time: is it eligible, which lines does it target, and what does it take
off the amounts that are left. Pure functions over the snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from config.money import allocate, to_cents
from pricing.engine.types import (
    ZERO,
    CartLine,
    Kind,
    PricingSnapshot,
    PromotionRule,
    RejectReason,
)

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineIndex:
    """The cart's lines by SKU and by every category path above them, so that finding the
    lines a promotion targets costs the size of the promotion, not of the cart."""

    lines: tuple[CartLine, ...]
    by_sku: dict[str, tuple[int, ...]]
    by_category_path: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, lines: Sequence[CartLine]) -> LineIndex:
        by_sku: dict[str, list[int]] = {}
        by_path: dict[str, list[int]] = {}
        for index, line in enumerate(lines):
            if not line.promotable:
                continue
            by_sku.setdefault(line.sku, []).append(index)
            for path in ancestor_paths(line.category_path):
                by_path.setdefault(path, []).append(index)
        return cls(
            lines=tuple(lines),
            by_sku={k: tuple(v) for k, v in by_sku.items()},
            by_category_path={k: tuple(v) for k, v in by_path.items()},
        )

    def targeted_by(self, rule: PromotionRule) -> tuple[int, ...]:
        """Indices of the lines the rule targets, in cart order. No SKUs and no categories:
        every promotable line."""
        if not rule.skus and not rule.category_paths:
            return tuple(i for i, line in enumerate(self.lines) if line.promotable)
        found: set[int] = set()
        if len(rule.skus) <= len(self.by_sku):
            for sku in rule.skus:
                found.update(self.by_sku.get(sku, ()))
        else:
            found.update(
                i for i, line in enumerate(self.lines) if line.promotable and line.sku in rule.skus
            )
        for path in rule.category_paths:
            found.update(self.by_category_path.get(path, ()))
        return tuple(sorted(found))


def ancestor_paths(path: str) -> list[str]:
    """ "a/b/c/" → ["a/", "a/b/", "a/b/c/"]: the subtrees a line belongs to."""
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[: n + 1]) for n in range(len(parts))]


def static_rejection(
    rule: PromotionRule, snapshot: PricingSnapshot, *, unlocked: bool
) -> RejectReason | None:
    """Why ``rule`` cannot apply to this snapshot whatever the amounts, or None.

    The order of the checks is the order of the reasons a customer is told for a coupon:
    schedule first, then limits, then whether it is meant for this sale at all.
    """
    if not rule.active:
        return RejectReason.EXPIRED
    if rule.starts_at is not None and snapshot.now < rule.starts_at:
        return RejectReason.NOT_YET_VALID
    if rule.ends_at is not None and snapshot.now >= rule.ends_at:
        return RejectReason.EXPIRED
    if rule.usage_limit is not None and rule.used_count >= rule.usage_limit:
        return RejectReason.LIMIT_REACHED
    if rule.per_customer_limit is not None:
        if snapshot.customer_id is None:
            return RejectReason.NOT_APPLICABLE  # a limit per customer needs a known customer
        if rule.customer_used_count >= rule.per_customer_limit:
            return RejectReason.LIMIT_REACHED
    if rule.channels and snapshot.channel not in rule.channels:
        return RejectReason.NOT_APPLICABLE
    if rule.locations and snapshot.location not in rule.locations:
        return RejectReason.NOT_APPLICABLE
    if rule.tiers and snapshot.tier not in rule.tiers:
        return RejectReason.NOT_APPLICABLE
    if rule.requires_coupon and not unlocked:
        return RejectReason.NOT_APPLICABLE
    return None


def discount_amounts(
    rule: PromotionRule,
    targeted: Sequence[int],
    lines: Sequence[CartLine],
    subtotals: Sequence[Decimal],
    remaining: Sequence[Decimal],
) -> dict[int, Decimal] | RejectReason:
    """What ``rule`` takes off each targeted line, given the amounts ``remaining`` after the
    promotions applied before it; or why it takes nothing. No part exceeds what is left of
    its line, so no line goes below zero.

    The minimums are measured on the targeted items at shelf price (``subtotals``), the
    subtotal the customer sees: so another promotion never makes this one fall below its
    minimum, and adding a promotion never leaves the customer worse off.
    """
    if not targeted:
        return RejectReason.NOT_APPLICABLE
    quantity = sum(lines[i].quantity for i in targeted)
    if quantity < rule.min_quantity:
        return RejectReason.MINIMUM_NOT_MET
    shelf = sum((subtotals[i] for i in targeted), ZERO)
    if rule.min_subtotal is not None and shelf < rule.min_subtotal:
        return RejectReason.MINIMUM_NOT_MET
    base = sum((remaining[i] for i in targeted), ZERO)

    if rule.kind == Kind.PERCENT_OFF:
        amounts = {i: to_cents(remaining[i] * rule.value / HUNDRED) for i in targeted}
    elif rule.kind == Kind.AMOUNT_OFF:
        amounts = {i: min(to_cents(rule.value * lines[i].quantity), remaining[i]) for i in targeted}
    elif rule.kind == Kind.BUY_X_GET_Y:
        amounts = _buy_x_get_y(rule, targeted, lines, remaining, quantity)
        if amounts is None:
            return RejectReason.MINIMUM_NOT_MET
    elif rule.kind == Kind.SPEND_THRESHOLD:
        amounts = _spend_threshold(rule, targeted, remaining, base)
    else:
        raise ValueError(f"unknown promotion kind {rule.kind!r}")

    amounts = {i: amount for i, amount in amounts.items() if amount > 0}
    if not amounts:
        return RejectReason.NOT_APPLICABLE  # nothing left to take off
    return amounts


def _buy_x_get_y(
    rule: PromotionRule,
    targeted: Sequence[int],
    lines: Sequence[CartLine],
    remaining: Sequence[Decimal],
    quantity: int,
) -> dict[int, Decimal] | None:
    """For every ``buy + get`` units of the targeted items (mixed as the customer likes),
    ``get`` units are ``value`` percent off: the cheapest units, so that the discount does
    not depend on the order of the lines; equal prices go to the earlier line."""
    buy, get = rule.buy_quantity or 0, rule.get_quantity or 0
    if buy < 1 or get < 1:
        raise ValueError(f"promotion {rule.id}: buy_x_get_y needs buy and get quantities")
    discounted_units = (quantity // (buy + get)) * get
    if discounted_units == 0:
        return None
    cheapest_first = sorted(targeted, key=lambda i: (remaining[i] / lines[i].quantity, i))
    amounts: dict[int, Decimal] = {}
    for i in cheapest_first:
        if discounted_units == 0:
            break
        units = min(discounted_units, lines[i].quantity)
        discounted_units -= units
        amounts[i] = to_cents(remaining[i] * units * rule.value / (lines[i].quantity * HUNDRED))
    return amounts


def _spend_threshold(
    rule: PromotionRule, targeted: Sequence[int], remaining: Sequence[Decimal], base: Decimal
) -> dict[int, Decimal]:
    """``value`` off the targeted items as a whole, split across their lines in proportion to
    what is left of each by largest remainder (ties to the earlier line): the parts add up to
    the whole and no part exceeds its line."""
    whole = min(to_cents(rule.value), base)
    parts = allocate(whole, [remaining[i] for i in targeted])
    return dict(zip(targeted, parts, strict=True))
