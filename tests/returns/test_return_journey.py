"""Buy anywhere, return anywhere: a web order returned at a store, online returns received
at a warehouse, refunds to the tender, store credit and points, and scoping."""

from decimal import Decimal

import pytest

from inventory.models import MovementKind, StockMovement
from loyalty.models import LoyaltyAccount, StoreCreditAccount
from orders.models import Order, OrderStatus, Payment
from returns.models import Refund, Return
from tests.orders.conftest import fund, level, ship_body, stock
from tests.returns.conftest import RETURNS, hand_over, place, return_body

pytestmark = pytest.mark.django_db


def test_a_web_order_returned_at_a_store(network, me, customer, staff, till):
    fund(customer, 1000)
    stock("TEE", "WH-NEAR", 5)
    stock("MUG", "WH-NEAR", 5)
    order = place(
        me,
        ship_body(
            ("TEE", 2),
            ("MUG", 1),
            email=customer.email,
            loyalty={"card_number": customer.account.card_number, "redeem_points": 1000},
        ),
    )
    hand_over(staff, order)
    account = LoyaltyAccount.objects.get(customer=customer)
    earned = account.points  # 1000 redeemed, then earned on the hand-over
    assert earned > 0
    payment = Payment.objects.get(order__number=order["number"])
    paid = payment.captured_amount
    assert paid == Decimal(order["total"]) - Decimal("10.00")

    response = till.post(RETURNS, return_body(order, (0, 2), (1, 1)), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "refunded"
    assert body["received_location"] == "STORE-UTR"
    # Everything came back: the money paid, to the card; the points paid, as points.
    assert Decimal(body["refund_total"]) == paid
    assert body["points_refunded"] == 1000
    assert body["points_reversed"] == earned
    payment.refresh_from_db()
    assert payment.refunded_amount == paid
    assert LoyaltyAccount.objects.get(customer=customer).points == 1000
    assert Order.objects.get(number=order["number"]).status == OrderStatus.RETURNED
    # The goods are on the shelf at the store that took them, not where they came from.
    assert level("TEE", "STORE-UTR").on_hand == 2
    assert level("MUG", "STORE-UTR").on_hand == 1
    assert level("TEE", "WH-NEAR").on_hand == 3
    assert StockMovement.objects.filter(kind=MovementKind.RETURN, quantity=2).count() == 1


def test_partial_returns_add_up_to_the_cent(network, storefront, staff, till):
    stock("TEE", "WH-NEAR", 3)
    order = place(storefront, ship_body(("TEE", 3), coupon_codes=[]))
    hand_over(staff, order)
    total = Decimal(order["lines"][0]["total"])
    refunds = []
    for _ in range(3):
        response = till.post(RETURNS, return_body(order, (0, 1)), format="json")
        assert response.status_code == 201, response.json()
        refunds.append(Decimal(response.json()["refund_total"]))
    assert sum(refunds) == total
    response = till.post(RETURNS, return_body(order, (0, 1)), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_returnable"
    assert response.json()["errors"][0]["code"] == "more_than_left"


def test_an_online_return_waits_then_is_received_at_a_warehouse(network, me, customer, staff):
    stock("TEE", "WH-NEAR", 2)
    order = place(me, ship_body(("TEE", 2), email=customer.email))
    hand_over(staff, order)
    response = me.post(
        RETURNS,
        return_body(order, (0, 2), location=None, refund_method="store_credit"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested"
    assert Decimal(body["refund_total"]) == Decimal(order["total"])  # the estimate
    # Requested units are spoken for: a second request for them is refused.
    again = me.post(RETURNS, return_body(order, (0, 1), location=None), format="json")
    assert again.status_code == 409

    number = body["number"]
    received = staff.post(
        f"{RETURNS}{number}/receive/",
        {
            "location": "WH-FAR",
            "lines": [
                {"order_line": order["lines"][0]["id"], "quantity": 2, "condition": "damaged"}
            ],
        },
        format="json",
    )
    assert received.status_code == 200, received.json()
    assert received.json()["status"] == "refunded"
    # Damaged: in the ledger as returned and damaged, never sellable.
    assert level("TEE", "WH-FAR").on_hand == 0
    kinds = list(
        StockMovement.objects.filter(location__code="WH-FAR").values_list("kind", "quantity")
    )
    assert (MovementKind.RETURN, 2) in kinds
    assert (MovementKind.DAMAGE, -2) in kinds
    credit = StoreCreditAccount.objects.get(email=customer.email.lower())
    assert credit.balance == Decimal(order["total"])
    # Recorded against the card payment it gives back, as store credit, not to the card.
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.refunded_amount == Decimal(order["total"])
    assert list(
        Refund.objects.filter(ret__number=body["number"]).values_list(
            "kind", "payment_id", "amount"
        )
    ) == [("store_credit", payment.pk, Decimal(order["total"]))]
    twice = staff.post(f"{RETURNS}{number}/receive/", {"location": "WH-FAR"}, format="json")
    assert twice.status_code == 409


def test_scoping_other_customers_returns_are_404(network, me, them, customer, staff):
    stock("TEE", "WH-NEAR", 1)
    order = place(me, ship_body(("TEE", 1), email=customer.email))
    hand_over(staff, order)
    # Another customer cannot return my order, nor see my return.
    assert (
        them.post(RETURNS, return_body(order, (0, 1), location=None), format="json").status_code
        == 404
    )
    number = me.post(RETURNS, return_body(order, (0, 1), location=None), format="json").json()[
        "number"
    ]
    assert them.get(f"{RETURNS}{number}/").status_code == 404
    assert me.get(f"{RETURNS}{number}/").status_code == 200
    assert them.get(RETURNS).json()["count"] == 0
    assert me.get(RETURNS).json()["count"] == 1


def test_a_pos_terminal_takes_returns_only_at_its_store(network, storefront, staff, till):
    stock("TEE", "WH-NEAR", 1)
    order = place(storefront, ship_body(("TEE", 1)))
    hand_over(staff, order)
    response = till.post(RETURNS, return_body(order, (0, 1), location="STORE-AMS"), format="json")
    assert response.status_code == 404
    assert not Return.objects.exists()


def test_the_slip_shows_the_number_as_a_qr_code_and_scanning_opens_it(
    network, me, customer, staff, api_for
):
    stock("TEE", "WH-NEAR", 1)
    order = place(me, ship_body(("TEE", 1), email=customer.email))
    hand_over(staff, order)
    number = me.post(
        RETURNS, return_body(order, (0, 1), location="STORE-AMS"), format="json"
    ).json()["number"]
    slip = me.get(f"{RETURNS}{number}/slip/")
    assert slip.status_code == 200
    assert slip["Content-Type"].startswith("text/html")
    html = slip.content.decode()
    assert "<svg" in html
    assert number in html
    pdf = me.get(f"{RETURNS}{number}/slip/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert f"Return {number}".encode() in pdf.content
    # A warehouse that was not named scans the code (the number) and opens it to receive.
    scanner = api_for("store_staff", locations=["WH-FAR"], name="wh-far")
    assert scanner.get(f"{RETURNS}{number}/").json()["status"] == "requested"
    assert (
        scanner.post(
            f"{RETURNS}{number}/receive/", {"location": "WH-FAR"}, format="json"
        ).status_code
        == 200
    )
    assert (
        api_for("store_staff", locations=["STORE-UTR"], name="utr")
        .get(f"{RETURNS}{number}/")
        .status_code
        == 404
    )  # received elsewhere: no longer theirs to open


def test_a_cash_sale_is_refunded_as_cash_at_another_till(network, api_for):
    stock("TEE", "STORE-AMS", 3)
    amsterdam = api_for("pos", locations=["STORE-AMS"], name="ams")
    sale = amsterdam.post(
        "/api/v1/pos/sales/",
        {
            "lines": [{"sku": "TEE", "quantity": 2}],
            "tenders": [{"method": "cash", "amount": "50.00"}],
        },
        format="json",
    )
    assert sale.status_code == 201, sale.json()
    order = sale.json()
    utrecht = api_for("pos", locations=["STORE-UTR"], name="utr")
    response = utrecht.post(RETURNS, return_body(order, (0, 1)), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["refunded_to_tender"] == "20.00"
    cash = Payment.objects.get(order__number=order["number"])
    assert (cash.method, cash.refunded_amount) == ("cash", Decimal("20.00"))
    assert level("TEE", "STORE-UTR").on_hand == 1
    assert Order.objects.get(number=order["number"]).status == OrderStatus.PARTIALLY_RETURNED


def test_store_credit_from_a_return_pays_a_pos_sale_and_comes_back_when_it_is_returned(
    network, storefront, staff, api_for, customer
):
    stock("TEE", "WH-NEAR", 1)
    stock("TEE", "STORE-AMS", 1)
    order = place(storefront, ship_body(("TEE", 1), email=customer.email))
    hand_over(staff, order)
    till = api_for("pos", locations=["STORE-AMS"], name="ams")
    credited = till.post(
        RETURNS,
        return_body(order, (0, 1), location="STORE-AMS", refund_method="store_credit"),
        format="json",
    )
    assert credited.status_code == 201, credited.json()
    credit = StoreCreditAccount.objects.get(email=customer.email.lower())
    assert credit.balance == Decimal("20.00")
    sale = till.post(
        "/api/v1/pos/sales/",
        {
            "lines": [{"sku": "TEE", "quantity": 1}],
            "customer": customer.pk,
            "tenders": [{"method": "store_credit", "amount": "20.00"}],
        },
        format="json",
    )
    assert sale.status_code == 201, sale.json()
    credit.refresh_from_db()
    assert credit.balance == Decimal("0.00")
    # Store credit cannot take money back as a tender: the return gives store credit again.
    back = till.post(RETURNS, return_body(sale.json(), (0, 1), location="STORE-AMS"), format="json")
    assert back.status_code == 201, back.json()
    assert back.json()["refunded_to_store_credit"] == "20.00"
    credit.refresh_from_db()
    assert credit.balance == Decimal("20.00")
    assert sum(credit.entries.values_list("amount", flat=True)) == credit.balance


def test_a_till_replaying_a_return_with_its_idempotency_key_returns_once(
    network, storefront, staff, till
):
    stock("TEE", "WH-NEAR", 2)
    order = place(storefront, ship_body(("TEE", 2)))
    hand_over(staff, order)
    body = return_body(order, (0, 1))
    first = till.post(RETURNS, body, format="json", HTTP_IDEMPOTENCY_KEY="till-42")
    again = till.post(RETURNS, body, format="json", HTTP_IDEMPOTENCY_KEY="till-42")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Return.objects.count() == 1
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == Decimal(
        first.json()["refund_total"]
    )


def test_a_requested_return_withdrawn_frees_its_units(network, me, them, customer, staff):
    stock("TEE", "WH-NEAR", 1)
    order = place(me, ship_body(("TEE", 1), email=customer.email))
    hand_over(staff, order)
    number = me.post(RETURNS, return_body(order, (0, 1), location=None), format="json").json()[
        "number"
    ]
    assert them.post(f"{RETURNS}{number}/cancel/").status_code == 404
    withdrawn = me.post(f"{RETURNS}{number}/cancel/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "cancelled"
    assert me.post(f"{RETURNS}{number}/cancel/").status_code == 409
    again = me.post(RETURNS, return_body(order, (0, 1), location=None), format="json")
    assert again.status_code == 201
