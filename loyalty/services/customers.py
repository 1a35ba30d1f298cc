"""Customers: sign-up and enrolment, profile changes, and customer tokens."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api import login_throttle
from config.api.models import ApiClient
from config.api.roles import Role
from config.api.services import create_api_client, issue_token
from loyalty import selectors
from loyalty.cards import new_card_number
from loyalty.contact import normalise_email, normalise_phone
from loyalty.errors import InvalidCredentials, LoginThrottled, ValidationFailed
from loyalty.models import Customer, LoyaltyAccount
from loyalty.services.tiers import recompute_tier

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("email", "first_name", "last_name", "phone", "marketing_consent")
CARD_ATTEMPTS = 8


def _check_password(password: str, customer: Customer) -> None:
    try:
        validate_password(password, user=customer)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            exc.messages[0],
            errors=[
                {"attr": "password", "code": error.code or "invalid", "detail": message}
                for error in exc.error_list
                for message in error.messages
            ],
        ) from exc


def _email_taken(email: str, *, exclude_id: int | None = None) -> bool:
    found = selectors.customers(email=email)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found.exists()


def _email_in_use() -> ValidationFailed:
    return ValidationFailed.field("email", "A customer with this email exists.", code="unique")


# --- Customers ------------------------------------------------------------------------------


def create_customer(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    password: str | None = None,
    marketing_consent: bool = False,
) -> Customer:
    """Sign a customer up and enrol them: a loyalty account with a fresh card number (Luhn
    check digit) and the entry tier. ``password`` (validated by Django's validators,
    stored hashed) enables self-service sign-in; without it the customer exists for the
    tills and the storefront only.

    Atomic. Errors: 400 on ``email`` (invalid, ``unique`` case-insensitively), ``phone``
    (``invalid_phone``) and ``password`` (the validators' codes).
    """
    customer = Customer(
        email=normalise_email(email),
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        phone=normalise_phone(phone),
        marketing_consent=bool(marketing_consent),
        marketing_consent_at=timezone.now() if marketing_consent else None,
    )
    if password is not None:
        _check_password(password, customer)
        customer.password = make_password(password)
    if _email_taken(customer.email):
        raise _email_in_use()
    try:
        with transaction.atomic():
            customer.save()
            account = _enrol(customer)
            recompute_tier(account_id=account.pk)
    except IntegrityError as exc:
        if _email_taken(customer.email):
            raise _email_in_use() from exc
        raise
    logger.info("customer %s enrolled with card %s", customer.pk, account.card_number)
    return selectors.customer_by_id(customer.pk)


def _enrol(customer: Customer) -> LoyaltyAccount:
    for _ in range(CARD_ATTEMPTS):
        try:
            with transaction.atomic():
                return LoyaltyAccount.objects.create(
                    customer=customer, card_number=new_card_number()
                )
        except IntegrityError:
            if LoyaltyAccount.objects.filter(customer=customer).exists():
                raise
    raise RuntimeError("no free card number found: widen the card number space")


@transaction.atomic
def update_customer(*, customer_id: int, **fields: Any) -> Customer:
    """Change profile fields (``email``, ``first_name``, ``last_name``, ``phone``,
    ``marketing_consent``), normalised and validated as at sign-up. Consent records when it
    was given. Atomic. Errors: 404 unknown customer; 400 as :func:`create_customer`."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        selectors.customer_by_id(customer_id)  # raises 404
    if "email" in fields:
        customer.email = normalise_email(fields["email"])
        if _email_taken(customer.email, exclude_id=customer.pk):
            raise _email_in_use()
    if "phone" in fields:
        customer.phone = normalise_phone(fields["phone"])
    for name in ("first_name", "last_name"):
        if name in fields:
            setattr(customer, name, (fields[name] or "").strip())
    if "marketing_consent" in fields:
        consent = bool(fields["marketing_consent"])
        if consent != customer.marketing_consent:
            customer.marketing_consent = consent
            customer.marketing_consent_at = timezone.now() if consent else None
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise _email_in_use() from exc
    return selectors.customer_by_id(customer.pk)


@transaction.atomic
def set_customer_password(*, customer_id: int, password: str) -> None:
    """Set (or replace) the password for self-service. 400 on ``password``."""
    customer = selectors.customer_by_id(customer_id)
    _check_password(password, customer)
    Customer.objects.filter(pk=customer.pk).update(password=make_password(password))


# --- Customer tokens ------------------------------------------------------------------------


def _sign_in_limits() -> login_throttle.LoginLimits:
    """The same counters as the staff's sign-in (config/api/login_throttle.py), per email
    and client address only: a customer's address may be shared by many."""
    return login_throttle.LoginLimits(
        scope="loyalty:signin",
        max_failures=int(getattr(settings, "LOYALTY_SIGNIN_MAX_FAILURES", 5)),
        window=int(getattr(settings, "LOYALTY_SIGNIN_FAILURE_WINDOW", 900)),
    )


def sign_in_retry_after(*, email: str, client_ip: str) -> int | None:
    """Seconds until this email may try to sign in again from this address, or None. After
    ``LOYALTY_SIGNIN_MAX_FAILURES`` (5) failures within ``LOYALTY_SIGNIN_FAILURE_WINDOW``
    seconds (900) the pair is refused until the window ends. Reads the cache only."""
    return login_throttle.retry_after(_sign_in_limits(), username=email, address=client_ip)


def _record_failure(email: str, client_ip: str) -> None:
    login_throttle.record_failure(_sign_in_limits(), username=email, address=client_ip)


def issue_customer_token(*, email: str, password: str, client_ip: str = "") -> str:
    """Sign a customer in: a new API token (role ``customer``, bound to the customer id) for
    a right email and password. The key is returned this once; only its digest is kept.

    Failed attempts are counted per email and client address; too many answer 429
    ``throttled`` (:func:`sign_in_retry_after`). A wrong password and an unknown email
    answer alike, 400 ``invalid_credentials``, in about the same time.
    """
    wait = sign_in_retry_after(email=email or "", client_ip=client_ip)
    if wait is not None:
        raise LoginThrottled(wait)
    customer = selectors.customers(email=email).first() if email else None
    if customer is None or not customer.password:
        make_password(password)  # spend the hashing time an existing customer would cost
        ok = False
    else:

        def upgrade(raw: str) -> None:  # rehash when the hasher's settings moved on
            Customer.objects.filter(pk=customer.pk).update(password=make_password(raw))

        ok = check_password(password, customer.password, setter=upgrade)
    client = ApiClient.objects.filter(customer_id=customer.pk).first() if ok and customer else None
    if not ok or (client is not None and not client.active):
        _record_failure(email or "", client_ip)
        raise InvalidCredentials("The email or the password is not right.")
    login_throttle.clear_failures(_sign_in_limits(), username=email, address=client_ip)
    if client is None:
        try:
            with transaction.atomic():
                _, key = create_api_client(
                    name=f"customer {customer.pk}", role=Role.CUSTOMER, customer_id=customer.pk
                )
                return key
        except IntegrityError:  # a concurrent first sign-in created the client
            client = ApiClient.objects.get(customer_id=customer.pk)
    return issue_token(client=client)
