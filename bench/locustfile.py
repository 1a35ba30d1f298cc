"""The load scenario: a storefront, store tills and store staff at work on the data set.

Run by ``python -m bench load`` (which starts the server, writes the manifest this file reads
from ``BENCH_MANIFEST`` and checks the books afterwards); by hand::

    BENCH_MANIFEST=bench/results/load-manifest.json locust -f bench/locustfile.py \\
        --host http://127.0.0.1:8000 --headless -u 50 -r 10 -t 60s

Users:

- ``Shopper`` (all users beyond the fixed ones below), through the storefront's token:
  browses the catalog (products of a category, a SKU), asks availability near the Dam, asks
  for quotes, fills a cart (and sometimes checks it out), and checks out directly, shipped
  or picked up at one of the eight load stores. A pickup order hands its pickup code to the
  staff of that store, as the customer would at the counter.
- ``Till`` (one per load store): POS sales of one to three units: cash, with a loyalty
  card (points earned), or partly paid with store credit.
- ``Staff`` (one per load store and one at the warehouse ``WH-AMS``): takes the oldest
  pending fulfilment at its location, picks it in full, then marks it ready and hands it
  over with the customer's code (pickup) or ships it (ship).

Expected refusals count as successes, but separately (``BENCH_LOCUST_COUNTS``): a pickup
order for a store that has sold out answers 409 ``insufficient_stock``; two staff reaching
for the same fulfilment may get 409 ``invalid_state``.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, events, task

MANIFEST = json.loads(Path(os.environ["BENCH_MANIFEST"]).read_text())
STORES = list(MANIFEST["stores"])
BASE = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
ADDRESS = {
    "line1": "Damrak 1",
    "city": "Amsterdam",
    "postal_code": "1012LG",
    "country": "NL",
    "latitude": 52.3702,
    "longitude": 4.8952,
}
# Shared between users of this process (one Locust process): pickup codes by fulfilment,
# as the customer would show them at the store; and how requests ended, for the books.
CODES: dict[int, str] = {}
COUNTS: Counter = Counter()


@events.test_stop.add_listener
def _write_counts(**_kwargs) -> None:
    path = os.environ.get("BENCH_LOCUST_COUNTS")
    if path:
        Path(path).write_text(json.dumps(dict(COUNTS), indent=2) + "\n")


def _token(key: str) -> dict:
    return {**BASE, "Authorization": f"Token {key}"}


def _check(response, name: str, ok: tuple[int, ...], allowed: dict[int, str] | None = None):
    """Mark the answer: a status in ``ok`` succeeds; one in ``allowed`` with the expected
    error code succeeds too, counted apart; anything else fails."""
    status = response.status_code
    if status in ok:
        COUNTS[f"{name} {status}"] += 1
        response.success()
        return True
    code = ""
    if allowed and status in allowed:
        try:
            code = response.json().get("code", "")
        except ValueError:
            code = ""
        if code == allowed[status]:
            COUNTS[f"{name} {status} {code}"] += 1
            response.success()
            return False
    response.failure(f"{status} {code or response.text[:200]}")
    return False


class Shopper(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = _token(MANIFEST["tokens"]["storefront"])
        self.customer = random.choice(MANIFEST["customers"])
        self.store = random.choice(STORES)

    def _order(self, body: dict, name: str, pickup: bool = False) -> None:
        allowed = {409: "insufficient_stock"} if pickup else None
        with self.client.post(
            "/api/v1/orders/", json=body, headers=self.headers, name=name, catch_response=True
        ) as response:
            if _check(response, "orders", (201,), allowed) and pickup:
                for fulfilment in response.json()["fulfilments"]:
                    CODES[fulfilment["id"]] = fulfilment["pickup_code"]

    @task(4)
    def browse_category(self) -> None:
        category = random.choice(MANIFEST["categories"])
        self.client.get(
            f"/api/v1/products/?category={category}&limit=20",
            headers=self.headers,
            name="products?category",
        )

    @task(4)
    def view_sku(self) -> None:
        self.client.get(
            f"/api/v1/skus/{random.choice(MANIFEST['catalog'])}/",
            headers=self.headers,
            name="skus/{sku}",
        )

    @task(4)
    def availability(self) -> None:
        skus = "&".join(f"sku={s}" for s in random.sample(MANIFEST["stores"][self.store], 2))
        near = "{:.4f},{:.4f}".format(*MANIFEST["near"])
        self.client.get(
            f"/api/v1/availability/?{skus}&channel=web&near={near}&max_locations=10",
            headers=self.headers,
            name="availability",
        )

    @task(2)
    def quote(self) -> None:
        lines = [
            {"sku": s, "quantity": random.randint(1, 2)}
            for s in random.sample(MANIFEST["catalog"], random.randint(1, 5))
        ]
        self.client.post(
            "/api/v1/pricing/quote/",
            json={"channel": "web", "customer": self.customer, "lines": lines},
            headers=self.headers,
            name="pricing/quote",
        )

    @task(2)
    def cart(self) -> None:
        response = self.client.post(
            "/api/v1/carts/",
            json={"channel": "web", "customer": self.customer},
            headers=self.headers,
            name="carts",
        )
        if response.status_code not in (200, 201):
            return
        cart = response.json()["id"]
        for sku in random.sample(MANIFEST["catalog"], random.randint(1, 3)):
            self.client.post(
                f"/api/v1/carts/{cart}/lines/",
                json={"sku": sku, "quantity": 1},
                headers=self.headers,
                name="carts/{id}/lines",
            )
        self.client.get(f"/api/v1/carts/{cart}/", headers=self.headers, name="carts/{id}")
        if random.random() < 0.5:
            body = {
                "channel": "web",
                "cart": cart,
                "customer": self.customer,
                "fulfilment": {"method": "ship", "address": ADDRESS},
                "payment": {"method": "card", "reference": "load"},
            }
            self._order(body, "orders (cart, ship)")

    @task(2)
    def checkout_ship(self) -> None:
        lines = [
            {"sku": s, "quantity": 1}
            for s in random.sample(MANIFEST["catalog"], random.randint(1, 2))
        ]
        body = {
            "channel": "web",
            "email": "guest@example.com",
            "lines": lines,
            "fulfilment": {"method": "ship", "address": ADDRESS},
            "payment": {"method": "card", "reference": "load"},
        }
        self._order(body, "orders (ship)")

    @task(2)
    def checkout_pickup(self) -> None:
        skus = random.sample(MANIFEST["stores"][self.store], random.randint(1, 2))
        body = {
            "channel": "web",
            "customer": self.customer,
            "email": "shopper@example.com",
            "lines": [{"sku": s, "quantity": 1} for s in skus],
            "fulfilment": {"method": "pickup", "pickup_location": self.store},
        }
        self._order(body, "orders (pickup)", pickup=True)


class Till(HttpUser):
    fixed_count = len(STORES)
    wait_time = between(2, 5)
    _next = 0

    def on_start(self) -> None:
        self.store = STORES[Till._next % len(STORES)]
        Till._next += 1
        self.headers = _token(MANIFEST["tokens"]["tills"][self.store])

    @task
    def sale(self) -> None:
        skus = random.sample(MANIFEST["stores"][self.store], random.randint(1, 3))
        body: dict = {
            "lines": [{"sku": s, "quantity": 1} for s in skus],
            "tenders": [{"method": "cash", "amount": "1000.00"}],
        }
        roll = random.random()
        if roll < 0.2:
            body["card_number"] = random.choice(MANIFEST["points_customers"])["card_number"]
            name = "pos/sales (loyalty card)"
        elif roll < 0.3:
            body["card_number"] = random.choice(MANIFEST["credit_customers"])["card_number"]
            body["tenders"] = [{"method": "store_credit", "amount": "1.00"}, *body["tenders"]]
            name = "pos/sales (store credit)"
        else:
            name = "pos/sales (cash)"
        with self.client.post(
            "/api/v1/pos/sales/", json=body, headers=self.headers, name=name, catch_response=True
        ) as response:
            _check(response, "pos", (201,))


class Staff(HttpUser):
    fixed_count = len(STORES) + 1
    wait_time = between(1, 2)
    _next = 0

    def on_start(self) -> None:
        locations = [*STORES, MANIFEST["hub"]]
        self.location = locations[Staff._next % len(locations)]
        Staff._next += 1
        self.headers = _token(MANIFEST["tokens"]["staff"])

    def _post(self, path: str, body: dict, name: str) -> dict | None:
        with self.client.post(
            path, json=body, headers=self.headers, name=name, catch_response=True
        ) as response:
            if _check(response, "staff", (200,), {409: "invalid_state"}):
                return response.json()
        return None

    @task
    def work(self) -> None:
        listed = self.client.get(
            f"/api/v1/fulfilments/?location={self.location}&status=pending&limit=5",
            headers=self.headers,
            name="fulfilments?status=pending",
        )
        if listed.status_code != 200 or not listed.json()["results"]:
            return
        fulfilment = listed.json()["results"][0]
        fid = fulfilment["id"]
        lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in fulfilment["lines"]]
        if not self._post(f"/api/v1/fulfilments/{fid}/pick/", {"lines": lines}, "pick"):
            return
        if fulfilment["method"] == "ship":
            self._post(
                f"/api/v1/fulfilments/{fid}/ship/",
                {"carrier": "PostNL", "tracking_number": f"3S{fid}"},
                "ship",
            )
            return
        if not self._post(f"/api/v1/fulfilments/{fid}/ready/", {}, "ready"):
            return
        code = CODES.pop(fid, None)
        if code:
            self._post(f"/api/v1/fulfilments/{fid}/collect/", {"pickup_code": code}, "collect")
