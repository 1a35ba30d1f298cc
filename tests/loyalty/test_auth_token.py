"""POST /api/v1/auth/token/: customer tokens, and failed sign-ins throttled per email + IP."""

import pytest
from rest_framework.test import APIClient

from config.api.models import ApiClient, ApiToken
from loyalty import services
from loyalty.errors import InvalidCredentials, LoginThrottled
from tests.loyalty.factories import PASSWORD


def sign_in(email="anna@example.com", password=PASSWORD, ip="10.0.0.1"):
    return APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": password}, REMOTE_ADDR=ip
    )


def test_a_customer_signs_in_and_uses_the_token(customer):
    response = sign_in(email="ANNA@example.com")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/customers/me/")
    assert me.status_code == 200
    assert me.json()["id"] == customer.pk
    api_client = ApiClient.objects.get(customer_id=customer.pk)
    assert api_client.role == "customer"
    # Signing in again issues another token for the same client.
    assert sign_in().status_code == 200
    assert ApiToken.objects.filter(client=api_client).count() == 2


@pytest.mark.parametrize(
    ("email", "password"),
    [("anna@example.com", "wrong-password"), ("nobody@example.com", PASSWORD), ("", PASSWORD)],
)
def test_wrong_credentials_are_400_invalid_credentials(customer, email, password):
    response = sign_in(email=email, password=password)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    if email:
        assert response.json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_a_customer_without_a_password_cannot_sign_in():
    services.create_customer(email="walk-in@example.com")
    assert sign_in(email="walk-in@example.com", password="").status_code == 400
    assert sign_in(email="walk-in@example.com", password="anything").status_code == 400


def test_failed_sign_ins_are_throttled_per_email_and_address(customer, settings):
    settings.LOYALTY_SIGNIN_MAX_FAILURES = 3
    statuses = [sign_in(password="guess").status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    response = sign_in()  # even the right password, now
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 900
    assert not ApiToken.objects.exists()
    # Another address, or another email from this address, is not held up.
    assert sign_in(ip="10.0.0.2").status_code == 200
    assert sign_in(email="other@example.com", password="guess").status_code == 400


def test_the_service_throttles_too(customer, settings):
    settings.LOYALTY_SIGNIN_MAX_FAILURES = 2
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            services.issue_customer_token(email="anna@example.com", password="x", client_ip="ip")
    with pytest.raises(LoginThrottled) as raised:
        services.issue_customer_token(email="anna@example.com", password=PASSWORD, client_ip="ip")
    assert raised.value.status == 429


def test_a_success_clears_the_failures(customer, settings):
    settings.LOYALTY_SIGNIN_MAX_FAILURES = 3
    assert [sign_in(password="guess").status_code for _ in range(2)] == [400, 400]
    assert sign_in().status_code == 200
    assert [sign_in(password="guess").status_code for _ in range(2)] == [400, 400]
    assert sign_in().status_code == 200


def test_a_deactivated_customer_client_cannot_sign_in(customer):
    assert sign_in().status_code == 200
    ApiClient.objects.filter(customer_id=customer.pk).update(active=False)
    assert sign_in().status_code == 400
