"""The returns app's domain errors (API.md "Errors")."""

from __future__ import annotations

from config.api.errors import DomainError, InvalidState, NotFound, ValidationFailed

__all__ = ["DomainError", "InvalidState", "NotFound", "NotReturnable", "ValidationFailed"]


class NotReturnable(DomainError):
    """409 ``not_returnable``: outside the window, final sale, or more than is left. Each
    refused line is named in ``errors`` (``lines.N.quantity`` / ``lines.N.order_line``) with
    a reason code: ``outside_window``, ``final_sale``, ``more_than_left``."""

    status = 409
    code = "not_returnable"
    title = "Not returnable"
