"""Store credit: issue and spend, idempotent on references, 409 insufficient_store_credit
with nothing written when short, refunds of a spend bounded by it, the selector and the
admin page."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from config.api.errors import problem_for_exception
from loyalty import selectors, services
from loyalty.errors import InsufficientStoreCredit, ReferenceConflict, ValidationFailed
from loyalty.models import StoreCreditAccount, StoreCreditEntry

D = Decimal


def ledger_sum(email: str) -> Decimal:
    return sum(
        StoreCreditEntry.objects.filter(account__email=email).values_list("amount", flat=True),
        D("0.00"),
    )


def test_issue_creates_the_account_once_and_is_idempotent_on_the_reference(customer):
    email = customer.email.upper()
    issued = services.issue_store_credit(
        email=email, customer_id=customer.pk, amount=D("25.00"), currency="EUR", reference="r:1"
    )
    again = services.issue_store_credit(
        email=email, customer_id=customer.pk, amount=D("25.00"), currency="EUR", reference="r:1"
    )
    more = services.issue_store_credit(
        email=email, amount=D("5.50"), currency="EUR", reference="r:2"
    )
    assert (issued, again, more) == (D("25.00"), D("25.00"), D("30.50"))
    account = StoreCreditAccount.objects.get()
    assert account.email == customer.email.lower()
    assert account.customer_id == customer.pk
    assert account.balance == ledger_sum(account.email) == D("30.50")
    assert selectors.store_credit_balance(email=email) == D("30.50")
    assert selectors.store_credit_balance(customer_id=customer.pk) == D("30.50")
    assert selectors.store_credit_balance(email="nobody@example.com") == D("0.00")
    with pytest.raises(ReferenceConflict):
        services.issue_store_credit(email=email, amount=D("1.00"), currency="EUR", reference="r:1")


def test_spend_takes_exactly_the_amount_and_is_idempotent(customer):
    services.issue_store_credit(
        email=customer.email, amount=D("20.00"), currency="EUR", reference="r:1"
    )
    left = services.spend_store_credit(
        email=customer.email, amount=D("12.34"), currency="EUR", reference="pos:1"
    )
    again = services.spend_store_credit(
        email=customer.email, amount=D("12.34"), currency="EUR", reference="pos:1"
    )
    assert left == again == D("7.66")
    assert StoreCreditEntry.objects.filter(reference="pos:1").get().amount == D("-12.34")
    assert ledger_sum(customer.email.lower()) == D("7.66")


def test_spend_by_the_customer_when_the_address_has_no_account(customer):
    services.issue_store_credit(
        email="old@example.com",
        customer_id=customer.pk,
        amount=D("10.00"),
        currency="EUR",
        reference="r:1",
    )
    left = services.spend_store_credit(
        email=customer.email,
        customer_id=customer.pk,
        amount=D("4.00"),
        currency="EUR",
        reference="pos:1",
    )
    assert left == D("6.00")


@pytest.mark.parametrize("issued", [None, D("9.99")])
def test_short_is_409_and_nothing_is_written(customer, issued):
    if issued:
        services.issue_store_credit(
            email=customer.email, amount=issued, currency="EUR", reference="r:1"
        )
    entries = StoreCreditEntry.objects.count()
    with pytest.raises(InsufficientStoreCredit) as raised:
        services.spend_store_credit(
            email=customer.email, amount=D("10.00"), currency="EUR", reference="pos:1"
        )
    status, body, _ = problem_for_exception(raised.value)
    assert status == 409
    assert body["code"] == "insufficient_store_credit"
    assert body["errors"][0]["code"] == "insufficient_store_credit"
    assert StoreCreditEntry.objects.count() == entries
    assert selectors.store_credit_balance(email=customer.email) == (issued or D("0.00"))


def test_bad_amounts_are_400(customer):
    for amount in (D("0"), D("-1.00"), D("1.001")):
        with pytest.raises(ValidationFailed):
            services.issue_store_credit(
                email=customer.email, amount=amount, currency="EUR", reference="r:x"
            )
    assert not StoreCreditEntry.objects.exists()


def test_refunds_of_a_spend_go_back_to_the_account_up_to_what_it_took(customer):
    services.issue_store_credit(
        email=customer.email, amount=D("20.00"), currency="EUR", reference="r:1"
    )
    services.spend_store_credit(
        email=customer.email, amount=D("15.00"), currency="EUR", reference="pos:1"
    )
    back = services.refund_store_credit_spend(
        reference="pos:1", refund_reference="pos:1:return:R-1", amount=D("10.00")
    )
    twice = services.refund_store_credit_spend(
        reference="pos:1", refund_reference="pos:1:return:R-1", amount=D("10.00")
    )
    assert back == twice == D("15.00")
    with pytest.raises(ReferenceConflict):
        services.refund_store_credit_spend(
            reference="pos:1", refund_reference="pos:1:return:R-2", amount=D("5.01")
        )
    assert ledger_sum(customer.email.lower()) == D("15.00")


def test_the_admin_shows_an_account_with_its_entries(customer):
    services.issue_store_credit(
        email=customer.email, amount=D("20.00"), currency="EUR", reference="return:R-000001"
    )
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-1234-x")
    client = Client()
    client.force_login(user)
    account = StoreCreditAccount.objects.get()
    page = client.get(f"/admin/loyalty/storecreditaccount/{account.pk}/change/")
    assert page.status_code == 200
    assert b"return:R-000001" in page.content
