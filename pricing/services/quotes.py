"""Pricing a cart: fetch a snapshot in a constant number of queries, let the engine price it.

Quotes, carts, orders and POS sales all call :func:`quote`, so they agree to the cent. It
writes nothing; an order claims what its quote applied with
:func:`pricing.services.claim_coupons`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from inventory import selectors as inventory_selectors
from loyalty import selectors as loyalty_selectors
from pricing.engine import (
    CartLine,
    CouponInfo,
    PricingSnapshot,
    PromotionRule,
    Quote,
    normalize_code,
    price_cart,
)
from pricing.engine.promotions import ancestor_paths
from pricing.errors import ValidationFailed, line_errors
from pricing.models import (
    Coupon,
    CustomerPromotionUsage,
    Price,
    PriceList,
    Promotion,
    TaxRate,
)
from pricing.services import promotion_catalog

MAX_LINES = 500
MAX_QUANTITY = 100_000
MAX_COUPONS = 20


@dataclass(frozen=True)
class CartItem:
    """One line to price: a SKU code and a whole number of units. ``fixed_price`` is a unit
    price agreed beforehand (an exchange at the price paid): it replaces the list price and
    no promotion applies to the line."""

    sku: str
    quantity: int
    fixed_price: Decimal | None = None


def quote(
    *,
    channel,
    lines: Sequence[CartItem],
    location=None,
    customer_id: int | None = None,
    coupon_codes: Sequence[str] = (),
    tax_location=None,
    now: datetime | None = None,
) -> Quote:
    """Price ``lines`` for ``channel`` (a Channel or its code) at ``location`` (a Location,
    its code, or None for the channel's all-locations prices and the default tax rate).

    ``tax_location`` is where tax is due when it is not ``location`` (the shipping warehouse
    of a web order). Reads only, in a constant number of queries whatever the number of lines
    and promotions. Raises ``ValidationFailed`` (400) naming every bad line: unknown SKU
    (``unknown_sku``), no price (``no_price``), quantity below 1 or above 100,000, more than
    500 lines; and for an unknown channel or location.
    """
    snapshot = build_snapshot(
        channel=channel,
        lines=lines,
        location=location,
        customer_id=customer_id,
        coupon_codes=coupon_codes,
        tax_location=tax_location,
        now=now,
    )
    return price_cart(snapshot)


def build_snapshot(
    *,
    channel,
    lines: Sequence[CartItem],
    location=None,
    customer_id: int | None = None,
    coupon_codes: Sequence[str] = (),
    tax_location=None,
    now: datetime | None = None,
) -> PricingSnapshot:
    """Everything :func:`pricing.engine.price_cart` needs, read in one go (see :func:`quote`).
    The admin's promotion preview adds an unsaved rule to ``snapshot.promotions``."""
    now = now or timezone.now()
    lines = list(lines)
    coupon_codes = [code for code in coupon_codes if code and code.strip()]
    _check_shape(lines, coupon_codes)
    channel = _channel(channel)
    location = _location(location, attr="location")
    tax_location = _location(tax_location, attr="tax_location") or location

    skus = _skus([line.sku for line in lines])
    prices = _prices(
        channel=channel, location=location, sku_ids=[s[0] for s in skus.values()], now=now
    )
    problems = []
    for index, line in enumerate(lines):
        found = skus.get(line.sku)
        if found is None:
            problems.append((f"lines.{index}.sku", "unknown_sku", f"Unknown SKU {line.sku!r}."))
        elif found[0] not in prices:
            problems.append(
                (
                    f"lines.{index}.sku",
                    "no_price",
                    f"SKU {line.sku} has no price on channel {channel.code}"
                    + (f" at {location.code}." if location else "."),
                )
            )
    if problems:
        raise line_errors(problems)

    tax_rates = _tax_rates(tax_location)
    cart_lines = tuple(
        CartLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=prices[skus[line.sku][0]] if line.fixed_price is None else line.fixed_price,
            category_path=skus[line.sku][1],
            tax_rate=_rate_for(tax_rates, skus[line.sku][1]),
            promotable=line.fixed_price is None,
        )
        for line in lines
    )
    coupons = _coupons(coupon_codes)
    rules = _promotion_rules(
        channel=channel,
        location=location,
        customer_id=customer_id,
        skus=list(skus),
        category_paths={path for _, path in skus.values()},
        coupon_promotion_ids={c.promotion_id for c in coupons},
        now=now,
    )
    return PricingSnapshot(
        currency=channel.currency,
        prices_include_tax=channel.prices_include_tax,
        now=now,
        lines=cart_lines,
        channel=channel.code,
        location=location.code if location else None,
        customer_id=customer_id,
        tier=tier_of(customer_id),
        promotions=rules,
        coupons=coupons,
        coupon_codes=tuple(coupon_codes),
    )


