"""``manage.py check_books``: progress per check, "The books balance." and exit 0 when they
do; every discrepancy listed and exit 1 when they do not."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory import services as inventory
from inventory.models import StockLevel
from loyalty import services as loyalty
from tests.factories import SKUFactory


@pytest.fixture
def books(store):
    SKUFactory(sku="TEE-RED-M")
    inventory.receive_stock(sku="TEE-RED-M", location=store.code, quantity=10)
    loyalty.issue_store_credit(
        email="guest@example.com", amount=Decimal("7.00"), currency="EUR", reference="r:1"
    )


def run(capsys, *args):
    call_command("check_books", *args)
    return capsys.readouterr().out


def without_timings(out):
    return re.sub(r"\(\d+\.\d s\)", "(# s)", out)


def test_balanced_books_print_each_check_and_exit_0(books, capsys):
    assert without_timings(run(capsys)).splitlines() == [
        "Checking stock ... ok (# s)",
        "Checking points ... ok (# s)",
        "Checking store credit ... ok (# s)",
        "The books balance.",
    ]


def test_a_discrepancy_is_listed_and_the_command_exits_1(books, capsys):
    StockLevel.objects.update(on_hand=11)
    with pytest.raises(CommandError, match=r"^1 discrepancy: the books do not balance") as raised:
        run(capsys)
    assert raised.value.returncode == 1
    assert without_timings(capsys.readouterr().out).splitlines() == [
        "Checking stock ... 1 discrepancy (# s)",
        "  TEE-RED-M@STORE-001: on hand 11 != sum of its ledger 10",
        "Checking points ... ok (# s)",
        "Checking store credit ... ok (# s)",
    ]
