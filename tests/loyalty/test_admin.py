"""The admin: customers with account, tier and ledger; adjustments through the service with
a required reason; configuration pages."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from loyalty.models import Customer, ManualAdjustment, PointsEntry
from tests.loyalty.conftest import fund


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-1234-secret")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "page",
    [
        "customer",
        "loyaltyaccount",
        "manualadjustment",
        "pointsentry",
        "tier",
        "earnrule",
        "bonuscampaign",
        "loyaltyprogram",
        "storecreditaccount",
    ],
)
def test_every_list_and_add_page_renders(admin_client, customer, page):
    assert admin_client.get(f"/admin/loyalty/{page}/").status_code == 200
    add = admin_client.get(f"/admin/loyalty/{page}/add/")
    assert add.status_code in (200, 403)  # accounts and ledger entries cannot be added by hand


def test_a_customer_page_shows_the_account_and_the_ledger(admin_client, customer, account):
    fund(account, 120)
    page = admin_client.get(f"/admin/loyalty/customer/{customer.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert account.card_number in html
    assert "test funds" in html
    account_page = admin_client.get(f"/admin/loyalty/loyaltyaccount/{account.pk}/change/")
    assert account_page.status_code == 200
    assert "test funds" in account_page.content.decode()


def test_adding_a_customer_in_the_admin_enrols_them(admin_client):
    response = admin_client.post(
        "/admin/loyalty/customer/add/",
        {
            "email": "Shop@Example.com",
            "first_name": "Sam",
            "last_name": "Smit",
            "phone": "0612345678",
            "account-TOTAL_FORMS": "0",
            "account-INITIAL_FORMS": "0",
            "account-MIN_NUM_FORMS": "0",
            "account-MAX_NUM_FORMS": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get()
    assert (customer.email, customer.phone) == ("Shop@example.com", "+31612345678")
    assert customer.account.card_number


def test_a_manual_adjustment_needs_a_reason_and_goes_through_the_service(admin_client, account):
    url = "/admin/loyalty/manualadjustment/add/"
    refused = admin_client.post(url, {"account": account.pk, "points": 50, "reason": ""})
    assert refused.status_code == 200  # the form again, with the error
    assert not PointsEntry.objects.exists()
    too_much = admin_client.post(url, {"account": account.pk, "points": -50, "reason": "oops"})
    assert too_much.status_code == 200
    assert not PointsEntry.objects.exists()
    done = admin_client.post(url, {"account": account.pk, "points": 50, "reason": "Goodwill"})
    assert done.status_code == 302
    entry = ManualAdjustment.objects.get()
    assert (entry.kind, entry.points, entry.actor, entry.reason) == (
        "adjust",
        50,
        "admin:boss",
        "Goodwill",
    )
    account.refresh_from_db()
    assert account.points == 50
    assert (
        admin_client.get(f"/admin/loyalty/manualadjustment/{entry.pk}/change/").status_code == 200
    )