def tier_of(customer_id: int | None) -> str | None:
    """The customer's loyalty tier code, for promotions limited to tiers."""
    if customer_id is None:
        return None
    tier = loyalty_selectors.tier_for_customer(customer_id)
    return tier.code if tier is not None else None


# --- Input ---------------------------------------------------------------------------------


def _check_shape(lines: list[CartItem], coupon_codes: list[str]) -> None:
    if len(lines) > MAX_LINES:
        raise ValidationFailed.field(
            "lines", f"At most {MAX_LINES} lines in one cart; got {len(lines)}.", "max_length"
        )
    if len(coupon_codes) > MAX_COUPONS:
        raise ValidationFailed.field(
            "coupon_codes", f"At most {MAX_COUPONS} coupon codes.", "max_length"
        )
    problems = []
    for index, line in enumerate(lines):
        quantity = line.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            problems.append(
                (f"lines.{index}.quantity", "min_value", "Quantity must be a whole number ≥ 1.")
            )
        elif quantity > MAX_QUANTITY:
            problems.append(
                (f"lines.{index}.quantity", "max_value", f"At most {MAX_QUANTITY} units a line.")
            )
    if problems:
        raise line_errors(problems)


def _channel(channel):
    if not isinstance(channel, str):
        return channel
    found = inventory_selectors.channels().filter(code=channel).first()
    if found is None:
        raise ValidationFailed.field(
            "channel", f"Unknown channel {channel!r}.", code="unknown_channel"
        )
    return found


def _location(location, *, attr: str):
    if location is None or not isinstance(location, str):
        return location
    found = inventory_selectors.locations(codes=frozenset({location})).first()
    if found is None:
        raise ValidationFailed.field(attr, f"Unknown location {location!r}.", "unknown_location")
    return found


# --- Catalog and prices --------------------------------------------------------------------


def _skus(codes: Iterable[str]) -> dict[str, tuple[int, str]]:
    """SKU code → (id, category path), one query."""
    rows = (
        inventory_selectors.skus()
        .filter(sku__in=set(codes))
        .values_list("sku", "id", "product__category__path")
    )
    return {code: (pk, path or "") for code, pk, path in rows}


def _live(now: datetime, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}starts_at__isnull": True}) | Q(**{f"{prefix}starts_at__lte": now})) & (
        Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": now})
    )


def active_price_lists(*, channel, location, now: datetime):
    """The price lists in force for a channel at a location (or at every location)."""
    places = PriceList.locations.through.objects.filter(pricelist_id=OuterRef("pk"))
    where = ~Exists(places)
    if location is not None:
        where |= Exists(places.filter(location_id=location.pk))
    return PriceList.objects.filter(_live(now), where, channel=channel, active=True)


def _prices(*, channel, location, sku_ids: list[int], now: datetime) -> dict[int, Decimal]:
    """SKU id → amount in the active list of highest priority (ties: the newest list), in
    one query."""
    if not sku_ids:
        return {}
    rows = (
        Price.objects.filter(
            sku_id__in=sku_ids,
            price_list__in=active_price_lists(channel=channel, location=location, now=now),
        )
        .order_by("sku_id", "-price_list__priority", "-price_list_id")
        .values_list("sku_id", "amount")
    )
    prices: dict[int, Decimal] = {}
    for sku_id, amount in rows:
        prices.setdefault(sku_id, amount)
    return prices


# --- Tax -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaxRates:
    rate: Decimal
    by_category_path: dict[str, Decimal]


def _tax_rates(location) -> _TaxRates:
    """The location's rate (else the default) with its category rates, in one query."""
    where = Q(location__isnull=True)
    if location is not None:
        where |= Q(location_id=location.pk)
    rows = TaxRate.objects.filter(where).values_list(
        "location_id", "rate", "exemptions__category__path", "exemptions__rate"
    )
    own = [row for row in rows if row[0] is not None]
    chosen = own or [row for row in rows if row[0] is None]
    if not chosen:
        return _TaxRates(rate=Decimal(0), by_category_path={})
    return _TaxRates(
        rate=chosen[0][1],
        by_category_path={path: rate for _, _, path, rate in chosen if path is not None},
    )


def _rate_for(rates: _TaxRates, category_path: str) -> Decimal:
    """The rate of the deepest category with a rate of its own, else the location's."""
    best, depth = rates.rate, -1
    for path, rate in rates.by_category_path.items():
        if category_path.startswith(path) and len(path) > depth:
            best, depth = rate, len(path)
    return best


# --- Promotions and coupons ----------------------------------------------------------------


