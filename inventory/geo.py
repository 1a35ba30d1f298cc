"""Great-circle distance, computed in Python over rows already fetched (DESIGN.md: arithmetic
in Python, the database for the short transaction)."""

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance between two points given in degrees."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi = phi2 - phi1
    dlambda = radians(lng2 - lng1)
    a = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))


def parse_point(value: str) -> tuple[float, float]:
    """``"52.37,4.89"`` → ``(52.37, 4.89)``; ValueError when it is not a point on Earth."""
    parts = value.split(",")
    if len(parts) != 2:
        raise ValueError("Expected LAT,LNG, for example 52.3702,4.8952.")
    lat, lng = (float(part) for part in parts)
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        raise ValueError("Latitude must be within ±90 and longitude within ±180.")
    return lat, lng
