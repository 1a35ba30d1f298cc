"""Whose object is it: one row per (URL name, method) under /api/v1/ whose path takes an
identifier (``{number}``, ``{pk}``, ``{card_number}``, a cart ``{id}``...).

``tests/config/test_object_scope.py`` walks the URL resolver (the walk of ``test_roles.py``)
and fails when such an endpoint exists that this table does not mention, or when the table
mentions one that no longer exists. The role matrix (``role_matrix.py``) says which roles may
call an endpoint at all; this table says which objects a role that may call it reaches.
DESIGN.md, "Roles": a request for another principal's object answers 404, not 403, so that
identifiers cannot be probed.

To add an endpoint, add one row per method:

- ``Scoped(path, objects, body=...)`` when the object belongs to somebody. ``objects`` maps
  each kind of owner to the builder (``scope_builders.BUILDERS``) that makes such an object
  owned by side A:

  ``CUSTOMER``  customer A's object; customer B's token must get 404.
  ``STORE``     an object at store A (STORE-AMS); a POS terminal and store staff at store B
                (STORE-UTR) must get 404. Only the roles the role matrix lets in are tried.
  ``CLIENT``    an object made by API client A (a storefront); storefront B must get 404.

  The test builds the object, calls ``path`` as B (404 problem+json, nothing written), then as
  A (the control: the answer ``owner_status`` says, 2xx unless told, and a write really
  writes unless ``owner_writes=False``). ``path`` and ``body`` take the builder's placeholders, plus ``{here}`` (the
  caller's own store) and ``{customer}`` (a customer caller's own id; the owner's id for the
  other roles). Give the body the owner's call needs to succeed, so that a leak would write.

- ``Unscoped(why)`` when every caller the role matrix lets in may see every such object: say
  why. ``MERCHANDISER_ONLY`` for endpoints only merchandisers may call (they see everything;
  the test checks the role matrix agrees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CUSTOMER = "customer"
STORE = "store"
CLIENT = "client"
OWNER_KINDS = (CUSTOMER, STORE, CLIENT)


@dataclass(frozen=True)
class Scoped:
    path: str
    objects: dict[str, str]  # owner kind -> builder name in scope_builders.BUILDERS
    body: dict[str, Any] | None = None
    owner_status: int | None = None  # the owner's answer when it is not a 2xx
    owner_writes: bool = True  # a write method: the owner's call changes something
    why: str = ""


@dataclass(frozen=True)
class Unscoped:
    why: str
    merchandisers_only: bool = field(default=False)


CATALOG = Unscoped("catalog and network data: the same for every caller (writes: merchandisers)")
MERCHANDISER_ONLY = Unscoped("only merchandisers may call it, and they see every object", True)

# Shapes shared by several rows.
ORDER = {CUSTOMER: "customer_order", STORE: "customer_order", CLIENT: "guest_order"}
CART = {CUSTOMER: "customer_cart", STORE: "customer_cart"}
RETURN = {CUSTOMER: "requested_return", STORE: "store_return", CLIENT: "guest_return"}

OBJECT_SCOPE: dict[tuple[str, str], Scoped | Unscoped] = {
    # --- inventory: catalog and locations ---------------------------------------------------
    ("category-detail", "GET"): CATALOG,
    ("category-detail", "PATCH"): CATALOG,
    ("product-detail", "GET"): CATALOG,
    ("product-detail", "PATCH"): CATALOG,
    ("sku-detail", "GET"): CATALOG,
    ("channel-detail", "GET"): CATALOG,
    ("location-detail", "GET"): CATALOG,
    ("location-detail", "PATCH"): CATALOG,
    # --- inventory: transfers (from or to the caller's locations) and reservations (the
    # client that made the hold) ---------------------------------------------------------------
    ("transfer-detail", "GET"): Scoped("/api/v1/stock/transfers/{pk}/", {STORE: "transfer"}),
    ("transfer-receive", "POST"): Scoped(
        "/api/v1/stock/transfers/{pk}/receive/", {STORE: "transfer"}
    ),
    ("reservation-detail", "GET"): Scoped(
        "/api/v1/reservations/{pk}/", {CLIENT: "web_reservation", STORE: "store_reservation"}
    ),
    ("reservation-detail", "DELETE"): Scoped(
        "/api/v1/reservations/{pk}/", {CLIENT: "web_reservation", STORE: "store_reservation"}
    ),
    # --- loyalty: a customer sees only itself; staff roles look any customer up -------------
    ("customer-detail", "GET"): Scoped(
        "/api/v1/customers/{pk}/", {CUSTOMER: "customer"}, why="staff look any customer up"
    ),
    ("customer-detail", "PATCH"): Scoped(
        "/api/v1/customers/{pk}/",
        {CUSTOMER: "customer"},
        body={"first_name": "Mallory"},
        why="storefronts and merchandisers edit any profile",
    ),
    ("loyalty-account-detail", "GET"): Scoped(
        "/api/v1/loyalty/accounts/{card}/", {CUSTOMER: "customer"}, why="staff: any card"
    ),
    ("loyalty-account-ledger", "GET"): Scoped(
        "/api/v1/loyalty/accounts/{card}/ledger/", {CUSTOMER: "customer"}, why="staff: any card"
    ),
    ("loyalty-account-adjustments", "POST"): MERCHANDISER_ONLY,
    # --- pricing ------------------------------------------------------------------------------
    ("price-list-detail", "GET"): MERCHANDISER_ONLY,
    ("price-list-detail", "PATCH"): MERCHANDISER_ONLY,
    ("price-list-prices", "GET"): MERCHANDISER_ONLY,
    ("price-list-prices", "PUT"): MERCHANDISER_ONLY,
    ("promotion-detail", "GET"): MERCHANDISER_ONLY,
    ("promotion-detail", "PATCH"): MERCHANDISER_ONLY,
    ("promotion-coupons", "GET"): MERCHANDISER_ONLY,
    ("promotion-coupons", "POST"): MERCHANDISER_ONLY,
    # --- orders (orders/selectors.py visible_orders): a customer its own; POS and staff
    # orders with a fulfilment at their locations or placed by them; a storefront the orders
    # it placed and every named customer's (it may order for any customer) -----------------
    ("order-detail", "GET"): Scoped("/api/v1/orders/{number}/", ORDER),
    ("order-events", "GET"): Scoped("/api/v1/orders/{number}/events/", ORDER),
    ("order-cancel", "POST"): Scoped(
        "/api/v1/orders/{number}/cancel/", ORDER, body={"reason": "probe"}
    ),
    # --- orders: fulfilments, at the caller's own locations -------------------------------
    ("fulfilment-detail", "GET"): Scoped("/api/v1/fulfilments/{fulfilment}/", {STORE: "pickup"}),
    ("fulfilment-pick", "POST"): Scoped(
        "/api/v1/fulfilments/{fulfilment}/pick/",
        {STORE: "pickup"},
        body={"lines": [{"sku": "TEE", "quantity": 1}]},
    ),
    ("fulfilment-ready", "POST"): Scoped(
        "/api/v1/fulfilments/{fulfilment}/ready/", {STORE: "picked_pickup"}
    ),
    ("fulfilment-collect", "POST"): Scoped(
        "/api/v1/fulfilments/{fulfilment}/collect/",
        {STORE: "ready_pickup"},
        body={"pickup_code": "{pickup_code}"},
    ),
    ("fulfilment-ship", "POST"): Scoped(
        "/api/v1/fulfilments/{fulfilment}/ship/",
        {STORE: "picked_shipment"},
        body={"carrier": "PostNL", "tracking_number": "3S-PROBE"},
    ),
    # --- orders: carts (a customer its own, and anonymous ones whose id it holds; a POS
    # terminal every cart not bound to another store; a storefront any) --------------------
    ("cart-detail", "GET"): Scoped("/api/v1/carts/{cart}/", CART),
    ("cart-detail", "PATCH"): Scoped(
        "/api/v1/carts/{cart}/", CART, body={"coupon_codes": ["PROBE"]}
    ),
    ("cart-lines", "POST"): Scoped(
        "/api/v1/carts/{cart}/lines/", CART, body={"sku": "MUG", "quantity": 1}
    ),
    ("cart-line-detail", "PATCH"): Scoped(
        "/api/v1/carts/{cart}/lines/TEE/", CART, body={"quantity": 3}
    ),
    ("cart-line-detail", "DELETE"): Scoped("/api/v1/carts/{cart}/lines/TEE/", CART),
    ("cart-merge", "POST"): Scoped(
        "/api/v1/carts/{cart}/merge/",
        CART,
        body={"customer": "{customer}"},
        owner_writes=False,
        why="merging a customer's own cart into itself answers it unchanged",
    ),
    # --- orders: POS sales and receipts, the terminal's store only --------------------------
    ("pos-sale-receipt", "GET"): Scoped("/api/v1/pos/sales/{number}/receipt/", {STORE: "sale"}),
    ("pos-sale-receipt-print", "GET"): Scoped(
        "/api/v1/pos/sales/{number}/receipt/print/", {STORE: "sale"}
    ),
    ("pos-sale-receipt-email", "POST"): Scoped(
        "/api/v1/pos/sales/{number}/receipt/email/",
        {STORE: "sale"},
        body={"email": "probe@example.com"},
    ),
    # --- returns (returns/selectors.py visible_returns). A *requested* return is also found
    # by its exact number by POS terminals and store staff anywhere (the slip is scanned where
    # the customer brings the parcel), so the store rows use a return taken at store A ------
    ("return-detail", "GET"): Scoped("/api/v1/returns/{number}/", RETURN),
    ("return-slip", "GET"): Scoped("/api/v1/returns/{number}/slip/", RETURN),
    ("return-slip-pdf", "GET"): Scoped("/api/v1/returns/{number}/slip/pdf/", RETURN),
    ("return-cancel", "POST"): Scoped(
        "/api/v1/returns/{number}/cancel/",
        {CUSTOMER: "requested_return", STORE: "requested_return", CLIENT: "guest_return"},
        why="store: a requested return to store A is not store B's to withdraw",
    ),
    ("return-receive", "POST"): Scoped(
        "/api/v1/returns/{number}/receive/",
        {STORE: "store_return"},
        body={"location": "{here}"},
        owner_status=409,  # it was received when it was taken; a requested one is anyone's
        why="a requested return is received wherever it arrives, by design; a return taken "
        "at store A is 404 at store B (and 409 invalid_state at A)",
    ),
}
