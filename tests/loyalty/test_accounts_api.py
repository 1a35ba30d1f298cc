"""GET /api/v1/loyalty/accounts/{card_number}/ and .../ledger/: balance, tier, next tier,
points expiring; a customer sees only their own account; constant queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.api.roles import Role
from loyalty import services
from tests.loyalty.conftest import fund
from tests.loyalty.factories import CustomerFactory

D = Decimal


def url(card, suffix=""):
    return f"/api/v1/loyalty/accounts/{card}/{suffix}"


def typo(card):
    return card[:-1] + str((int(card[-1]) + 1) % 10)


def test_the_account_with_tier_next_tier_and_points_expiring(storefront, customer, account):
    now = timezone.now()
    for index, days_ago in enumerate((300, 200, 200)):
        services.earn_points(
            customer_id=customer.pk,
            reference=f"ORD-{index}",
            lines=[(None, D("200.00"))],
            occurred_at=now - dt.timedelta(days=days_ago),
        )
    response = storefront.get(url(account.card_number))
    assert response.status_code == 200, response.content
    body = response.json()
    first = (now - dt.timedelta(days=300)).date() + dt.timedelta(days=365)
    second = (now - dt.timedelta(days=200)).date() + dt.timedelta(days=365)
    assert body == {
        "card_number": account.card_number,
        "customer": customer.pk,
        "points": 600,  # each earned as a member: silver came with the third order
        "points_owed": 0,
        "tier": {"code": "silver", "name": "Silver", "rank": 1},
        "qualifying_spend": "600.00",
        "next_tier": {
            "code": "gold",
            "name": "Gold",
            "rank": 2,
            "qualifying_spend": "1500.00",
            "spend_needed": "900.00",
        },
        "points_expiring": [
            {"points": 200, "expires_at": f"{first.isoformat()}T00:00:00Z"},
            {"points": 400, "expires_at": f"{second.isoformat()}T00:00:00Z"},
        ],
    }


def test_at_the_top_there_is_no_next_tier(merchandiser, customer, account):
    services.earn_points(customer_id=customer.pk, reference="BIG", lines=[(None, D("2000"))])
    body = merchandiser.get(url(account.card_number)).json()
    assert (body["tier"]["code"], body["next_tier"]) == ("gold", None)


def test_a_customer_reads_their_own_account_and_ledger(me, account):
    fund(account, 300)
    assert me.get(url(account.card_number)).json()["points"] == 300
    ledger = me.get(url(account.card_number, "ledger/")).json()
    assert ledger["count"] == 1
    assert ledger["results"][0]["points"] == 300


def test_a_customer_gets_404_for_a_valid_foreign_card(me, other_customer):
    card = other_customer.account.card_number
    for path in (url(card), url(card, "ledger/")):
        response = me.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("suffix", ["", "ledger/"])
def test_a_mistyped_card_is_400_and_an_unknown_one_404(pos, account, suffix):
    response = pos.get(url(typo(account.card_number), suffix))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_card_number"
    assert response.json()["errors"][0]["attr"] == "card_number"
    assert pos.get(url("not-a-card", suffix)).json()["code"] == "invalid_card_number"
    assert pos.get(url("2700000000003", suffix)).status_code == 404


def test_the_ledger_is_paginated_newest_first_and_filters_by_kind(store_staff, customer, account):
    for index in range(5):
        fund(account, 100 + index)
    services.redeem_points(customer_id=customer.pk, points=200, reference="ORD-1")
    page = store_staff.get(url(account.card_number, "ledger/?limit=2")).json()
    assert page["count"] == 6
    assert [e["kind"] for e in page["results"]] == ["redeem", "adjust"]
    assert page["results"][0] == {
        "id": page["results"][0]["id"],
        "kind": "redeem",
        "points": -200,
        "owed_change": 0,
        "balance_after": 310,
        "amount": "2.00",
        "reference": "ORD-1",
        "reason": "Redeemed for 2.00",
        "expires_at": None,
        "occurred_at": page["results"][0]["occurred_at"],
    }
    assert page["next"] is not None
    only = store_staff.get(url(account.card_number, "ledger/?kind=redeem")).json()
    assert only["count"] == 1
    assert store_staff.get(url(account.card_number, "ledger/?kind=nope")).status_code == 400


def test_reading_an_account_costs_the_same_queries_however_big_it_is(api_for, customer, account):
    client = api_for(Role.STOREFRONT)
    small = CustomerFactory()
    now = timezone.now()
    for index in range(30):
        services.earn_points(
            customer_id=customer.pk,
            reference=f"ORD-{index}",
            lines=[(None, D("10"))],
            occurred_at=now - dt.timedelta(days=index * 7),
        )
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(small.account.card_number)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(account.card_number)).status_code == 200
    assert len(few) == len(many) == 4  # token, account+customer+tier, tiers, expiring lots
