"""A screenshot of every store screen at tablet (768 px) and phone (390 px) width.

In the test suite the PNGs go to a temporary directory (the run proves every screen renders
at both widths); ``python bench/screenshots.py`` sets ``SCREENSHOTS_DIR=docs/screens`` to
refresh the ones the README shows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orders.models import Fulfilment
from tests.e2e.conftest import PHONE, TABLET, sign_in
from tests.orders.screens_helpers import barcode, make_staff, place_pickup

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"tablet": TABLET, "phone": PHONE}


@pytest.fixture
def out_dir(tmp_path) -> Path:
    target = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_screenshot_every_screen(new_page, storefront, customer, out_dir):
    customer.phone = "+31201234567"
    customer.save()
    ready = place_pickup(
        storefront, "STORE-AMS", ("SHOE", 1), customer=customer.pk, email=customer.email
    )
    picking = place_pickup(storefront, "STORE-AMS", ("TEE", 2), ("MUG", 1), ("CAP", 1))
    place_pickup(storefront, "STORE-AMS", ("MUG", 2))
    late = place_pickup(storefront, "STORE-AMS", ("CAP", 1))
    Fulfilment.objects.filter(pk=late["fulfilment"]).update(ready_by="2020-01-01T10:00:00Z")
    make_staff("sam", "STORE-AMS", "STORE-UTR")

    setup = new_page()
    sign_in(setup, "anouk", "STORE-AMS")
    setup.goto(f"/store/STORE-AMS/pick/{ready['fulfilment']}/")
    setup.keyboard.type(barcode("SHOE"))
    setup.keyboard.press("Enter")
    setup.locator('[data-sku="SHOE"].line-done').wait_for()
    setup.get_by_role("button", name="Ready for pickup").click()
    setup.locator(".messages").wait_for()

    shots = []
    for label, viewport in WIDTHS.items():
        page = new_page(viewport=viewport)

        def shot(name: str, page=page, label=label) -> None:
            path = out_dir / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)

        page.goto("/store/login/")
        shot("1-sign-in")
        page.get_by_label("Username").fill("sam")
        page.get_by_label("Password").fill("pick-pick-pick")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Which store are you working at?").wait_for()
        shot("2-choose-store")
        page.goto("/store/STORE-AMS/")
        page.locator("#queue .card").first.wait_for()
        shot("3-queue")
        page.goto(f"/store/STORE-AMS/pick/{picking['fulfilment']}/")
        for code in (barcode("TEE"), barcode("TEE"), barcode("SHOE")):
            page.keyboard.type(code)
            page.keyboard.press("Enter")
            page.wait_for_timeout(300)
        page.get_by_role("alert").wait_for()
        shot("4-pick")
        page.goto("/store/STORE-AMS/shelf/")
        shot("5-ready-shelf")
        page.goto("/store/STORE-AMS/handover/?q=anna")
        shot("6-handover-search")
        page.goto(f"/store/STORE-AMS/handover/{ready['fulfilment']}/")
        page.get_by_label("Pickup code (six digits, from the customer)").fill("000000")
        page.keyboard.press("Enter")
        page.get_by_role("alert").wait_for()
        shot("7-handover-code")
    assert len(shots) == 14
    assert all(path.stat().st_size > 0 for path in shots)
    for path in shots:
        assert ready["pickup_code"] not in path.name
