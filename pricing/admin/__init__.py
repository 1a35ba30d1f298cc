"""What merchandisers see of pricing: price lists with their prices, a CSV import with a
dry-run preview, raising or lowering prices by a percentage, the price history ("who changed
this price?"), promotions with their coupons and a preview on a sample cart, tax rates.

Every write goes through ``pricing.services`` (prices through ``pricing.services.bulk``), so
the admin keeps the rules and the history the API keeps; the history names the staff user
as ``user:<username>``.
"""

from pricing.admin import price_lists, prices, promotions, tax

__all__ = ["price_lists", "prices", "promotions", "tax"]
