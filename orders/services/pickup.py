"""Pickup codes (ready-by times are in :mod:`orders.services.pickup_times`)."""

from __future__ import annotations

import secrets

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def new_pickup_code() -> str:
    """Six random digits (``secrets``: not guessable from earlier codes)."""
    return f"{secrets.randbelow(1_000_000):06d}"
