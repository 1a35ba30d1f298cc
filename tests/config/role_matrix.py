"""Who may call what: one row per (URL name, method) under /api/v1/.

``tests/config/test_roles.py`` walks the URL resolver and fails when an endpoint exists that
this table does not mention, or when the table mentions one that no longer exists. So every
new endpoint needs a decided permission, written down here.

To add an endpoint:

1. Find its URL name (``router.register("carts", ..., basename="cart")`` gives ``cart-list``
   and ``cart-detail``; an action ``@action(detail=True, url_path="lines")`` gives
   ``cart-lines``) and its methods. The failing test prints the missing pairs.
2. Add one row per method: the URL name, the method, a sample path, and what each caller
   gets. The sample path may use the placeholders of the ``samples`` fixture in
   ``test_roles.py`` (``{category}``, ``{product}``, ``{sku}``, ``{channel}``, ``{store}``,
   ``{warehouse}``); add one there when your endpoint needs a real object. A missing object is fine for a role that
   is refused (permission is checked before the object is looked up); for an allowed role a
   404 still counts as "ok", but a real object makes the row prove more.
3. Use the shorthands below, or spell out a dict of the six callers.

Expected values:

``OK``   the call goes through: any status except 401 and 403, and below 500 (a 400 for the
         empty body the test sends is fine).
``401``  not authenticated (anonymous callers, where a token is needed).
``403``  authenticated, but the role may not do this at all.

Business scoping (a POS terminal only at its store, a customer only their own orders) is not
this table's business: an out-of-scope object answers 404 and is tested with the use case, and
for every endpoint that takes an identifier in ``object_scope.py`` (``test_object_scope.py``).
"""

OK = "ok"
UNAUTHENTICATED = 401
FORBIDDEN = 403

CALLERS = ("anonymous", "merchandiser", "storefront", "pos", "store_staff", "customer")


def expect(anonymous, merchandiser, storefront, pos, store_staff, customer) -> dict[str, str | int]:
    return dict(
        zip(CALLERS, (anonymous, merchandiser, storefront, pos, store_staff, customer), strict=True)
    )


