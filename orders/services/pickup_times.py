"""When a pickup will be ready, and how long it is held: pure functions over a store's opening
hours (no database).

Opening hours are ``Location.opening_hours``: ``{"mon": ["09:00", "18:00"], "sun": [], ...}``
in the store's own time zone; an empty object means always open and a weekday that is missing
or ``[]`` is closed. Arithmetic is done on UTC instants and wall-clock times are turned into
instants with :mod:`zoneinfo`, so "two hours of picking" is two real hours on the night the
clocks change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOKAHEAD_DAYS = 14  # a store closed for longer than this: fall back to now + pick time


def pick_minutes() -> int:
    """``settings.ORDERS_PICK_MINUTES``, 120 by default."""
    return int(getattr(settings, "ORDERS_PICK_MINUTES", 120))


def pickup_hold_days(channel_code: str) -> int:
    """How many days a ready pickup waits for the customer before it is cancelled:
    ``settings.ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL[channel_code]``, else
    ``settings.ORDERS_PICKUP_HOLD_DAYS`` (7 by default)."""
    by_channel = getattr(settings, "ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL", None) or {}
    if channel_code in by_channel:
        return int(by_channel[channel_code])
    return int(getattr(settings, "ORDERS_PICKUP_HOLD_DAYS", 7))


def _opening_period(
    opening_hours: dict[str, list[str]], day: date, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The store's opening and closing instants (UTC) on its local ``day``; None if closed."""
    hours = opening_hours.get(WEEKDAYS[day.weekday()]) or []
    if len(hours) != 2:
        return None
    opens, closes = (
        datetime.combine(day, time.fromisoformat(value), tzinfo=zone).astimezone(UTC)
        for value in hours
    )
    return (opens, closes) if opens < closes else None


def pickup_ready_by(
    *,
    now: datetime,
    opening_hours: dict[str, list[str]] | None,
    timezone_name: str,
    minutes: int | None = None,
) -> datetime:
    """When a pickup whose picking starts at ``now`` will be ready (in UTC).

    Staff pick while the store is open: picking starts at ``now``, or at the next opening
    time when the store is closed at ``now``, and takes ``minutes`` (default
    ``settings.ORDERS_PICK_MINUTES``). If that would end after closing time, the pick moves to
    the next open day: its opening time + ``minutes``. A pick longer than a whole opening day
    ends ``minutes`` after that day's opening, even if that is after closing. Empty opening
    hours mean always open (``now + minutes``); a store with no open day in the next
    two weeks gives ``now + minutes`` too. Deterministic; ``now`` must be timezone-aware.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    pick = timedelta(minutes=pick_minutes() if minutes is None else minutes)
    now = now.astimezone(UTC)
    if not opening_hours:
        return now + pick
    zone = ZoneInfo(timezone_name)
    today = now.astimezone(zone).date()
    for offset in range(LOOKAHEAD_DAYS + 1):
        period = _opening_period(opening_hours, today + timedelta(days=offset), zone)
        if period is None:
            continue
        opens, closes = period
        start = max(now, opens)
        if start >= closes:
            continue  # closed for the day already
        if start + pick <= closes or start == opens:
            return start + pick
        # Started during opening hours but cannot finish before closing: next open day.
    return now + pick


def local_text(instant: datetime, timezone_name: str) -> str:
    """``instant`` as the store's wall clock, for messages: ``2025-03-31 11:00 CEST``."""
    return instant.astimezone(ZoneInfo(timezone_name)).strftime("%Y-%m-%d %H:%M %Z")
