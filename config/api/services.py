"""Issuing and revoking API clients and tokens."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from config.api.errors import ValidationFailed
from config.api.models import ApiClient, ApiToken, digest_token, new_token_key
from config.api.roles import Role

logger = logging.getLogger(__name__)


def check_role_locations(*, role: Role, location_codes: Sequence[str]) -> None:
    """POS terminals belong to exactly one store, store staff to one or more locations,
    and the other roles to none."""
    count = len(set(location_codes))
    if role == Role.POS and count != 1:
        raise ValidationFailed.field(
            "location", "A POS client needs exactly one location, a store."
        )
    if role == Role.STORE_STAFF and count < 1:
        raise ValidationFailed.field("location", "Store staff need at least one location.")
    if role not in (Role.POS, Role.STORE_STAFF) and count:
        raise ValidationFailed.field("location", f"The {role} role is not bound to locations.")


@transaction.atomic
def create_api_client(
    *,
    name: str,
    role: Role,
    location_codes: Sequence[str] = (),
    customer_id: int | None = None,
    user=None,
) -> tuple[ApiClient, str]:
    """Create a client and its first token. Returns the client and the token key, which is
    shown this once: only its digest is stored."""
    check_role_locations(role=role, location_codes=location_codes)
    client = ApiClient.objects.create(
        name=name,
        role=role,
        location_codes=sorted(set(location_codes)),
        customer_id=customer_id,
        user=user,
    )
    key = issue_token(client=client)
    logger.info("api client %s created with role %s at %s", name, role, list(location_codes) or "-")
    return client, key


def issue_token(*, client: ApiClient) -> str:
    key = new_token_key()
    ApiToken.objects.create(client=client, key_digest=digest_token(key), prefix=key[:8])
    return key


def revoke_token(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
