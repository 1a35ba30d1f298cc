"""Raising or lowering prices by a percentage: the arithmetic (table-driven, no database),
the service (all or nothing, history), and the admin actions with their confirmation page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pricing import services
from pricing.errors import ValidationFailed
from pricing.models import Price
from pricing.services import PriceEntry
from pricing.services.bulk import (
    Rounding,
    adjusted_amount,
    change_prices_by_percent,
    check_percent,
)
from tests.factories import SKUFactory

D = Decimal
CENT, NINETY_NINE = Rounding.CENT, Rounding.NINETY_NINE


@pytest.fixture
def admin_user(django_user_model):
    """pytest-django's ``admin_client`` logs this user in: a superuser without a password,
    as hashing one costs a second a test."""
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)


@pytest.mark.parametrize(
    ("amount", "percent", "rounding", "expected"),
    [
        # To the cent: half up.
        ("10.00", "5", CENT, "10.50"),
        ("12.34", "10", CENT, "13.57"),  # 13.574
        ("12.35", "10", CENT, "13.59"),  # 13.585: half up
        ("19.99", "-33.33", CENT, "13.33"),  # 13.327333
        ("0.05", "-10", CENT, "0.05"),  # 0.045: half up
        ("100.00", "-99.99", CENT, "0.01"),
        ("0.01", "-60", CENT, "0.00"),  # 0.004: refused by the service
        ("1.00", "1000", CENT, "11.00"),
        # To the nearest .99: to the cent first, then the nearest X.99, halfway (X.49) up.
        ("12.34", "0.01", NINETY_NINE, "11.99"),  # 12.34: 11.99 is 0.35 away, 12.99 0.65
        ("12.00", "4", NINETY_NINE, "11.99"),  # 12.48
        ("12.00", "4.1", NINETY_NINE, "12.99"),  # 12.49: halfway, up
        ("12.00", "4.2", NINETY_NINE, "12.99"),  # 12.50
        ("13.00", "0.01", NINETY_NINE, "12.99"),  # 13.00
        ("12.99", "0.01", NINETY_NINE, "12.99"),  # already there
        ("100.00", "-50", NINETY_NINE, "49.99"),
        ("9.99", "5", NINETY_NINE, "10.99"),  # 10.49: halfway, up
        ("0.60", "-10", NINETY_NINE, "0.99"),  # 0.54: the smallest .99 is nearest
        ("0.50", "-10", NINETY_NINE, "-0.01"),  # 0.45: no .99 above zero: refused
    ],
)
def test_adjusted_amount(amount, percent, rounding, expected):
    assert adjusted_amount(D(amount), percent=D(percent), rounding=rounding) == D(expected)


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("0", "0 % changes nothing."),
        ("-100", "From -99.99 to 1000 (a percentage)."),
        ("1000.01", "From -99.99 to 1000 (a percentage)."),
        ("5.001", "At most two decimals."),
        ("five", "Not a number."),
        ("NaN", "Not a number."),
    ],
)
def test_bad_percentages_are_refused(percent, message):
    with pytest.raises(ValidationFailed) as caught:
        check_percent(percent)
    assert caught.value.detail == message


# --- The service ---------------------------------------------------------------------------


@pytest.fixture
def lists(db):
    for code in ("TEE-1", "TEE-2", "CAP-1"):
        SKUFactory(sku=code)
    base = services.create_price_list(code="BASE", name="Base", channel="web")
    services.replace_prices(
        price_list=base,
        prices=[PriceEntry("TEE-1", D("10.00")), PriceEntry("TEE-2", D("12.34"))],
    )
    pos = services.create_price_list(code="POS", name="Stores", channel="pos")
    services.replace_prices(price_list=pos, prices=[PriceEntry("CAP-1", D("0.50"))])
    return base, pos


def amounts() -> dict[tuple[str, str], Decimal]:
    return {
        (p.price_list.code, p.sku.sku): p.amount
        for p in Price.objects.select_related("price_list", "sku")
    }


def test_change_records_every_moved_price_in_the_history(lists):
    base, _ = lists
    history_before = Price.history.count()

    done = change_prices_by_percent(
        prices=Price.objects.filter(price_list=base),
        percent="5",
        rounding=NINETY_NINE,
        actor="user:alice",
    )

    assert amounts() == {
        ("BASE", "TEE-1"): D("10.99"),  # 10.50: 10.99 is 0.49 away, 9.99 0.51
        ("BASE", "TEE-2"): D("12.99"),  # 12.957 → 12.96 → 12.99
        ("POS", "CAP-1"): D("0.50"),  # not selected
    }
    assert (len(done.changed), done.unchanged) == (2, 0)
    records = list(Price.history.order_by("-history_id")[:2])
    assert Price.history.count() == history_before + 2
    assert {(r.history_user_id, r.history_change_reason, r.history_type) for r in records} == {
        ("user:alice", "+5.00% (to the nearest .99)", "~")
    }


def test_a_price_that_does_not_move_writes_no_history(lists):
    base, _ = lists
    services.set_price(price_list=base, sku="TEE-1", amount=D("12.99"))
    before = Price.history.count()

    done = change_prices_by_percent(
        prices=Price.objects.filter(price_list=base, sku__sku="TEE-1"),
        percent="0.01",
        rounding=NINETY_NINE,
    )

    assert (len(done.changed), done.unchanged) == (0, 1)
    assert Price.history.count() == before


@pytest.mark.parametrize(
    ("percent", "rounding"), [("-99.5", CENT), ("-10", NINETY_NINE)], ids=["cent", "99"]
)
def test_a_change_that_takes_any_price_to_zero_is_refused_whole(lists, percent, rounding):
    before, history_before = amounts(), Price.history.count()

    with pytest.raises(ValidationFailed) as caught:
        change_prices_by_percent(prices=Price.objects.all(), percent=percent, rounding=rounding)

    assert [e["attr"] for e in caught.value.errors] == ["POS.CAP-1"]
    assert caught.value.errors[0]["code"] == "min_value"
    assert amounts() == before
    assert Price.history.count() == history_before


def test_no_prices_is_an_error(lists):
    with pytest.raises(ValidationFailed, match="No prices to change"):
        change_prices_by_percent(prices=Price.objects.none(), percent="5", rounding=CENT)


# --- The admin actions ---------------------------------------------------------------------


def test_the_price_list_action_previews_then_applies(admin_client, lists):
    base, _ = lists
    url = reverse("admin:pricing_pricelist_changelist")
    selection = {"action": "change_all_prices_by_percent", "_selected_action": [base.pk]}

    asked = admin_client.post(url, {**selection, "index": 0})
    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/pricing/percent_change.html"

    previewed = admin_client.post(url, {**selection, "percent": "10", "rounding": "cent"})
    assert previewed.status_code == 200
    plan = previewed.context["plan"]
    assert [(a.sku, a.old, a.new) for a in plan.changed] == [
        ("TEE-1", D("10.00"), D("11.00")),
        ("TEE-2", D("12.34"), D("13.57")),
    ]
    assert b"Apply to 2 price(s)" in previewed.content
    assert amounts()[("BASE", "TEE-1")] == D("10.00")  # a preview writes nothing

    applied = admin_client.post(
        url,
        {
            **selection,
            "percent": "10.00",
            "rounding": "cent",
            "previewed": previewed.context["form"]["previewed"].value(),
            "apply": "1",
        },
    )
    assert applied.status_code == 302
    assert amounts() == {
        ("BASE", "TEE-1"): D("11.00"),
        ("BASE", "TEE-2"): D("13.57"),
        ("POS", "CAP-1"): D("0.50"),
    }
    latest = Price.history.order_by("-history_id").first()
    assert (latest.history_user_id, latest.history_change_reason) == (
        "user:admin",
        "+10.00% (to the cent)",
    )


def test_applying_other_figures_than_previewed_previews_again(admin_client, lists):
    base, _ = lists
    url = reverse("admin:pricing_pricelist_changelist")
    response = admin_client.post(
        url,
        {
            "action": "change_all_prices_by_percent",
            "_selected_action": [base.pk],
            "percent": "50",
            "rounding": "cent",
            "previewed": "10.00|cent",
            "apply": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["plan"].percent == D("50")
    assert amounts()[("BASE", "TEE-1")] == D("10.00")


def test_a_refused_change_shows_the_blocking_prices_and_no_apply_button(admin_client, lists):
    url = reverse("admin:pricing_price_changelist")
    selection = {
        "action": "change_prices_by_percent",
        "_selected_action": list(Price.objects.values_list("pk", flat=True)),
    }
    response = admin_client.post(url, {**selection, "percent": "-10", "rounding": "99"})
    assert response.status_code == 200
    assert [a.sku for a in response.context["plan"].blocked] == ["CAP-1"]
    assert b"This change is refused" in response.content
    assert b"Apply to" not in response.content

    # Forcing it anyway: the service refuses, nothing is written.
    before = amounts()
    forced = admin_client.post(
        url,
        {**selection, "percent": "-10", "rounding": "99", "previewed": "-10.00|99", "apply": "1"},
        follow=True,
    )
    assert b"would become -0.01" in forced.content
    assert amounts() == before


def test_the_price_action_changes_only_the_selected_prices(admin_client, lists):
    tee = Price.objects.get(sku__sku="TEE-2")
    url = reverse("admin:pricing_price_changelist")
    selection = {"action": "change_prices_by_percent", "_selected_action": [tee.pk]}
    admin_client.post(
        url,
        {
            **selection,
            "percent": "-10",
            "rounding": "cent",
            "previewed": "-10.00|cent",
            "apply": "1",
        },
    )
    assert amounts() == {
        ("BASE", "TEE-1"): D("10.00"),
        ("BASE", "TEE-2"): D("11.11"),  # 11.106
        ("POS", "CAP-1"): D("0.50"),
    }


def test_a_bad_percentage_is_shown_on_the_form(admin_client, lists):
    base, _ = lists
    response = admin_client.post(
        reverse("admin:pricing_pricelist_changelist"),
        {
            "action": "change_all_prices_by_percent",
            "_selected_action": [base.pk],
            "percent": "-100",
            "rounding": "cent",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["percent"] == ["From -99.99 to 1000 (a percentage)."]
    assert response.context["plan"] is None
