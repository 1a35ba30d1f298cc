"""Inventory's one extension point: ``stock_shortfall``.

Sent after the transaction commits when a count, damage or negative adjustment left fewer
units on hand than were reserved at a location. Inventory has already corrected the level
and taken the missing units away from the newest reservations; receivers (the orders app)
decide what to do about the orders behind them (re-route, cancel the line, tell the
customer). Receivers get ``notice``: a :class:`ShortfallNotice`. Inventory never imports
its receivers::

    from django.dispatch import receiver
    from inventory.signals import stock_shortfall

    @receiver(stock_shortfall)
    def repair_orders(sender, notice, **kwargs): ...
"""

from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(frozen=True)
class ShortReservation:
    reservation_id: int
    reference: str | None
    quantity: int


@dataclass(frozen=True)
class ShortfallNotice:
    shortfall_id: int
    sku: str
    location: str
    quantity: int
    reservations: tuple[ShortReservation, ...]  # newest first


stock_shortfall = Signal()
