"""create_customer / update_customer: enrolment, normalised contact data, unique emails."""

import pytest
from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, transaction

from loyalty import selectors, services
from loyalty.cards import is_valid_card_number
from loyalty.errors import NotFound, ValidationFailed
from loyalty.models import Customer, LoyaltyAccount
from tests.loyalty.factories import PASSWORD, CustomerFactory


def test_a_new_customer_is_enrolled_with_a_card_and_the_entry_tier():
    customer = services.create_customer(
        email="Anna.deVries@Example.COM",
        first_name=" Anna ",
        last_name="de Vries",
        phone="020 123 4567",
        password=PASSWORD,
        marketing_consent=True,
    )
    assert customer.email == "Anna.deVries@example.com"  # the domain is lower-cased
    assert (customer.first_name, customer.last_name) == ("Anna", "de Vries")
    assert customer.phone == "+31201234567"
    assert customer.marketing_consent is True
    assert customer.marketing_consent_at is not None
    assert customer.password != PASSWORD
    assert check_password(PASSWORD, customer.password)
    account = customer.account
    assert is_valid_card_number(account.card_number)
    assert (account.points, account.points_owed, account.tier.code) == (0, 0, "member")


def test_a_customer_enrolled_at_a_till_needs_no_password():
    customer = services.create_customer(email="walk-in@example.com")
    assert customer.password == ""
    assert customer.account.card_number


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0612345678", "+31612345678"),
        ("06-12 34 56 78", "+31612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_stored_in_e164_read_in_the_netherlands_by_default(raw, e164):
    assert CustomerFactory(phone=raw).phone == e164


def test_the_default_phone_region_is_a_setting(settings):
    settings.LOYALTY_DEFAULT_PHONE_REGION = "BE"
    assert CustomerFactory(phone="0470 12 34 56").phone == "+32470123456"


@pytest.mark.parametrize(
    ("fields", "attr", "code"),
    [
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"email": "x@example.com", "phone": "12"}, "phone", "invalid_phone"),
        ({"email": "x@example.com", "phone": "call me"}, "phone", "invalid_phone"),
        ({"email": "x@example.com", "password": "short"}, "password", "password_too_short"),
        ({"email": "x@example.com", "password": "password123"}, "password", "password_too_common"),
    ],
)
def test_bad_input_writes_nothing(fields, attr, code):
    with pytest.raises(ValidationFailed) as raised:
        services.create_customer(**fields)
    assert raised.value.status == 400
    assert {(e["attr"], e["code"]) for e in raised.value.errors} >= {(attr, code)}
    assert not Customer.objects.exists()
    assert not LoyaltyAccount.objects.exists()


def test_emails_are_unique_whatever_their_case(customer):
    with pytest.raises(ValidationFailed) as raised:
        services.create_customer(email="ANNA@EXAMPLE.COM")
    assert raised.value.errors == [
        {"attr": "email", "code": "unique", "detail": "A customer with this email exists."}
    ]
    assert Customer.objects.count() == 1


def test_the_database_refuses_a_second_email_in_another_case(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(email="Anna@Example.com")


def test_staff_find_customers_by_email_phone_or_card(customer, other_customer):
    services.update_customer(customer_id=customer.pk, phone="06 12345678")
    assert selectors.customer_by_email("ANNA@example.com").pk == customer.pk
    assert [c.pk for c in selectors.customers_by_phone("+31612345678")] == [customer.pk]
    assert [c.pk for c in selectors.customers_by_phone("0612345678")] == [customer.pk]
    assert selectors.customer_by_card(customer.account.card_number).pk == customer.pk
    assert selectors.customer_by_id(other_customer.pk).email == "bram@example.com"
    with pytest.raises(NotFound):
        selectors.customer_by_email("nobody@example.com")


def test_update_customer_normalises_and_records_consent(customer):
    updated = services.update_customer(
        customer_id=customer.pk, phone="+31 20 123 4567", marketing_consent=True
    )
    assert updated.phone == "+31201234567"
    assert updated.marketing_consent_at is not None
    withdrawn = services.update_customer(customer_id=customer.pk, marketing_consent=False)
    assert (withdrawn.marketing_consent, withdrawn.marketing_consent_at) == (False, None)


def test_update_customer_keeps_emails_unique(customer, other_customer):
    with pytest.raises(ValidationFailed):
        services.update_customer(customer_id=other_customer.pk, email="Anna@example.com")
    assert Customer.objects.get(pk=other_customer.pk).email == "bram@example.com"
    # Changing the case of one's own email is fine.
    assert services.update_customer(customer_id=customer.pk, email="ANNA@example.com").email == (
        "ANNA@example.com"
    )


def test_update_of_an_unknown_customer_is_404():
    with pytest.raises(NotFound):
        services.update_customer(customer_id=999, first_name="X")
