"""How emails and phone numbers are written down, for storing and for looking up alike."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import BaseUserManager
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from loyalty.errors import ValidationFailed


def normalise_email(raw: str, *, attr: str = "email") -> str:
    """Trimmed, with the domain in lower case (uniqueness ignores case altogether: the
    database holds a unique index on ``lower(email)``). 400 ``invalid`` on ``attr``."""
    email = BaseUserManager.normalize_email((raw or "").strip())
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed.field(attr, "Enter a valid email address.") from exc
    return email


def default_phone_region() -> str:
    return str(getattr(settings, "LOYALTY_DEFAULT_PHONE_REGION", "NL"))


def normalise_phone(raw: str, *, attr: str = "phone") -> str:
    """E.164 (``+31201234567``). Numbers without a country code are read in the region of
    the setting ``LOYALTY_DEFAULT_PHONE_REGION`` (default NL: the retailer is in Amsterdam).
    Empty stays empty. 400 ``invalid_phone`` on ``attr``."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, default_phone_region())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationFailed.field(attr, f"{raw!r} is not a valid phone number.", "invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
