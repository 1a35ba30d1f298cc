"""The books after a benchmark or a load test: nothing oversold and every ledger adds up.

The ledgers are reconciled by the apps' own read-only checks, the ones ``manage.py
check_books`` runs (``inventory.selectors.stock_discrepancies``, ``loyalty.selectors``'
``points_discrepancies`` and ``store_credit_discrepancies``: aggregate SQL, fast enough for
the full data set):

- stock, per level: on hand >= 0, reserved >= 0, reserved <= on hand, on hand == the sum of
  its ledger, reserved == the units of the active holds on it; a closed hold keeps no units;
- points, per account: balance >= 0, balance == the sum of its ledger == the sum of its open
  lots, points owed == the sum of its owed changes;
- store credit, per account: balance >= 0, balance == the sum of its entries.

Only the benchmark's own check lives here: one new order per 201 answered.
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


def _check(label: str, problems: list[str], of: int) -> Check:
    shown = "; ".join(problems[:3]) + (
        f"; and {len(problems) - 3:,} more" if len(problems) > 3 else ""
    )
    return Check(label, len(problems), of, shown)


def ledger_checks() -> list[Check]:
    """The apps' own reconciliation (``check_books``), one line per book; ``bad`` counts the
    discrepancies found (a level or account may break more than one rule)."""
    from inventory.models import StockLevel
    from inventory.selectors import stock_discrepancies
    from loyalty.models import LoyaltyAccount, StoreCreditAccount
    from loyalty.selectors import points_discrepancies, store_credit_discrepancies

    return [
        _check(
            "stock: levels and holds against the ledger",
            stock_discrepancies(),
            StockLevel.objects.count(),
        ),
        _check(
            "points: balances against the ledger and lots",
            points_discrepancies(),
            LoyaltyAccount.objects.count(),
        ),
        _check(
            "store credit: balances against the entries",
            store_credit_discrepancies(),
            StoreCreditAccount.objects.count(),
        ),
    ]


def order_count() -> int:
    from orders.models import Order

    return Order.objects.count()


def check_books(
    *, orders_before: int | None = None, orders_expected: int | None = None
) -> list[Check]:
    """Every check above, and, given both counts, one new order per success answered."""
    checks = ledger_checks()
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
