"""Importing prices from CSV: the per-row checks, the admin's dry-run preview and confirm
flow (all or nothing), and ``manage.py import_prices``."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from pricing import services
from pricing.imports import import_prices, plan_import
from pricing.models import Price
from pricing.services import PriceEntry
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def admin_user(django_user_model):
    """pytest-django's ``admin_client`` logs this user in: a superuser without a password,
    as hashing one costs a second a test."""
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)


@pytest.fixture
def price_list(db):
    for code in ("TEE-1", "TEE-2", "CAP-1"):
        SKUFactory(sku=code)
    SKUFactory(sku="OLD-1", active=False)
    base = services.create_price_list(code="BASE", name="Base", channel="web")
    services.replace_prices(
        price_list=base,
        prices=[PriceEntry("TEE-1", D("10.00")), PriceEntry("TEE-2", D("12.00"))],
    )
    return base


def amounts(price_list) -> dict[str, Decimal]:
    return {p.sku.sku: p.amount for p in price_list.prices.select_related("sku")}


def errors_by_row(plan) -> dict[int, list[str]]:
    return {row.row: [e.message for e in row.errors] for row in plan.rows if row.errors}


# --- Checking a file -----------------------------------------------------------------------


def test_a_clean_file_says_what_each_row_would_do(price_list):
    plan = plan_import(
        "sku,amount\nTEE-1,11.50\nTEE-2,12\nCAP-1,4.5\n\nOLD-1,3.00\n", price_list=price_list
    )
    assert plan.ok
    assert [(r.row, r.sku, r.current, r.amount, r.status) for r in plan.rows] == [
        (2, "TEE-1", D("10.00"), D("11.50"), "changed"),
        (3, "TEE-2", D("12.00"), D("12.00"), "unchanged"),
        (4, "CAP-1", None, D("4.50"), "new"),
        (6, "OLD-1", None, D("3.00"), "new"),  # row 5 is blank: skipped
    ]
    assert plan.rows[3].warning == "The SKU is inactive."
    assert plan.summary() == "4 row(s) would be imported into BASE: 2 new, 1 changed, 1 unchanged."


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("NOPE-1,5.00", "Unknown SKU 'NOPE-1'."),
        ("CAP-1,abc", "'abc' is not a decimal amount."),
        ("CAP-1,12,50", "Expected 2 field(s) as in the header, found 3."),
        ("CAP-1,1e3", "'1e3' is not a decimal amount."),
        ("CAP-1,-1.00", "Must be more than zero."),
        ("CAP-1,0", "Must be more than zero."),
        ("CAP-1,0.00", "Must be more than zero."),
        ("CAP-1,1.234", "1.234: at most two decimals."),
        ("CAP-1,1.230", "1.230: at most two decimals."),
        ("CAP-1,€5", "'€5' is not a decimal amount."),
        ("CAP-1,", "Required."),
        (",5.00", "Required."),
        ("CAP-1,10000000000.00", "At most 9999999999.99."),
        ("TEE-1,5.00", "TEE-1 is already on row 2; one price per SKU."),
    ],
)
def test_a_bad_row_is_named_with_its_error(price_list, line, message):
    plan = plan_import(f"sku,amount\nTEE-1,9.00\n{line}\n", price_list=price_list)
    assert not plan.ok
    assert errors_by_row(plan) == {3: [message]}
    assert plan.summary() == "1 of 2 row(s) have errors; nothing can be written."


def test_a_decimal_comma_gets_a_hint(price_list):
    plan = plan_import("sku;amount\nTEE-1;12,50\n", price_list=price_list)
    assert errors_by_row(plan) == {2: ["'12,50' is not a decimal amount; write a point: 12.50."]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file: The file is empty; the first row must be the header."),
        (b"sku,amount\n", "file: The file has a header but no rows."),
        (b"sku,price\nTEE-1,1\n", "row 1, amount: The header has no 'amount' column."),
        (
            b"sku,amount,name\nTEE-1,1,x\n",
            "row 1, name: Unknown column 'name'; expected sku, amount.",
        ),
        (b"sku,amount\nTEE-1,\xff\n", "file: The file is not UTF-8 text; save it as 'CSV UTF-8'."),
    ],
)
def test_a_bad_file_is_named(price_list, content, message):
    plan = plan_import(content, price_list=price_list)
    assert [str(e) for e in plan.errors][:1] == [message]
    assert not plan.ok


def test_spreadsheet_files_are_read(price_list):
    """A BOM, semicolons, upper-case headers in another order, Windows line ends."""
    plan = plan_import("\ufeffAMOUNT;SKU\r\n11.00;TEE-1\r\n".encode(), price_list=price_list)
    assert plan.ok
    assert [(r.sku, r.amount) for r in plan.rows] == [("TEE-1", D("11.00"))]


def test_checking_costs_a_constant_number_of_queries(price_list, django_assert_num_queries):
    rows = "".join(f"TEE-1{'' if i == 0 else f'-{i}'},1.00\n" for i in range(300))
    with django_assert_num_queries(2):  # SKUs, current prices
        plan_import(f"sku,amount\n{rows}", price_list=price_list)


# --- Importing -----------------------------------------------------------------------------


def test_an_import_writes_every_row_with_history(price_list):
    plan = import_prices(
        "sku,amount\nTEE-1,11.50\nTEE-2,12.00\nCAP-1,4.50\n",
        price_list=price_list,
        actor="user:alice",
        source="spring.csv",
    )
    assert plan.applied
    assert (plan.changes.created, plan.changes.updated, plan.changes.unchanged) == (1, 1, 1)
    assert amounts(price_list) == {"TEE-1": D("11.50"), "TEE-2": D("12.00"), "CAP-1": D("4.50")}
    written = Price.history.filter(history_change_reason="CSV import spring.csv")
    assert sorted((r.sku.sku, r.history_type, r.history_user_id) for r in written) == [
        ("CAP-1", "+", "user:alice"),
        ("TEE-1", "~", "user:alice"),
    ]


def test_progress_is_reported_for_every_row(price_list):
    done: list[int] = []
    import_prices(
        "sku,amount\nTEE-1,11.50\nTEE-2,12.00\nCAP-1,4.50\n",
        price_list=price_list,
        on_progress=done.append,
    )
    assert sum(done) == 3


def test_one_bad_row_writes_nothing(price_list):
    before, history = amounts(price_list), Price.history.count()
    plan = import_prices("sku,amount\nTEE-1,11.50\nCAP-1,0\n", price_list=price_list)
    assert not plan.applied
    assert amounts(price_list) == before
    assert Price.history.count() == history


def test_a_dry_run_writes_nothing(price_list):
    before, history = amounts(price_list), Price.history.count()
    plan = import_prices("sku,amount\nTEE-1,11.50\n", price_list=price_list, dry_run=True)
    assert plan.ok
    assert not plan.applied
    assert amounts(price_list) == before
    assert Price.history.count() == history


# --- The admin page ------------------------------------------------------------------------


def upload(content: bytes, name="prices.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_the_import_page_previews_then_confirms(admin_client, price_list):
    url = reverse("admin:pricing_pricelist_import", args=[price_list.pk])
    assert admin_client.get(url).status_code == 200

    previewed = admin_client.post(
        url, {"file": upload(b"sku,amount\nTEE-1,11.50\nCAP-1,4.50\n"), "_preview": "1"}
    )
    assert previewed.status_code == 200
    assert previewed.context["plan"].ok
    assert [(r.sku, r.current, r.amount) for r in previewed.context["change_rows"]] == [
        ("TEE-1", D("10.00"), D("11.50")),
        ("CAP-1", None, D("4.50")),
    ]
    assert b"Confirm: import 2 row(s) of prices.csv" in previewed.content
    assert amounts(price_list) == {"TEE-1": D("10.00"), "TEE-2": D("12.00")}  # a dry run

    token = previewed.context["token"]
    confirmed = admin_client.post(url, {"token": token, "_confirm": "1"})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("admin:pricing_pricelist_change", args=[price_list.pk])
    assert amounts(price_list) == {"TEE-1": D("11.50"), "TEE-2": D("12.00"), "CAP-1": D("4.50")}
    latest = Price.history.order_by("-history_id").first()
    assert (latest.history_user_id, latest.history_change_reason) == (
        "user:admin",
        "CSV import prices.csv",
    )

    # The token is spent: confirming twice writes nothing more.
    history = Price.history.count()
    again = admin_client.post(url, {"token": token, "_confirm": "1"}, follow=True)
    assert b"That preview is no longer pending" in again.content
    assert Price.history.count() == history


def test_the_preview_shows_every_bad_row_and_offers_no_confirmation(admin_client, price_list):
    url = reverse("admin:pricing_pricelist_import", args=[price_list.pk])
    content = b"sku,amount\nTEE-1,11.50\nNOPE,1.00\nCAP-1,1.234\nTEE-1,3.00\n"
    before, history = amounts(price_list), Price.history.count()

    response = admin_client.post(url, {"file": upload(content), "_preview": "1"})

    assert response.status_code == 200
    assert [(r.row, [e.message for e in r.errors]) for r in response.context["error_rows"]] == [
        (3, ["Unknown SKU 'NOPE'."]),
        (4, ["1.234: at most two decimals."]),
        (5, ["TEE-1 is already on row 2; one price per SKU."]),
    ]
    assert b"3 of 4 row(s) have errors" in response.content
    assert b"Confirm" not in response.content
    assert response.context["token"] == ""

    # Nothing is pending, so confirming anyway writes nothing.
    forced = admin_client.post(url, {"token": "guess", "_confirm": "1"})
    assert forced.status_code == 302
    assert amounts(price_list) == before
    assert Price.history.count() == history


def test_a_price_changed_since_the_preview_asks_to_confirm_again(admin_client, price_list):
    url = reverse("admin:pricing_pricelist_import", args=[price_list.pk])
    previewed = admin_client.post(
        url, {"file": upload(b"sku,amount\nTEE-1,11.50\n"), "_preview": "1"}
    )
    services.set_price(price_list=price_list, sku="TEE-1", amount=D("10.50"))

    response = admin_client.post(url, {"token": previewed.context["token"], "_confirm": "1"})

    assert response.status_code == 200
    assert response.context["stale"]
    assert b"The prices changed since the preview" in response.content
    assert [(r.current, r.amount) for r in response.context["change_rows"]] == [
        (D("10.50"), D("11.50"))
    ]
    assert amounts(price_list)["TEE-1"] == D("10.50")

    confirmed = admin_client.post(url, {"token": response.context["token"], "_confirm": "1"})
    assert confirmed.status_code == 302
    assert amounts(price_list)["TEE-1"] == D("11.50")


def test_a_file_too_large_is_refused(admin_client, price_list, monkeypatch):
    monkeypatch.setattr("pricing.admin.price_lists.MAX_UPLOAD_BYTES", 10)
    url = reverse("admin:pricing_pricelist_import", args=[price_list.pk])
    response = admin_client.post(url, {"file": upload(b"sku,amount\nTEE-1,11.50\n")})
    assert response.context["form"].errors["file"] == [
        "The file is larger than 0 MB; split it, or use manage.py import_prices."
    ]


def test_the_import_page_needs_permission_to_change_prices(client, django_user_model, price_list):
    staff = django_user_model.objects.create_user("viewer", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:pricing_pricelist_import", args=[price_list.pk])
    assert client.get(url).status_code == 403


# --- The management command ----------------------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_command_imports(price_list, tmp_path, capsys):
    call_command("import_prices", "BASE", write(tmp_path, "sku,amount\nTEE-1,11.50\nCAP-1,4\n"))
    out = capsys.readouterr().out
    assert "2 row(s) imported into BASE: 1 new, 1 changed, 0 unchanged." in out
    assert amounts(price_list) == {"TEE-1": D("11.50"), "TEE-2": D("12.00"), "CAP-1": D("4.00")}
    assert set(
        Price.history.filter(history_change_reason="CSV import prices.csv").values_list(
            "history_user_id", flat=True
        )
    ) == {"command:import_prices"}


def test_the_command_dry_run_shows_changes_and_writes_nothing(price_list, tmp_path, capsys):
    call_command("import_prices", "BASE", write(tmp_path, "sku,amount\nTEE-1,11.50\n"), "--dry-run")
    out = capsys.readouterr().out
    assert "row 2: TEE-1 10.00 → 11.50" in out
    assert "Dry run: nothing written." in out
    assert amounts(price_list)["TEE-1"] == D("10.00")


def test_the_command_fails_on_any_bad_row_and_writes_nothing(price_list, tmp_path, capsys):
    path = write(tmp_path, "sku,amount\nTEE-1,11.50\nNOPE,1\n")
    with pytest.raises(CommandError, match="Nothing was imported") as caught:
        call_command("import_prices", "BASE", path)
    assert caught.value.returncode == 1
    assert "row 3, sku: Unknown SKU 'NOPE'." in capsys.readouterr().err
    assert amounts(price_list)["TEE-1"] == D("10.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE", "prices.csv"], "No price list 'NOPE'."),
        (["BASE", "/nonexistent.csv"], "Cannot read"),
    ],
)
def test_the_command_names_a_bad_argument(price_list, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_prices", *args)
