"""Staff sign-in is throttled like the customers' token endpoint: after
``STAFF_LOGIN_MAX_FAILURES`` failures per username and address within the window, the store
screens' and the admin's login answer 429 with Retry-After and a message, without checking
the password; a success clears the failures and does not count as one."""

import re

import pytest
from django.contrib.auth import hashers
from django.test import Client

from tests.orders.conftest import network, programme  # noqa: F401  (fixtures)
from tests.orders.screens_helpers import PASSWORD, make_staff

STORE_LOGIN = "/store/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STAFF_LOGIN_MAX_FAILURES = 3
    settings.STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    settings.STAFF_LOGIN_FAILURE_WINDOW = 900


@pytest.fixture
def anouk(network):  # noqa: F811
    return make_staff("anouk", "STORE-AMS")


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def sign_in(path, username, password, ip="10.0.0.1", client=None):
    # The admin's form carries next=/admin/ in a hidden field, as a browser would send it.
    data = {"username": username, "password": password}
    if path == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return (client or Client()).post(path, data, REMOTE_ADDR=ip)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_store_login_is_refused_after_too_many_failures_without_checking_the_password(
    anouk, monkeypatch
):
    statuses = [sign_in(STORE_LOGIN, "anouk", "guess").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # the form again, "Wrong username or password."
    checked = []
    real_check = hashers.check_password
    monkeypatch.setattr(
        hashers, "check_password", lambda *a, **k: checked.append(1) or real_check(*a, **k)
    )
    response = sign_in(STORE_LOGIN, "anouk", PASSWORD)  # even the right password, now
    assert response.status_code == 429
    assert 840 < int(response["Retry-After"]) <= 900
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in text(response)
    assert "Wrong username or password." not in text(response)
    assert "_auth_user_id" not in response.wsgi_request.session
    assert checked == []  # the attempt never reached the password hasher
    # Another address, or another username from this address, is not held up.
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD, ip="10.0.0.2")["Location"] == "/store/"
    assert sign_in(STORE_LOGIN, "sam", "guess").status_code == 200


def test_many_usernames_from_one_address_are_stopped_too(anouk):
    for n in range(6):
        assert sign_in(STORE_LOGIN, f"user{n}", "guess").status_code == 200
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD).status_code == 429
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD, ip="10.0.0.2")["Location"] == "/store/"


def test_a_successful_store_login_clears_the_failures_and_does_not_count(anouk):
    assert [sign_in(STORE_LOGIN, "anouk", "guess").status_code for _ in range(2)] == [200, 200]
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD)["Location"] == "/store/"
    assert [sign_in(STORE_LOGIN, "anouk", "guess").status_code for _ in range(2)] == [200, 200]
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD)["Location"] == "/store/"
    for _ in range(5):
        assert sign_in(STORE_LOGIN, "anouk", PASSWORD)["Location"] == "/store/"


def test_a_form_without_a_password_does_not_clear_the_failures(anouk):
    for _ in range(2):
        sign_in(STORE_LOGIN, "anouk", "guess")
    assert sign_in(STORE_LOGIN, "anouk", "").status_code == 200  # the field is required
    sign_in(STORE_LOGIN, "anouk", "guess")
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD).status_code == 429


def test_the_failures_window_ends(anouk, monkeypatch):
    import time

    for _ in range(3):
        sign_in(STORE_LOGIN, "anouk", "guess")
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD).status_code == 429
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda: later)
    # The locmem cache reads the same clock: the counters have expired.
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD)["Location"] == "/store/"


def test_admin_login_is_throttled(admin_user):
    statuses = [sign_in(ADMIN_LOGIN, "boss", "guess").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = sign_in(ADMIN_LOGIN, "boss", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 900
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in text(response)
    assert "_auth_user_id" not in response.wsgi_request.session
    assert sign_in(ADMIN_LOGIN, "boss", PASSWORD, ip="10.0.0.2")["Location"] == "/admin/"


def test_a_successful_admin_login_clears_the_failures(admin_user):
    assert [sign_in(ADMIN_LOGIN, "boss", "guess").status_code for _ in range(2)] == [200, 200]
    client = Client()
    assert sign_in(ADMIN_LOGIN, "boss", PASSWORD, client=client)["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert [sign_in(ADMIN_LOGIN, "boss", "guess").status_code for _ in range(2)] == [200, 200]
    assert sign_in(ADMIN_LOGIN, "boss", PASSWORD)["Location"] == "/admin/"


def test_the_address_is_remote_addr_unless_proxies_are_configured(anouk, settings):
    # A client cannot escape the counter by inventing X-Forwarded-For (NUM_PROXIES = 0).
    for n in range(3):
        Client().post(
            STORE_LOGIN,
            {"username": "anouk", "password": "guess"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert sign_in(STORE_LOGIN, "anouk", PASSWORD).status_code == 429
