"""Token and session authentication, both yielding a :class:`~config.api.roles.Principal`."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from config.api.models import ApiClient, ApiToken, digest_token
from config.api.roles import Principal, Role


def principal_for_client(client: ApiClient) -> Principal:
    return Principal(
        role=Role(client.role),
        name=client.name,
        client_id=client.pk,
        location_codes=frozenset(client.location_codes or ()),
        customer_id=client.customer_id,
        user_id=client.user_id,
    )


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``. One query: the token with its client."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: use 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        token = (
            ApiToken.objects.select_related("client")
            .filter(key_digest=digest_token(key), revoked_at__isnull=True, client__active=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return principal_for_client(token.client), token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """Signed-in Django users: staff act as merchandisers, store staff at their locations."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        client = ApiClient.objects.filter(user=user).first()
        if client is not None:
            # A deactivated client shuts its user out; it must not fall back to is_staff
            # below, which would turn a store-staff member into a merchandiser.
            return (principal_for_client(client), None) if client.active else None
        if user.is_staff:
            return Principal(
                role=Role.MERCHANDISER, name=user.get_username(), user_id=user.pk
            ), None
        return None
