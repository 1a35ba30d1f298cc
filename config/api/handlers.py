"""Django's error handlers: problem+json for API callers, HTML for people's screens."""

import sys

from django.http import HttpResponse
from django.views import csrf, defaults

from config.api.errors import (
    UNAVAILABLE_RETRY_AFTER,
    database_unreachable,
    problem_response,
    unavailable_response,
)
from config.api.middleware import wants_html


def bad_request(request, exception=None):
    if wants_html(request):
        return defaults.bad_request(request, exception)
    return problem_response(400)


def permission_denied(request, exception=None):
    if wants_html(request):
        return defaults.permission_denied(request, exception)
    return problem_response(403)


def page_not_found(request, exception=None):
    if wants_html(request):
        return defaults.page_not_found(request, exception)
    return problem_response(404, detail=f"No resource at {request.path}.")


def server_error(request):
    # Django calls this inside its ``except`` block (and has logged the exception): a
    # database that cannot be reached is 503 with Retry-After, not a bug's 500.
    if database_unreachable(sys.exc_info()[1]):
        if wants_html(request):
            response = HttpResponse(
                "<!doctype html><title>Service unavailable</title>"
                "<h1>Service unavailable</h1><p>Please try again in a moment.</p>",
                status=503,
            )
            response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
            return response
        return unavailable_response()
    if wants_html(request):
        return defaults.server_error(request)
    return problem_response(500, detail="Something went wrong on our side; it has been logged.")


def csrf_failure(request, reason=""):
    if wants_html(request):
        return csrf.csrf_failure(request, reason)
    return problem_response(403, detail=f"CSRF verification failed: {reason}")
