"""Hypothesis: a sale paid with several tenders (card, cash, store credit) and returned in
random partial returns, at the till or received later at a warehouse, is refunded to those
tenders in proportion to what each paid, exactly to the cent once everything is back. Card
money goes back to the card; cash only at a till (away from one it is store credit); a store
credit tender goes back as store credit."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.money import ZERO
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from orders.models import OrderLine, Payment
from orders.services.pos import SaleLine, SaleRequest, TenderInput, sell
from returns import services
from returns.models import Refund, RefundKind
from tests.orders.conftest import stock

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


class Rollback(Exception):
    pass


sales = st.fixed_dictionaries(
    {
        "lines": st.lists(
            st.tuples(st.sampled_from(["TEE", "MUG", "SHOE", "CAP"]), st.integers(1, 4)),
            min_size=1,
            max_size=4,
            unique_by=lambda line: line[0],
        ),
        # Shares of the total for card and store credit (cents); cash pays the rest.
        "card": st.integers(0, 100),
        "credit": st.integers(0, 100),
        "steps": st.data(),
    }
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=sales)
def test_split_tender_refunds_stay_in_proportion(network, customer, spec):
    try:
        with transaction.atomic():
            _one_sale(customer, spec)
            raise Rollback
    except Rollback:
        pass


def _tenders(total: Decimal, card_share: int, credit_share: int) -> list[TenderInput]:
    card = (total * card_share / 200).quantize(CENT)
    credit = (total * credit_share / 200).quantize(CENT)
    cash = total - card - credit
    tenders = [
        TenderInput("card", card, "T-1") if card else None,
        TenderInput("store_credit", credit) if credit else None,
        TenderInput("cash", cash) if cash else None,
    ]
    return [t for t in tenders if t]


def _one_sale(customer, spec):
    for sku, _ in spec["lines"]:
        stock(sku, "STORE-UTR", 10)
    lines = [SaleLine(quantity=n, sku=sku) for sku, n in spec["lines"]]
    loyalty_services.issue_store_credit(
        email=customer.email,
        customer_id=customer.pk,
        amount=Decimal("1000.00"),
        currency="EUR",
        reference="gift",
    )
    # Price it once with a cash tender to learn the total, then pay it split.
    with transaction.atomic():
        probe = sell(
            request=SaleRequest(
                store="STORE-UTR",
                lines=lines,
                tenders=[TenderInput("cash", Decimal("100000"))],
                customer_id=customer.pk,
            )
        )
        total = probe.total
        transaction.set_rollback(True)
    order = sell(
        request=SaleRequest(
            store="STORE-UTR",
            lines=lines,
            tenders=_tenders(total, spec["card"], spec["credit"]),
            customer_id=customer.pk,
        )
    )
    payments = {p.pk: p for p in Payment.objects.filter(order=order)}
    paid = sum((p.captured_amount for p in payments.values()), ZERO)
    assert paid == order.total

    draw = spec["steps"].draw
    chunks = []
    for line in OrderLine.objects.filter(order=order).order_by("position"):
        back = draw(st.integers(0, line.quantity))
        while back:
            n = draw(st.integers(1, back))
            chunks.append((line, n))
            back -= n
    chunks = draw(st.permutations(chunks))
    credit_before = loyalty_selectors.store_credit_balance(customer_id=customer.pk)
    money = ZERO
    for step, (line, n) in enumerate(chunks, start=1):
        at_till = draw(st.booleans())
        ret = services.create_return(
            order=order,
            lines=[services.ReturnLineInput(order_line=line.pk, quantity=n, reason="other")],
            return_location="STORE-UTR",
            receive_now=at_till,
            actor="test",
        )
        if not at_till:
            ret = services.receive_return(number=ret.number, location="WH-NEAR", actor="test")
        money += ret.refund_total
        for part in Refund.objects.filter(ret=ret).exclude(kind=RefundKind.POINTS):
            method = payments[part.payment_id].method
            to_tender = method == "card" or (method == "cash" and at_till)
            assert part.kind == (RefundKind.TENDER if to_tender else RefundKind.STORE_CREDIT)
            assert part.method == method
        # Each tender has had back its share of everything refunded so far, to within a
        # cent per refund made (each refund is split to the cent).
        for payment in Payment.objects.filter(order=order):
            ideal = money * payments[payment.pk].captured_amount / paid
            assert abs(payment.refunded_amount - ideal) <= step * CENT
            assert payment.refunded_amount <= payment.captured_amount
    credits = sum(
        (r.amount for r in Refund.objects.filter(ret__order=order, kind=RefundKind.STORE_CREDIT)),
        ZERO,
    )
    assert loyalty_selectors.store_credit_balance(customer_id=customer.pk) == (
        credit_before + credits
    )
    returned_all = all(
        line.returned_quantity == line.quantity for line in OrderLine.objects.filter(order=order)
    )
    if returned_all:
        assert money == paid
        for payment in Payment.objects.filter(order=order):
            assert payment.refunded_amount == payment.captured_amount