def _coupons(codes: Sequence[str]) -> tuple[CouponInfo, ...]:
    if not codes:
        return ()
    rows = Coupon.objects.filter(code__in={normalize_code(c) for c in codes}).values_list(
        "code", "promotion_id", "usage_limit", "used_count", "active"
    )
    return tuple(
        CouponInfo(code=code, promotion_id=pid, usage_limit=limit, used_count=used, active=active)
        for code, pid, limit, used, active in rows
    )


def _promotion_rules(
    *,
    channel,
    location,
    customer_id: int | None,
    skus: Iterable[str],
    category_paths: set[str],
    coupon_promotion_ids: set[int],
    now: datetime,
) -> tuple[PromotionRule, ...]:
    """The promotions that may apply, as engine rules: those in force for this channel and
    location, under their usage limit and aimed at something in this cart; plus those that
    the given coupons belong to, whatever their state, so that the engine can say why a
    coupon does nothing. Each comes with its whole lists of SKUs, categories, channels and
    locations. Read from this process's catalogue (:mod:`pricing.services.promotion_catalog`:
    one query for fresh usage counts when a candidate has a limit, one more with a customer),
    or from the database for a quote at another time than now."""
    ancestors = {a for path in category_paths for a in ancestor_paths(path)}
    source = _from_catalogue if promotion_catalog.usable_at(now) else _from_database
    found = source(
        channel=channel,
        location=location,
        skus=skus,
        ancestors=ancestors,
        coupon_promotion_ids=coupon_promotion_ids,
        now=now,
    )
    found.sort(key=lambda entry: (-entry.field("priority"), entry.field("id")))
    limited = [e.field("id") for e in found if e.field("per_customer_limit") is not None]
    customer_uses: dict[int, int] = {}
    if customer_id is not None and limited:
        customer_uses = dict(
            CustomerPromotionUsage.objects.filter(
                customer_id=customer_id, promotion_id__in=limited
            ).values_list("promotion_id", "used_count")
        )
    return tuple(_rule(entry, customer_uses.get(entry.field("id"), 0)) for entry in found)


def _from_catalogue(
    *, channel, location, skus, ancestors, coupon_promotion_ids, now
) -> list[promotion_catalog.Entry]:
    found = promotion_catalog.catalogue().candidates(
        channel=channel.code,
        location=location.code if location is not None else None,
        skus=skus,
        category_paths=ancestors,
        now=now,
    )
    limited = [e.field("id") for e in found if e.field("usage_limit") is not None]
    used = (
        dict(Promotion.objects.filter(pk__in=limited).values_list("pk", "used_count"))
        if limited
        else {}
    )
    kept = []
    for entry in found:
        pid = entry.field("id")
        if pid in used:
            if used[pid] >= entry.field("usage_limit") and pid not in coupon_promotion_ids:
                continue  # used up: as if it were not there (unless a coupon names it)
            entry = entry.with_used_count(used[pid])
        kept.append(entry)
    missing = set(coupon_promotion_ids) - {entry.field("id") for entry in kept}
    if missing:
        kept += promotion_catalog.entries_of(missing)
    return kept


def _from_database(
    *, channel, location, skus, ancestors, coupon_promotion_ids, now
) -> list[promotion_catalog.Entry]:
    through = {
        name: getattr(Promotion, name).through
        for name in ("skus", "categories", "channels", "locations")
    }

    def has(name: str, **where):
        return Exists(through[name].objects.filter(promotion_id=OuterRef("pk"), **where))

    location_ok = ~has("locations")
    if location is not None:
        location_ok |= has("locations", location_id=location.pk)
    in_force = (
        Q(active=True)
        & _live(now)
        & (Q(usage_limit__isnull=True) | Q(used_count__lt=F("usage_limit")))
        & (~has("channels") | has("channels", channel_id=channel.pk))
        & location_ok
        & (
            (~has("skus") & ~has("categories"))
            | has("skus", sku__sku__in=list(skus))
            | has("categories", category__path__in=ancestors)
        )
    )
    return promotion_catalog.entries(
        Promotion.objects.filter(in_force | Q(pk__in=coupon_promotion_ids))
    )


def _rule(entry: promotion_catalog.Entry, customer_used_count: int) -> PromotionRule:
    fields = dict(zip(promotion_catalog.PROMOTION_FIELDS, entry.row, strict=True))
    pid = fields.pop("id")
    fields["tiers"] = frozenset(fields["tiers"] or ())
    return PromotionRule(
        id=pid,
        skus=entry.skus,
        category_paths=entry.category_paths,
        channels=entry.channels,
        locations=entry.locations,
        customer_used_count=customer_used_count,
        **fields,
    )
