"""Price lists and their prices, promotions and their coupons, tax rates: the merchandiser's
writes. One function per use case, one transaction each; bad input raises
``ValidationFailed`` (400) naming the field, and nothing is written."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from config.money import to_cents
from inventory import selectors as inventory_selectors
from pricing.engine import Kind, normalize_code
from pricing.errors import ValidationFailed, line_errors
from pricing.models import (
    COUPON_CODE_VALIDATOR,
    PERCENT_KINDS,
    Coupon,
    Price,
    PriceList,
    Promotion,
    TaxExemption,
    TaxRate,
)
from pricing.services.coupons import recount_coupon_usage, recount_promotion_usage

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("9999999999.99")
MAX_PRICES = 50_000


# --- Resolving business keys ---------------------------------------------------------------


def _by_codes(queryset, field: str, codes: Sequence[str], attr: str, what: str) -> list:
    """The objects for ``codes`` in one query, in the order given; 400 naming each unknown or
    repeated code (``attr`` is a format with ``{i}`` for the position: ``"skus.{i}"``)."""
    codes = list(codes)
    found = {getattr(obj, field): obj for obj in queryset.filter(**{f"{field}__in": codes})}
    problems = []
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code not in found:
            problems.append((attr.format(i=index), f"unknown_{what}", f"Unknown {what} {code!r}."))
        elif code in seen:
            problems.append((attr.format(i=index), "duplicate", f"{code!r} is listed twice."))
        seen.add(code)
    if problems:
        raise line_errors(problems)
    return [found[code] for code in codes]


def _channel(channel):
    if not isinstance(channel, str):
        return channel
    return _by_codes(inventory_selectors.channels(), "code", [channel], "channel", "channel")[0]


def _locations(codes: Sequence[str]) -> list:
    return _by_codes(inventory_selectors.locations(), "code", codes, "locations.{i}", "location")


def _check_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed.field("ends_at", "Must be after starts_at.", "ends_before_start")


def _money(value: Any, attr: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.field(attr, "Not a decimal amount.") from None
    if not amount.is_finite() or amount != to_cents(amount):
        raise ValidationFailed.field(attr, "At most two decimals.", "max_decimal_places")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed.field(
            attr, "Must be zero or more." if allow_zero else "Must be more than zero.", "min_value"
        )
    if amount > MAX_AMOUNT:
        raise ValidationFailed.field(attr, f"At most {MAX_AMOUNT}.", "max_value")
    return amount


# --- Price lists ---------------------------------------------------------------------------

PRICE_LIST_FIELDS = ("name", "priority", "starts_at", "ends_at", "active")


@transaction.atomic
def create_price_list(
    *,
    code: str,
    name: str,
    channel,
    locations: Sequence[str] = (),
    priority: int = 0,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    active: bool = True,
) -> PriceList:
    """A new price list for ``channel`` (a Channel or its code), at ``locations`` (codes;
    empty: every location of the channel)."""
    _check_window(starts_at, ends_at)
    if PriceList.objects.filter(code=code).exists():
        raise ValidationFailed.field("code", f"Price list {code!r} exists.", "unique")
    price_list = PriceList(
        code=code,
        name=name,
        channel=_channel(channel),
        priority=priority,
        starts_at=starts_at,
        ends_at=ends_at,
        active=active,
    )
    price_list.full_clean()
    price_list.save()
    price_list.locations.set(_locations(locations))
    logger.info("price list %s created for channel %s", code, price_list.channel.code)
    return price_list


@transaction.atomic
def update_price_list(
    *, price_list: PriceList, channel=None, locations: Sequence[str] | None = None, **fields: Any
) -> PriceList:
    """Change a price list's fields; ``locations`` (codes) replaces its locations."""
    unknown = set(fields) - set(PRICE_LIST_FIELDS)
    if unknown:
        raise TypeError(f"unknown price list fields: {sorted(unknown)}")
    for field, value in fields.items():
        setattr(price_list, field, value)
    if channel is not None:
        price_list.channel = _channel(channel)
    _check_window(price_list.starts_at, price_list.ends_at)
    price_list.full_clean()
    price_list.save()
    if locations is not None:
        price_list.locations.set(_locations(locations))
    logger.info("price list %s updated: %s", price_list.code, ", ".join(sorted(fields)) or "-")
    return price_list


@dataclass(frozen=True)
class PriceEntry:
    sku: str
    amount: Decimal


@dataclass(frozen=True)
class PriceChanges:
    created: int
    updated: int
    deleted: int
    unchanged: int


