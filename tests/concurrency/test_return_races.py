"""Returns racing each other, through the API, on PostgreSQL with real threads: two tills
return the last returnable unit of a line at once and exactly one succeeds (one refund, one
unit back in stock, points reversed once); the other gets 409 not_returnable."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from config.api.roles import Role
from inventory.models import MovementKind, StockMovement
from orders.models import Order, OrderLine, OrderStatus, Payment
from returns.models import Return
from tests.concurrency.test_fulfilment_races import client_for, run_at_once
from tests.orders.conftest import (  # noqa: F401
    customer,
    network,
    programme,
    ship_body,
    stock,
)
from tests.returns.conftest import RETURNS, hand_over, place, return_body

pytestmark = [pytest.mark.postgres]


@pytest.mark.parametrize("attempts", [2, 6])
def test_concurrent_returns_of_the_last_unit_one_succeeds(
    transactional_db,
    network,  # noqa: F811
    customer,  # noqa: F811
    attempts,
):
    stock("TEE", "WH-NEAR", 2)
    storefront = client_for(Role.STOREFRONT)
    staff = client_for(
        Role.STORE_STAFF, location_codes=["WH-NEAR", "WH-FAR", "STORE-AMS", "STORE-UTR"]
    )
    order = place(storefront, ship_body(("TEE", 2), customer=customer.pk, email=customer.email))
    hand_over(staff, order)
    first = staff.post(RETURNS, return_body(order, (0, 1)), format="json")
    assert first.status_code == 201, first.json()

    tills = [
        client_for(Role.POS, location_codes=[code])
        for code in (["STORE-UTR", "STORE-AMS"] * attempts)[:attempts]
    ]
    calls = [
        (
            lambda till=till, code=code: till.post(
                RETURNS, return_body(order, (0, 1), location=code), format="json"
            )
        )
        for till, code in zip(
            tills, (["STORE-UTR", "STORE-AMS"] * attempts)[:attempts], strict=True
        )
    ]
    results, errors = run_at_once(calls)
    assert errors == []
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * (attempts - 1)
    assert all(r.json()["code"] == "not_returnable" for r in results if r.status_code == 409)

    line = OrderLine.objects.get(order__number=order["number"])
    assert line.returned_quantity == 2
    assert Return.objects.filter(order__number=order["number"]).count() == 2
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.refunded_amount == payment.captured_amount == Decimal(order["total"])
    back = StockMovement.objects.filter(kind=MovementKind.RETURN).aggregate(n=Sum("quantity"))
    assert back["n"] == 2
    assert Order.objects.get(number=order["number"]).status == OrderStatus.RETURNED
