from django.http import HttpRequest, HttpResponse

from config.api.errors import PROBLEM_CONTENT_TYPE, problem_response

# Screens for people keep Django's HTML error pages; everything else speaks problem+json.
HTML_PREFIXES = ("/admin/", "/store/", "/api/docs/")


def wants_html(request: HttpRequest) -> bool:
    return request.path.startswith(HTML_PREFIXES)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values
    )


class ProblemResponseMiddleware:
    """Turns error responses that did not come from our handlers (a plain Django view's 405,
    a CSRF failure, a 400 from a disallowed host) into problem+json for API callers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            # PostgreSQL refuses NUL in text; no identifier or search term contains one.
            return problem_response(
                400,
                detail="The path and query parameters may not contain NUL characters.",
                errors=[{"attr": None, "code": "null_characters_not_allowed", "detail": "NUL"}],
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
