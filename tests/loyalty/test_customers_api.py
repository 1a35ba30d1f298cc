"""POST/GET /api/v1/customers/, /customers/me/, /customers/{id}/ (API.md "Customers and
loyalty"): sign-up, staff look-ups, and nobody else's data."""

import pytest
from rest_framework.test import APIClient

from config.api.roles import Role
from config.api.throttling import CallerRateThrottle
from loyalty.models import Customer, LoyaltyAccount
from tests.loyalty.factories import PASSWORD

SIGN_UP = {
    "email": "new@example.com",
    "first_name": "Noor",
    "last_name": "Visser",
    "phone": "06 1234 5678",
    "password": PASSWORD,
}


def test_anonymous_self_sign_up_is_201_with_the_loyalty_card(anon):
    response = anon.post("/api/v1/customers/", SIGN_UP, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body == {
        "id": customer.pk,
        "email": "new@example.com",
        "first_name": "Noor",
        "last_name": "Visser",
        "phone": "+31612345678",
        "marketing_consent": False,
        "created_at": body["created_at"],
        "loyalty": {
            "card_number": customer.account.card_number,
            "points": 0,
            "tier": {"code": "member", "name": "Member", "rank": 0},
        },
    }
    assert "password" not in body


@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.POS, Role.MERCHANDISER])
def test_staff_enrol_customers_without_a_password(api_for, store, role):
    client = api_for(role, locations=[store.code] if role == Role.POS else [])
    response = client.post("/api/v1/customers/", {"email": "till@example.com"}, format="json")
    assert response.status_code == 201, response.content
    assert Customer.objects.get().password == ""


@pytest.mark.parametrize("role", [Role.STORE_STAFF, Role.CUSTOMER])
def test_store_staff_and_customers_cannot_sign_people_up(api_for, store, role):
    client = api_for(
        role,
        locations=[store.code] if role == Role.STORE_STAFF else [],
        customer_id=77 if role == Role.CUSTOMER else None,
    )
    response = client.post("/api/v1/customers/", SIGN_UP, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Customer.objects.exists()


def test_anonymous_sign_up_needs_a_password(anon):
    response = anon.post("/api/v1/customers/", {"email": "x@example.com"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["attr"] == "password"
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({**SIGN_UP, "email": "nope"}, "email", "invalid"),
        ({**SIGN_UP, "phone": "123"}, "phone", "invalid_phone"),
        ({**SIGN_UP, "password": "12345678"}, "password", "password_entirely_numeric"),
        ({"first_name": "No email", "password": PASSWORD}, "email", "required"),
    ],
)
def test_bad_sign_up_is_problem_json_and_writes_nothing(anon, body, attr, code):
    response = anon.post("/api/v1/customers/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert (attr, code) in {(e["attr"], e["code"]) for e in response.json()["errors"]}
    assert not Customer.objects.exists()
    assert not LoyaltyAccount.objects.exists()


def test_a_taken_email_is_400_unique(anon, customer):
    response = anon.post("/api/v1/customers/", {**SIGN_UP, "email": "ANNA@example.com"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unique"
    assert Customer.objects.count() == 1


def test_anonymous_sign_up_is_throttled_by_the_anonymous_rate(anon, monkeypatch):
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"anonymous": "2/min"})
    statuses = [
        anon.post("/api/v1/customers/", {**SIGN_UP, "email": f"n{i}@example.com"}).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert Customer.objects.count() == 2


def test_a_customer_reads_and_changes_their_own_profile(me, customer):
    response = me.get("/api/v1/customers/me/")
    assert response.status_code == 200
    assert response.json()["email"] == "anna@example.com"
    assert response.json()["loyalty"]["card_number"] == customer.account.card_number
    response = me.patch("/api/v1/customers/me/", {"phone": "0201234567"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+31201234567"
    assert me.get(f"/api/v1/customers/{customer.pk}/").status_code == 200


def test_a_customer_gets_404_for_anybody_else(me, other_customer):
    for response in (
        me.get(f"/api/v1/customers/{other_customer.pk}/"),
        me.patch(f"/api/v1/customers/{other_customer.pk}/", {"first_name": "X"}, format="json"),
        me.get(f"/api/v1/customers/{other_customer.pk + 1000}/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert Customer.objects.get(pk=other_customer.pk).first_name == "Bram"


def test_customers_cannot_list_customers(me):
    assert me.get("/api/v1/customers/?email=bram@example.com").status_code == 403


@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.POS, Role.STORE_STAFF, Role.MERCHANDISER])
def test_staff_look_customers_up_by_email_phone_or_card(
    api_for, store, customer, other_customer, role
):
    client = api_for(role, locations=[store.code] if role in (Role.POS, Role.STORE_STAFF) else [])
    Customer.objects.filter(pk=customer.pk).update(phone="+31612345678")
    card = customer.account.card_number
    for query in ("email=ANNA@example.com", "phone=06 12 34 56 78", f"card_number={card}"):
        response = client.get(f"/api/v1/customers/?{query}")
        assert response.status_code == 200, (query, response.content)
        body = response.json()
        assert body["count"] == 1
        assert body["results"][0]["id"] == customer.pk
    assert client.get("/api/v1/customers/?email=nobody@example.com").json()["count"] == 0


@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.POS, Role.STORE_STAFF])
def test_only_merchandisers_may_list_everybody(api_for, store, customer, role):
    client = api_for(role, locations=[store.code] if role in (Role.POS, Role.STORE_STAFF) else [])
    response = client.get("/api/v1/customers/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "filter_required"


def test_merchandisers_list_everybody(merchandiser, customer, other_customer):
    body = merchandiser.get("/api/v1/customers/").json()
    assert [c["email"] for c in body["results"]] == ["anna@example.com", "bram@example.com"]


def test_a_look_up_by_a_mistyped_card_is_400(storefront, customer):
    card = customer.account.card_number
    typo = card[:-1] + str((int(card[-1]) + 1) % 10)
    response = storefront.get(f"/api/v1/customers/?card_number={typo}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_card_number"


def test_a_pos_can_look_up_but_not_change_a_profile(pos, customer):
    assert pos.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    response = pos.patch(f"/api/v1/customers/{customer.pk}/", {"first_name": "X"}, format="json")
    assert response.status_code == 403
    assert Customer.objects.get(pk=customer.pk).first_name == "Anna"


def test_the_storefront_changes_a_profile(storefront, customer):
    response = storefront.patch(
        f"/api/v1/customers/{customer.pk}/", {"marketing_consent": True}, format="json"
    )
    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).marketing_consent is True


def test_staff_have_no_me(storefront):
    assert storefront.get("/api/v1/customers/me/").status_code == 403
    assert APIClient().get("/api/v1/customers/me/").status_code == 401
