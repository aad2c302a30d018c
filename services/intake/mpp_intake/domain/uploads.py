"""Content checks of an uploaded paper (a scan or a photo of a requirement).

The kind of a file is decided by its content (magic bytes), never by its name
or the type the browser claims. A PDF must open (pypdf) and not be encrypted;
a JPEG or PNG is opened with Pillow and re-encoded: the orientation is applied,
every metadata block (EXIF with its GPS position, XMP, comments, text chunks)
is left behind, and a large photo is scaled down to `MAX_IMAGE_SIDE`. Each
refusal names the form field and the requirement in both languages.

Pure: bytes in, bytes out, no storage and no clock.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageOps
from pypdf import PdfReader

from mpp_shared.errors import Invalid, Refusal, TooLarge, UnsupportedType

ContentType = Literal["application/pdf", "image/jpeg", "image/png"]

# A photo of an A4 paper stays readable at this size and weighs a few hundred kB.
MAX_IMAGE_SIDE = 2400
# Refused before decoding: a small file may claim a huge canvas (a
# "decompression bomb"). A JPEG is decoded already scaled down (its decoder
# can skip detail), so a 50-megapixel camera photo costs ~40 MB of memory;
# a PNG (a screenshot, a scan) is decoded in full, so its bound is lower.
MAX_IMAGE_PIXELS = {"image/jpeg": 60_000_000, "image/png": 16_000_000}
JPEG_QUALITY = 85
MAX_PDF_PAGES = 50

_PDF = b"%PDF-"
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_ACCEPTED = "PDF, JPEG, PNG"


@dataclass(frozen=True)
class CheckedUpload:
    """A paper that passed the checks: `data` is what is stored (an image
    re-encoded, a PDF as sent), `sha256` and `size` are of `data`."""

    content_type: ContentType
    data: bytes
    sha256: str
    size: int
    pages: int | None


def sniff(data: bytes) -> ContentType | None:
    """The kind of a file by its first bytes, or None for anything else."""
    if data.startswith(_PDF):
        return "application/pdf"
    if data.startswith(_JPEG):
        return "image/jpeg"
    if data.startswith(_PNG):
        return "image/png"
    return None


def inspect_upload(
    data: bytes, *, field: str, requirement_name: tuple[str, str], max_bytes: int
) -> CheckedUpload:
    """Check one uploaded paper; raise TooLarge (413), UnsupportedType (415)
    or Invalid (422) naming `field` and the requirement (Indonesian, English)."""
    name_id, name_en = requirement_name
    if not data:
        raise _invalid(
            field,
            "empty",
            f"berkas untuk persyaratan '{name_id}' kosong",
            f"the file for the requirement '{name_en}' is empty",
        )
    if len(data) > max_bytes:
        limit = _size_words(max_bytes)
        raise _refusal(
            TooLarge,
            "too_large",
            field,
            f"berkas untuk persyaratan '{name_id}' lebih besar dari {limit}",
            f"the file for the requirement '{name_en}' is larger than {limit}",
            max_bytes=max_bytes,
        )
    kind = sniff(data)
    if kind is None:
        raise _refusal(
            UnsupportedType,
            "unsupported_type",
            field,
            f"berkas untuk persyaratan '{name_id}' harus berupa {_ACCEPTED}",
            f"the file for the requirement '{name_en}' must be a {_ACCEPTED}",
            accepted=["application/pdf", "image/jpeg", "image/png"],
        )
    if kind == "application/pdf":
        return _checked(kind, data, _pdf_pages(data, field, name_id, name_en))
    return _checked(kind, _reencode(data, kind, field, name_id, name_en), None)


def check_application_total(
    current_bytes: int,
    added_bytes: int,
    *,
    field: str,
    requirement_name: tuple[str, str],
    max_bytes: int,
) -> None:
    """Refuse (413) a paper that would take all papers of one application past `max_bytes`."""
    if current_bytes + added_bytes <= max_bytes:
        return
    limit = _size_words(max_bytes)
    name_id, name_en = requirement_name
    raise _refusal(
        TooLarge,
        "too_large",
        field,
        f"berkas untuk persyaratan '{name_id}' membuat semua berkas permohonan "
        f"lebih besar dari {limit}",
        f"the file for the requirement '{name_en}' takes all files of the application past {limit}",
        max_bytes=max_bytes,
    )


def _checked(kind: ContentType, data: bytes, pages: int | None) -> CheckedUpload:
    return CheckedUpload(
        content_type=kind,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        pages=pages,
    )


def _pdf_pages(data: bytes, field: str, name_id: str, name_en: str) -> int:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        if pages:
            reader.pages[0].mediabox  # noqa: B018 - the first page must parse
        active = not encrypted and _active_content(reader)
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise _unreadable(field, name_id, name_en) from exc
    if encrypted:
        raise _invalid(
            field,
            "encrypted",
            f"PDF untuk persyaratan '{name_id}' terkunci kata sandi; unggah tanpa kata sandi",
            f"the PDF for the requirement '{name_en}' is password-protected; "
            "upload it without a password",
        )
    if pages == 0:
        raise _unreadable(field, name_id, name_en)
    if active:
        # The verifier opens the file in a browser: a paper needs no scripts,
        # attached files or actions that start programs.
        raise _invalid(
            field,
            "active_content",
            f"PDF untuk persyaratan '{name_id}' berisi skrip, lampiran atau aksi; "
            "unggah hasil pindaian biasa",
            f"the PDF for the requirement '{name_en}' holds scripts, attachments or "
            "actions; upload a plain scan",
        )
    if pages > MAX_PDF_PAGES:
        raise _invalid(
            field,
            "too_many_pages",
            f"PDF untuk persyaratan '{name_id}' lebih dari {MAX_PDF_PAGES} halaman",
            f"the PDF for the requirement '{name_en}' has more than {MAX_PDF_PAGES} pages",
        )
    return pages


_ACTIVE_NAMES = ("/JavaScript", "/EmbeddedFiles")
_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/Rendition"}


def _active_content(reader: PdfReader) -> bool:
    """Document-level scripts or attached files, an opening action, page or
    annotation actions that run a script or a program, or an XFA form."""
    root: Any = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    if names is not None and any(n in names.get_object() for n in _ACTIVE_NAMES):
        return True
    acroform = root.get("/AcroForm")
    if acroform is not None and "/XFA" in acroform.get_object():
        return True
    if _runs_something(root.get("/OpenAction")) or _has_triggers(root):
        return True
    for page in reader.pages:
        if _has_triggers(page):
            return True
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if _runs_something(annotation.get("/A")) or _has_triggers(annotation):
                return True
    return False


def _has_triggers(obj: object) -> bool:
    """An additional-actions dictionary (/AA) with any action that runs something."""
    triggers = obj.get("/AA") if isinstance(obj, dict) else None
    if triggers is None:
        return False
    return any(_runs_something(action) for action in triggers.get_object().values())


def _runs_something(action: object) -> bool:
    seen = 0
    while action is not None and seen < 32:  # an action chain (/Next), bounded
        action = action.get_object() if hasattr(action, "get_object") else action
        if not isinstance(action, dict):
            return False
        if action.get("/S") in _ACTIVE_ACTIONS:
            return True
        action = action.get("/Next")
        if isinstance(action, list):
            return any(_runs_something(a) for a in action)
        seen += 1
    return False


def _reencode(data: bytes, kind: ContentType, field: str, name_id: str, name_en: str) -> bytes:
    expected = "JPEG" if kind == "image/jpeg" else "PNG"
    # Runs in worker threads: no warnings.catch_warnings (process-wide state).
    # Our pixel bounds are below Pillow's own, so its bomb warning (or error,
    # at twice its bound) only ever comes with an image refused here anyway.
    try:
        with Image.open(io.BytesIO(data), formats=[expected]) as opened:
            width, height = opened.size
            if width * height > MAX_IMAGE_PIXELS[kind]:
                raise _too_many_pixels(kind, field, name_id, name_en)
            if kind == "image/jpeg":
                opened.draft("RGB", (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            opened.load()
            image = ImageOps.exif_transpose(opened) or opened
            image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
            return _save(image, expected)
    except Refusal:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(kind, field, name_id, name_en) from exc
    except Exception as exc:  # a truncated or forged image: Pillow raises many kinds
        raise _unreadable(field, name_id, name_en) from exc


def _save(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # No exif=, icc_profile= or comment=: nothing of the original's metadata.
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _too_many_pixels(kind: ContentType, field: str, name_id: str, name_en: str) -> Invalid:
    mpx = MAX_IMAGE_PIXELS[kind] // 1_000_000
    return _invalid(
        field,
        "too_many_pixels",
        f"gambar untuk persyaratan '{name_id}' terlalu besar (lebih dari {mpx} megapiksel)",
        f"the image for the requirement '{name_en}' is too large (over {mpx} megapixels)",
    )


def _unreadable(field: str, name_id: str, name_en: str) -> Invalid:
    return _invalid(
        field,
        "unreadable",
        f"berkas untuk persyaratan '{name_id}' rusak atau tidak dapat dibaca",
        f"the file for the requirement '{name_en}' is damaged or cannot be read",
    )


def _invalid(field: str, type_: str, message_id: str, message_en: str) -> Invalid:
    return Invalid.field(field, type_, message_id, message_en)


def _refusal(
    kind: type[Refusal],
    code: str,
    field: str,
    message_id: str,
    message_en: str,
    **extra: object,
) -> Refusal:
    return kind(
        code,
        message_id[:1].upper() + message_id[1:],
        message_en[:1].upper() + message_en[1:],
        errors=[{"field": field, "type": code, "message_id": message_id, "message_en": message_en}],
        **extra,
    )


def _size_words(n: int) -> str:
    """5242880 -> '5 MB'; 1536 -> '1.5 kB' (the same in both languages)."""
    if n >= 1024 * 1024:
        value, unit = n / (1024 * 1024), "MB"
    elif n >= 1024:
        value, unit = n / 1024, "kB"
    else:
        return f"{n} B"
    return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"
