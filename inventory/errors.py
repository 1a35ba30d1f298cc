"""Inventory's domain errors. Each has a stable ``code`` and an HTTP status (API.md)."""

from config.api.errors import DomainError, InvalidState, NotFound, ValidationFailed

__all__ = [
    "DomainError",
    "InsufficientStock",
    "InvalidState",
    "NotFound",
    "UnknownLocation",
    "UnknownSKU",
    "ValidationFailed",
]


class UnknownSKU(ValidationFailed):
    def __init__(self, sku: str, *, attr: str = "sku"):
        detail = f"Unknown SKU {sku!r}."
        super().__init__(detail, errors=[{"attr": attr, "code": "unknown_sku", "detail": detail}])


class UnknownLocation(ValidationFailed):
    def __init__(self, code: str, *, attr: str = "location"):
        detail = f"Unknown location {code!r}."
        super().__init__(
            detail, errors=[{"attr": attr, "code": "unknown_location", "detail": detail}]
        )


class InsufficientStock(DomainError):
    status = 409
    code = "insufficient_stock"
    title = "Insufficient stock"
