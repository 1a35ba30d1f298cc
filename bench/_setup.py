"""What every benchmark shares: its own PostgreSQL database, Django, timing, reporting."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results"


def bench_database_url() -> str:
    """``DATABASE_URL`` with the database name replaced by ``BENCH_DATABASE`` (default
    ``retail_bench``): benchmarks never write to the database you work in."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL server, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev; the benchmark "
            "creates and uses its own database on it (BENCH_DATABASE, default retail_bench)."
        )
    parts = urlsplit(url)
    name = os.environ.get("BENCH_DATABASE", "retail_bench")
    return urlunsplit(parts._replace(path=f"/{name}"))


def psycopg_conninfo(url: str) -> str:
    """A libpq URI for psycopg (it does not know the ``postgres+`` spellings Django allows)."""
    return "postgresql://" + url.split("://", 1)[1]


def create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(psycopg_conninfo(url))._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django() -> str:
    """Point Django at the benchmark database, create and migrate it. Returns its URL."""
    url = bench_database_url()
    create_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return url


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def environment() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "postgresql": server.split(" on ")[0],
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def print_table(headers: list[str], rows: list[list]) -> None:
    """A plain-text table; numbers right-aligned."""
    cells = [[str(h) for h in headers], *[[_fmt(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in cells[1:]) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                cell.rjust(width) if numeric[i] else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _is_number(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ms(seconds: float) -> str:
    """Milliseconds with three significant digits: 0.812, 12.7, 254."""
    value = seconds * 1000
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


class Deadline:
    """A measurement window: ``warmup`` seconds not recorded, then ``seconds`` recorded."""

    def __init__(self, seconds: float, warmup: float):
        now = time.perf_counter()
        self.start = now + warmup
        self.end = self.start + seconds
        self.seconds = seconds
