"""The returns app's writes: one function per use case, one transaction each."""

from returns.services.exchanges import ExchangeInput, ExchangeLineInput
from returns.services.refunds import credit_store_credit
from returns.services.returns import (
    ReceivedLineInput,
    ReturnLineInput,
    cancel_return,
    create_return,
    receive_return,
)

__all__ = [
    "ExchangeInput",
    "ExchangeLineInput",
    "ReceivedLineInput",
    "ReturnLineInput",
    "cancel_return",
    "create_return",
    "credit_store_credit",
    "receive_return",
]
