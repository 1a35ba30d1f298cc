"""The printable return slip: the return number as a QR code (segno, inline SVG, no files),
what goes in the parcel, and where to bring or send it. Staff scan the code at a store or
warehouse; it holds the return number, which opens the return to receive
(``GET /api/v1/returns/{number}/``, then ``POST .../receive/``)."""

from __future__ import annotations

import segno
from django.template.loader import render_to_string

from returns.models import Return


def qr_svg(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=5, border=2)


def slip_html(ret: Return) -> str:
    return render_to_string(
        "returns/slip.html",
        {"ret": ret, "lines": list(ret.lines.all()), "qr": qr_svg(ret.number)},
    )
