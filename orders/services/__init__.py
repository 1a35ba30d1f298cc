"""The orders app's writes: one function per use case, one transaction each.

For the fulfilment lifecycle built on top of these:

- :func:`refresh_status` after changing lines or fulfilments (the order's status is derived);
- :func:`record_event` for the history;
- :func:`notify` for a message to the customer (sent after the commit, once per key);
- :func:`capture_payment` at the hand-over, :func:`refund_payment` for units cancelled after
  the order was placed, :func:`units_value` for what units are worth.
"""

from orders.services.amounts import UnitsValue, units_value
from orders.services.cancel import cancel_order, points_refunded
from orders.services.checkout import place_order, points_reference
from orders.services.checkout_request import (
    MAX_LINES,
    AddressInput,
    LineInput,
    LoyaltyInput,
    OrderRequest,
    PaymentInput,
    check_request,
    plan,
)
from orders.services.events import record_event, refresh_status
from orders.services.notifications import notify, send_notification
from orders.services.payments import (
    authorise_payment,
    capture_payment,
    refund_payment,
    void_payments,
)
from orders.services.pickup import new_pickup_code, ready_by

__all__ = [
    "MAX_LINES",
    "AddressInput",
    "LineInput",
    "LoyaltyInput",
    "OrderRequest",
    "PaymentInput",
    "UnitsValue",
    "authorise_payment",
    "cancel_order",
    "capture_payment",
    "check_request",
    "new_pickup_code",
    "notify",
    "place_order",
    "plan",
    "points_reference",
    "points_refunded",
    "ready_by",
    "record_event",
    "refresh_status",
    "refund_payment",
    "send_notification",
    "units_value",
    "void_payments",
]