@transaction.atomic
def replace_prices(
    *, price_list: PriceList, prices: Sequence[PriceEntry], actor: str = ""
) -> PriceChanges:
    """Make ``prices`` the whole content of ``price_list``: new SKUs are added, changed
    amounts updated, SKUs not listed removed. All or nothing; every change lands in the price
    history with ``actor`` (else the request's caller) and the time."""
    if len(prices) > MAX_PRICES:
        raise ValidationFailed.field(
            "prices", f"At most {MAX_PRICES} prices at once.", "max_length"
        )
    problems = []
    amounts: list[Decimal] = []
    for index, entry in enumerate(prices):
        try:
            amounts.append(_money(entry.amount, f"{index}.amount"))
        except ValidationFailed as exc:
            problems.extend((e["attr"], e["code"], e["detail"]) for e in exc.errors)
    if problems:
        raise line_errors(problems)
    skus = _by_codes(inventory_selectors.skus(), "sku", [e.sku for e in prices], "{i}.sku", "sku")
    wanted = {sku.pk: amount for sku, amount in zip(skus, amounts, strict=True)}

    existing = {p.sku_id: p for p in Price.objects.filter(price_list=price_list)}
    to_create = [
        Price(price_list=price_list, sku_id=sku_id, amount=amount)
        for sku_id, amount in wanted.items()
        if sku_id not in existing
    ]
    to_update = []
    for sku_id, price in existing.items():
        if sku_id in wanted and price.amount != wanted[sku_id]:
            price.amount = wanted[sku_id]
            to_update.append(price)
    to_delete = [price for sku_id, price in existing.items() if sku_id not in wanted]

    user = actor or None
    if to_create:
        bulk_create_with_history(to_create, Price, default_user=user)
    if to_update:
        bulk_update_with_history(to_update, Price, ["amount", "updated_at"], default_user=user)
    for price in to_delete:
        if user:
            price._history_user = user
        price.delete()
    changes = PriceChanges(
        created=len(to_create),
        updated=len(to_update),
        deleted=len(to_delete),
        unchanged=len(existing) - len(to_update) - len(to_delete),
    )
    logger.info("prices of %s replaced by %s: %s", price_list.code, actor or "-", changes)
    return changes


@transaction.atomic
def set_price(*, price_list: PriceList, sku: str, amount: Decimal, actor: str = "") -> Price:
    """Set one SKU's amount in a price list (added if it has none), with history."""
    amount = _money(amount, "amount")
    sku_obj = _by_codes(inventory_selectors.skus(), "sku", [sku], "sku", "sku")[0]
    price = Price.objects.filter(price_list=price_list, sku=sku_obj).first()
    price = price or Price(price_list=price_list, sku=sku_obj)
    price.amount = amount
    if actor:
        price._history_user = actor
    price.save()
    return price


# --- Promotions ----------------------------------------------------------------------------

PROMOTION_FIELDS = (
    "name",
    "kind",
    "value",
    "min_quantity",
    "min_subtotal",
    "buy_quantity",
    "get_quantity",
    "tiers",
    "requires_coupon",
    "starts_at",
    "ends_at",
    "priority",
    "exclusive",
    "usage_limit",
    "per_customer_limit",
    "active",
)
PROMOTION_TARGETS = ("skus", "categories", "channels", "locations")


@transaction.atomic
def create_promotion(
    *,
    name: str,
    kind: str,
    value: Decimal,
    skus: Sequence[str] = (),
    categories: Sequence[str] = (),
    channels: Sequence[str] = (),
    locations: Sequence[str] = (),
    **fields: Any,
) -> Promotion:
    """A new promotion; targets and scope are business keys (SKU, category, channel and
    location codes). See :func:`check_promotion` for the rules it must meet."""
    promotion = Promotion()
    return _save_promotion(
        promotion,
        {"name": name, "kind": kind, "value": value, **fields},
        {"skus": skus, "categories": categories, "channels": channels, "locations": locations},
    )


@transaction.atomic
def update_promotion(*, promotion: Promotion, **fields: Any) -> Promotion:
    """Change a promotion; a target list given replaces the old one. Setting a usage or
    per-customer limit where there was none recounts its use from the orders that used it."""
    targets = {name: fields.pop(name) for name in PROMOTION_TARGETS if name in fields}
    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    return _save_promotion(promotion, fields, targets)


