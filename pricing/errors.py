"""Pricing's domain errors. Each has a stable ``code`` and an HTTP status (API.md)."""

from config.api.errors import DomainError, InvalidState, NotFound, ValidationFailed

__all__ = [
    "CouponUnavailable",
    "DomainError",
    "InvalidState",
    "NotFound",
    "ValidationFailed",
    "line_errors",
]


def line_errors(problems: list[tuple[str, str, str]]) -> ValidationFailed:
    """One 400 naming every bad field at once: ``[(attr, code, detail), ...]``."""
    errors = [{"attr": attr, "code": code, "detail": detail} for attr, code, detail in problems]
    first = problems[0][2]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ValidationFailed(f"{first}{more}", errors=errors)


class CouponUnavailable(DomainError):
    """A coupon or promotion an order wanted to use ran out (or was never usable) by the time
    the order was placed: price the cart again, the quote will say why."""

    status = 409
    code = "coupon_unavailable"
    title = "Coupon unavailable"
