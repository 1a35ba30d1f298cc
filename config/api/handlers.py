"""Django's error handlers: problem+json for API callers, HTML for people's screens."""

from django.views import csrf, defaults

from config.api.errors import problem_response
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
    if wants_html(request):
        return defaults.server_error(request)
    return problem_response(500, detail="Something went wrong on our side; it has been logged.")


def csrf_failure(request, reason=""):
    if wants_html(request):
        return csrf.csrf_failure(request, reason)
    return problem_response(403, detail=f"CSRF verification failed: {reason}")
