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
    PrepaidInput,
    check_request,
    plan,
)
from orders.services.events import record_event, refresh_status
from orders.services.notifications import notify, send_notification
from orders.services.payments import (
    RefundPart,
    authorise_payment,
    capture_payment,
    refund_captured,
    refund_payment,
    void_payments,
)
from orders.services.pickup import new_pickup_code

__all__ = [
    "MAX_LINES",
    "AddressInput",
    "LineInput",
    "LoyaltyInput",
    "OrderRequest",
    "PaymentInput",
    "PrepaidInput",
    "RefundPart",
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
    "record_event",
    "refresh_status",
    "refund_captured",
    "refund_payment",
    "send_notification",
    "units_value",
    "void_payments",
]

# --- Fulfilment lifecycle: pick, ready, hand-over, short picks, shortfall repair, uncollected
# pickups (orders/services/fulfilment.py, handover.py, short_picks.py, shortfall_repair.py,
# pickup_expiry.py, pickup_times.py). Kept in one block at the end of this shared file.
from orders.services.fulfilment import (
    PickedLine,
    mark_ready,
    record_pick,
    start_picking,
)
from orders.services.handover import InvalidPickupCode, collect, ship
from orders.services.pickup_expiry import cancel_uncollected_pickups, expire_pickup
from orders.services.pickup_times import pickup_hold_days, pickup_ready_by
from orders.services.shortfall_repair import repair_fulfilment, repair_shortfall

__all__ += [
    "InvalidPickupCode",
    "PickedLine",
    "cancel_uncollected_pickups",
    "collect",
    "expire_pickup",
    "mark_ready",
    "pickup_hold_days",
    "pickup_ready_by",
    "record_pick",
    "repair_fulfilment",
    "repair_shortfall",
    "ship",
    "start_picking",
]

# --- Carts, POS sales and receipts (orders/services/carts.py, pos.py, receipts.py). Kept in
# one block at the end of this shared file.
from orders.services.carts import (  # noqa: E402
    add_line,
    merge_cart,
    open_cart,
    price_cart,
    purge_stale_carts,
    remove_line,
    set_line_quantity,
    update_cart,
)
from orders.services.pos import SaleLine, SaleRequest, TenderInput, sell  # noqa: E402
from orders.services.receipts import email_receipt, receipt_data  # noqa: E402

__all__ += [
    "SaleLine",
    "SaleRequest",
    "TenderInput",
    "add_line",
    "email_receipt",
    "merge_cart",
    "open_cart",
    "price_cart",
    "purge_stale_carts",
    "receipt_data",
    "remove_line",
    "sell",
    "set_line_quantity",
    "update_cart",
]
