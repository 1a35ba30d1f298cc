"""The loyalty books' checks (``points_discrepancies``, ``store_credit_discrepancies``): empty
after real work through the services, and naming the account when a raw UPDATE went around
them."""

from decimal import Decimal

import pytest
from django.db.models import F

from loyalty import services
from loyalty.models import LoyaltyAccount, StoreCreditAccount
from loyalty.selectors import points_discrepancies, store_credit_discrepancies
from tests.loyalty.conftest import fund

D = Decimal


@pytest.fixture
def books(account, other_customer):
    """Anna earned, redeemed and was adjusted; store credit of 10.10 + 20.20 - 5.05 for Anna
    (sums a float would get wrong) and 7.00 for a guest."""
    services.earn_points(
        reference="order:1", customer_id=account.customer_id, lines=[(None, D("250.00"))]
    )
    services.redeem_points(points=200, reference="order:2", customer_id=account.customer_id)
    fund(account, 30)
    for amount, reference in ((D("10.10"), "r:1"), (D("20.20"), "r:2")):
        services.issue_store_credit(
            email=account.customer.email, amount=amount, currency="EUR", reference=reference
        )
    services.spend_store_credit(
        email=account.customer.email, amount=D("5.05"), currency="EUR", reference="s:1"
    )
    services.issue_store_credit(
        email="guest@example.com", amount=D("7.00"), currency="EUR", reference="r:3"
    )
    account.refresh_from_db()
    assert account.points == 80
    return account


def test_books_kept_by_the_services_balance_in_one_query_each(books, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert points_discrepancies() == []
    with django_assert_num_queries(1):
        assert store_credit_discrepancies() == []


def test_a_balance_changed_without_a_ledger_entry_is_named(books):
    LoyaltyAccount.objects.filter(pk=books.pk).update(points=F("points") + 20)
    card = books.card_number
    assert points_discrepancies() == [
        f"account {card}: points 100 != sum of its ledger 80",
        f"account {card}: points 100 != sum of its open lots 80",
    ]


def test_points_owed_changed_without_a_ledger_entry_is_named(books):
    LoyaltyAccount.objects.filter(pk=books.pk).update(points_owed=5)
    assert points_discrepancies() == [
        f"account {books.card_number}: points owed 5 != sum of its owed changes 0"
    ]


def test_a_store_credit_balance_changed_without_an_entry_is_named(books):
    StoreCreditAccount.objects.filter(email="guest@example.com").update(balance=D("9.99"))
    assert store_credit_discrepancies() == [
        "store credit guest@example.com: balance 9.99 != sum of its entries 7.00"
    ]
