"""Loyalty's domain errors. Each has a stable ``code`` and an HTTP status (API.md)."""

from __future__ import annotations

from decimal import Decimal

from config.api.errors import DomainError, InvalidState, NotFound, ValidationFailed

__all__ = [
    "DomainError",
    "InsufficientPoints",
    "InsufficientStoreCredit",
    "InvalidCardNumber",
    "InvalidCredentials",
    "InvalidState",
    "LoginThrottled",
    "NotFound",
    "ReferenceConflict",
    "ValidationFailed",
]


class InvalidCardNumber(ValidationFailed):
    """Not 13 digits with a valid check digit: a typo, not somebody else's card."""

    code = "invalid_card_number"
    title = "Invalid card number"

    def __init__(self, card_number: str, *, attr: str = "card_number"):
        detail = f"{card_number!r} is not a valid loyalty card number: check the digits."
        super().__init__(
            detail, errors=[{"attr": attr, "code": "invalid_card_number", "detail": detail}]
        )


class InsufficientPoints(DomainError):
    status = 409
    code = "insufficient_points"
    title = "Insufficient points"

    def __init__(self, *, balance: int, wanted: int, attr: str = "points"):
        self.balance = balance
        self.wanted = wanted
        detail = f"The balance is {balance} points; {wanted} were asked for."
        super().__init__(
            detail, errors=[{"attr": attr, "code": "insufficient_points", "detail": detail}]
        )


class InsufficientStoreCredit(DomainError):
    status = 409
    code = "insufficient_store_credit"
    title = "Insufficient store credit"

    def __init__(self, *, balance: Decimal, wanted: Decimal, attr: str = "amount"):
        self.balance = balance
        self.wanted = wanted
        detail = f"The store credit balance is {balance}; {wanted} was asked for."
        super().__init__(
            detail, errors=[{"attr": attr, "code": "insufficient_store_credit", "detail": detail}]
        )


class ReferenceConflict(DomainError):
    """A business reference (order, return, refund) already names a different operation."""

    status = 409
    code = "reference_conflict"
    title = "Reference already used"


class InvalidCredentials(DomainError):
    """Wrong email or password; which of the two is not said."""

    status = 400
    code = "invalid_credentials"
    title = "Invalid credentials"


class LoginThrottled(DomainError):
    status = 429
    code = "throttled"
    title = "Too many requests"

    def __init__(self, wait_seconds: int):
        self.wait_seconds = wait_seconds
        super().__init__(f"Too many failed sign-ins. Try again in {wait_seconds} seconds.")
