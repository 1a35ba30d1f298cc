"""Input of the screens' forms (every one is a POST with Django's CSRF token)."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator


class ScanForm(forms.Form):
    code = forms.CharField(
        label="Scan or type a barcode or SKU",
        max_length=64,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autofocus": True,
                "data-scan": "",
                "enterkeyhint": "enter",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )


class MissingForm(forms.Form):
    sku = forms.CharField(max_length=64)


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Order number, customer name, email or phone",
        max_length=200,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )


class PickupCodeForm(forms.Form):
    pickup_code = forms.CharField(
        label="Pickup code (six digits, from the customer)",
        min_length=6,
        max_length=6,
        strip=True,
        validators=[RegexValidator(r"^\d{6}$", "The pickup code is six digits.")],
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "autofocus": True,
                "pattern": r"\d{6}",
            }
        ),
    )
