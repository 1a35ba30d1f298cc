"""Click-and-collect screens for store staff at ``/store/`` (server-rendered, htmx).

Thin like the API: every write calls the same service the API calls
(:mod:`orders.services.fulfilment`, :mod:`orders.services.handover`); reads go through
:mod:`orders.fulfilment_selectors` with a principal scoped to the one store in the URL, so
another store's work is 404 whatever the user types. No page renders a pickup code.
"""
