"""What units of an order line are worth, exact to the cent over several partial refunds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from config.money import to_cents
from orders.models import OrderLine


@dataclass(frozen=True)
class UnitsValue:
    amount: Decimal  # money paid for the units (after discounts, with tax, less points)
    points_value: Decimal  # the part paid with points
    total: Decimal  # amount + points_value


def _share(whole: Decimal, quantity: int, before: int, units: int) -> Decimal:
    return to_cents(whole * (before + units) / quantity) - to_cents(whole * before / quantity)


def units_value(line: OrderLine, units: int, *, before: int = 0) -> UnitsValue:
    """The value of ``units`` of ``line`` when ``before`` units were already refunded,
    cancelled or captured. Cumulative, so the parts over every call add up to the line's
    total exactly: ``units_value(line, line.quantity)`` is the whole line."""
    if units < 0 or before < 0 or before + units > line.quantity:
        raise ValueError(f"{before} + {units} units of a line of {line.quantity}")
    # Money and points each split on their own, so that neither part is ever negative and
    # each adds up to its own whole over every call.
    amount = _share(line.total - line.points_value, line.quantity, before, units)
    points = _share(line.points_value, line.quantity, before, units)
    return UnitsValue(amount=amount, points_value=points, total=amount + points)
