"""The merchandiser admin: stock pages are read-only, actions and the import go through
services."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory.models import (
    Location,
    LowStockReport,
    Reservation,
    StockLevel,
    StockMovement,
    StockShortfall,
    Transfer,
)
from tests.factories import CategoryFactory, SKUFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/inventory/stocklevel/import/"
LEVELS_URL = "/admin/inventory/stocklevel/"


@pytest.fixture
def stock(store, warehouse):
    """Apparel > tees: TEE-M, TEE-L; shoes: SHOE-42.

    STORE-001: TEE-M 10 on hand (reorder point 8, 3 held by the web shop),
               SHOE-42 2 on hand (reorder point 1).
    WH-01:     TEE-L 20 on hand (safety stock 2), flagged for a count.
    """
    apparel = CategoryFactory(code="apparel", name="Apparel")
    tees = CategoryFactory(code="tees", name="Tees", parent=apparel)
    shoes = CategoryFactory(code="shoes", name="Shoes")
    SKUFactory(sku="TEE-M", barcode="8710000000011", product__category=tees)
    SKUFactory(sku="TEE-L", barcode="8710000000028", product__category=tees)
    SKUFactory(sku="SHOE-42", barcode="8710000000035", product__category=shoes)
    services.receive_stock(sku="TEE-M", location="STORE-001", quantity=10)
    services.receive_stock(sku="SHOE-42", location="STORE-001", quantity=2)
    services.receive_stock(sku="TEE-L", location="WH-01", quantity=20)
    services.set_stock_parameters(sku="TEE-M", location="STORE-001", reorder_point=8)
    services.set_stock_parameters(sku="SHOE-42", location="STORE-001", reorder_point=1)
    services.set_stock_parameters(sku="TEE-L", location="WH-01", safety_stock=2)
    StockLevel.objects.filter(sku__sku="TEE-L").update(needs_count=True)
    services.reserve(channel="web", lines=[services.HoldLine("TEE-M", "STORE-001", 3)])


def listed(response) -> list:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def levels(response) -> list[tuple[str, str]]:
    return [(level.sku.sku, level.location.code) for level in listed(response)]


def snapshot() -> tuple:
    return (
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        StockMovement.objects.count(),
    )


# --- Stock levels ----------------------------------------------------------------------------


def test_stock_levels_list_shows_the_numbers(admin_client, stock):
    response = admin_client.get(LEVELS_URL)
    rows = {
        (level.sku.sku, level.location.code): (
            level.on_hand,
            level.reserved,
            level.safety_stock,
            level.available_qty,
            level.reorder_point,
            level.in_transit,
            level.needs_count,
        )
        for level in listed(response)
    }
    assert rows == {
        ("SHOE-42", "STORE-001"): (2, 0, 0, 2, 1, 0, False),
        ("TEE-M", "STORE-001"): (10, 3, 0, 7, 8, 0, False),
        ("TEE-L", "WH-01"): (20, 0, 2, 18, 0, 0, True),
    }
    assert b"Import receipts or counts" in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("location__type__exact=warehouse", [("TEE-L", "WH-01")]),
        ("category=apparel", [("TEE-M", "STORE-001"), ("TEE-L", "WH-01")]),
        ("category=shoes", [("SHOE-42", "STORE-001")]),
        ("category=unknown", []),
        ("below_reorder_point=yes", [("TEE-M", "STORE-001")]),
        ("below_reorder_point=no", [("SHOE-42", "STORE-001"), ("TEE-L", "WH-01")]),
        ("discrepancy=yes", [("TEE-L", "WH-01")]),
        ("q=TEE", [("TEE-M", "STORE-001"), ("TEE-L", "WH-01")]),
        ("q=8710000000035", [("SHOE-42", "STORE-001")]),
        ("q=WH-01", [("TEE-L", "WH-01")]),
    ],
)
def test_stock_levels_filters_and_search(admin_client, stock, query, expected):
    assert levels(admin_client.get(f"{LEVELS_URL}?{query}")) == expected


def test_location_filter(admin_client, stock, store):
    response = admin_client.get(f"{LEVELS_URL}?location__id__exact={store.pk}")
    assert levels(response) == [("SHOE-42", "STORE-001"), ("TEE-M", "STORE-001")]


def test_discrepancy_filter_finds_open_shortfalls(admin_client, stock):
    services.count_stock(sku="TEE-M", location="STORE-001", counted=1)  # 3 were reserved
    services.count_stock(sku="TEE-L", location="WH-01", counted=20)  # clears needs_count
    assert levels(admin_client.get(f"{LEVELS_URL}?discrepancy=yes")) == [("TEE-M", "STORE-001")]
    StockLevel.objects.update(needs_count=False)
    assert levels(admin_client.get(f"{LEVELS_URL}?discrepancy=yes")) == [("TEE-M", "STORE-001")]
    services.resolve_shortfalls(shortfall_ids=StockShortfall.objects.values_list("pk", flat=True))
    assert levels(admin_client.get(f"{LEVELS_URL}?discrepancy=yes")) == []


def test_stock_levels_list_queries_do_not_grow_with_rows(admin_client, stock):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(LEVELS_URL).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for n in range(10):
        SKUFactory(sku=f"SOCK-{n}")
        services.receive_stock(sku=f"SOCK-{n}", location="WH-01", quantity=1)
    assert queries() == few


def test_stock_levels_are_read_only(admin_client, stock):
    level = StockLevel.objects.get(sku__sku="TEE-M")
    before = snapshot()
    page = admin_client.get(f"{LEVELS_URL}{level.pk}/change/")
    assert page.status_code == 200
    assert b'name="on_hand"' not in page.content  # shown, not editable
    assert b"The whole ledger of this level" in page.content
    assert admin_client.get(f"{LEVELS_URL}add/").status_code == 403
    assert admin_client.post(f"{LEVELS_URL}{level.pk}/change/", {"on_hand": 99}).status_code == 403
    assert admin_client.post(f"{LEVELS_URL}{level.pk}/delete/", {"post": "yes"}).status_code == 403
    assert snapshot() == before


# --- The ledger ------------------------------------------------------------------------------


def test_ledger_filters_and_search(admin_client, stock):
    services.record_damage(
        sku="TEE-L",
        location="WH-01",
        quantity=1,
        entry=services.Entry(reason="torn", reference="D-7"),
    )
    url = "/admin/inventory/stockmovement/"
    everything = listed(admin_client.get(url))
    assert [(m.kind, m.sku.sku, m.quantity) for m in everything] == [
        ("damage", "TEE-L", -1),
        ("receipt", "TEE-L", 20),
        ("receipt", "SHOE-42", 2),
        ("receipt", "TEE-M", 10),
    ]
    assert [m.kind for m in listed(admin_client.get(f"{url}?kind__exact=damage"))] == ["damage"]
    assert [m.kind for m in listed(admin_client.get(f"{url}?q=torn"))] == ["damage"]
    assert [m.kind for m in listed(admin_client.get(f"{url}?q=D-7"))] == ["damage"]
    assert len(listed(admin_client.get(f"{url}?q=TEE"))) == 3
    today = timezone.now()
    dated = f"{url}?occurred_at__year={today.year}&occurred_at__month={today.month}"
    assert len(listed(admin_client.get(dated))) == 4
    level = StockLevel.objects.get(sku__sku="TEE-L")
    assert len(listed(admin_client.get(f"{url}?level__id__exact={level.pk}"))) == 2
    movement = everything[0]
    assert admin_client.get(f"{url}{movement.pk}/change/").status_code == 200
    assert admin_client.get(f"{url}add/").status_code == 403


# --- Reservations ----------------------------------------------------------------------------


def test_reservation_pages_show_lines(admin_client, stock):
    reservation = Reservation.objects.get()
    response = admin_client.get("/admin/inventory/reservation/")
    assert [(r.pk, r.units_held) for r in listed(response)] == [(reservation.pk, 3)]
    detail = admin_client.get(f"/admin/inventory/reservation/{reservation.pk}/change/")
    assert detail.status_code == 200
    assert b"TEE-M" in detail.content
    assert b"STORE-001" in detail.content


def test_release_action(admin_client, stock):
    active = Reservation.objects.get()
    released = services.reserve(channel="web", lines=[services.HoldLine("TEE-M", "STORE-001", 1)])
    services.release(reservation_id=released.pk)
    response = admin_client.post(
        "/admin/inventory/reservation/",
        {"action": "release_selected", "_selected_action": [active.pk, released.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Released 1 reservation(s).",
        "1 were not active and were left as they were.",
    ]
    assert Reservation.objects.get(pk=active.pk).status == "released"
    assert StockLevel.objects.get(sku__sku="TEE-M").reserved == 0


# --- Shortfalls ------------------------------------------------------------------------------


def test_shortfalls_list_and_mark_resolved(admin_client, stock, store, warehouse):
    services.count_stock(sku="TEE-M", location="STORE-001", counted=1)
    shortfall = StockShortfall.objects.get()
    url = "/admin/inventory/stockshortfall/"
    assert [(s.pk, s.quantity) for s in listed(admin_client.get(f"{url}?resolved=no"))] == [
        (shortfall.pk, 2)
    ]
    at = f"{url}?level__location__id__exact="
    assert [s.pk for s in listed(admin_client.get(f"{at}{store.pk}"))] == [shortfall.pk]
    assert listed(admin_client.get(f"{at}{warehouse.pk}")) == []
    detail = admin_client.get(f"{url}{shortfall.pk}/change/")
    assert detail.status_code == 200
    assert "TEE-M at STORE-001" in detail.content.decode()
    assert f'href="/admin/inventory/reservation/{Reservation.objects.get().pk}/change/"' in (
        detail.content.decode()
    )

    response = admin_client.post(
        url, {"action": "mark_resolved", "_selected_action": [shortfall.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["Marked 1 shortfall(s) resolved."]
    shortfall.refresh_from_db()
    resolved_at = shortfall.resolved_at
    assert resolved_at is not None
    assert listed(admin_client.get(f"{url}?resolved=no")) == []

    admin_client.post(url, {"action": "mark_resolved", "_selected_action": [shortfall.pk]})
    shortfall.refresh_from_db()
    assert shortfall.resolved_at == resolved_at  # resolving twice keeps the first time


# --- Transfers -------------------------------------------------------------------------------


def test_transfers_list_and_receive_action(admin_client, stock):
    first = services.dispatch_transfer(
        sku="TEE-L", from_location="WH-01", to_location="STORE-001", quantity=5
    )
    second = services.dispatch_transfer(
        sku="TEE-L", from_location="WH-01", to_location="STORE-001", quantity=2
    )
    services.receive_transfer(transfer_id=second.pk)
    url = "/admin/inventory/transfer/"
    assert [t.pk for t in listed(admin_client.get(f"{url}?status__exact=in_transit"))] == [first.pk]
    response = admin_client.post(
        url, {"action": "receive_selected", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Received 1 transfer(s).",
        f"Not received: {second.pk}: Transfer {second.pk} was already received.",
    ]
    assert Transfer.objects.get(pk=first.pk).status == "received"
    level = StockLevel.objects.get(sku__sku="TEE-L", location__code="STORE-001")
    assert (level.on_hand, level.in_transit) == (7, 0)
    movement = StockMovement.objects.filter(kind="transfer_in").order_by("-id").first()
    assert movement.actor == "admin:admin"


# --- Low-stock reports -----------------------------------------------------------------------


def test_low_stock_report_pages(admin_client, stock):
    report = services.record_low_stock_report()
    listing = admin_client.get("/admin/inventory/lowstockreport/")
    assert [r.pk for r in listed(listing)] == [report.pk]
    detail = admin_client.get(f"/admin/inventory/lowstockreport/{report.pk}/change/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert (
        "<tr><td>STORE-001</td><td>TEE-M</td><td>10</td><td>3</td><td>7</td><td>8</td></tr>" in html
    )


# --- Permissions -----------------------------------------------------------------------------


@pytest.fixture
def viewer(client, django_user_model):
    """A staff user who may only look at stock."""
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="inventory",
            codename__in=["view_stocklevel", "view_reservation", "view_transfer"],
        )
    )
    client.force_login(user)
    return client


def test_staff_without_permission_cannot_import_or_act(viewer, stock):
    page = viewer.get(LEVELS_URL)
    assert page.status_code == 200
    assert b"Import receipts or counts" not in page.content
    assert viewer.get(IMPORT_URL).status_code == 403
    assert viewer.get("/admin/inventory/reservation/").context["action_form"] is None
    assert viewer.get("/admin/inventory/transfer/").context["action_form"] is None
    reservation = Reservation.objects.get()
    viewer.post(
        "/admin/inventory/reservation/",
        {"action": "release_selected", "_selected_action": [reservation.pk]},
    )
    assert Reservation.objects.get().status == "active"
    assert StockLevel.objects.get(sku__sku="TEE-M").reserved == 3


def test_anonymous_is_sent_to_login(client, stock):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- The import page -------------------------------------------------------------------------


def upload(content: str, name: str = "stock.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def test_import_form_loads(admin_client, stock):
    response = admin_client.get(IMPORT_URL)
    assert response.status_code == 200
    assert b'name="file"' in response.content
    assert b'name="kind"' in response.content


def test_import_preview_then_confirm(admin_client, stock):
    before = snapshot()
    preview = admin_client.post(
        IMPORT_URL,
        {
            "file": upload(
                "sku,location,quantity,reference\nTEE-M,STORE-001,4,PO-9\nTEE-L,WH-01,1,PO-9\n"
            ),
            "kind": "receipt",
            "preview": "Preview",
        },
    )
    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert [(r.row, r.on_hand_before, r.on_hand_after) for r in plan.rows] == [
        (2, 10, 14),
        (3, 20, 21),
    ]
    assert b"Confirm and write 2 rows" in preview.content
    assert snapshot() == before  # a preview writes nothing

    token = preview.context["token"]
    confirmed = admin_client.post(IMPORT_URL, {"token": token, "confirm": "1"}, follow=True)
    assert confirmed.redirect_chain == [(LEVELS_URL, 302)]
    assert [str(m) for m in confirmed.context["messages"]] == [
        "stock.csv: 2 row(s) received: +5 unit(s) at 2 stock level(s)."
    ]
    receipts = StockMovement.objects.filter(reference="PO-9").order_by("id")
    assert list(receipts.values_list("sku__sku", "quantity", "actor", "reason")) == [
        ("TEE-M", 4, "admin:admin", "CSV import stock.csv"),
        ("TEE-L", 1, "admin:admin", "CSV import stock.csv"),
    ]

    # The same confirmation again does nothing: the preview is no longer pending.
    again = admin_client.post(IMPORT_URL, {"token": token, "confirm": "1"}, follow=True)
    assert again.redirect_chain == [(IMPORT_URL, 302)]
    assert StockMovement.objects.filter(reference="PO-9").count() == 2


def test_import_preview_highlights_errors_and_offers_no_confirm(admin_client, stock):
    before = snapshot()
    preview = admin_client.post(
        IMPORT_URL,
        {
            "file": upload("sku,location,quantity\nTEE-M,STORE-001,-1\nTEE-M,STORE-001,2\n"),
            "kind": "count",
        },
    )
    assert preview.status_code == 200
    html = preview.content.decode()
    assert '<tr class="import-error" data-row="2">' in html
    assert "A count cannot be below zero." in html
    assert "already counted on row 2" in html
    assert "Confirm and write" not in html
    assert preview.context["token"] == ""
    assert snapshot() == before


def test_a_new_upload_replaces_the_pending_preview(admin_client, stock):
    def preview(quantity: int) -> str:
        content = f"sku,location,quantity\nTEE-M,STORE-001,{quantity}\n"
        response = admin_client.post(IMPORT_URL, {"file": upload(content), "kind": "receipt"})
        return response.context["token"]

    first, second = preview(1), preview(2)
    stale = admin_client.post(IMPORT_URL, {"token": first, "confirm": "1"}, follow=True)
    assert stale.redirect_chain == [(IMPORT_URL, 302)]
    assert StockLevel.objects.get(sku__sku="TEE-M").on_hand == 10
    admin_client.post(IMPORT_URL, {"token": second, "confirm": "1"})
    assert StockLevel.objects.get(sku__sku="TEE-M").on_hand == 12


def test_import_without_a_file_asks_for_one(admin_client, stock):
    response = admin_client.post(IMPORT_URL, {"kind": "receipt"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This field is required."]}
    assert response.context["plan"] is None


def test_import_confirm_checks_the_file_again(admin_client, stock):
    preview = admin_client.post(
        IMPORT_URL, {"file": upload("sku,location,quantity\nTEE-M,STORE-001,1\n"), "kind": "count"}
    )
    assert preview.context["plan"].ok
    # Between preview and confirm, the location is renamed away from under the file.
    Location.objects.filter(code="STORE-001").update(code="STORE-001-OLD")
    before = snapshot()
    confirmed = admin_client.post(IMPORT_URL, {"token": preview.context["token"], "confirm": "1"})
    assert confirmed.status_code == 200
    assert [str(e) for e in confirmed.context["plan"].errors] == [
        "row 2, location: Unknown location 'STORE-001'."
    ]
    assert snapshot() == before


def test_import_rejects_a_file_that_is_not_utf8(admin_client, stock):
    response = admin_client.post(
        IMPORT_URL,
        {
            "file": SimpleUploadedFile("x.csv", b"sku,location,quantity\n\xff\n"),
            "kind": "receipt",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["The file is not UTF-8 text; save it as 'CSV UTF-8'."]
    }


def test_import_permission_is_add_stockmovement(client, django_user_model, stock):
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_stocklevel", "add_stockmovement"])
    )
    client.force_login(user)
    assert b"Import receipts or counts" in client.get(LEVELS_URL).content
    response = client.post(
        IMPORT_URL,
        {"file": upload("sku,location,quantity\nTEE-M,STORE-001,1\n"), "kind": "receipt"},
    )
    assert response.status_code == 200
    client.post(IMPORT_URL, {"token": response.context["token"], "confirm": "1"})
    assert StockLevel.objects.get(sku__sku="TEE-M").on_hand == 11


def test_expired_reservations_show_their_status(admin_client, stock):
    services.reserve(
        channel="web",
        lines=[services.HoldLine("TEE-M", "STORE-001", 1)],
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    services.release_expired_reservations()
    response = admin_client.get("/admin/inventory/reservation/?status__exact=expired")
    assert [r.status for r in listed(response)] == ["expired"]


def test_admin_index_lists_stock_models(admin_client, stock):
    response = admin_client.get(reverse("admin:app_list", args=["inventory"]))
    assert response.status_code == 200
    for name in [b"Stock levels", b"Stock movements", b"Reservations", b"Low stock reports"]:
        assert name in response.content
    assert LowStockReport.objects.count() == 0
