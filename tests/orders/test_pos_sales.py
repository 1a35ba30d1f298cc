"""POS sales (API.md, "POS"): priced like everywhere else, stock taken at once and never
refused, tenders covering the total, points, receipts, staff overrides, store scoping."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api.roles import Role
from inventory.models import StockMovement, StockShortfall
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from loyalty.models import StoreCreditEntry
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentStatus,
    ManagerApprovalCode,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    PosSale,
    PriceOverride,
)
from pricing import services as pricing_services
from tests.orders.conftest import ADDRESS, fund, level, pickup_body, ship_body, stock

SALES = "/api/v1/pos/sales/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def till(api_for, network):
    return api_for(Role.POS, locations=["STORE-AMS"], name="till ams")


@pytest.fixture
def other_till(api_for, network):
    return api_for(Role.POS, locations=["STORE-UTR"], name="till utr")


def sale_body(*lines, tenders=None, **extra):
    return {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "tenders": tenders or [{"method": "cash", "amount": "100.00"}],
        **extra,
    }


def sell(client, body, **headers):
    response = client.post(SALES, body, format="json", **headers)
    assert response.status_code == 201, response.json()
    return response.json()


def nothing_written(movements_before: int) -> None:
    assert Order.objects.count() == 0
    assert PosSale.objects.count() == 0
    assert StockMovement.objects.count() == movements_before


def test_a_sale_is_a_completed_pos_order_with_stock_taken_and_change(till, network):
    stock("TEE", "STORE-AMS", 5)
    body = sell(
        till, sale_body(("TEE", 2), ("MUG", 1), tenders=[{"method": "cash", "amount": "50.00"}])
    )
    assert body["channel"] == "pos"
    assert body["status"] == "completed"
    assert body["total"] == "48.50"
    assert body["receipt"]["change"] == "1.50"
    assert body["receipt"]["tenders"] == [{"method": "cash", "amount": "50.00", "reference": ""}]
    assert [p["amount"] for p in body["payments"]] == ["48.50"]
    assert (
        body["fulfilments"][0]["pickup_code"] is None or body["fulfilments"][0]["pickup_code"] == ""
    )
    assert level("TEE", "STORE-AMS").on_hand == 3
    # MUG was not on record: the gap is a discrepancy, then the sale; never below zero.
    mug = list(
        StockMovement.objects.filter(sku__sku="MUG", location__code="STORE-AMS")
        .order_by("id")
        .values_list("kind", "quantity", "on_hand_after")
    )
    assert mug == [("discrepancy", 1, 1), ("sale", -1, 0)]


def test_the_same_basket_prices_the_same_as_cart_quote_web_order_and_pos_sale(
    storefront, till, network, customer
):
    for sku in ("TEE", "MUG", "CAP"):
        stock(sku, "WH-NEAR", 10)
        stock(sku, "STORE-AMS", 10)
    pricing_services.create_promotion(
        name="Tees 10% off", kind="percent_off", value=Decimal("10"), skus=["TEE"]
    )
    lines = [("TEE", 3), ("MUG", 2), ("CAP", 1)]
    quote = storefront.post(
        "/api/v1/pricing/quote/",
        {"channel": "web", "lines": [{"sku": s, "quantity": q} for s, q in lines]},
        format="json",
    ).json()
    cart = storefront.post("/api/v1/carts/", {"channel": "web"}, format="json").json()
    for sku, quantity in lines:
        cart = storefront.post(
            f"/api/v1/carts/{cart['id']}/lines/", {"sku": sku, "quantity": quantity}
        ).json()
    order = storefront.post("/api/v1/orders/", ship_body(*lines), format="json").json()
    sale = sell(
        till,
        sale_body(
            *lines, tenders=[{"method": "card", "amount": quote["total"], "reference": "t-1"}]
        ),
    )
    totals = {
        name: {quote[name], cart[name], order[name], sale[name]}
        for name in ("subtotal", "discount_total", "tax_total", "total")
    }
    assert all(len(values) == 1 for values in totals.values()), totals
    assert totals["total"] == {"83.00"}
    assert totals["discount_total"] == {"6.00"}


def test_occurred_at_is_kept_on_the_order_and_the_ledger(till, network):
    when = "2026-11-20T10:15:00+01:00"
    body = sell(till, sale_body(("CAP", 1), occurred_at=when))
    order = Order.objects.get(number=body["number"])
    expected = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
    assert order.created_at == expected
    assert order.pos_sale.occurred_at == expected
    assert set(
        StockMovement.objects.filter(reference=f"order:{body['number']}").values_list(
            "occurred_at", flat=True
        )
    ) == {expected}


def test_lines_by_barcode_and_points_earned_by_card(till, network, customer):
    from inventory.models import SKU

    SKU.objects.filter(sku="SHOE").update(barcode="8712345678906")
    body = sell(
        till,
        {
            "lines": [{"barcode": "8712345678906", "quantity": 1}],
            "card_number": customer.account.card_number,
            "tenders": [{"method": "card", "amount": "80.00", "reference": "t-9"}],
        },
    )
    assert body["customer"] == customer.pk
    assert body["lines"][0]["sku"] == "SHOE"
    net = Decimal("80.00") - Decimal(body["lines"][0]["tax_total"])
    assert body["receipt"]["points_earned"] == int(net)
    assert body["receipt"]["points_balance"] == int(net)


def test_points_pay_part_and_the_rest_is_exact(till, network, customer):
    fund(customer, 1000)
    loyalty_services.issue_store_credit(
        email=customer.email, amount=Decimal("15.00"), currency="EUR", reference="return:R-1"
    )
    body = sell(
        till,
        {
            "lines": [{"sku": "TEE", "quantity": 1}],
            "customer": customer.pk,
            "loyalty": {"card_number": customer.account.card_number, "redeem_points": 500},
            "tenders": [
                {"method": "points", "amount": "5.00"},
                {"method": "store_credit", "amount": "15.00", "reference": "SC-1"},
            ],
        },
    )
    assert body["points_redeemed"] == 500
    assert body["amount_due"] == "15.00"
    assert [t["method"] for t in body["receipt"]["tenders"]] == ["store_credit", "points"]
    assert body["receipt"]["change"] == "0.00"
    assert loyalty_selectors.store_credit_balance(customer_id=customer.pk) == Decimal("0.00")


def test_store_credit_pays_and_the_customers_balance_goes_down_exactly(till, network, customer):
    stock("TEE", "STORE-AMS", 5)
    loyalty_services.issue_store_credit(
        email=customer.email,
        customer_id=customer.pk,
        amount=Decimal("50.00"),
        currency="EUR",
        reference="return:R-000001",
    )
    body = sell(
        till,
        sale_body(
            ("TEE", 1),
            customer=customer.pk,
            tenders=[
                {"method": "store_credit", "amount": "12.50"},
                {"method": "cash", "amount": "10.00"},
            ],
        ),
    )
    assert body["total"] == "20.00"
    assert body["receipt"]["change"] == "2.50"
    assert loyalty_selectors.store_credit_balance(email=customer.email) == Decimal("37.50")
    spend = StoreCreditEntry.objects.get(reference=f"pos:{body['number']}:store_credit")
    assert spend.amount == Decimal("-12.50")
    assert level("TEE", "STORE-AMS").on_hand == 4


def test_a_guest_names_the_credit_by_email_in_the_tender_reference(till, network):
    loyalty_services.issue_store_credit(
        email="Guest@Example.com", amount=Decimal("20.00"), currency="EUR", reference="return:R-2"
    )
    tender = {"method": "store_credit", "amount": "20.00", "reference": "guest@example.com"}
    body = sell(till, sale_body(("TEE", 1), tenders=[tender]))
    assert loyalty_selectors.store_credit_balance(email="guest@example.com") == Decimal("0.00")
    assert Order.objects.get(number=body["number"]).email == "guest@example.com"
    before = StockMovement.objects.count()
    response = till.post(
        SALES,
        sale_body(("TEE", 1), tenders=[{**tender, "reference": "not an address"}]),
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "tenders.0.reference"
    assert Order.objects.count() == 1
    assert StockMovement.objects.count() == before


@pytest.mark.parametrize("credit", [None, "19.99"])
def test_short_store_credit_is_409_and_nothing_is_written(till, network, customer, credit):
    stock("TEE", "STORE-AMS", 5)
    if credit:
        loyalty_services.issue_store_credit(
            email=customer.email, amount=Decimal(credit), currency="EUR", reference="return:R-3"
        )
    entries = StoreCreditEntry.objects.count()
    before = StockMovement.objects.count()
    response = till.post(
        SALES,
        sale_body(
            ("TEE", 1),
            card_number=customer.account.card_number,
            tenders=[{"method": "store_credit", "amount": "20.00"}],
        ),
        format="json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "insufficient_store_credit"
    assert response.json()["errors"][0]["attr"] == "tenders.0.amount"
    nothing_written(before)
    assert level("TEE", "STORE-AMS").on_hand == 5
    assert StoreCreditEntry.objects.count() == entries
    assert loyalty_selectors.store_credit_balance(email=customer.email) == Decimal(credit or "0")


@pytest.mark.parametrize(
    ("change", "attr", "code"),
    [
        (
            lambda b: b.update(tenders=[{"method": "cash", "amount": "10.00"}]),
            "tenders",
            "tenders_do_not_cover",
        ),
        (
            lambda b: b.update(tenders=[{"method": "card", "amount": "25.00", "reference": "x"}]),
            "tenders",
            "tenders_exceed_total",
        ),
        (
            lambda b: b.update(tenders=[{"method": "card", "amount": "20.00"}]),
            "tenders.0.reference",
            "required",
        ),
        (
            lambda b: b.update(lines=[{"barcode": "0000000000000", "quantity": 1}]),
            "lines.0.barcode",
            "unknown_barcode",
        ),
        (lambda b: b["lines"][0].update(quantity=-1), "lines.0.quantity", "min_value"),
        (lambda b: b["lines"][0].update(sku="NOPE"), "lines.0.sku", "unknown_sku"),
        (lambda b: b.update(lines=[]), "lines", "required"),
        (
            lambda b: b["lines"][0].update(discount_percent="30", reason="damaged box"),
            "lines.0.approval_code",
            "approval_required",
        ),
        (
            lambda b: b["lines"][0].update(
                discount_percent="30", reason="damaged box", approval_code="wrong"
            ),
            "lines.0.approval_code",
            "invalid_approval_code",
        ),
        (lambda b: b["lines"][0].update(unit_price="15.00"), "lines.0.reason", "required"),
        (lambda b: b.update(card_number="2700000000003"), "card_number", "unknown_card"),
    ],
)
def test_bad_input_is_a_problem_and_nothing_is_written(till, network, change, attr, code):
    ManagerApprovalCode.objects.create(
        location=network.store, manager="Maria", code_hash=make_password("4321")
    )
    stock("TEE", "STORE-AMS", 5)
    before = StockMovement.objects.count()
    body = sale_body(("TEE", 1), tenders=[{"method": "cash", "amount": "20.00"}])
    change(body)
    response = till.post(SALES, body, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert {"attr": attr, "code": code} in [
        {"attr": e["attr"], "code": e["code"]} for e in response.json()["errors"]
    ]
    nothing_written(before)


def test_overrides_need_a_reason_and_above_the_limit_an_approval_code(till, network, settings):
    settings.POS_OVERRIDE_APPROVAL_PERCENT = 20
    ManagerApprovalCode.objects.create(
        location=network.store, manager="Maria", code_hash=make_password("4321")
    )
    body = sell(
        till,
        {
            "lines": [
                {"sku": "TEE", "quantity": 1, "unit_price": "18.00", "reason": "price match"},
                {
                    "sku": "SHOE",
                    "quantity": 1,
                    "discount_percent": "50",
                    "reason": "display model",
                    "approval_code": "4321",
                },
            ],
            "tenders": [{"method": "cash", "amount": "58.00"}],
        },
    )
    assert body["total"] == "58.00"
    assert body["receipt"]["lines"][1]["list_price"] == "80.00"
    overrides = list(
        PriceOverride.objects.order_by("sku").values_list(
            "sku", "list_price", "unit_price", "percent", "reason", "approved_by"
        )
    )
    assert overrides == [
        ("SHOE", Decimal("80.00"), Decimal("40.00"), Decimal("50.00"), "display model", "Maria"),
        ("TEE", Decimal("20.00"), Decimal("18.00"), Decimal("10.00"), "price match", ""),
    ]


def test_a_sale_of_the_last_unit_promised_to_a_pickup_repairs_that_order(
    till, storefront, network, django_capture_on_commit_callbacks
):
    stock("TEE", "STORE-AMS", 1)
    pickup = storefront.post("/api/v1/orders/", pickup_body("STORE-AMS", ("TEE", 1)), format="json")
    assert pickup.status_code == 201, pickup.json()
    number, fid = pickup.json()["number"], pickup.json()["fulfilments"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        sale = sell(till, sale_body(("TEE", 1)))
    assert (level("TEE", "STORE-AMS").on_hand, level("TEE", "STORE-AMS").reserved) == (0, 0)
    kinds = list(
        StockMovement.objects.filter(sku__sku="TEE", location__code="STORE-AMS")
        .order_by("id")
        .values_list("kind", "reference")
    )
    assert kinds[-2:] == [
        ("sale", f"order:{sale['number']}"),
        ("shortfall", f"order:{sale['number']}"),
    ]
    assert StockShortfall.objects.get().resolved_at is not None
    assert OrderEvent.objects.filter(order__number=number, kind=EventKind.SHORTFALL).exists()
    # Nobody else has one: the unit is cancelled (and would be refunded).
    assert OrderLine.objects.get(order__number=number).cancelled_quantity == 1
    assert Order.objects.get(number=number).status == "cancelled"
    assert Fulfilment.objects.get(pk=fid).status in {
        FulfilmentStatus.PENDING,
        FulfilmentStatus.CANCELLED,
    }


def test_a_terminal_sees_only_its_own_stores_sales_and_never_pickup_codes(
    till, other_till, storefront, network
):
    sale = sell(till, sale_body(("CAP", 1)))
    receipt = f"{SALES}{sale['number']}/receipt/"
    assert till.get(receipt).status_code == 200
    assert other_till.get(receipt).status_code == 404
    assert other_till.get(f"{receipt}print/").status_code == 404
    assert other_till.post(f"{receipt}email/", {"email": "x@example.com"}).status_code == 404
    stock("TEE", "STORE-AMS", 2)
    pickup = storefront.post("/api/v1/orders/", pickup_body("STORE-AMS", ("TEE", 1)), format="json")
    seen = till.get(f"/api/v1/orders/{pickup.json()['number']}/").json()
    assert all(not f.get("pickup_code") for f in seen["fulfilments"])


def test_receipts_as_json_page_and_mail(
    till, network, customer, django_capture_on_commit_callbacks
):
    sale = sell(till, sale_body(("CAP", 2), customer=customer.pk))
    receipt = f"{SALES}{sale['number']}/receipt/"
    data = till.get(receipt).json()
    assert data["total"] == "24.00"
    assert data["change"] == "76.00"
    assert data["store"]["code"] == "STORE-AMS"
    page = till.get(f"{receipt}print/")
    assert page["Content-Type"].startswith("text/html")
    assert sale["number"] in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = till.post(f"{receipt}email/", {}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["to"] == customer.email
    [message] = mail.outbox
    assert sale["number"] in message.subject
    assert "24.00" in message.body
    assert Notification.objects.get(kind="receipt").status == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        till.post(f"{receipt}email/", {}, format="json")
    assert len(mail.outbox) == 1


def test_buy_in_store_from_a_customers_online_cart(till, me, customer, network):
    cart = me.post("/api/v1/carts/", {"channel": "web"}, format="json").json()
    me.post(f"/api/v1/carts/{cart['id']}/lines/", {"sku": "TEE", "quantity": 2})
    found = till.get("/api/v1/carts/", {"customer": customer.pk}).json()["results"]
    assert [c["id"] for c in found] == [cart["id"]]
    body = sell(till, {"cart": cart["id"], "tenders": [{"method": "cash", "amount": "40.00"}]})
    assert body["customer"] == customer.pk
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("TEE", 2)]
    assert me.get(f"/api/v1/carts/{cart['id']}/").json()["status"] == "ordered"


def test_endless_aisle_ships_from_the_network_at_the_stores_prices(till, network, customer):
    stock("SHOE", "WH-NEAR", 3)
    body = {
        "channel": "pos",
        "customer": customer.pk,
        "lines": [{"sku": "SHOE", "quantity": 1}],
        "fulfilment": {"method": "ship", "address": dict(ADDRESS)},
        "payment": {"method": "card", "reference": "t-2"},
    }
    response = till.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["channel"] == "pos"
    assert order["status"] == "placed"
    assert order["fulfilments"][0]["location"] == "WH-NEAR"
    assert order["total"] == "80.00"


def test_a_sale_runs_a_constant_number_of_queries(till, network, customer):
    stock("TEE", "STORE-AMS", 100)
    stock("MUG", "STORE-AMS", 100)
    body = sale_body(("TEE", 1), ("MUG", 1), customer=customer.pk)
    sell(till, body)  # warm up
    with CaptureQueriesContext(connection) as first:
        sell(till, body)
    for _i in range(20):
        stock("TEE", "STORE-AMS", 1)  # a longer ledger, more orders
        sell(till, sale_body(("TEE", 1)))
    with CaptureQueriesContext(connection) as later:
        sell(till, body)
    assert len(first.captured_queries) == len(later.captured_queries)


def test_a_terminal_sells_only_at_its_own_store(till, other_till, storefront, customer, network):
    stock("CAP", "STORE-UTR", 3)
    body = sell(till, sale_body(("CAP", 1), store="STORE-UTR", location="STORE-UTR"))
    assert PosSale.objects.get(order__number=body["number"]).location.code == "STORE-AMS"
    assert level("CAP", "STORE-UTR").on_hand == 3
    cart = storefront.post(
        "/api/v1/carts/",
        {"channel": "web", "customer": customer.pk, "location": "STORE-UTR"},
        format="json",
    ).json()
    storefront.post(f"/api/v1/carts/{cart['id']}/lines/", {"sku": "CAP", "quantity": 1})
    refused = till.post(
        SALES,
        {"cart": cart["id"], "tenders": [{"method": "cash", "amount": "12.00"}]},
        format="json",
    )
    assert refused.status_code == 404
    assert Order.objects.count() == 1


def test_a_receipt_is_mailed_when_the_customer_asks_at_the_sale(
    till, network, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = sell(till, sale_body(("MUG", 1), receipt_email="guest@example.com"))
    [message] = mail.outbox
    assert message.to == ["guest@example.com"]
    assert body["number"] in message.subject
    assert Notification.objects.get().key == f"{body['number']}:receipt:guest@example.com"
