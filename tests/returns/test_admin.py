"""Returns admin: read-only returns with lines and refunds inline; the return-rate report as
a table and a chart; the policy pages."""

from decimal import Decimal

import pytest
from django.utils import timezone

from returns.models import Return
from returns.reports import return_rates
from tests.orders.conftest import ship_body, stock
from tests.returns.conftest import RETURNS, hand_over, place, return_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(network, storefront, staff, till):
    stock("TEE", "WH-NEAR", 4)
    stock("MUG", "WH-NEAR", 4)
    order = place(storefront, ship_body(("TEE", 4), ("MUG", 2)))
    hand_over(staff, order)
    response = till.post(RETURNS, return_body(order, (0, 1)), format="json")
    assert response.status_code == 201
    return response.json()


def test_return_rates_by_sku_reason_and_location(returned):
    today = timezone.now()
    start, end = today - timezone.timedelta(days=1), today + timezone.timedelta(days=1)
    by_sku = {row["key"]: row for row in return_rates(start=start, end=end, by="sku")}
    assert (by_sku["TEE"]["sold"], by_sku["TEE"]["returned"]) == (4, 1)
    assert by_sku["TEE"]["rate"] == Decimal("25.0")
    assert by_sku["MUG"]["returned"] == 0
    by_reason = return_rates(start=start, end=end, by="reason")
    assert [(r["key"], r["sold"], r["returned"]) for r in by_reason] == [("wrong_size", 6, 1)]
    by_location = {row["key"]: row for row in return_rates(start=start, end=end, by="location")}
    assert by_location["STORE-UTR"]["returned"] == 1
    assert by_location["STORE-UTR"]["rate"] is None  # nothing sold there
    assert return_rates(start=start, end=end, by="channel")[0]["key"] == "web"
    assert return_rates(start=start, end=end, by="category")[0]["key"] == "apparel"


def test_admin_pages(admin_client, returned):
    ret = Return.objects.get(number=returned["number"])
    assert admin_client.get("/admin/returns/return/").status_code == 200
    page = admin_client.get(f"/admin/returns/return/{ret.pk}/change/")
    assert page.status_code == 200
    assert b"wrong_size" in page.content
    day = timezone.localdate().isoformat()
    report = admin_client.get(f"/admin/returns/return/report/?start={day}&end={day}&by=sku")
    assert report.status_code == 200
    assert b"<svg" in report.content
    assert b"25.0 %" in report.content
    for page in ("returnpolicy", "returnwindow", "finalsale", "returnreason"):
        assert admin_client.get(f"/admin/returns/{page}/").status_code == 200
    assert admin_client.get("/admin/loyalty/storecreditaccount/").status_code == 200


def test_the_report_command_prints_the_table(returned):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    day = timezone.localdate().isoformat()
    call_command("return_rates", "--start", day, "--end", day, "--by", "sku", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["sku", "sold", "returned"]
    assert lines[1].split()[:4] == ["TEE", "4", "1", "25.0"]
