"""Pickup codes and ready-by times (pure helpers, no database)."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def new_pickup_code() -> str:
    """Six random digits (``secrets``: not guessable from earlier codes)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def pick_minutes() -> int:
    return int(getattr(settings, "ORDERS_PICK_MINUTES", 120))


def ready_by(
    *,
    now: datetime,
    opening_hours: dict[str, list[str]],
    timezone_name: str,
    minutes: int | None = None,
) -> datetime:
    """When a pickup order placed at ``now`` will be ready: ``minutes`` of picking (default
    ``settings.ORDERS_PICK_MINUTES``, 120) counted during the store's opening hours only.
    Empty opening hours mean always open; a weekday missing from them is closed. Looks two
    weeks ahead at most (a store closed that long: now + minutes). Returned in UTC."""
    minutes = pick_minutes() if minutes is None else minutes
    if not opening_hours:
        return now + timedelta(minutes=minutes)
    zone = ZoneInfo(timezone_name)
    local = now.astimezone(zone)
    left = timedelta(minutes=minutes)
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        hours = opening_hours.get(WEEKDAYS[day.weekday()]) or []
        if len(hours) != 2:
            continue
        opens = datetime.combine(day, time.fromisoformat(hours[0]), tzinfo=zone)
        closes = datetime.combine(day, time.fromisoformat(hours[1]), tzinfo=zone)
        start = max(opens, local)
        if start >= closes:
            continue
        if start + left <= closes:
            return (start + left).astimezone(now.tzinfo)
        left -= closes - start
    return now + timedelta(minutes=minutes)
