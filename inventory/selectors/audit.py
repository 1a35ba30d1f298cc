"""Reconciling the stock books: read-only checks of the rules DESIGN.md ("Data rules") states,
safe to run against a live database (``manage.py check_books``).

The services keep these true write by write; these checks find what went around them (a raw
UPDATE, a restored backup, a bug). They run as aggregate SQL, one statement per check, each
ledger summed once and joined to its balances, so they stay fast on hundreds of thousands of
stock levels, where a correlated subquery per row would not.
"""

from __future__ import annotations

from django.db import connection

from config.rawsql import columns, table
from inventory.models import SKU, Location, Reservation, ReservationLine, StockLevel, StockMovement


def stock_discrepancies() -> list[str]:
    """One line per broken rule of the stock books, empty when they balance: per level, on
    hand and reserved are not negative, reserved is at most on hand, on hand equals the sum
    of its ledger, reserved equals the units of its active holds; and a closed hold keeps no
    units. Two queries."""
    level, move, sku, location = (
        columns(StockLevel),
        columns(StockMovement),
        columns(SKU),
        columns(Location),
    )
    line, hold = columns(ReservationLine), columns(Reservation)
    sql = f"""
        SELECT s.{sku["sku"]}, loc.{location["code"]}, l.{level["on_hand"]}, l.{level["reserved"]},
               coalesce(m.total, 0), coalesce(h.total, 0)
        FROM {table(StockLevel)} l
        JOIN {table(SKU)} s ON s.{sku["id"]} = l.{level["sku"]}
        JOIN {table(Location)} loc ON loc.{location["id"]} = l.{level["location"]}
        LEFT JOIN (SELECT {move["level"]} AS level_id, sum({move["quantity"]}) AS total
                   FROM {table(StockMovement)} GROUP BY {move["level"]}) m
          ON m.level_id = l.{level["id"]}
        LEFT JOIN (SELECT rl.{line["level"]} AS level_id, sum(rl.{line["quantity"]}) AS total
                   FROM {table(ReservationLine)} rl
                   JOIN {table(Reservation)} r ON r.{hold["id"]} = rl.{line["reservation"]}
                   WHERE r.{hold["status"]} = %s GROUP BY rl.{line["level"]}) h
          ON h.level_id = l.{level["id"]}
        WHERE l.{level["on_hand"]} < 0 OR l.{level["reserved"]} < 0
           OR l.{level["reserved"]} > l.{level["on_hand"]}
           OR l.{level["on_hand"]} <> coalesce(m.total, 0)
           OR l.{level["reserved"]} <> coalesce(h.total, 0)
        ORDER BY loc.{location["code"]}, s.{sku["sku"]}"""  # noqa: S608 - identifiers from the models
    closed = f"""
        SELECT r.{hold["id"]}, r.{hold["status"]}, sum(rl.{line["quantity"]})
        FROM {table(ReservationLine)} rl
        JOIN {table(Reservation)} r ON r.{hold["id"]} = rl.{line["reservation"]}
        WHERE r.{hold["status"]} <> %s AND rl.{line["quantity"]} > 0
        GROUP BY r.{hold["id"]}, r.{hold["status"]}
        ORDER BY r.{hold["id"]}"""  # noqa: S608 - identifiers from the models
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [Reservation.Status.ACTIVE])
        for code, where, on_hand, reserved, ledger, held in cursor.fetchall():
            name = f"{code}@{where}"
            if on_hand < 0 or reserved < 0:
                problems.append(f"{name}: negative (on hand {on_hand}, reserved {reserved})")
            if reserved > on_hand:
                problems.append(f"{name}: reserved {reserved} > on hand {on_hand} (oversold)")
            if on_hand != ledger:
                problems.append(f"{name}: on hand {on_hand} != sum of its ledger {ledger}")
            if reserved != held:
                problems.append(f"{name}: reserved {reserved} != units of its active holds {held}")
        cursor.execute(closed, [Reservation.Status.ACTIVE])
        for pk, status, units in cursor.fetchall():
            problems.append(f"reservation {pk} ({status}): still holds {units} units")
    return problems
