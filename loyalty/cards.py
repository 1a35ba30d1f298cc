"""Loyalty card numbers: a prefix, random digits and a Luhn check digit, so that a mistyped
number (one wrong digit, two neighbours swapped) is refused at the till instead of finding
someone else's account.

The default prefix ``27`` lies in GS1's range for restricted, in-store numbers (20-29), so a
scanned card can never be mistaken for a product's GTIN.
"""

from __future__ import annotations

import secrets

from django.conf import settings

CARD_LENGTH = 13


def card_prefix() -> str:
    return str(getattr(settings, "LOYALTY_CARD_PREFIX", "27"))


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:  # these are doubled once the check digit is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def normalise_card_number(raw: str) -> str:
    """Strip the spaces and dashes people type or print (``2712 3456 7890 3``)."""
    return "".join(str(raw).split()).replace("-", "")


def is_valid_card_number(number: str) -> bool:
    return len(number) == CARD_LENGTH and number.isascii() and is_luhn_valid(number)


def new_card_number() -> str:
    """A fresh random card number. Unique only with high probability: the caller relies on
    the unique index and retries on a clash."""
    prefix = card_prefix()
    body_length = CARD_LENGTH - len(prefix) - 1
    payload = prefix + "".join(secrets.choice("0123456789") for _ in range(body_length))
    return payload + luhn_check_digit(payload)
