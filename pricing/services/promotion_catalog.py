"""The promotions a quote may apply, kept in each process: a quote's hottest read.

Building the promotion query (seven ``EXISTS`` through the ORM) cost a quote more Python than
the rest of it, while the promotions themselves change rarely. So each process keeps the
promotions that are active and not over, with their whole target lists, indexed by SKU and
category path, and a quote picks its candidates from memory. Usage counts change with every
order: they are read fresh for the candidates that have a usage limit.

Freshness. A change to a promotion, its targets or a category (model signals, so the admin,
the services and the API all count; see :mod:`pricing.signals`) stores a new version under
``VERSION_KEY`` in Django's cache, at once and again after the commit. A process reloads when
the version differs, and at the latest after ``PROMOTION_CACHE_SECONDS`` (default 30). With a
shared cache (``CACHE_URL`` on Redis, which production needs for throttling anyway) every
process sees a change on its next quote; with the per-process default, a change made in
another process shows within that many seconds.

A quote priced at another time than now (an offline till's replay) reads the database as
before: promotions that have ended since are not kept here.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from pricing.models import Promotion

VERSION_KEY = "pricing:promotion-catalog:version"
# A quote this close to the present may use the catalogue.
NOW_TOLERANCE = timedelta(minutes=1)

PROMOTION_FIELDS = (
    "id",
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
    "active",
    "usage_limit",
    "used_count",
    "per_customer_limit",
)
_AT = {name: index for index, name in enumerate(PROMOTION_FIELDS)}


@dataclass(frozen=True)
class Entry:
    """One promotion with its whole target and scope lists (codes and category paths)."""

    row: tuple
    skus: frozenset[str]
    category_paths: tuple[str, ...]
    channels: frozenset[str]
    locations: frozenset[str]

    def field(self, name: str):
        return self.row[_AT[name]]

    def with_used_count(self, used_count: int) -> Entry:
        row = list(self.row)
        row[_AT["used_count"]] = used_count
        return replace(self, row=tuple(row))


@dataclass(frozen=True)
class Catalogue:
    version: str
    loaded_at: float
    by_id: dict[int, Entry]
    untargeted: tuple[int, ...]
    by_sku: dict[str, tuple[int, ...]]
    by_path: dict[str, tuple[int, ...]]

    def candidates(
        self,
        *,
        channel: str,
        location: str | None,
        skus: Iterable[str],
        category_paths: Iterable[str],
        now: datetime,
    ) -> list[Entry]:
        """The promotions in force for this channel and location that aim at something in
        the cart (or at everything), highest priority first. Usage limits are the caller's."""
        ids = set(self.untargeted)
        for sku in skus:
            ids.update(self.by_sku.get(sku, ()))
        for path in category_paths:
            ids.update(self.by_path.get(path, ()))
        found = [
            entry
            for entry in (self.by_id[pid] for pid in ids)
            if _live(entry, now)
            and (not entry.channels or channel in entry.channels)
            and (not entry.locations or (location is not None and location in entry.locations))
        ]
        found.sort(key=lambda entry: (-entry.field("priority"), entry.field("id")))
        return found


_current: Catalogue | None = None
_loading = threading.Lock()


def usable_at(now: datetime) -> bool:
    return abs(timezone.now() - now) <= NOW_TOLERANCE


def catalogue() -> Catalogue:
    """This process's catalogue, reloaded when a promotion changed or it is too old."""
    global _current
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or ""
    current = _current
    max_age = getattr(settings, "PROMOTION_CACHE_SECONDS", 30)
    if current is None or current.version != version or _age(current) > max_age:
        with _loading:
            current = _current
            if current is None or current.version != version or _age(current) > max_age:
                current = _current = _load(version)
    return current


def changed() -> None:
    """A promotion, its targets or a category changed: every process reloads."""
    cache.set(VERSION_KEY, uuid4().hex, timeout=None)


def entries_of(ids: Collection[int]) -> list[Entry]:
    """Promotions by id from the database, whatever their state (a coupon's promotion that
    is not in force still says why the coupon does nothing)."""
    return entries(Promotion.objects.filter(pk__in=list(ids)))


def _age(current: Catalogue) -> float:
    return time.monotonic() - current.loaded_at


def _live(entry: Entry, now: datetime) -> bool:
    starts, ends = entry.field("starts_at"), entry.field("ends_at")
    return (
        entry.field("active") and (starts is None or starts <= now) and (ends is None or ends > now)
    )


def _load(version: str) -> Catalogue:
    now = timezone.now()
    in_force = Q(active=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    by_id = {entry.field("id"): entry for entry in entries(Promotion.objects.filter(in_force))}
    untargeted: list[int] = []
    by_sku: dict[str, list[int]] = defaultdict(list)
    by_path: dict[str, list[int]] = defaultdict(list)
    for pid, entry in by_id.items():
        if not entry.skus and not entry.category_paths:
            untargeted.append(pid)
        for sku in entry.skus:
            by_sku[sku].append(pid)
        for path in entry.category_paths:
            by_path[path].append(pid)
    return Catalogue(
        version=version,
        loaded_at=time.monotonic(),
        by_id=by_id,
        untargeted=tuple(untargeted),
        by_sku={k: tuple(v) for k, v in by_sku.items()},
        by_path={k: tuple(v) for k, v in by_path.items()},
    )


def entries(promotions) -> list[Entry]:
    """``promotions`` (a queryset) with their whole target and scope lists: five queries."""
    rows = list(promotions.values_list(*PROMOTION_FIELDS))
    if not rows:
        return []
    ids = [row[0] for row in rows]

    def pairs(name: str, value: str) -> dict[int, set[str]]:
        found: dict[int, set[str]] = defaultdict(set)
        model = getattr(Promotion, name).through
        for pid, code in model.objects.filter(promotion_id__in=ids).values_list(
            "promotion_id", value
        ):
            found[pid].add(code)
        return found

    skus = pairs("skus", "sku__sku")
    categories = pairs("categories", "category__path")
    channels = pairs("channels", "channel__code")
    locations = pairs("locations", "location__code")
    return [
        Entry(
            row=row,
            skus=frozenset(skus.get(row[0], ())),
            category_paths=tuple(sorted(categories.get(row[0], ()))),
            channels=frozenset(channels.get(row[0], ())),
            locations=frozenset(locations.get(row[0], ())),
        )
        for row in rows
    ]
