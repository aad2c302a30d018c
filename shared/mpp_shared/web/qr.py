"""QR codes for what citizens and officers scan: the tracking page on a
receipt, the verification page of a produced document (segno)."""

from __future__ import annotations

import io

import segno


def qr_svg_data_uri(text: str, *, scale: int = 6) -> str:
    """An inline `data:` image for a page (no file, no request)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=scale, border=4))


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """PNG bytes (for a PDF, or a label printer)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
