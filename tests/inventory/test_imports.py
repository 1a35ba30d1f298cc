"""CSV import of receipts and counts: inventory.imports and ``manage.py import_stock``."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from config.csvimport import RowError
from inventory import imports, services
from inventory.errors import UnknownLocation, ValidationFailed
from inventory.imports import ImportKind, import_stock, plan_import
from inventory.management.commands.import_stock import Command as ImportStockCommand
from inventory.models import SKU, StockLevel, StockMovement, StockShortfall
from inventory.services import stock_batch
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(store, warehouse):
    """TEE-M and TEE-L; STORE-001 and WH-01; 5 TEE-M on hand at STORE-001."""
    SKUFactory(sku="TEE-M")
    SKUFactory(sku="TEE-L")
    services.receive_stock(sku="TEE-M", location="STORE-001", quantity=5)


def on_hand() -> dict[tuple[str, str], int]:
    return {
        (sku, location): quantity
        for sku, location, quantity in StockLevel.objects.values_list(
            "sku__sku", "location__code", "on_hand"
        )
    }


def ledger() -> list[tuple]:
    return list(
        StockMovement.objects.order_by("id").values_list(
            "kind", "sku__sku", "location__code", "quantity", "on_hand_after"
        )
    )


def snapshot() -> tuple:
    return (on_hand(), ledger(), list(StockLevel.objects.values_list("pk", "needs_count")))


def assert_ledger_sums_to_on_hand() -> None:
    for level in StockLevel.objects.all():
        total = level.movements.aggregate(total=Sum("quantity"))["total"] or 0
        assert total == level.on_hand, level


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --- Applying ----------------------------------------------------------------------------------


def test_receipts_apply_exactly(catalog):
    content = csv(
        "sku,location,quantity,reason,reference",
        "TEE-M,STORE-001,10,delivery,PO-1",
        "TEE-L,WH-01,7,,",
        "TEE-M,STORE-001,2,,PO-2",
    )
    plan = import_stock(content, kind="receipt", actor="ann", source="delivery.csv")
    assert plan.applied is True
    assert [(r.row, r.on_hand_before, r.on_hand_after) for r in plan.rows] == [
        (2, 5, 15),
        (3, 0, 7),
        (4, 15, 17),
    ]
    assert on_hand() == {("TEE-M", "STORE-001"): 17, ("TEE-L", "WH-01"): 7}
    written = StockMovement.objects.filter(kind="receipt", actor="ann").order_by("id")
    # The existing level first (primary-key order), its rows in file order; the new level last.
    assert list(
        written.values_list(
            "sku__sku", "location__code", "quantity", "on_hand_after", "reason", "reference"
        )
    ) == [
        ("TEE-M", "STORE-001", 10, 15, "delivery", "PO-1"),
        ("TEE-M", "STORE-001", 2, 17, "CSV import delivery.csv", "PO-2"),
        ("TEE-L", "WH-01", 7, 7, "CSV import delivery.csv", ""),
    ]
    assert len({m.occurred_at for m in written}) == 1
    assert plan.summary() == "3 row(s) received: +19 unit(s) at 2 stock level(s)."
    assert_ledger_sums_to_on_hand()


def test_counts_become_movements_of_the_difference(catalog):
    services.receive_stock(sku="TEE-L", location="STORE-001", quantity=4)
    StockLevel.objects.filter(sku__sku="TEE-M").update(needs_count=True)
    content = csv(
        "sku,location,quantity",
        "TEE-M,STORE-001,2",
        "TEE-L,STORE-001,4",
        "TEE-L,WH-01,3",
    )
    plan = import_stock(content, kind=ImportKind.COUNT, actor="bob")
    assert plan.applied is True
    assert [(r.on_hand_before, r.on_hand_after, r.change) for r in plan.rows] == [
        (5, 2, -3),
        (4, 4, 0),
        (0, 3, 3),
    ]
    assert on_hand() == {
        ("TEE-M", "STORE-001"): 2,
        ("TEE-L", "STORE-001"): 4,
        ("TEE-L", "WH-01"): 3,
    }
    counts = StockMovement.objects.filter(kind="count").order_by("id")
    assert list(counts.values_list("sku__sku", "location__code", "quantity", "actor")) == [
        ("TEE-M", "STORE-001", -3, "bob"),
        ("TEE-L", "STORE-001", 0, "bob"),
        ("TEE-L", "WH-01", 3, "bob"),
    ]
    assert not StockLevel.objects.filter(needs_count=True).exists()
    assert plan.summary() == "3 stock level(s) counted: 2 changed, net +0 unit(s)."
    assert_ledger_sums_to_on_hand()


def test_count_below_reserved_shorts_reservations_as_count_stock_does(catalog):
    # Twin levels, 5 on hand and 4 held each: one counted by the import, one by count_stock.
    services.receive_stock(sku="TEE-L", location="STORE-001", quantity=5)
    held = {
        sku: services.reserve(channel="web", lines=[services.HoldLine(sku, "STORE-001", 4)])
        for sku in ("TEE-M", "TEE-L")
    }
    plan = plan_import(csv("sku,location,quantity", "TEE-M,STORE-001,1"), kind="count")
    assert plan.ok is True
    assert plan.rows[0].warning == "3 reserved unit(s) will be taken from reservations."

    imports.apply_import(plan)
    services.count_stock(sku="TEE-L", location="STORE-001", counted=1)

    def state(sku: str) -> tuple:
        level = StockLevel.objects.get(sku__sku=sku, location__code="STORE-001")
        shortfall = StockShortfall.objects.get(level=level)
        return (
            level.on_hand,
            level.reserved,
            level.needs_count,
            shortfall.quantity,
            [line["quantity"] for line in shortfall.lines],
            list(level.movements.order_by("id").values_list("kind", "quantity")),
        )

    assert state("TEE-M") == state("TEE-L")
    assert state("TEE-M")[:2] == (1, 1)
    assert StockShortfall.objects.get(level__sku__sku="TEE-M").lines == [
        {"reservation": held["TEE-M"].pk, "reference": None, "quantity": 3}
    ]
    assert_ledger_sums_to_on_hand()


def test_mixed_imports_keep_the_ledger_equal_to_on_hand(catalog, monkeypatch):
    # Small chunks, so that lookups, locks and writes all cross chunk boundaries.
    monkeypatch.setattr(imports, "LOOKUP_CHUNK", 3)
    monkeypatch.setattr(imports, "APPLY_CHUNK", 4)
    monkeypatch.setattr(stock_batch, "CHUNK", 2)
    for n in range(6):
        SKUFactory(sku=f"SOCK-{n}")
    receipts = ["sku,location,quantity"] + [
        f"SOCK-{n % 6},{loc},{n + 1}" for n in range(18) for loc in ("STORE-001", "WH-01")
    ]
    assert import_stock(csv(*receipts), kind="receipt").applied is True
    counts = ["sku,location,quantity"] + [f"SOCK-{n},WH-01,{n}" for n in range(6)]
    assert import_stock(csv(*counts), kind="count").applied is True

    levels = on_hand()
    # SOCK-n received (n+1) + (n+7) + (n+13) at each location, then counted at WH-01.
    assert {k: v for k, v in levels.items() if k[1] == "STORE-001" and k[0] != "TEE-M"} == {
        (f"SOCK-{n}", "STORE-001"): 3 * n + 21 for n in range(6)
    }
    assert {k: v for k, v in levels.items() if k[1] == "WH-01"} == {
        (f"SOCK-{n}", "WH-01"): n for n in range(6)
    }
    assert_ledger_sums_to_on_hand()


# --- Refusing ----------------------------------------------------------------------------------


def test_one_bad_row_writes_nothing_and_names_row_and_column(catalog):
    before = snapshot()
    content = csv(
        "sku,location,quantity",
        "TEE-M,STORE-001,10",
        "NOPE,STORE-001,1",
        "TEE-L,WH-01,7",
    )
    plan = import_stock(content, kind="receipt")
    assert plan.applied is False
    assert plan.errors == [RowError(3, "sku", "Unknown SKU 'NOPE'.")]
    assert str(plan.errors[0]) == "row 3, sku: Unknown SKU 'NOPE'."
    assert plan.summary() == "1 of 3 row(s) have errors; nothing can be written."
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kind", "line", "error"),
    [
        ("receipt", "TEE-M,STORE-001,0", RowError(3, "quantity", "A receipt must be above zero.")),
        ("receipt", "TEE-M,STORE-001,-3", RowError(3, "quantity", "A receipt must be above zero.")),
        ("count", "TEE-M,STORE-001,-1", RowError(3, "quantity", "A count cannot be below zero.")),
        ("count", "TEE-M,STORE-001,1.5", RowError(3, "quantity", "'1.5' is not a whole number.")),
        ("receipt", "TEE-M,STORE-001,ten", RowError(3, "quantity", "'ten' is not a whole number.")),
        ("receipt", "TEE-M,STORE-001,", RowError(3, "quantity", "Required.")),
        (
            "receipt",
            "TEE-M,STORE-001,2000000",
            RowError(3, "quantity", "At most 1,000,000 per row."),
        ),
        ("receipt", ",STORE-001,1", RowError(3, "sku", "Required.")),
        ("count", "TEE-M,NOWHERE,1", RowError(3, "location", "Unknown location 'NOWHERE'.")),
        (
            "receipt",
            "TEE-M,STORE-001",
            RowError(3, "", "Expected 3 field(s) as in the header, found 2."),
        ),
        (
            "receipt",
            "TEE-M,STORE-001,1,2",
            RowError(3, "", "Expected 3 field(s) as in the header, found 4."),
        ),
    ],
)
def test_bad_rows_are_reported(catalog, kind, line, error):
    before = snapshot()
    plan = import_stock(csv("sku,location,quantity", "TEE-L,WH-01,1", line), kind=kind)
    assert plan.errors == [error]
    assert plan.applied is False
    assert snapshot() == before


def test_two_counts_of_one_level_are_refused_but_two_receipts_add_up(catalog):
    content = csv(
        "sku,location,quantity",
        "TEE-M,STORE-001,3",
        "TEE-L,WH-01,1",
        "TEE-M,STORE-001,4",
    )
    assert plan_import(content, kind="count").errors == [
        RowError(
            4,
            "sku",
            "TEE-M at STORE-001 is already counted on row 2; one count per SKU and location.",
        )
    ]
    receipts = plan_import(content, kind="receipt")
    assert receipts.ok is True
    assert [r.on_hand_after for r in receipts.rows] == [8, 1, 12]


def test_too_long_reference_is_refused(catalog):
    plan = plan_import(
        csv("sku,location,quantity,reference", f"TEE-M,STORE-001,1,{'x' * 121}"), kind="receipt"
    )
    assert plan.errors == [RowError(2, "reference", "At most 120 characters.")]


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        ("", [RowError(0, "", "The file is empty; the first row must be the header.")]),
        ("sku,location,quantity\n\n", [RowError(0, "", "The file has a header but no rows.")]),
        (
            "sku,quantity\nTEE-M,1\n",
            [RowError(1, "location", "The header has no 'location' column.")],
        ),
        (
            "sku,location,quantity,note\nTEE-M,STORE-001,1,x\n",
            [
                RowError(
                    1,
                    "note",
                    "Unknown column 'note'; expected sku, location, quantity, reason, reference.",
                )
            ],
        ),
        (
            "sku,location,quantity,sku\nTEE-M,STORE-001,1,TEE-M\n",
            [RowError(1, "sku", "The column 'sku' appears twice.")],
        ),
        (
            b"sku,location,quantity\nT\xe9E,STORE-001,1\n",
            [RowError(0, "", "The file is not UTF-8 text; save it as 'CSV UTF-8'.")],
        ),
    ],
)
def test_bad_files_are_reported(catalog, content, errors):
    before = snapshot()
    plan = import_stock(content, kind="receipt")
    assert plan.errors == errors
    assert plan.rows == []
    assert snapshot() == before


def test_spreadsheet_files_are_read(catalog):
    # Excel's "CSV UTF-8": a byte-order mark, semicolons, CRLF, upper-case header, blank lines.
    content = (
        "\ufeffSKU;Location;Quantity\r\nTEE-M;STORE-001;3\r\n\r\n TEE-L ;WH-01; 2 \r\n".encode()
    )
    plan = plan_import(content, kind="receipt")
    assert plan.ok is True
    assert [(r.row, r.sku, r.location, r.quantity) for r in plan.rows] == [
        (2, "TEE-M", "STORE-001", 3),
        (4, "TEE-L", "WH-01", 2),
    ]


def test_dry_run_writes_nothing_but_shows_the_effect(catalog):
    before = snapshot()
    plan = import_stock(
        csv("sku,location,quantity", "TEE-M,STORE-001,2", "TEE-L,WH-01,9"),
        kind="count",
        dry_run=True,
    )
    assert plan.ok is True
    assert plan.applied is False
    assert [(r.on_hand_before, r.on_hand_after) for r in plan.rows] == [(5, 2), (0, 9)]
    assert plan.summary() == "2 stock level(s) would be counted: 2 changed, net +6 unit(s)."
    assert snapshot() == before


def test_a_row_refused_while_writing_rolls_everything_back(catalog):
    SKUFactory(sku="NEW-1")
    plan = plan_import(
        csv("sku,location,quantity", "TEE-M,STORE-001,1", "NEW-1,WH-01,2"), kind="receipt"
    )
    assert plan.ok is True
    SKU.objects.filter(sku="NEW-1").delete()  # the catalog changed after the preview
    before = snapshot()

    imports.apply_import(plan)

    assert plan.applied is False
    assert plan.errors == [RowError(3, "sku", "Unknown SKU 'NEW-1'.")]
    assert snapshot() == before


def test_checking_takes_the_same_queries_for_ten_rows_or_three_hundred(catalog):
    for n in range(30):
        SKUFactory(sku=f"SOCK-{n}")

    def queries(rows: int) -> int:
        lines = [f"SOCK-{n % 30},{('STORE-001', 'WH-01')[n % 2]},1" for n in range(rows)]
        with CaptureQueriesContext(connection) as ctx:
            assert plan_import(csv("sku,location,quantity", *lines), kind="receipt").ok
        return len(ctx.captured_queries)

    assert queries(10) == queries(300) == 3  # SKUs, locations, stock levels


def test_writing_takes_the_same_queries_for_ten_rows_or_three_hundred(catalog):
    for n in range(300):
        SKUFactory(sku=f"SOCK-{n}")

    def queries(first: int, rows: int) -> int:
        lines = [f"SOCK-{n},STORE-001,1" for n in range(first, first + rows)]
        plan = plan_import(csv("sku,location,quantity", *lines), kind="receipt")
        with CaptureQueriesContext(connection) as ctx:
            imports.apply_import(plan)
        assert plan.applied
        return len(ctx.captured_queries)

    # Not one query per row (the per-row services take six each: 1,740 for 290 rows). SQLite
    # caps an INSERT at 999 parameters, so there the 290 rows take a few more INSERTs.
    few, many = queries(0, 10), queries(10, 290)
    assert few <= 12
    assert many <= few + 6


# --- The batch services behind it -------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "lines", "error", "attr"),
    [
        (
            services.receive_stock_batch,
            [("TEE-M", "STORE-001", 1), ("TEE-L", "WH-01", 0)],
            ValidationFailed,
            "lines.1.quantity",
        ),
        (
            services.receive_stock_batch,
            [("TEE-M", "STORE-001", 1), ("TEE-L", "MOON", 1)],
            UnknownLocation,
            "lines.1.location",
        ),
        (
            services.count_stock_batch,
            [("TEE-M", "STORE-001", 1), ("TEE-M", "STORE-001", 2)],
            ValidationFailed,
            "lines.1",
        ),
        (
            services.count_stock_batch,
            [("TEE-M", "STORE-001", -1)],
            ValidationFailed,
            "lines.0.quantity",
        ),
    ],
)
def test_batch_services_refuse_a_bad_line_and_write_nothing(catalog, service, lines, error, attr):
    before = snapshot()
    with pytest.raises(error) as raised:
        service(lines=[services.StockLine(*line) for line in lines])
    assert [e["attr"] for e in raised.value.errors] == [attr]
    assert snapshot() == before


def test_batch_receipts_match_single_receipts(catalog):
    entry = services.Entry(reason="delivery", reference="PO-1", actor="ann")
    services.receive_stock_batch(
        lines=[
            services.StockLine("TEE-M", "STORE-001", 3, entry),
            services.StockLine("TEE-L", "WH-01", 4, entry),
            services.StockLine("TEE-M", "STORE-001", 2, entry),
        ]
    )
    assert list(
        StockMovement.objects.filter(reference="PO-1")
        .order_by("id")
        .values_list("kind", "sku__sku", "quantity", "on_hand_after", "reason", "actor")
    ) == [
        ("receipt", "TEE-M", 3, 8, "delivery", "ann"),
        ("receipt", "TEE-L", 4, 4, "delivery", "ann"),
        ("receipt", "TEE-M", 2, 10, "delivery", "ann"),
    ]
    assert on_hand() == {("TEE-M", "STORE-001"): 10, ("TEE-L", "WH-01"): 4}
    assert_ledger_sums_to_on_hand()


# --- The command -------------------------------------------------------------------------------


@pytest.fixture
def write_csv(tmp_path):
    def write(*lines: str, name: str = "stock.csv") -> str:
        path = tmp_path / name
        path.write_text(csv(*lines), encoding="utf-8")
        return str(path)

    return write


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_stock", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_receipts(catalog, write_csv):
    path = write_csv("sku,location,quantity", "TEE-M,STORE-001,10", "TEE-L,WH-01,7")
    out, err = run(path, "--kind", "receipt", "--actor", "night shift")
    assert out == "2 row(s) received: +17 unit(s) at 2 stock level(s).\n"
    assert err == ""
    assert on_hand() == {("TEE-M", "STORE-001"): 15, ("TEE-L", "WH-01"): 7}
    assert set(
        StockMovement.objects.filter(kind="receipt", quantity__in=[10, 7]).values_list(
            "actor", "reason"
        )
    ) == {("night shift", "CSV import stock.csv")}


def test_command_reports_bad_rows_writes_nothing_and_exits_1(catalog, write_csv):
    path = write_csv(
        "sku,location,quantity", "TEE-M,STORE-001,10", "NOPE,STORE-001,x", "TEE-L,MOON,1"
    )
    before = snapshot()
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_stock", path, "--kind", "receipt", stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert str(raised.value) == "2 of 3 row(s) have errors; nothing can be written."
    assert err.getvalue() == (
        "row 3, sku: Unknown SKU 'NOPE'.\n"
        "row 3, quantity: 'x' is not a whole number.\n"
        "row 4, location: Unknown location 'MOON'.\n"
    )
    assert snapshot() == before


def test_command_exit_status_from_a_shell(catalog, write_csv, capsys, monkeypatch):
    # run_from_argv closes every connection when done, which would end the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    bad = write_csv("sku,location,quantity", "TEE-M,STORE-001,0", name="bad.csv")
    with pytest.raises(SystemExit) as exited:
        ImportStockCommand().run_from_argv(["manage.py", "import_stock", bad, "--kind", "receipt"])
    assert exited.value.code == 1
    assert "row 2, quantity: A receipt must be above zero." in capsys.readouterr().err

    good = write_csv("sku,location,quantity", "TEE-M,STORE-001,1", name="good.csv")
    ImportStockCommand().run_from_argv(["manage.py", "import_stock", good, "--kind", "receipt"])
    assert on_hand()[("TEE-M", "STORE-001")] == 6


def test_command_dry_run_prints_the_plan_and_writes_nothing(catalog, write_csv):
    path = write_csv("sku,location,quantity", "TEE-M,STORE-001,2", "TEE-L,WH-01,0")
    before = snapshot()
    out, err = run(path, "--kind", "count", "--dry-run")
    assert out == (
        "row 2: TEE-M at STORE-001: 5 → 2\n"
        "row 3: TEE-L at WH-01: 0 → 0\n"
        "Dry run: 2 stock level(s) would be counted: 1 changed, net -3 unit(s). "
        "Nothing was written.\n"
    )
    assert err == ""
    assert snapshot() == before


def test_command_dry_run_of_a_bad_file_exits_1(catalog, write_csv):
    path = write_csv("sku,location,quantity", "TEE-M,STORE-001,-2")
    with pytest.raises(CommandError) as raised:
        run(path, "--kind", "count", "--dry-run")
    assert raised.value.returncode == 1


def test_command_missing_file(catalog, tmp_path):
    with pytest.raises(CommandError) as raised:
        run(str(tmp_path / "missing.csv"), "--kind", "receipt")
    assert raised.value.returncode == 2
    assert str(raised.value).startswith("Cannot read ")


# --- Concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_import_and_checkouts_on_the_same_rows_do_not_deadlock(store, warehouse, monkeypatch):
    monkeypatch.setattr(imports, "APPLY_CHUNK", 7)  # several lock rounds within the import
    codes = [f"SOCK-{n:02d}" for n in range(20)]
    for code in codes:
        SKUFactory(sku=code)
        for location in ("STORE-001", "WH-01"):
            services.receive_stock(sku=code, location=location, quantity=100)
    # The file lists the rows in reverse primary-key order; holds take them in ascending order.
    keys = list(StockLevel.objects.order_by("-pk").values_list("sku__sku", "location__code"))
    content = csv("sku,location,quantity", *[f"{sku},{loc},5" for sku, loc in keys])
    errors: list[BaseException] = []
    start = threading.Barrier(5)

    def importer():
        try:
            start.wait()
            assert import_stock(content, kind="receipt").applied
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def shopper(seed: int):
        try:
            start.wait()
            for n in range(15):
                a, b = codes[(seed + n) % 20], codes[(seed * 7 + n * 3 + 1) % 20]
                lines = [services.HoldLine(a, "STORE-001", 1), services.HoldLine(b, "WH-01", 1)]
                reservation = services.reserve(channel="web", lines=lines)
                services.release(reservation_id=reservation.pk)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=importer)] + [
        threading.Thread(target=shopper, args=(seed,)) for seed in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert set(StockLevel.objects.values_list("on_hand", "reserved")) == {(105, 0)}
    assert_ledger_sums_to_on_hand()
