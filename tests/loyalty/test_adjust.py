"""adjust_points and POST /api/v1/loyalty/accounts/{card}/adjustments/ (merchandiser)."""

import pytest

from config.api.roles import Role
from loyalty import services
from loyalty.errors import InsufficientPoints, ValidationFailed
from loyalty.models import PointsEntry
from tests.loyalty.conftest import balance_and_ledger, fund


def adjustments(card):
    return f"/api/v1/loyalty/accounts/{card}/adjustments/"


def test_an_adjustment_with_a_reason_and_actor(account):
    entry = services.adjust_points(
        card_number=account.card_number, points=250, reason="Goodwill: late parcel", actor="jan"
    )
    assert (entry.kind, entry.points, entry.balance_after, entry.reason, entry.actor) == (
        "adjust",
        250,
        250,
        "Goodwill: late parcel",
        "jan",
    )
    services.adjust_points(card_number=account.card_number, points=-50, reason="typo", actor="jan")
    assert balance_and_ledger(account) == (200, 200, 200)


@pytest.mark.parametrize(
    ("points", "reason", "attr"),
    [(0, "x", "points"), (10, "  ", "reason"), (10, "", "reason"), (1.5, "x", "points")],
)
def test_bad_adjustments_write_nothing(account, points, reason, attr):
    with pytest.raises(ValidationFailed) as raised:
        services.adjust_points(
            card_number=account.card_number, points=points, reason=reason, actor="a"
        )
    assert raised.value.errors[0]["attr"] == attr
    assert not PointsEntry.objects.exists()


def test_taking_more_than_the_balance_is_409(account):
    fund(account, 100)
    with pytest.raises(InsufficientPoints):
        services.adjust_points(card_number=account.card_number, points=-101, reason="x", actor="a")
    assert balance_and_ledger(account) == (100, 100, 100)


def test_a_merchandiser_adjusts_through_the_api(merchandiser, account):
    response = merchandiser.post(
        adjustments(account.card_number), {"points": 120, "reason": "Birthday"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["points"], body["balance_after"], body["reason"]) == (
        "adjust",
        120,
        120,
        "Birthday",
    )
    assert PointsEntry.objects.get().actor == "merchandiser:test merchandiser"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"points": -100, "reason": "x"}, 409, "insufficient_points"),
        ({"points": 0, "reason": "x"}, 400, "invalid"),
        ({"points": "lots", "reason": "x"}, 400, "invalid"),
        ({"points": 10}, 400, "invalid"),
        ({"points": 10, "reason": ""}, 400, "invalid"),
    ],
)
def test_bad_api_adjustments_are_problem_json_and_write_nothing(
    merchandiser, account, body, status, code
):
    response = merchandiser.post(adjustments(account.card_number), body, format="json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert not PointsEntry.objects.exists()


def test_adjusting_a_mistyped_or_unknown_card(merchandiser, account):
    card = account.card_number
    typo = card[:-1] + str((int(card[-1]) + 1) % 10)
    response = merchandiser.post(adjustments(typo), {"points": 5, "reason": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_card_number")
    response = merchandiser.post(
        adjustments("2700000000003"), {"points": 5, "reason": "x"}, format="json"
    )
    assert response.status_code == 404
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.POS, Role.STORE_STAFF])
def test_only_merchandisers_adjust(api_for, store, account, role):
    client = api_for(role, locations=[store.code] if role in (Role.POS, Role.STORE_STAFF) else [])
    response = client.post(
        adjustments(account.card_number), {"points": 5, "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not PointsEntry.objects.exists()


def test_customers_cannot_adjust_their_own_points(me, account):
    response = me.post(
        adjustments(account.card_number), {"points": 5, "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not PointsEntry.objects.exists()
