"""The provider interface. A provider talks to the outside world (a PSP) and answers with a
reference; it writes nothing to the database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from config.api.errors import DomainError, ValidationFailed


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"
    title = "Payment declined"


@dataclass(frozen=True)
class ProviderResult:
    reference: str  # the provider's id for the payment or operation


class PaymentProvider(Protocol):
    name: str

    def authorise(
        self, *, order_number: str, amount: Decimal, currency: str, method: str, reference: str
    ) -> ProviderResult:
        """Hold ``amount``. Raises :class:`PaymentDeclined` when the provider says no."""

    def capture(self, *, reference: str, amount: Decimal, currency: str) -> ProviderResult:
        """Take ``amount`` of what was authorised."""

    def void(self, *, reference: str, amount: Decimal, currency: str) -> ProviderResult:
        """Let go of ``amount`` authorised and not captured."""

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> ProviderResult:
        """Give back ``amount`` captured."""


DEFAULT_PROVIDERS = {"manual": "orders.payments.manual.ManualProvider"}


@cache
def _provider(name: str, path: str) -> PaymentProvider:
    return import_string(path)()


def get_provider(name: str) -> PaymentProvider:
    providers = {**DEFAULT_PROVIDERS, **getattr(settings, "ORDERS_PAYMENT_PROVIDERS", {})}
    if name not in providers:
        raise ValidationFailed.field(
            "payment.provider", f"Unknown payment provider {name!r}.", code="unknown_provider"
        )
    return _provider(name, providers[name])
