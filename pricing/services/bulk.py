"""The merchandiser's admin use cases the other pricing services do not cover: setting many
prices at once (a CSV import), raising or lowering prices by a percentage, removing prices,
and previewing a promotion on a sample cart.

Every write is one transaction and lands in the price history with who (``actor``), when
and why (``reason``, the history's change reason). Amounts are ``Decimal`` throughout; no
price is ever written at zero or below (the database refuses it too).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from config.csvimport import chunks
from config.money import CENT, to_cents
from inventory import selectors as inventory_selectors
from pricing.engine import PromotionRule, Quote, price_cart
from pricing.errors import InvalidState, ValidationFailed, line_errors
from pricing.models import Price, PriceList, Promotion
from pricing.services.catalog import MAX_AMOUNT, PriceChanges, PriceEntry
from pricing.services.quotes import CartItem, build_snapshot

WRITE_BATCH = 1000
REASON_LENGTH = Price.history.model._meta.get_field("history_change_reason").max_length
AMOUNT_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


# --- Amounts -------------------------------------------------------------------------------


class AmountError(ValueError):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def parse_amount(value: Decimal | str) -> Decimal:
    """A price as typed in a file or a form: digits with an optional point and at most two
    decimals ("12", "12.5", "12.50"), above zero and at most ``MAX_AMOUNT``. Raises
    :class:`AmountError` (``invalid``, ``max_decimal_places``, ``min_value``, ``max_value``)
    with a message for the merchandiser."""
    text = str(value).strip()
    if not text:
        raise AmountError("required", "Required.")
    if "," in text and "." not in text and AMOUNT_TEXT.fullmatch(text.replace(",", ".")):
        raise AmountError(
            "invalid", f"{text!r} is not a decimal amount; write a point: {text.replace(',', '.')}."
        )
    if not AMOUNT_TEXT.fullmatch(text):
        raise AmountError("invalid", f"{text!r} is not a decimal amount.")
    amount = Decimal(text)
    if -amount.as_tuple().exponent > 2:  # "12.340" too: a third decimal is a typo
        raise AmountError("max_decimal_places", f"{text}: at most two decimals.")
    if amount <= 0:
        raise AmountError("min_value", "Must be more than zero.")
    if amount > MAX_AMOUNT:
        raise AmountError("max_value", f"At most {MAX_AMOUNT}.")
    return amount.quantize(CENT)


def _actor_and_reason(obj: models.Model, actor: str, reason: str) -> None:
    if actor:
        obj._history_user = actor[:200]
    if reason:
        obj._change_reason = reason[:REASON_LENGTH]


def _lock_price_lists(ids: Iterable[int] | QuerySet) -> None:
    """Two bulk writes to one list run one after the other (in primary-key order, so that
    two writes to several lists cannot deadlock)."""
    ids = ids if isinstance(ids, QuerySet) else set(ids)
    list(PriceList.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


# --- Setting many prices -------------------------------------------------------------------


@transaction.atomic
def set_prices(
    *,
    price_list: PriceList,
    prices: Sequence[PriceEntry],
    actor: str = "",
    reason: str = "",
    on_progress: Callable[[int], None] | None = None,
) -> PriceChanges:
    """Add or change the amounts of the SKUs in ``prices`` in ``price_list``; its other prices
    stay as they are (``deleted`` is always 0).

    All or nothing: every entry is checked before anything is written, and any bad one
    raises ``ValidationFailed`` (400) naming each (``{i}.sku``: ``unknown_sku``,
    ``duplicate``; ``{i}.amount``: see :func:`parse_amount`). An entry whose amount is
    already the list's writes nothing. Each change is one row of the price history with
    ``actor`` and ``reason``. The price list's row is locked while it runs, so two imports
    into one list do not interleave. ``on_progress(n)`` is called as entries are done."""
    problems = []
    amounts: list[Decimal | None] = []
    for index, entry in enumerate(prices):
        try:
            amounts.append(parse_amount(entry.amount))
        except AmountError as exc:
            amounts.append(None)
            problems.append((f"{index}.amount", exc.code, str(exc)))
    sku_ids: dict[str, int] = {}
    for chunk in chunks({entry.sku for entry in prices}):
        sku_ids.update(inventory_selectors.skus().filter(sku__in=chunk).values_list("sku", "pk"))
    seen: set[str] = set()
    for index, entry in enumerate(prices):
        if entry.sku not in sku_ids:
            problems.append((f"{index}.sku", "unknown_sku", f"Unknown SKU {entry.sku!r}."))
        elif entry.sku in seen:
            problems.append((f"{index}.sku", "duplicate", f"SKU {entry.sku} is listed twice."))
        seen.add(entry.sku)
    if problems:
        raise line_errors(problems)

    _lock_price_lists([price_list.pk])
    wanted = {sku_ids[e.sku]: a for e, a in zip(prices, amounts, strict=True) if a is not None}
    existing: dict[int, Price] = {}
    for chunk in chunks(wanted):
        existing.update(
            (p.sku_id, p) for p in Price.objects.filter(price_list=price_list, sku_id__in=chunk)
        )
    now = timezone.now()
    to_create = [
        Price(price_list=price_list, sku_id=sku_id, amount=amount)
        for sku_id, amount in wanted.items()
        if sku_id not in existing
    ]
    to_update = []
    for sku_id, price in existing.items():
        if price.amount != wanted[sku_id]:
            price.amount, price.updated_at = wanted[sku_id], now
            to_update.append(price)
    unchanged = len(existing) - len(to_update)
    if on_progress is not None and unchanged:
        on_progress(unchanged)
    user, why = actor[:200] or None, reason[:REASON_LENGTH]
    try:
        for batch in chunks(to_create, WRITE_BATCH):
            bulk_create_with_history(batch, Price, default_user=user, default_change_reason=why)
            if on_progress is not None:
                on_progress(len(batch))
    except IntegrityError:  # a price for one of these SKUs was added a moment ago elsewhere
        raise InvalidState(
            f"The prices of {price_list.code} changed while importing; try again."
        ) from None
    for batch in chunks(to_update, WRITE_BATCH):
        bulk_update_with_history(
            batch, Price, ["amount", "updated_at"], default_user=user, default_change_reason=why
        )
        if on_progress is not None:
            on_progress(len(batch))
    return PriceChanges(
        created=len(to_create), updated=len(to_update), deleted=0, unchanged=unchanged
    )


@transaction.atomic
def remove_prices(*, prices: Iterable[Price], actor: str = "", reason: str = "") -> int:
    """Remove prices (their SKUs can no longer be sold through that list); each removal is a
    row of the price history with ``actor`` and ``reason``. Returns how many."""
    count = 0
    for price in prices:
        _actor_and_reason(price, actor, reason)
        price.delete()
        count += 1
    return count


# --- Raising or lowering by a percentage ---------------------------------------------------


class Rounding(models.TextChoices):
    CENT = "cent", "To the cent"
    NINETY_NINE = "99", "To the nearest .99"


ROUNDING_HELP = (
    "To the cent: the new amount is rounded half up to the cent (12.345 → 12.35). "
    "To the nearest .99: rounded half up to the cent first, then to the nearest amount that "
    "ends in .99; an amount exactly halfway, ending in .49, goes up (12.34 → 11.99, "
    "12.49 → 12.99, 12.50 → 12.99, 13.00 → 12.99). A change that would take any price to "
    "zero or below (with .99: below 0.49) is refused as a whole."
)
MIN_PERCENT = Decimal("-99.99")
MAX_PERCENT = Decimal(1000)
HUNDRED = Decimal(100)


def adjusted_amount(amount: Decimal, *, percent: Decimal, rounding: Rounding | str) -> Decimal:
    """``amount`` raised (``percent`` > 0) or lowered (< 0) by ``percent`` percent and
    rounded as :data:`ROUNDING_HELP` says. May be zero or negative (0.01 lowered by 60 %
    is 0.00; 0.40 to the nearest .99 is -0.01): the caller refuses those."""
    cents = to_cents(amount * (HUNDRED + percent) / HUNDRED)
    if Rounding(rounding) == Rounding.CENT:
        return cents
    return (cents + CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP) - CENT


def check_percent(percent: Decimal | str) -> Decimal:
    """A percentage to change prices by: -99.99 to 1000, at most two decimals, not zero."""
    try:
        value = Decimal(str(percent).strip())
    except InvalidOperation:
        raise ValidationFailed.field("percent", "Not a number.") from None
    if not value.is_finite():
        raise ValidationFailed.field("percent", "Not a number.")
    if -value.as_tuple().exponent > 2:
        raise ValidationFailed.field("percent", "At most two decimals.", "max_decimal_places")
    if value == 0:
        raise ValidationFailed.field("percent", "0 % changes nothing.", "min_value")
    if not MIN_PERCENT <= value <= MAX_PERCENT:
        raise ValidationFailed.field(
            "percent", f"From {MIN_PERCENT} to {MAX_PERCENT} (a percentage).", "out_of_range"
        )
    return value.quantize(CENT)


@dataclass(frozen=True)
class Adjustment:
    price_id: int
    price_list: str
    sku: str
    old: Decimal
    new: Decimal

    @property
    def changed(self) -> bool:
        return self.new != self.old

    @property
    def difference(self) -> Decimal:
        return self.new - self.old

    @property
    def allowed(self) -> bool:
        return CENT <= self.new <= MAX_AMOUNT

    def against(self, percent: Decimal) -> bool:
        """Moved the other way than asked (the .99 rounding can do that to small changes)."""
        return (self.new - self.old) * percent < 0


@dataclass(frozen=True)
class PercentChange:
    percent: Decimal
    rounding: Rounding
    adjustments: tuple[Adjustment, ...]
    applied: bool = False

    @property
    def changed(self) -> list[Adjustment]:
        return [a for a in self.adjustments if a.changed]

    @property
    def unchanged(self) -> int:
        return sum(1 for a in self.adjustments if not a.changed)

    @property
    def blocked(self) -> list[Adjustment]:
        return [a for a in self.adjustments if not a.allowed]

    @property
    def ok(self) -> bool:
        return bool(self.adjustments) and not self.blocked

    @property
    def reason(self) -> str:
        return f"{self.percent:+}% ({self.rounding.label.lower()})"


def _selected(prices: QuerySet[Price]) -> QuerySet[Price]:
    """The prices of ``prices`` as a plain query (no joins, no DISTINCT), in primary-key
    order, that rows can be locked through."""
    return Price.objects.filter(pk__in=prices.values("pk")).order_by("pk")


def plan_percent_change(
    *, prices: QuerySet[Price], percent: Decimal | str, rounding: Rounding | str
) -> PercentChange:
    """What :func:`change_prices_by_percent` would do, old → new per price. Writes nothing."""
    percent, rounding = check_percent(percent), Rounding(rounding)
    rows = _selected(prices).values_list("pk", "price_list__code", "sku__sku", "amount")
    return PercentChange(
        percent=percent,
        rounding=rounding,
        adjustments=tuple(
            Adjustment(
                pk, code, sku, amount, adjusted_amount(amount, percent=percent, rounding=rounding)
            )
            for pk, code, sku, amount in rows
        ),
    )


@transaction.atomic
def change_prices_by_percent(
    *,
    prices: QuerySet[Price],
    percent: Decimal | str,
    rounding: Rounding | str,
    actor: str = "",
) -> PercentChange:
    """Raise or lower every price of ``prices`` (for "all prices of these lists":
    ``Price.objects.filter(price_list__in=...)``) by ``percent`` percent, rounded as
    :data:`ROUNDING_HELP` says.

    All or nothing: if any new amount would be zero or below (or above ``MAX_AMOUNT``),
    ``ValidationFailed`` (400, one error per such price, code ``min_value``/``max_value``)
    and nothing is written. The rows are locked from the read to the write (their price
    lists first, then the prices, each in primary-key order), so a concurrent change is not
    lost. A price whose amount does not move writes nothing; each one that does is a row of
    the price history with ``actor`` and the change (``+5.00% (to the nearest .99)``) as its
    reason."""
    percent, rounding = check_percent(percent), Rounding(rounding)
    selected = _selected(prices)
    _lock_price_lists(selected.values_list("price_list_id", flat=True).distinct())
    rows = list(selected.select_for_update())
    if not rows:
        raise ValidationFailed.field("prices", "No prices to change.", "required")
    codes = dict(
        PriceList.objects.filter(pk__in={p.price_list_id for p in rows}).values_list("pk", "code")
    )
    skus: dict[int, str] = {}
    for chunk in chunks({p.sku_id for p in rows}):
        skus.update(inventory_selectors.skus().filter(pk__in=chunk).values_list("pk", "sku"))
    plan = PercentChange(
        percent=percent,
        rounding=rounding,
        adjustments=tuple(
            Adjustment(
                p.pk,
                codes[p.price_list_id],
                skus[p.sku_id],
                p.amount,
                adjusted_amount(p.amount, percent=percent, rounding=rounding),
            )
            for p in rows
        ),
    )
    if plan.blocked:
        raise line_errors(
            [
                (
                    f"{a.price_list}.{a.sku}",
                    "min_value" if a.new < CENT else "max_value",
                    f"{a.sku} in {a.price_list}: {a.old} would become {a.new}.",
                )
                for a in plan.blocked
            ]
        )
    now = timezone.now()
    new_amounts = {a.price_id: a.new for a in plan.changed}
    changed = []
    for price in rows:
        if price.pk in new_amounts:
            price.amount, price.updated_at = new_amounts[price.pk], now
            changed.append(price)
    for batch in chunks(changed, WRITE_BATCH):
        bulk_update_with_history(
            batch,
            Price,
            ["amount", "updated_at"],
            default_user=actor[:200] or None,
            default_change_reason=plan.reason[:REASON_LENGTH],
        )
    return dataclasses.replace(plan, applied=True)


# --- Previewing a promotion ----------------------------------------------------------------


def promotion_rule(promotion: Promotion, *, as_live: bool = True) -> PromotionRule:
    """``promotion`` as the engine sees it (four queries for its targets). ``as_live``: as if
    it were running now, whatever its state, schedule, usage and coupon requirement, so a
    merchandiser can see what it does before it starts; its targets, scope (channels,
    locations, tiers) and minimums still apply."""
    rule = PromotionRule(
        id=promotion.pk,
        name=promotion.name,
        kind=promotion.kind,
        value=promotion.value,
        skus=frozenset(promotion.skus.values_list("sku", flat=True)),
        category_paths=tuple(sorted(promotion.categories.values_list("path", flat=True))),
        channels=frozenset(promotion.channels.values_list("code", flat=True)),
        locations=frozenset(promotion.locations.values_list("code", flat=True)),
        min_quantity=promotion.min_quantity,
        min_subtotal=promotion.min_subtotal,
        buy_quantity=promotion.buy_quantity,
        get_quantity=promotion.get_quantity,
        tiers=frozenset(str(t) for t in promotion.tiers or ()),
        requires_coupon=promotion.requires_coupon,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        priority=promotion.priority,
        exclusive=promotion.exclusive,
        active=promotion.active,
        usage_limit=promotion.usage_limit,
        used_count=promotion.used_count,
        per_customer_limit=promotion.per_customer_limit,
    )
    if not as_live:
        return rule
    return dataclasses.replace(
        rule,
        active=True,
        starts_at=None,
        ends_at=None,
        usage_limit=None,
        used_count=0,
        per_customer_limit=None,
        requires_coupon=False,
    )


@dataclass(frozen=True)
class PromotionPreview:
    promotion_id: int
    quote: Quote  # the cart with the promotion (and, if asked, the others running now)
    baseline: Quote  # the same cart without any promotion
    applied: bool  # whether the promotion took anything off
    with_others: bool
    hints: tuple[str, ...]  # why it did not apply, as far as can be told

    @property
    def saving(self) -> Decimal:
        """What this promotion itself takes off."""
        return sum(
            (p.amount for p in self.quote.applied_promotions if p.promotion == self.promotion_id),
            Decimal("0.00"),
        )


def preview_promotion(
    *,
    promotion: Promotion,
    channel,
    lines: Sequence[CartItem],
    location=None,
    tier: str | None = None,
    with_others: bool = False,
    now: datetime | None = None,
) -> PromotionPreview:
    """Price a sample cart with ``promotion`` as if it were running (see
    :func:`promotion_rule`), alone or (``with_others``) stacked with the promotions running
    now, exactly as :func:`pricing.services.quote` would: the same snapshot, the same
    engine. Reads only. Bad lines raise ``ValidationFailed`` as ``quote`` does."""
    snapshot = build_snapshot(channel=channel, lines=lines, location=location, now=now)
    snapshot = dataclasses.replace(snapshot, tier=tier or None)
    rule = promotion_rule(promotion)
    others = tuple(r for r in snapshot.promotions if r.id != rule.id) if with_others else ()
    quote = price_cart(dataclasses.replace(snapshot, promotions=(*others, rule)))
    baseline = price_cart(dataclasses.replace(snapshot, promotions=(), coupon_codes=()))
    applied = any(p.promotion == rule.id for p in quote.applied_promotions)
    hints: list[str] = []
    if not applied:
        if rule.channels and snapshot.channel not in rule.channels:
            hints.append(f"It is not for channel {snapshot.channel}.")
        if rule.locations and snapshot.location not in rule.locations:
            hints.append(
                f"It is not for location {snapshot.location}."
                if snapshot.location
                else "It is only for some locations: pick one."
            )
        if rule.tiers and snapshot.tier not in rule.tiers:
            hints.append(f"It is only for loyalty tier(s) {', '.join(sorted(rule.tiers))}.")
        if not hints:
            hints.append(
                "No item of the cart is targeted, the cart is below its minimum "
                f"({rule.min_quantity} unit(s)"
                + (f", {rule.min_subtotal} of targeted items" if rule.min_subtotal else "")
                + "), or a better exclusive promotion won."
            )
    return PromotionPreview(
        promotion_id=rule.id,
        quote=quote,
        baseline=baseline,
        applied=applied,
        with_others=with_others,
        hints=tuple(hints),
    )
