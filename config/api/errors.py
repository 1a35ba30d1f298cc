"""Every error the service answers is application/problem+json, built here and only here.

Services raise :class:`DomainError` subclasses; DRF's exceptions, Django's 404/500 handlers
and the middleware for everything else all end in :func:`problem_response`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class DomainError(Exception):
    """A business rule said no. Subclasses set ``status``, ``code`` and ``title``."""

    status: int = 400
    code: str = "invalid"
    title: str = "Invalid request"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, str]] | None = None):
        self.detail = detail or self.title
        self.errors = errors or []
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    """Input that cannot be acted on: unknown SKU or location, impossible quantity."""

    @classmethod
    def field(cls, attr: str, detail: str, code: str = "invalid") -> ValidationFailed:
        return cls(detail, errors=[{"attr": attr, "code": code, "detail": detail}])


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class InvalidState(DomainError):
    status = 409
    code = "invalid_state"
    title = "Invalid state"


class RoleForbidden(DomainError):
    status = 403
    code = "permission_denied"
    title = "Permission denied"


TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}

CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


def problem(
    status: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "code": code or CODES.get(status, "error"),
        "detail": detail or title or TITLES.get(status, "Error"),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(status: int, **kwargs: Any) -> JsonResponse:
    """A plain Django response, for code paths outside DRF (handlers, middleware)."""
    return JsonResponse(problem(status, **kwargs), status=status, content_type=PROBLEM_CONTENT_TYPE)


# Seconds a client is asked to wait when the database cannot be reached (Retry-After).
UNAVAILABLE_RETRY_AFTER = 5
UNAVAILABLE_DETAIL = "The service cannot reach its database right now; try again shortly."


def database_unreachable(exc: BaseException | None) -> bool:
    """The database went away or did not answer (connection refused or lost, connect or
    statement timeout), as opposed to a bug in a query. Such a request may simply be retried."""
    return isinstance(exc, OperationalError | InterfaceError)


def unavailable_response(detail: str = UNAVAILABLE_DETAIL) -> JsonResponse:
    """503 ``unavailable`` with Retry-After, for code paths outside DRF."""
    response = problem_response(503, detail=detail)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error structure into ``[{"attr": "lines.0.quantity", ...}]``."""
    if isinstance(detail, Mapping):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            attr = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.extend(flatten_errors(value, attr))
        return out
    if isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            return [_field_error(prefix, item) for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item in ({}, [], None):
                continue
            out.extend(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return [_field_error(prefix, detail)]


def _field_error(attr: str, message: Any) -> dict[str, str]:
    code = getattr(message, "code", None) or "invalid"
    return {"attr": attr or None, "code": str(code), "detail": str(message)}


def _summary(errors: Iterable[dict[str, str]]) -> str:
    errors = list(errors)
    if not errors:
        return "The request is invalid."
    first = errors[0]
    where = f"{first['attr']}: " if first.get("attr") else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}{first['detail']}{more}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler: every exception a view lets out becomes problem+json."""
    status, body, headers = problem_for_exception(exc)
    if status is None:
        return None  # a genuine bug: Django's handler500 answers, and it is logged there
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    # Problems render as JSON even when the client asked for something we cannot give.
    from rest_framework.renderers import JSONRenderer

    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = PROBLEM_CONTENT_TYPE
    response.renderer_context = context
    return response


def problem_for_exception(exc: Exception) -> tuple[int | None, dict[str, Any], dict[str, str]]:
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        errors = exc.errors if exc.errors or exc.status == 400 else None
        return (
            exc.status,
            problem(exc.status, code=exc.code, title=exc.title, detail=exc.detail, errors=errors),
            headers,
        )
    if database_unreachable(exc):
        # Logged here because no other handler sees it: DRF answers, Django does not log.
        logger.error("database unreachable: %s: %s", type(exc).__name__, exc)
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return 503, problem(503, detail=UNAVAILABLE_DETAIL), headers
    if isinstance(exc, DjangoValidationError):
        errors = flatten_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return 400, problem(400, detail=_summary(errors), errors=errors), headers
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if not isinstance(exc, drf.APIException):
        return None, {}, headers

    status = exc.status_code
    if isinstance(exc, drf.ValidationError):
        errors = flatten_errors(exc.detail)
        return 400, problem(400, detail=_summary(errors), errors=errors), headers
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        status = 401
        headers["WWW-Authenticate"] = 'Token realm="api"'
        return status, problem(status, detail=str(exc.detail)), headers
    if isinstance(exc, drf.Throttled):
        if exc.wait is not None:
            headers["Retry-After"] = str(math.ceil(exc.wait))  # never "0" while still throttled
        return 429, problem(429, detail=str(exc.detail)), headers
    if isinstance(exc, drf.ParseError):
        detail = str(exc.detail)
        return (
            400,
            problem(
                400, detail=detail, errors=[{"attr": None, "code": "parse_error", "detail": detail}]
            ),
            headers,
        )
    detail = exc.detail if isinstance(exc.detail, str) else _summary(flatten_errors(exc.detail))
    return status, problem(status, detail=str(detail)), headers
