from django.http import HttpRequest, HttpResponse

from config.api.errors import PROBLEM_CONTENT_TYPE, problem_response

# Screens for people keep Django's HTML error pages; everything else speaks problem+json.
HTML_PREFIXES = ("/admin/", "/store/", "/api/docs/")


def wants_html(request: HttpRequest) -> bool:
    return request.path.startswith(HTML_PREFIXES)


def _nul_at(request: HttpRequest) -> str | None:
    """The query parameter (or ``path``) carrying a NUL character, if any."""
    if "\x00" in request.path:
        return "path"
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "")
    return None


class ProblemResponseMiddleware:
    """Turns error responses that did not come from our handlers (a plain Django view's 405,
    a CSRF failure, a 400 from a disallowed host) into problem+json for API callers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _nul_at(request)
        if where is not None:
            # PostgreSQL refuses NUL in text; no identifier or search term contains one.
            detail = "NUL characters are not allowed here."
            return problem_response(
                400,
                detail=f"{where}: {detail}",
                errors=[{"attr": where, "code": "null_characters_not_allowed", "detail": detail}],
            )
        response = self.get_response(request)
        if (
            response.status_code < 400
            or wants_html(request)
            or getattr(response, "streaming", False)
        ):
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith((PROBLEM_CONTENT_TYPE, "application/json")):
            return response
        converted = problem_response(response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                converted[header] = response[header]
        return converted
