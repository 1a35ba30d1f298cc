"""The return policy: the window per channel and category, final sale, reasons, and which
conditions go back to sellable stock. Pure reads over rows fetched in a few queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inventory import selectors as inventory_selectors
from returns.models import Condition, FinalSale, ReturnPolicy, ReturnReason, ReturnWindow


def policy() -> ReturnPolicy:
    found = ReturnPolicy.objects.filter(pk=1).first()
    return found if found is not None else ReturnPolicy(pk=1)


@dataclass(frozen=True)
class SkuFacts:
    sku: str
    categories: tuple[str, ...]  # its category and every one above it, nearest first


def sku_facts(skus: Iterable[str]) -> dict[str, SkuFacts]:
    rows = (
        inventory_selectors.skus()
        .filter(sku__in=set(skus))
        .values_list("sku", "product__category__path")
    )
    facts = {}
    for sku, path in rows:
        codes = tuple(reversed([code for code in (path or "").split("/") if code]))
        facts[sku] = SkuFacts(sku=sku, categories=codes)
    return facts


class Rules:
    """The policy rows, read once per return."""

    def __init__(self) -> None:
        self.policy = policy()
        self.windows = {
            (channel, category): days
            for channel, category, days in ReturnWindow.objects.values_list(
                "channel__code", "category__code", "days"
            )
        }
        final = list(FinalSale.objects.values_list("sku", "category__code"))
        self.final_skus = {sku for sku, _ in final if sku}
        self.final_categories = {code for _, code in final if code}
        self.reasons = set(ReturnReason.objects.filter(active=True).values_list("code", flat=True))

    def window_days(self, channel: str, facts: SkuFacts | None) -> int:
        categories = facts.categories if facts else ()
        for category in categories:
            if (channel, category) in self.windows:
                return self.windows[(channel, category)]
        for category in categories:
            if (None, category) in self.windows:
                return self.windows[(None, category)]
        if (channel, None) in self.windows:
            return self.windows[(channel, None)]
        return self.policy.default_window_days

    def final_sale(self, sku: str, facts: SkuFacts | None) -> bool:
        if sku in self.final_skus:
            return True
        return bool(facts and self.final_categories.intersection(facts.categories))

    def reason_allowed(self, reason: str) -> bool:
        return not self.reasons or reason in self.reasons

    def restock(self, condition: str) -> bool:
        if condition == Condition.RESELLABLE:
            return self.policy.restock_resellable
        return self.policy.restock_damaged
