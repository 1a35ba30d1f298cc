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


class AutoSchema(BaseAutoSchema):
    def get_auth(self):
        auth = list(super().get_auth())
        if allowed_roles(self.view, self.method) == PUBLIC and {} not in auth:
            auth.append({})  # anonymous callers are welcome too
        return auth

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
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
