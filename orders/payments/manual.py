"""The ``manual`` provider: money is handled outside the system (cash on pickup, a bank
transfer, a terminal that is not integrated). It records and calls nothing."""

from __future__ import annotations

from decimal import Decimal

from orders.payments.base import ProviderResult


class ManualProvider:
    name = "manual"

    def authorise(
        self, *, order_number: str, amount: Decimal, currency: str, method: str, reference: str
    ) -> ProviderResult:
        return ProviderResult(reference=reference or f"manual:{order_number}")

    def capture(self, *, reference: str, amount: Decimal, currency: str) -> ProviderResult:
        return ProviderResult(reference=reference)

    def void(self, *, reference: str, amount: Decimal, currency: str) -> ProviderResult:
        return ProviderResult(reference=reference)

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> ProviderResult:
        return ProviderResult(reference=reference)
