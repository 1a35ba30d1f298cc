"""Payment providers behind one small interface (authorise, capture, void, refund).

``orders.services.payments`` is the only caller; it records every outcome on ``Payment``
rows and in the order's history. Providers are named in ``settings.ORDERS_PAYMENT_PROVIDERS``
(name → dotted path); ``manual`` is always there.
"""

from orders.payments.base import PaymentDeclined, PaymentProvider, ProviderResult, get_provider
from orders.payments.manual import ManualProvider

__all__ = ["ManualProvider", "PaymentDeclined", "PaymentProvider", "ProviderResult", "get_provider"]
