"""What merchandisers see: the catalog, edited here through services, and stock, read-only
(it changes only through services: the admin actions and the CSV import call them)."""

from inventory.admin import catalog, stock

__all__ = ["catalog", "stock"]
