"""drf-spectacular's AutoSchema, taught our conventions: problem+json error responses on
every operation, the ``Idempotency-Key`` header on every POST, and our two authentication
classes as security schemes (without them spectacular warns on every view, and the warnings
fail ``check --deploy`` and ``spectacular --fail-on-warn``)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from config.api.errors import PROBLEM_CONTENT_TYPE
from config.api.idempotency import MAX_KEY_LENGTH
from config.api.permissions import PUBLIC, allowed_roles


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.StaffSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class FieldErrorSerializer(serializers.Serializer):
    attr = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField(default="about:blank")
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)


ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`invalid`, with per-field `errors`).",
    "401": "No or bad token (`not_authenticated`).",
    "403": "The caller's role may not do this (`permission_denied`).",
    "404": "No such object, or not one this caller may see (`not_found`).",
    "405": "Method not allowed.",
    "409": "Conflict: stock, state, price, pickup code or idempotency key in progress.",
    "415": "Unsupported media type: send application/json.",
    "422": "`idempotency_key_reused`: the key was used with a different body.",
    "429": "Too many requests (`throttled`).",
}


def decimal_pattern(field: serializers.DecimalField) -> str:
    """What DRF's DecimalField parses. Spectacular's ``^-?\\d{0,w}(?:\\.\\d{0,d})?$`` also
    matches "", "-" and ".", which DRF refuses; and a ``minimum`` means nothing on a string,
    so a field that may not go below zero must not offer the minus sign either."""
    whole, places = field.max_whole_digits, field.decimal_places
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    if whole == 0:
        number = rf"0?\.\d{{1,{places}}}|0"
    elif places:
        number = rf"\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}}"
    else:
        number = rf"\d{{1,{whole}}}"
    return rf"^{sign}(?:{number})$"


class AutoSchema(BaseAutoSchema):
    def get_auth(self):
        auth = list(super().get_auth())
        if allowed_roles(self.view, self.method) == PUBLIC and {} not in auth:
            auth.append({})  # anonymous callers are welcome too
        return auth

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        # ``many=True`` with ``allow_empty=False`` (DRF: "This list may not be empty.")
        if (
            isinstance(field, serializers.ListSerializer)
            and not field.allow_empty
            and schema.get("type") == "array"
        ):
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema

    def _map_basic_serializer(self, serializer, direction):
        """A read-only field declared ``required=False`` is left out of some answers (a
        location's ``distance_km`` is there only with ``?near=``): not required, then.
        Spectacular otherwise calls every read-only field required."""
        schema = super()._map_basic_serializer(serializer, direction)
        optional = {
            name
            for name, field in serializer.fields.items()
            if field.read_only and field._kwargs.get("required") is False
        }
        if optional and schema.get("required"):
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    # What the middleware accepts: 1 to 255 characters, not all blank.
                    {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_KEY_LENGTH,
                        "pattern": r"\S",
                    },
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Up to 255 characters. A repeat with the same key and body replays the "
                        "first response; a different body answers 422."
                    ),
                )
            )
        return params

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "405", "429"]
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes += ["409", "415"]
        if self.method == "POST":
            codes.append("422")
        for code in codes:
            if code in responses:
                continue
            response = self._get_response_for_code(
                ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
            )
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        return responses