def _save_promotion(
    promotion: Promotion, fields: Mapping[str, Any], targets: Mapping[str, Sequence[str]]
) -> Promotion:
    unknown = set(fields) - set(PROMOTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown promotion fields: {sorted(unknown)}")
    newly_limited = (promotion.pk is not None) and (
        (fields.get("usage_limit") is not None and promotion.usage_limit is None)
        or (fields.get("per_customer_limit") is not None and promotion.per_customer_limit is None)
    )
    for field, value in fields.items():
        setattr(promotion, field, value)
    promotion.tiers = sorted({str(t) for t in (promotion.tiers or [])})
    check_promotion(promotion)
    promotion.full_clean(exclude=["used_count"])
    promotion.save()
    resolved = {
        "skus": lambda codes: _by_codes(
            inventory_selectors.skus(), "sku", codes, "skus.{i}", "sku"
        ),
        "categories": lambda codes: _by_codes(
            inventory_selectors.categories(), "code", codes, "categories.{i}", "category"
        ),
        "channels": lambda codes: _by_codes(
            inventory_selectors.channels(), "code", codes, "channels.{i}", "channel"
        ),
        "locations": _locations,
    }
    for name, codes in targets.items():
        getattr(promotion, name).set(resolved[name](list(codes)))
    if newly_limited:
        recount_promotion_usage(promotion)
    logger.info("promotion %s (%s) saved", promotion.pk, promotion.name)
    return promotion


def check_promotion(promotion: Promotion) -> None:
    """The rules of a promotion that a field alone cannot say; 400 naming the field."""
    kinds = {k.value for k in Kind}
    if promotion.kind not in kinds:
        raise ValidationFailed.field(
            "kind", f"One of {', '.join(sorted(kinds))}.", "invalid_choice"
        )
    value = _money(promotion.value, "value")
    if promotion.kind in PERCENT_KINDS and value > 100:
        raise ValidationFailed.field("value", "A percentage is at most 100.", "max_value")
    if promotion.min_subtotal is not None:
        _money(promotion.min_subtotal, "min_subtotal", allow_zero=True)
    if promotion.kind == Kind.SPEND_THRESHOLD and promotion.min_subtotal is None:
        raise ValidationFailed.field(
            "min_subtotal", "A spend threshold needs the amount to reach.", "required"
        )
    if promotion.kind == Kind.BUY_X_GET_Y:
        for field in ("buy_quantity", "get_quantity"):
            if getattr(promotion, field) is None:
                raise ValidationFailed.field(
                    field, "Buy X get Y needs both quantities.", "required"
                )
    for field in (
        "min_quantity",
        "buy_quantity",
        "get_quantity",
        "usage_limit",
        "per_customer_limit",
    ):
        number = getattr(promotion, field)
        if number is not None and number < 1:
            raise ValidationFailed.field(field, "Must be at least 1.", "min_value")
    _check_window(promotion.starts_at, promotion.ends_at)


# --- Coupons -------------------------------------------------------------------------------


@transaction.atomic
def create_coupon(
    *, promotion: Promotion, code: str, usage_limit: int | None = None, active: bool = True
) -> Coupon:
    """A coupon for ``promotion``. Codes are case-insensitive: stored upper case, and a code
    that differs from an existing one only in case is taken (400 ``unique``)."""
    code = normalize_code(code)
    coupon = Coupon(promotion=promotion, code=code, usage_limit=usage_limit, active=active)
    if usage_limit is not None and usage_limit < 1:
        raise ValidationFailed.field("usage_limit", "Must be at least 1.", "min_value")
    try:
        COUPON_CODE_VALIDATOR(code)
    except DjangoValidationError:
        raise ValidationFailed.field("code", str(COUPON_CODE_VALIDATOR.message)) from None
    if Coupon.objects.filter(code=code).exists():
        raise ValidationFailed.field("code", f"Coupon {code} exists.", "unique")
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError:  # the same code, created a moment ago by someone else
        raise ValidationFailed.field("code", f"Coupon {code} exists.", "unique") from None
    logger.info("coupon %s created for promotion %s", code, promotion.pk)
    return coupon


@transaction.atomic
def update_coupon(
    *, coupon: Coupon, usage_limit: int | Any | None = ..., active: bool | None = None
) -> Coupon:
    """Change a coupon's limit or switch it off. Setting a limit where there was none recounts
    its use from the orders that used it."""
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    newly_limited = usage_limit not in (..., None) and coupon.usage_limit is None
    if usage_limit is not ...:
        if usage_limit is not None and usage_limit < 1:
            raise ValidationFailed.field("usage_limit", "Must be at least 1.", "min_value")
        coupon.usage_limit = usage_limit
    if active is not None:
        coupon.active = active
    coupon.save()
    if newly_limited:
        recount_coupon_usage(coupon)
    return coupon


# --- Tax -----------------------------------------------------------------------------------


@transaction.atomic
def set_tax_rate(
    *,
    location: str | None,
    name: str,
    rate: Decimal,
    category_rates: Mapping[str, Decimal] | Iterable[tuple[str, Decimal]] = (),
) -> TaxRate:
    """Set the tax rate of ``location`` (a code; None: the default rate) and replace its
    category rates (category code → percentage; 0 exempts the category and its subtree)."""
    rate = _percentage(rate, "rate")
    pairs = list(category_rates.items() if isinstance(category_rates, Mapping) else category_rates)
    place = (
        _by_codes(inventory_selectors.locations(), "code", [location], "location", "location")[0]
        if location is not None
        else None
    )
    categories = _by_codes(
        inventory_selectors.categories(),
        "code",
        [c for c, _ in pairs],
        "category_rates.{i}",
        "category",
    )
    tax_rate = TaxRate.objects.filter(location=place).first() or TaxRate(location=place)
    tax_rate.name, tax_rate.rate = name, rate
    tax_rate.save()
    tax_rate.exemptions.all().delete()
    TaxExemption.objects.bulk_create(
        [
            TaxExemption(
                tax_rate=tax_rate, category=category, rate=_percentage(r, f"category_rates.{i}")
            )
            for i, (category, (_, r)) in enumerate(zip(categories, pairs, strict=True))
        ]
    )
    return tax_rate


def _percentage(value: Any, attr: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.field(attr, "Not a decimal percentage.") from None
    if not rate.is_finite() or not 0 <= rate <= 100 or rate != rate.quantize(Decimal("0.001")):
        raise ValidationFailed.field(attr, "A percentage from 0 to 100, three decimals at most.")
    return rate
