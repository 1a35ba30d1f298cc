"""Click-and-collect in a real browser: a pickup placed through the API appears in the
store's queue (by itself, through htmx polling), is picked with a scanner's keystrokes,
marked ready and handed over with the customer's code; a wrong scan and a wrong code are
refused; a short pick cancels and refunds the missing units (the orders policy for
pickups); staff of one store get 404 for another store's pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import Fulfilment, FulfilmentStatus, Order, OrderLine, OrderStatus
from orders.screens import views
from tests.e2e.conftest import PHONE, sign_in
from tests.orders.screens_helpers import PASSWORD, barcode, make_staff, place_pickup

pytestmark = pytest.mark.django_db(transaction=True)


def scan(page, code: str) -> None:
    """What a handheld scanner does: type the code into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_pickup_from_queue_to_handover(new_page, storefront, customer, monkeypatch):
    monkeypatch.setattr(views, "QUEUE_POLL_SECONDS", 1)
    first = place_pickup(
        storefront, "STORE-AMS", ("TEE", 2), ("MUG", 1), customer=customer.pk, email=customer.email
    )
    page = new_page()
    sign_in(page, "anouk", "STORE-AMS")
    expect(page).to_have_url(re.compile(r"/store/STORE-AMS/$"))
    queue = page.locator("#queue")
    expect(queue).to_contain_text(first["number"])
    expect(queue).to_contain_text("2 lines, 3 items")

    # A new order shows up without a reload.
    second = place_pickup(storefront, "STORE-AMS", ("CAP", 1))
    expect(queue).to_contain_text(second["number"], timeout=8_000)

    page.get_by_role("link", name=re.compile(first["number"])).click()
    expect(page.get_by_role("heading", name=f"Pick order {first['number']}")).to_be_visible()
    scan_field = page.get_by_label("Scan or type a barcode or SKU")
    expect(scan_field).to_be_focused()

    scan(page, barcode("TEE"))
    expect(page.locator(".feedback")).to_contain_text("1 of 2, 1 to go.")
    expect(scan_field).to_be_focused()
    scan(page, barcode("SHOE"))  # not on this order
    expect(page.get_by_role("alert")).to_contain_text(
        f"Wrong item: {barcode('SHOE')} is not on order {first['number']}."
    )
    expect(page.get_by_role("button", name="Ready for pickup")).to_be_disabled()
    scan(page, barcode("TEE"))
    expect(page.locator('[data-sku="TEE"]')).to_contain_text("Done")
    scan(page, barcode("MUG"))
    expect(page.locator('[data-sku="MUG"]')).to_contain_text("Done")

    page.get_by_role("button", name="Ready for pickup").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"Order {first['number']} is ready for pickup; the customer has been told."
    )
    assert (
        Fulfilment.objects.get(pk=first["fulfilment"]).status == FulfilmentStatus.READY_FOR_PICKUP
    )

    page.get_by_role("link", name="Ready shelf").click()
    expect(page.locator(f'[data-order="{first["number"]}"]')).to_contain_text("Waiting 0 days")

    page.get_by_role("link", name="Handover").click()
    page.get_by_label("Order number, customer name, email or phone").fill(customer.email)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=re.compile(first["number"])).click()
    code_field = page.get_by_label("Pickup code (six digits, from the customer)")
    wrong = "000000" if first["pickup_code"] != "000000" else "111111"
    code_field.fill(wrong)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("That is not the pickup code of this order.")
    assert (
        Fulfilment.objects.get(pk=first["fulfilment"]).status == FulfilmentStatus.READY_FOR_PICKUP
    )

    page.get_by_label("Pickup code (six digits, from the customer)").fill(first["pickup_code"])
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"Handed over: order {first['number']} is collected. The customer earned"
    )
    assert first["pickup_code"] not in page.content()
    assert Order.objects.get(number=first["number"]).status == OrderStatus.COMPLETED


def test_short_pick_on_a_phone_cancels_and_refunds_the_missing_units(new_page, storefront):
    order = place_pickup(storefront, "STORE-AMS", ("TEE", 2), ("MUG", 1))
    page = new_page(viewport=PHONE)
    sign_in(page, "anouk", "STORE-AMS")
    page.goto(f"/store/STORE-AMS/pick/{order['fulfilment']}/")
    scan(page, "TEE")
    scan(page, "MUG")
    expect(page.locator('[data-sku="MUG"]')).to_contain_text("Done")
    page.get_by_role("button", name="Can't find TEE").click()
    expect(page.locator('[data-sku="TEE"]')).to_contain_text("Not found")
    expect(page.locator("#pick-panel")).to_contain_text(
        "1 item not found will be cancelled and refunded to the customer."
    )
    page.get_by_role("button", name="Ready for pickup").click()
    expect(page.locator(".messages")).to_contain_text(
        "1 unit(s) not found were cancelled and refunded."
    )
    assert (
        Fulfilment.objects.get(pk=order["fulfilment"]).status == FulfilmentStatus.READY_FOR_PICKUP
    )
    assert OrderLine.objects.get(order__number=order["number"], sku="TEE").cancelled_quantity == 1


def test_staff_of_one_store_cannot_open_another_stores_pages(new_page, storefront):
    theirs = place_pickup(storefront, "STORE-UTR", ("TEE", 1))
    page = new_page()
    sign_in(page, "anouk", "STORE-AMS")
    for path in (
        "/store/STORE-UTR/",
        "/store/STORE-UTR/shelf/",
        f"/store/STORE-UTR/pick/{theirs['fulfilment']}/",
        f"/store/STORE-AMS/pick/{theirs['fulfilment']}/",
        f"/store/STORE-AMS/handover/{theirs['fulfilment']}/",
    ):
        response = page.goto(path)
        assert response.status == 404, path
    page.goto("/store/STORE-AMS/")
    expect(page.locator("#queue")).not_to_contain_text(theirs["number"])


def tab_to(page, selector: str, *, limit: int = 25) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_sign_in_pick_and_ready(new_page, storefront):
    order = place_pickup(storefront, "STORE-AMS", ("CAP", 1), ("MUG", 1))
    make_staff("kees", "STORE-AMS")
    page = new_page()
    page.goto("/store/")
    page.keyboard.type("kees")  # the username field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_contain_text(order["number"])
    tab_to(page, f'[data-order="{order["number"]}"] a')
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan or type a barcode or SKU")).to_be_focused()
    scan(page, "CAP")
    expect(page.locator('[data-sku="CAP"]')).to_contain_text("Done")
    tab_to(page, '[data-sku="MUG"] button')
    page.keyboard.press("Enter")
    expect(page.locator('[data-sku="MUG"]')).to_contain_text("Not found")
    tab_to(page, ".finish button")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("ready for pickup")
    assert (
        Fulfilment.objects.get(pk=order["fulfilment"]).status == FulfilmentStatus.READY_FOR_PICKUP
    )