# Shorthands for the common shapes.
PUBLIC = expect(OK, OK, OK, OK, OK, OK)
MERCHANDISER_ONLY = expect(UNAUTHENTICATED, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# Stock: the storefront reads levels; the ledger, movements and transfers are for the people
# who keep the stock; holds are for the selling channels (inventory/api/stock_views.py).
STOCK_READERS = expect(UNAUTHENTICATED, OK, OK, OK, OK, FORBIDDEN)
STOCK_KEEPERS = expect(UNAUTHENTICATED, OK, FORBIDDEN, OK, OK, FORBIDDEN)
LEVEL_PLANNERS = expect(UNAUTHENTICATED, OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)
RESERVERS = expect(UNAUTHENTICATED, OK, OK, OK, FORBIDDEN, FORBIDDEN)
# loyalty
AUTHENTICATED = expect(UNAUTHENTICATED, OK, OK, OK, OK, OK)
CUSTOMER_LOOKUP = expect(UNAUTHENTICATED, OK, OK, OK, OK, FORBIDDEN)
SIGN_UP = expect(OK, OK, OK, OK, FORBIDDEN, FORBIDDEN)  # anonymous self-sign-up included
CUSTOMER_ONLY = expect(UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
PROFILE_EDITORS = expect(UNAUTHENTICATED, OK, OK, FORBIDDEN, FORBIDDEN, OK)
# orders: the selling channels place orders; every role reads its own scope (404 outside);
# the routing dry run is for the selling channels and merchandisers.
ORDER_READERS = expect(UNAUTHENTICATED, OK, OK, OK, OK, OK)
ORDER_PLACERS = expect(UNAUTHENTICATED, FORBIDDEN, OK, OK, FORBIDDEN, OK)
ORDER_CANCELLERS = expect(UNAUTHENTICATED, OK, OK, OK, FORBIDDEN, OK)
ROUTING_PLANNERS = expect(UNAUTHENTICATED, OK, OK, OK, FORBIDDEN, FORBIDDEN)
CARD = "2700000000003"  # a valid check digit, held by nobody: 404 for the roles let through

# orders: fulfilment work is for the people at the locations (store staff, POS) and for
# merchandisers; storefronts and customers follow fulfilments through their orders.
FULFILMENT_WORKERS = expect(UNAUTHENTICATED, OK, FORBIDDEN, OK, OK, FORBIDDEN)

# returns: every role returns goods and reads its own scope (404 outside, returns/selectors.py);
# receiving is for the people at the locations and merchandisers.
RETURN_READERS = expect(UNAUTHENTICATED, OK, OK, OK, OK, OK)
RETURN_CREATORS = expect(UNAUTHENTICATED, OK, OK, OK, OK, OK)
RETURN_RECEIVERS = expect(UNAUTHENTICATED, OK, FORBIDDEN, OK, OK, FORBIDDEN)

# orders: carts are for the selling channels (customers their own; another's is 404); POS
# sales and receipts are the terminal's (another store's sale is 404).
CART_USERS = expect(UNAUTHENTICATED, FORBIDDEN, OK, OK, FORBIDDEN, OK)
POS_ONLY = expect(UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)
CART = "/api/v1/carts/00000000-0000-0000-0000-000000000000"

# (URL name, method): (sample path, expected status per caller)
MATRIX: dict[tuple[str, str], tuple[str, dict[str, str | int]]] = {
    # --- inventory: catalog ---------------------------------------------------------------
    ("category-list", "GET"): ("/api/v1/categories/", PUBLIC),
    ("category-list", "POST"): ("/api/v1/categories/", MERCHANDISER_ONLY),
    ("category-detail", "GET"): ("/api/v1/categories/{category}/", PUBLIC),
    ("category-detail", "PATCH"): ("/api/v1/categories/{category}/", MERCHANDISER_ONLY),
    ("product-list", "GET"): ("/api/v1/products/", PUBLIC),
    ("product-list", "POST"): ("/api/v1/products/", MERCHANDISER_ONLY),
    ("product-detail", "GET"): ("/api/v1/products/{product}/", PUBLIC),
    ("product-detail", "PATCH"): ("/api/v1/products/{product}/", MERCHANDISER_ONLY),
    ("sku-list", "GET"): ("/api/v1/skus/", PUBLIC),
    ("sku-detail", "GET"): ("/api/v1/skus/{sku}/", PUBLIC),
    # --- inventory: channels and locations ------------------------------------------------
    ("channel-list", "GET"): ("/api/v1/channels/", PUBLIC),
    ("channel-list", "POST"): ("/api/v1/channels/", MERCHANDISER_ONLY),
    ("channel-detail", "GET"): ("/api/v1/channels/{channel}/", PUBLIC),
    ("location-list", "GET"): ("/api/v1/locations/", PUBLIC),
    ("location-list", "POST"): ("/api/v1/locations/", MERCHANDISER_ONLY),
    ("location-detail", "GET"): ("/api/v1/locations/{store}/", PUBLIC),
    ("location-detail", "PATCH"): ("/api/v1/locations/{store}/", MERCHANDISER_ONLY),
    # --- inventory: stock, transfers, availability, reservations ---------------------------
    ("stock-level-list", "GET"): ("/api/v1/stock/", STOCK_READERS),
    ("stock-level-update", "PATCH"): ("/api/v1/stock/levels/", LEVEL_PLANNERS),
    ("stock-movement-list", "GET"): ("/api/v1/stock/movements/", STOCK_KEEPERS),
    ("stock-movement-list", "POST"): ("/api/v1/stock/movements/", STOCK_KEEPERS),
    ("transfer-list", "GET"): ("/api/v1/stock/transfers/", STOCK_KEEPERS),
    ("transfer-list", "POST"): ("/api/v1/stock/transfers/", STOCK_KEEPERS),
    ("transfer-detail", "GET"): ("/api/v1/stock/transfers/1/", STOCK_KEEPERS),
    ("transfer-receive", "POST"): ("/api/v1/stock/transfers/1/receive/", STOCK_KEEPERS),
    ("availability", "GET"): ("/api/v1/availability/?sku={sku}", PUBLIC),
    ("reservation-list", "POST"): ("/api/v1/reservations/", RESERVERS),
    ("reservation-detail", "GET"): ("/api/v1/reservations/1/", RESERVERS),
    ("reservation-detail", "DELETE"): ("/api/v1/reservations/1/", RESERVERS),
    # --- loyalty: customers and accounts (a customer's own only: 404 for others) ---------
    ("customer-list", "GET"): ("/api/v1/customers/", CUSTOMER_LOOKUP),
    ("customer-list", "POST"): ("/api/v1/customers/", SIGN_UP),
    ("customer-me", "GET"): ("/api/v1/customers/me/", CUSTOMER_ONLY),
    ("customer-me", "PATCH"): ("/api/v1/customers/me/", CUSTOMER_ONLY),
    ("customer-detail", "GET"): ("/api/v1/customers/1/", AUTHENTICATED),
    ("customer-detail", "PATCH"): ("/api/v1/customers/1/", PROFILE_EDITORS),
    ("auth-token", "POST"): ("/api/v1/auth/token/", PUBLIC),
    ("loyalty-account-detail", "GET"): (f"/api/v1/loyalty/accounts/{CARD}/", AUTHENTICATED),
    ("loyalty-account-ledger", "GET"): (f"/api/v1/loyalty/accounts/{CARD}/ledger/", AUTHENTICATED),
    ("loyalty-account-adjustments", "POST"): (
        f"/api/v1/loyalty/accounts/{CARD}/adjustments/",
        MERCHANDISER_ONLY,
    ),
    # --- pricing: price lists and promotions (merchandisers), quotes (anyone) -------------
    ("price-list-list", "GET"): ("/api/v1/price-lists/", MERCHANDISER_ONLY),
    ("price-list-list", "POST"): ("/api/v1/price-lists/", MERCHANDISER_ONLY),
    ("price-list-detail", "GET"): ("/api/v1/price-lists/NOPE/", MERCHANDISER_ONLY),
    ("price-list-detail", "PATCH"): ("/api/v1/price-lists/NOPE/", MERCHANDISER_ONLY),
    ("price-list-prices", "GET"): ("/api/v1/price-lists/NOPE/prices/", MERCHANDISER_ONLY),
    ("price-list-prices", "PUT"): ("/api/v1/price-lists/NOPE/prices/", MERCHANDISER_ONLY),
    ("promotion-list", "GET"): ("/api/v1/promotions/", MERCHANDISER_ONLY),
    ("promotion-list", "POST"): ("/api/v1/promotions/", MERCHANDISER_ONLY),
    ("promotion-detail", "GET"): ("/api/v1/promotions/1/", MERCHANDISER_ONLY),
    ("promotion-detail", "PATCH"): ("/api/v1/promotions/1/", MERCHANDISER_ONLY),
    ("promotion-coupons", "GET"): ("/api/v1/promotions/1/coupons/", MERCHANDISER_ONLY),
    ("promotion-coupons", "POST"): ("/api/v1/promotions/1/coupons/", MERCHANDISER_ONLY),
    ("pricing-quote", "POST"): ("/api/v1/pricing/quote/", PUBLIC),
    # --- orders: fulfilments (another location's fulfilment is 404 for staff and POS) ------
    ("fulfilment-list", "GET"): ("/api/v1/fulfilments/", FULFILMENT_WORKERS),
    ("fulfilment-detail", "GET"): ("/api/v1/fulfilments/999999/", FULFILMENT_WORKERS),
    ("fulfilment-pick", "POST"): ("/api/v1/fulfilments/999999/pick/", FULFILMENT_WORKERS),
    ("fulfilment-ready", "POST"): ("/api/v1/fulfilments/999999/ready/", FULFILMENT_WORKERS),
    ("fulfilment-collect", "POST"): ("/api/v1/fulfilments/999999/collect/", FULFILMENT_WORKERS),
    ("fulfilment-ship", "POST"): ("/api/v1/fulfilments/999999/ship/", FULFILMENT_WORKERS),
    # --- orders (another caller's order is 404; see orders/selectors.py) -------------------
    ("order-list", "GET"): ("/api/v1/orders/", ORDER_READERS),
    ("order-list", "POST"): ("/api/v1/orders/", ORDER_PLACERS),
    ("order-detail", "GET"): ("/api/v1/orders/W-000000/", ORDER_READERS),
    ("order-cancel", "POST"): ("/api/v1/orders/W-000000/cancel/", ORDER_CANCELLERS),
    ("order-events", "GET"): ("/api/v1/orders/W-000000/events/", ORDER_READERS),
    ("routing-plan", "POST"): ("/api/v1/routing/plan/", ROUTING_PLANNERS),
    # --- orders: carts ---------------------------------------------------------------------
    ("cart-list", "GET"): ("/api/v1/carts/", CART_USERS),
    ("cart-list", "POST"): ("/api/v1/carts/", CART_USERS),
    ("cart-detail", "GET"): (f"{CART}/", CART_USERS),
    ("cart-detail", "PATCH"): (f"{CART}/", CART_USERS),
    ("cart-lines", "POST"): (f"{CART}/lines/", CART_USERS),
    ("cart-line-detail", "PATCH"): (f"{CART}/lines/TEE/", CART_USERS),
    ("cart-line-detail", "DELETE"): (f"{CART}/lines/TEE/", CART_USERS),
    ("cart-merge", "POST"): (f"{CART}/merge/", CART_USERS),
    # --- orders: POS sales and receipts ------------------------------------------------------
    ("pos-sale-list", "POST"): ("/api/v1/pos/sales/", POS_ONLY),
    ("pos-sale-receipt", "GET"): ("/api/v1/pos/sales/P-000000/receipt/", POS_ONLY),
    ("pos-sale-receipt-print", "GET"): ("/api/v1/pos/sales/P-000000/receipt/print/", POS_ONLY),
    ("pos-sale-receipt-email", "POST"): ("/api/v1/pos/sales/P-000000/receipt/email/", POS_ONLY),
    # --- returns (another caller's return is 404; see returns/selectors.py) ---------------
    ("return-list", "GET"): ("/api/v1/returns/", RETURN_READERS),
    ("return-list", "POST"): ("/api/v1/returns/", RETURN_CREATORS),
    ("return-detail", "GET"): ("/api/v1/returns/R-000000/", RETURN_READERS),
    ("return-receive", "POST"): ("/api/v1/returns/R-000000/receive/", RETURN_RECEIVERS),
    ("return-slip", "GET"): ("/api/v1/returns/R-000000/slip/", RETURN_READERS),
    ("return-cancel", "POST"): ("/api/v1/returns/R-000000/cancel/", RETURN_READERS),
    ("return-slip-pdf", "GET"): ("/api/v1/returns/R-000000/slip/pdf/", RETURN_READERS),
}
