"""Query-parameter parsing shared by every app's views."""

from rest_framework.exceptions import ValidationError


def bool_param(request, name: str) -> bool | None:
    """``?name=true|false`` (also 1/0, yes/no); absent or empty is None; anything else 400."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise ValidationError({name: ["Must be true or false."]})
