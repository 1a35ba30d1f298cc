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


def _pdf_text(value: str) -> str:
    # PDF string literal in WinAnsi (Helvetica): escape the delimiters, drop what it lacks.
    text = value.encode("cp1252", "replace").decode("cp1252")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def slip_pdf(ret: Return) -> bytes:
    """The same slip as a one-page A4 PDF, written by hand (text in Helvetica, the QR code's
    modules as filled squares), so no PDF library is needed."""
    lines = list(ret.lines.all())
    ops = ["BT /F1 20 Tf 50 780 Td (" + _pdf_text(f"Return {ret.number}") + ") Tj ET"]
    rows = [
        f"Order {ret.order.number} - requested {ret.created_at:%Y-%m-%d}",
        "Put this slip in the parcel, or show it at any of our stores.",
        "",
        *(f"{line.quantity} x {line.sku}   ({line.reason})" for line in lines),
        "",
        f"Expected refund: {ret.refund_total} {ret.currency}"
        + (" as store credit" if ret.refund_method == "store_credit" else ""),
    ]
    y = 750
    for row in rows:
        ops.append(f"BT /F1 11 Tf 50 {y} Td ({_pdf_text(row)}) Tj ET")
        y -= 16
    qr = segno.make(ret.number, error="m")
    size, left, top = 4, 400, 800
    for r, row in enumerate(qr.matrix):
        for c, dark in enumerate(row):
            if dark:
                ops.append(f"{left + c * size} {top - (r + 1) * size} {size} {size} re")
    ops.append("f")
    ops.append(f"BT /F1 10 Tf {left} {top - len(qr.matrix) * size - 14} Td ({ret.number}) Tj ET")
    stream = "\n".join(ops).encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
