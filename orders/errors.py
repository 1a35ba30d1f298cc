"""The orders app's domain errors. Each has a stable ``code`` and an HTTP status (API.md)."""

from __future__ import annotations

from typing import Any

from config.api.errors import DomainError, InvalidState, NotFound, ValidationFailed

__all__ = [
    "CartsNotAvailable",
    "DomainError",
    "InsufficientStock",
    "InvalidState",
    "NotFound",
    "PriceChanged",
    "ValidationFailed",
]


class InsufficientStock(DomainError):
    """The order cannot be promised. ``errors`` name the lines (``lines.N.quantity``);
    ``extra`` carries members added to the problem body (``alternatives`` for pickup)."""

    status = 409
    code = "insufficient_stock"
    title = "Insufficient stock"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(detail, errors=errors)
        self.extra = extra or {}


class PriceChanged(DomainError):
    status = 409
    code = "price_changed"
    title = "Price changed"

    def __init__(self, *, expected, total):
        detail = f"The total is {total}, not the {expected} expected: quote the cart again."
        super().__init__(
            detail, errors=[{"attr": "expected_total", "code": "price_changed", "detail": detail}]
        )
        self.extra = {"total": str(total)}


class CartsNotAvailable(ValidationFailed):
    """400 ``invalid`` with ``errors[0].code`` ``not_supported`` until carts exist."""

    def __init__(self):
        detail = "Ordering from a cart is not available yet: send the lines."
        super().__init__(
            detail, errors=[{"attr": "cart", "code": "not_supported", "detail": detail}]
        )
