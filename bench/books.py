"""The books after a benchmark or a load test: nothing oversold and every ledger adds up.

The invariants are the ones DESIGN.md ("Data rules") and the models' docstrings state; the
apps have no reconciliation function to call (``inventory`` and ``loyalty`` keep them true
write by write, and the property tests check them on small data), so they are checked here
with one aggregate query each, fast enough for the full data set:

- stock, per level: on hand >= 0, reserved >= 0, reserved <= on hand, on hand == the sum of
  its ledger, reserved == the units of the active holds on it;
- points, per account: balance >= 0, balance == the sum of its ledger == the sum of its open
  lots, points owed == the sum of its owed changes;
- store credit, per account: balance >= 0, balance == the sum of its entries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    label: str
    bad: int
    of: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.bad == 0

    def line(self) -> str:
        extra = f"; {self.detail}" if self.detail else ""
        return f"  {'ok  ' if self.ok else 'FAIL'} {self.label}: {self.bad:,} bad of {self.of:,}{extra}"

    def as_dict(self) -> dict:
        return {
            "check": self.label,
            "ok": self.ok,
            "bad": self.bad,
            "of": self.of,
            "detail": self.detail,
        }


def _columns(model) -> dict[str, str]:
    return {f.name: f'"{f.column}"' for f in model._meta.concrete_fields}


def _table(model) -> str:
    return f'"{model._meta.db_table}"'


def _count(sql: str, params=()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def stock_checks() -> list[Check]:
    from inventory.models import Reservation, ReservationLine, StockLevel, StockMovement

    level, move = _columns(StockLevel), _columns(StockMovement)
    line, hold = _columns(ReservationLine), _columns(Reservation)
    levels = _count(f"SELECT count(*) FROM {_table(StockLevel)}")
    ledger = f"""
        SELECT count(*) FROM {_table(StockLevel)} l
        LEFT JOIN (SELECT {move["level"]} AS level_id, sum({move["quantity"]}) AS total
                   FROM {_table(StockMovement)} GROUP BY {move["level"]}) m
          ON m.level_id = l.{level["id"]}
        WHERE l.{level["on_hand"]} <> coalesce(m.total, 0)"""
    holds = f"""
        SELECT count(*) FROM {_table(StockLevel)} l
        LEFT JOIN (SELECT rl.{line["level"]} AS level_id, sum(rl.{line["quantity"]}) AS total
                   FROM {_table(ReservationLine)} rl
                   JOIN {_table(Reservation)} r ON r.{hold["id"]} = rl.{line["reservation"]}
                   WHERE r.{hold["status"]} = %s GROUP BY rl.{line["level"]}) h
          ON h.level_id = l.{level["id"]}
        WHERE l.{level["reserved"]} <> coalesce(h.total, 0)"""
    where = {
        "on hand >= 0": f"{level['on_hand']} < 0",
        "reserved >= 0": f"{level['reserved']} < 0",
        "reserved <= on hand (nothing oversold)": f"{level['reserved']} > {level['on_hand']}",
    }
    checks = [
        Check(
            f"stock: {label}",
            _count(f"SELECT count(*) FROM {_table(StockLevel)} WHERE {cond}"),
            levels,
        )
        for label, cond in where.items()
    ]
    checks.append(Check("stock: on hand == sum of its ledger", _count(ledger), levels))
    checks.append(
        Check(
            "stock: reserved == units of its active holds",
            _count(holds, [Reservation.Status.ACTIVE]),
            levels,
        )
    )
    return checks


def points_checks() -> list[Check]:
    from loyalty.models import LoyaltyAccount, PointsEntry, PointsLot

    account, entry, lot = _columns(LoyaltyAccount), _columns(PointsEntry), _columns(PointsLot)
    accounts = _count(f"SELECT count(*) FROM {_table(LoyaltyAccount)}")
    sums = f"""
        SELECT count(*) FROM {_table(LoyaltyAccount)} a
        LEFT JOIN (SELECT {entry["account"]} AS account_id, sum({entry["points"]}) AS points,
                          sum({entry["owed_change"]}) AS owed
                   FROM {_table(PointsEntry)} GROUP BY {entry["account"]}) e
          ON e.account_id = a.{account["id"]}
        LEFT JOIN (SELECT {lot["account"]} AS account_id, sum({lot["remaining"]}) AS remaining
                   FROM {_table(PointsLot)} GROUP BY {lot["account"]}) o
          ON o.account_id = a.{account["id"]}
        WHERE {{}}"""
    return [
        Check(
            "points: balance >= 0",
            _count(f"SELECT count(*) FROM {_table(LoyaltyAccount)} WHERE {account['points']} < 0"),
            accounts,
        ),
        Check(
            "points: balance == sum of its ledger",
            _count(sums.format(f"a.{account['points']} <> coalesce(e.points, 0)")),
            accounts,
        ),
        Check(
            "points: balance == sum of its open lots",
            _count(sums.format(f"a.{account['points']} <> coalesce(o.remaining, 0)")),
            accounts,
        ),
        Check(
            "points: owed == sum of its owed changes",
            _count(sums.format(f"a.{account['points_owed']} <> coalesce(e.owed, 0)")),
            accounts,
        ),
    ]


def store_credit_checks() -> list[Check]:
    from loyalty.models import StoreCreditAccount, StoreCreditEntry

    account, entry = _columns(StoreCreditAccount), _columns(StoreCreditEntry)
    accounts = _count(f"SELECT count(*) FROM {_table(StoreCreditAccount)}")
    off = f"""
        SELECT count(*) FROM {_table(StoreCreditAccount)} a
        LEFT JOIN (SELECT {entry["account"]} AS account_id, sum({entry["amount"]}) AS total
                   FROM {_table(StoreCreditEntry)} GROUP BY {entry["account"]}) e
          ON e.account_id = a.{account["id"]}
        WHERE a.{account["balance"]} <> coalesce(e.total, 0)"""
    return [
        Check(
            "store credit: balance >= 0",
            _count(
                f"SELECT count(*) FROM {_table(StoreCreditAccount)} WHERE {account['balance']} < 0"
            ),
            accounts,
        ),
        Check("store credit: balance == sum of its entries", _count(off), accounts),
    ]


def order_count() -> int:
    from orders.models import Order

    return Order.objects.count()


def check_books(
    *, orders_before: int | None = None, orders_expected: int | None = None
) -> list[Check]:
    """Every check above, and, given both counts, one new order per success answered."""
    checks = [*stock_checks(), *points_checks(), *store_credit_checks()]
    if orders_before is not None and orders_expected is not None:
        made = order_count() - orders_before
        checks.append(
            Check(
                "orders: one new order per 201 answered",
                abs(made - orders_expected),
                orders_expected,
                f"{made:,} new orders, {orders_expected:,} answers 201",
            )
        )
    return checks


def print_books(checks: list[Check]) -> bool:
    print("The books after the run:")
    for check in checks:
        print(check.line())
    return all(check.ok for check in checks)
