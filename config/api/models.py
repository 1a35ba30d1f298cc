import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.api.roles import Role


def digest_token(key: str) -> str:
    """Tokens are stored as SHA-256 digests: a leaked table yields no usable key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_token_key() -> str:
    return secrets.token_urlsafe(30)


class ApiClient(models.Model):
    """Something that calls the API: a storefront, a POS terminal, a staff member, a customer.

    Location codes and the customer id are plain values, not foreign keys, because this
    floor imports no app; the apps validate them when they create clients.
    """

    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices, db_index=True)
    location_codes = models.JSONField(default=list, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_client",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.CUSTOMER) | Q(customer_id__isnull=False),
                name="api_client_customer_has_customer_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class ApiToken(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    key_digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise a token.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.client}"


class IdempotencyRecord(models.Model):
    """The first response to a POST that carried an ``Idempotency-Key``, per caller."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    scope = models.CharField(max_length=120, help_text="The caller the key belongs to.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    locked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_unique_per_caller"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.status})"
