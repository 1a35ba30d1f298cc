"""The click-and-collect screens through Django's test client: sign-in and store choice,
store scoping (another store's pages are 404), queue, pick by scanning, short pick, ready
shelf, handover with the pickup code; no page shows a pickup code; CSRF on every form."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.api.models import ApiClient
from config.api.roles import Role
from orders.models import (
    Fulfilment,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    Order,
    OrderLine,
    OrderStatus,
)
from tests.orders.screens_helpers import PASSWORD, barcode, make_staff, place_pickup


@pytest.fixture
def ams(network):
    user = make_staff("anouk", "STORE-AMS")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def utr(network):
    user = make_staff("ursula", "STORE-UTR")
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def scan(client, order, code, *, htmx=False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        f"/store/STORE-AMS/pick/{order['fulfilment']}/scan/", {"code": code}, **headers
    )


def test_create_store_staff_binds_the_user_to_its_locations(network):
    out = io.StringIO()
    call_command(
        "create_store_staff",
        "sam",
        "--location",
        "STORE-AMS",
        "--location",
        "STORE-UTR",
        "--password",
        PASSWORD,
        stdout=out,
    )
    binding = ApiClient.objects.get(user__username="sam")
    assert binding.role == Role.STORE_STAFF
    assert binding.location_codes == ["STORE-AMS", "STORE-UTR"]
    assert "Created store staff sam at STORE-AMS, STORE-UTR." in out.getvalue()
    call_command("create_store_staff", "sam", "--location", "STORE-UTR", stdout=out)
    binding.refresh_from_db()
    assert binding.location_codes == ["STORE-UTR"]
    assert ApiClient.objects.filter(user__username="sam").count() == 1
    with pytest.raises(CommandError, match="Unknown location"):
        call_command("create_store_staff", "sam", "--location", "NOPE", stdout=out)


def test_sign_in_goes_to_the_only_store_and_asks_a_member_of_several(network):
    make_staff("anouk", "STORE-AMS")
    make_staff("sam", "STORE-AMS", "STORE-UTR")
    client = Client()
    response = client.get("/store/")
    assert response.status_code == 302
    assert response["Location"].startswith("/store/login/")
    response = client.post("/store/login/", {"username": "anouk", "password": "wrong"})
    assert response.status_code == 200
    assert "Wrong username or password." in text(response)
    response = client.post("/store/login/", {"username": "anouk", "password": PASSWORD})
    assert response["Location"] == "/store/"
    assert client.get("/store/")["Location"] == "/store/STORE-AMS/"

    other = Client()
    other.post("/store/login/", {"username": "sam", "password": PASSWORD})
    page = other.get("/store/")
    assert page.status_code == 200
    assert 'href="/store/STORE-AMS/"' in text(page)
    assert 'href="/store/STORE-UTR/"' in text(page)


def test_a_user_who_is_not_store_staff_gets_no_store(network, django_user_model):
    user = django_user_model.objects.create_user("visitor", password=PASSWORD)
    client = Client()
    client.force_login(user)
    assert client.get("/store/").status_code == 403
    assert client.get("/store/STORE-AMS/").status_code == 404


def test_another_stores_pages_are_404(network, storefront, ams, utr):
    theirs = place_pickup(storefront, "STORE-UTR", ("TEE", 1))
    fid = theirs["fulfilment"]
    for path in (
        "/store/STORE-UTR/",
        "/store/STORE-UTR/shelf/",
        "/store/STORE-UTR/handover/",
        f"/store/STORE-UTR/pick/{fid}/",
        # their order through my store's URLs: still 404
        f"/store/STORE-AMS/pick/{fid}/",
        f"/store/STORE-AMS/handover/{fid}/",
    ):
        assert ams.get(path).status_code == 404, path
    for path in (f"/store/STORE-AMS/pick/{fid}/scan/", f"/store/STORE-AMS/pick/{fid}/ready/"):
        assert ams.post(path, {"code": "TEE"}).status_code == 404, path
    response = ams.post(f"/store/STORE-AMS/handover/{fid}/", {"pickup_code": theirs["pickup_code"]})
    assert response.status_code == 404
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.PENDING
    assert theirs["number"] not in text(ams.get("/store/STORE-AMS/"))
    assert theirs["number"] in text(utr.get("/store/STORE-UTR/"))


def test_queue_lists_my_pickups_soonest_first_with_lines_and_overdue(network, storefront, ams):
    first = place_pickup(storefront, "STORE-AMS", ("TEE", 2), ("MUG", 1))
    second = place_pickup(storefront, "STORE-AMS", ("CAP", 1))
    Fulfilment.objects.filter(pk=second["fulfilment"]).update(ready_by="2020-01-01T10:00:00Z")
    page = text(ams.get("/store/STORE-AMS/"))
    assert page.index(second["number"]) < page.index(first["number"])
    assert "2 lines, 3 items" in page
    assert "Overdue" in page
    assert 'hx-trigger="every 10s"' in page
    partial = ams.get("/store/STORE-AMS/", HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial)
    assert first["number"] in text(partial)


def test_pick_by_scanning_then_ready_tells_the_customer(
    network, storefront, ams, django_capture_on_commit_callbacks
):
    order = place_pickup(storefront, "STORE-AMS", ("TEE", 2), ("MUG", 1))
    page = text(ams.get(f"/store/STORE-AMS/pick/{order['fulfilment']}/"))
    assert "Tee item" in page
    assert "SKU TEE" in page
    assert "size: M" in page

    response = scan(ams, order, barcode("TEE"), htmx=True)
    assert "TEE): 1 of 2, 1 to go." in text(response)
    assert Fulfilment.objects.get(pk=order["fulfilment"]).status == FulfilmentStatus.PICKING
    wrong = scan(ams, order, barcode("SHOE"), htmx=True)
    assert f"Wrong item: {barcode('SHOE')} is not on order {order['number']}." in text(wrong)
    assert 'role="alert"' in text(wrong)
    scan(ams, order, barcode("TEE"), htmx=True)
    too_many = scan(ams, order, "TEE", htmx=True)
    assert "Too many" in text(too_many)
    early = ams.post(f"/store/STORE-AMS/pick/{order['fulfilment']}/ready/")
    assert early.status_code == 302
    assert Fulfilment.objects.get(pk=order["fulfilment"]).status == FulfilmentStatus.PICKING

    done = scan(ams, order, "mug")  # no htmx: redirect back with the message
    assert done.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        ready = ams.post(f"/store/STORE-AMS/pick/{order['fulfilment']}/ready/", follow=True)
    assert f"Order {order['number']} is ready for pickup" in text(ready)
    fulfilment = Fulfilment.objects.get(pk=order["fulfilment"])
    assert fulfilment.status == FulfilmentStatus.READY_FOR_PICKUP
    assert [line.picked_quantity for line in fulfilment.lines.order_by("order_line__position")] == [
        2,
        1,
    ]
    assert (
        Notification.objects.filter(
            fulfilment=fulfilment, kind=NotificationKind.READY_FOR_PICKUP
        ).count()
        == 1
    )
    assert order["pickup_code"] in mail.outbox[-1].body  # the customer got the code


def test_cant_find_takes_the_short_pick_path(network, storefront, ams):
    order = place_pickup(storefront, "STORE-AMS", ("TEE", 2), ("MUG", 1))
    fid = order["fulfilment"]
    scan(ams, order, "TEE")
    scan(ams, order, "MUG")
    response = ams.post(
        f"/store/STORE-AMS/pick/{fid}/not-found/", {"sku": "TEE"}, HTTP_HX_REQUEST="true"
    )
    assert "1 not found" in text(response)
    assert "1 item not found will be cancelled and refunded" in text(response)
    ready = ams.post(f"/store/STORE-AMS/pick/{fid}/ready/", follow=True)
    assert "1 unit(s) not found were cancelled and refunded." in text(ready)
    fulfilment = Fulfilment.objects.get(pk=fid)
    assert fulfilment.status == FulfilmentStatus.READY_FOR_PICKUP
    tee = OrderLine.objects.get(order__number=order["number"], sku="TEE")
    assert tee.cancelled_quantity == 1


def test_nothing_found_cancels_the_pickup(network, storefront, ams):
    order = place_pickup(storefront, "STORE-AMS", ("CAP", 1))
    fid = order["fulfilment"]
    ams.post(f"/store/STORE-AMS/pick/{fid}/not-found/", {"sku": "CAP"})
    ready = ams.post(f"/store/STORE-AMS/pick/{fid}/ready/", follow=True)
    assert "it is cancelled here and the customer is refunded" in text(ready)
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.CANCELLED
    assert Order.objects.get(number=order["number"]).status == OrderStatus.CANCELLED


def ready_order(storefront, ams, *lines, **extra):
    order = place_pickup(storefront, "STORE-AMS", *lines, **extra)
    for sku, quantity in lines:
        for _ in range(quantity):
            scan(ams, order, sku)
    assert ams.post(f"/store/STORE-AMS/pick/{order['fulfilment']}/ready/").status_code == 302
    assert (
        Fulfilment.objects.get(pk=order["fulfilment"]).status == FulfilmentStatus.READY_FOR_PICKUP
    )
    return order


def test_ready_shelf_days_waiting_deadline_and_resend(
    network, storefront, ams, django_capture_on_commit_callbacks
):
    order = ready_order(storefront, ams, ("TEE", 1))
    Fulfilment.objects.filter(pk=order["fulfilment"]).update(ready_at="2020-01-01T10:00:00Z")
    Notification.objects.filter(fulfilment_id=order["fulfilment"]).update(
        created_at="2020-01-01T10:00:00Z"
    )
    page = text(ams.get("/store/STORE-AMS/shelf/"))
    assert order["number"] in page
    assert "Collect by" in page  # past its deadline: marked
    assert re.search(r"Waiting \d+ days", page)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = ams.post(f"/store/STORE-AMS/shelf/{order['fulfilment']}/resend/", follow=True)
    assert "the customer is told again" in text(response)
    assert len(mail.outbox) == sent + 1
    again = ams.post(f"/store/STORE-AMS/shelf/{order['fulfilment']}/resend/", follow=True)
    assert "announced a moment ago" in text(again)


def test_handover_finds_by_number_email_name_phone_and_checks_the_code(
    network, storefront, ams, customer
):
    customer.phone = "+31201234567"
    customer.save()
    order = ready_order(storefront, ams, ("TEE", 1), customer=customer.pk, email=customer.email)
    fid = order["fulfilment"]
    for q in (order["number"], customer.email, "anna", "de vries", "020 123 4567"):
        page = text(ams.get("/store/STORE-AMS/handover/", {"q": q}))
        assert f"/store/STORE-AMS/handover/{fid}/" in page, q
    assert "No order ready for pickup matches" in text(
        ams.get("/store/STORE-AMS/handover/", {"q": "nobody"})
    )
    wrong_code = "000000" if order["pickup_code"] != "000000" else "111111"
    refused = ams.post(f"/store/STORE-AMS/handover/{fid}/", {"pickup_code": wrong_code})
    assert refused.status_code == 409
    assert "That is not the pickup code of this order." in text(refused)
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.READY_FOR_PICKUP
    assert ams.post(f"/store/STORE-AMS/handover/{fid}/", {"pickup_code": "12ab"}).status_code == 400

    done = ams.post(
        f"/store/STORE-AMS/handover/{fid}/", {"pickup_code": order["pickup_code"]}, follow=True
    )
    assert f"Handed over: order {order['number']} is collected." in text(done)
    assert "points" in text(done)
    assert Order.objects.get(number=order["number"]).status == OrderStatus.COMPLETED
    assert Fulfilment.objects.get(pk=fid).status == FulfilmentStatus.COLLECTED


def test_no_page_shows_a_pickup_code(network, storefront, ams):
    order = ready_order(storefront, ams, ("TEE", 1))
    pending = place_pickup(storefront, "STORE-AMS", ("MUG", 1))
    for path in (
        "/store/STORE-AMS/",
        "/store/STORE-AMS/shelf/",
        f"/store/STORE-AMS/handover/?q={order['number']}",
        f"/store/STORE-AMS/handover/{order['fulfilment']}/",
        f"/store/STORE-AMS/pick/{pending['fulfilment']}/",
        f"/store/STORE-AMS/pick/{order['fulfilment']}/",
    ):
        page = text(ams.get(path))
        for code in (order["pickup_code"], pending["pickup_code"]):
            assert code not in page, path


def test_every_form_needs_the_csrf_token(network, storefront):
    order = place_pickup(storefront, "STORE-AMS", ("TEE", 1))
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("anouk", "STORE-AMS"))
    page = text(client.get(f"/store/STORE-AMS/pick/{order['fulfilment']}/"))
    assert page.count("csrfmiddlewaretoken") >= 3
    refused = client.post(f"/store/STORE-AMS/pick/{order['fulfilment']}/scan/", {"code": "TEE"})
    assert refused.status_code == 403
    assert Fulfilment.objects.get(pk=order["fulfilment"]).status == FulfilmentStatus.PENDING


def test_the_queue_reads_a_constant_number_of_queries(network, storefront, ams):
    place_pickup(storefront, "STORE-AMS", ("TEE", 1))
    with CaptureQueriesContext(connection) as few:
        ams.get("/store/STORE-AMS/", HTTP_HX_REQUEST="true")
    for _ in range(4):
        place_pickup(storefront, "STORE-AMS", ("TEE", 1), ("MUG", 1))
    with CaptureQueriesContext(connection) as many:
        page = ams.get("/store/STORE-AMS/", HTTP_HX_REQUEST="true")
    assert text(page).count("data-order=") == 5
    assert len(many) == len(few)
