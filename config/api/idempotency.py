"""``Idempotency-Key`` on every POST under ``/api/`` (API.md, "Idempotency").

The first request with a key claims it with one INSERT on a unique (caller, key) index, so
the database, not Python, decides which of two concurrent requests owns it. The owner runs
and stores its response; later requests with the same key and body get that response again
byte for byte, a different body gets 422, and a request that arrives while the owner is
still running gets 409. Keys are scoped to the caller: the token presented, else the signed-in
user, else the client address. Server errors, 401 and 429 are not stored, so that a retry
runs again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from config.api.errors import PROBLEM_CONTENT_TYPE, problem_response
from config.api.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
NOT_STORED_STATUSES = frozenset({401, 429})


@dataclass
class Claim:
    record: IdempotencyRecord | None = None
    response: HttpResponse | None = None


def caller_scope(request: HttpRequest) -> str:
    authorization = request.headers.get("Authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"anonymous:{request.META.get('REMOTE_ADDR', '')}"


def request_fingerprint(request: HttpRequest, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim_key(*, scope: str, key: str, fingerprint: str) -> Claim:
    """Claim ``key`` for this caller, or say what to answer instead."""
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint, created_at=now, locked_at=now
                )
            return Claim(record=record)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            continue  # released by a failed owner between our INSERT and SELECT
        if existing.created_at < now - settings.IDEMPOTENCY_KEY_TTL:
            IdempotencyRecord.objects.filter(
                pk=existing.pk, created_at=existing.created_at
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            return Claim(response=_reused())
        if existing.status == IdempotencyRecord.Status.COMPLETED:
            return Claim(response=_replay(existing))
        if existing.locked_at < now - settings.IDEMPOTENCY_KEY_LOCK_TIMEOUT:
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk,
                status=IdempotencyRecord.Status.IN_PROGRESS,
                locked_at=existing.locked_at,
            ).update(locked_at=now)
            if taken:
                logger.warning("idempotency key %s taken over from a request that died", key)
                existing.locked_at = now
                return Claim(record=existing)
        return Claim(response=_in_progress())
    return Claim(response=_in_progress())


def _reused() -> HttpResponse:
    return problem_response(
        422,
        code="idempotency_key_reused",
        title="Idempotency key reused",
        detail="This Idempotency-Key was used with a different request body.",
    )


def _in_progress() -> HttpResponse:
    return problem_response(
        409,
        code="idempotency_key_in_progress",
        title="Idempotency key in progress",
        detail="A request with this Idempotency-Key is still being processed; retry shortly.",
    )


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""),
        status=record.response_status,
        content_type=record.response_content_type or None,
    )
    response["Idempotent-Replayed"] = "true"
    return response


def finish(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Store the owner's response, or release the key when a retry should run again."""
    owned = IdempotencyRecord.objects.filter(pk=record.pk, locked_at=record.locked_at)
    storable = (
        response.status_code < 500
        and response.status_code not in NOT_STORED_STATUSES
        and not getattr(response, "streaming", False)
    )
    if not storable:
        owned.delete()
        return
    owned.update(
        status=IdempotencyRecord.Status.COMPLETED,
        response_status=response.status_code,
        response_content_type=response.get("Content-Type", ""),
        response_body=response.content,
    )


def purge_expired_keys() -> int:
    """Delete records older than ``IDEMPOTENCY_KEY_TTL``. Returns how many went."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return problem_response(
                400,
                detail=f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                errors=[{"attr": HEADER, "code": "invalid", "detail": "1 to 255 characters."}],
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return problem_response(413, detail="The request body is too large.")
        claim = claim_key(
            scope=caller_scope(request), key=key, fingerprint=request_fingerprint(request, body)
        )
        if claim.response is not None:
            return claim.response
        response = self.get_response(request)
        finish(claim.record, response)
        return response


__all__ = ["PROBLEM_CONTENT_TYPE", "IdempotencyMiddleware", "purge_expired_keys"]
