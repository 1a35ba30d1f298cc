"""Offline postal-code placement: a postal code → an approximate point, for the router's
distance cost when a destination comes without coordinates (issue 6, item 2).

The table is ``fixtures/postcodes_nl.csv``: Dutch four-digit postcode areas (PC4), one row
each, with the header ``postal_code,latitude,longitude,place,comment``. It covers the Amsterdam
metro area the demo uses (Amsterdam 1000-1109, Diemen/Duivendrecht/Schiphol 1110-1119,
Amstelveen 1180-1189, Almere 1300-1364, Weesp 1380-1384, Uithoorn 1420-1429, Purmerend
1440-1449, Zaandam 1500-1509, Haarlem 2000-2037, Heemstede 2100-2106, Hoofddorp 2130-2135)
and nothing else.

**It is approximate.** The points were placed by hand, not computed from the official area
polygons: where the neighbourhood of a PC4 area is known, a point in that neighbourhood or
district (good to a kilometre or two); elsewhere the town's centre, with the comment
``approximate (town centre)``. PO-box ranges and numbers with no street area in the ranges
above get the town centre too, so any code in a covered range places somewhere sensible.
Good enough to rank locations a few kilometres apart by distance; not a geocoder.

To replace it with a full dataset: take the PC4 areas of the whole country (for example the
postcode-area polygons published by CBS/PDOK), compute each area's centroid in WGS84 degrees
(EPSG:4326), and write them to ``fixtures/postcodes_nl.csv`` with the same header (``place``
and ``comment`` may be empty). Nothing else changes: :func:`locate` reads whatever rows the
file has, once per process. For another country, add ``fixtures/postcodes_<cc>.csv`` and a
normaliser for its format in ``_NORMALISERS``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from orders.routing.types import Point

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

_NL = re.compile(r"([1-9][0-9]{3})(?:[A-Z]{2})?")


def _nl(postal_code: str) -> str | None:
    """``"1012 AB"``, ``"1012ab"``, ``"1012"`` → ``"1012"``; anything else → None."""
    match = _NL.fullmatch(re.sub(r"[\s-]+", "", postal_code.upper()))
    return match.group(1) if match else None


_NORMALISERS: dict[str, Callable[[str], str | None]] = {"NL": _nl}


def locate(postal_code: str, country: str = "NL") -> Point | None:
    """The approximate centre of ``postal_code``'s area, or None when the format is not the
    country's, or the code or country is not in the offline table."""
    normalise = _NORMALISERS.get((country or "").strip().upper())
    if normalise is None or not isinstance(postal_code, str):
        return None
    key = normalise(postal_code)
    if key is None:
        return None
    return table(country.strip().upper()).get(key)


@cache
def table(country: str = "NL") -> dict[str, Point]:
    """The whole offline table of ``country``: normalised postal code → point."""
    path = FIXTURES / f"postcodes_{country.lower()}.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["postal_code"].strip(): Point(float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(handle)
        }
