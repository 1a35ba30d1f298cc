"""Staff overrides are reported in the admin; manager approval codes are issued there."""

import pytest
from django.contrib.auth.hashers import check_password

from orders.models import ManagerApprovalCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_an_approval_code_is_issued_hashed_and_overrides_are_listed(admin_client, network):
    response = admin_client.post(
        "/admin/orders/managerapprovalcode/add/",
        {"location": network.store.pk, "manager": "Maria", "active": "on", "code": "4321"},
    )
    assert response.status_code == 302, response.content
    code = ManagerApprovalCode.objects.get()
    assert code.code_hash != "4321"
    assert check_password("4321", code.code_hash)
    assert admin_client.get("/admin/orders/priceoverride/").status_code == 200
    assert admin_client.get("/admin/orders/cart/").status_code == 200
