"""Content checks of uploaded papers (mpp_intake.domain.uploads), the bytes
encryption they are stored with, and the upload storage settings."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from fpdf import FPDF
from PIL import Image
from pydantic import ValidationError
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from mpp_intake.domain.uploads import (
    MAX_IMAGE_SIDE,
    check_application_total,
    inspect_upload,
    sniff,
)
from mpp_intake.settings import IntakeSettings
from mpp_shared.errors import Invalid, Refusal, TooLarge, UnsupportedType
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from tests.support.secrets import intake_secrets

MB = 1024 * 1024
KK = ("Kartu Keluarga", "Family card")
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def inspect(data: bytes, max_bytes: int = 5 * MB):
    return inspect_upload(data, field="files.kk", requirement_name=KK, max_bytes=max_bytes)


def make_pdf(pages: int = 2) -> bytes:
    pdf = FPDF()
    for n in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=14)
        pdf.cell(text=f"Kartu Keluarga halaman {n + 1}")
    return bytes(pdf.output())


def make_photo(fmt: str, size: tuple[int, int], *, orientation: int | None = None) -> bytes:
    """A photo as a phone makes it: EXIF with a GPS position (and a camera
    orientation), for PNG also a text chunk."""
    image = Image.new("RGB", size, (200, 30, 30))
    # A dark left half, so that a rotation can be seen in the result.
    image.paste((10, 10, 10), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "S"
    gps[2] = (7.0, 36.0, 12.5)
    gps[3] = "E"
    gps[4] = (111.0, 31.0, 4.2)
    if orientation is not None:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Comment", "alamat rumah Jl. Melati 3")
        image.save(out, format="PNG", exif=exif, pnginfo=info)
    else:
        image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def refusal_error(exc: Refusal) -> dict[str, str]:
    (error,) = exc.extra["errors"]
    return error


def test_a_real_pdf_passes_as_sent_with_its_pages_and_hash() -> None:
    data = make_pdf(pages=2)
    checked = inspect(data)
    assert checked.content_type == "application/pdf"
    assert checked.data == data
    assert checked.pages == 2
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_an_encrypted_pdf_is_refused_naming_the_requirement() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(1))))
    writer.encrypt(user_password="rahasia", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(Invalid) as caught:
        inspect(out.getvalue())
    error = refusal_error(caught.value)
    assert error["field"] == "files.kk"
    assert error["type"] == "encrypted"
    assert "Kartu Keluarga" in error["message_id"]
    assert "Family card" in error["message_en"]


def _pdf_with(change: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(1))))
    script = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")}
    )
    if change == "script":  # a document-level script (the /Names tree)
        tree = DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("a"), writer._add_object(script)])}
        )
        writer._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): writer._add_object(tree)}
        )
    elif change == "link":  # a link on the page that runs a script
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (0, 0, 100, 100)]),
                NameObject("/A"): script,
            }
        )
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    elif change == "attachment":
        writer.add_attachment("data.exe", b"MZ not really a program")
    elif change == "launch":
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/Launch"),
                NameObject("/F"): TextStringObject("cmd.exe"),
            }
        )
    elif change == "metadata":
        writer.add_metadata({"/Author": "Dinas"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("change", ["script", "link", "attachment", "launch"])
def test_a_pdf_with_active_content_is_refused(change: str) -> None:
    with pytest.raises(Invalid) as caught:
        inspect(_pdf_with(change))
    error = refusal_error(caught.value)
    assert error["type"] == "active_content"
    assert "Kartu Keluarga" in error["message_id"]


def test_a_rewritten_plain_pdf_still_passes() -> None:
    assert inspect(_pdf_with("metadata")).pages == 1


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n this is not a PDF at all",
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 30,
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_a_file_with_a_right_header_but_a_broken_body_is_unreadable(data: bytes) -> None:
    with pytest.raises(Invalid) as caught:
        inspect(data)
    assert refusal_error(caught.value)["type"] == "unreadable"


def test_a_truncated_jpeg_is_unreadable() -> None:
    data = make_photo("JPEG", (800, 600))
    with pytest.raises(Invalid):
        inspect(data[: len(data) // 2])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_photo_is_reencoded_without_any_metadata(fmt: str) -> None:
    original = make_photo(fmt, (640, 480))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's premise
    checked = inspect(original)
    assert checked.content_type == ("image/jpeg" if fmt == "JPEG" else "image/png")
    assert checked.pages is None
    assert checked.data != original
    assert checked.sha256 == hashlib.sha256(checked.data).hexdigest()
    assert checked.size == len(checked.data)
    result = Image.open(io.BytesIO(checked.data))
    assert result.format == fmt
    assert result.size == (640, 480)
    assert len(result.getexif()) == 0
    assert not result.getexif().get_ifd(GPS_IFD)
    assert "exif" not in result.info
    assert "Comment" not in result.info
    assert b"PhoneMaker" not in checked.data
    assert b"Melati" not in checked.data


def test_the_camera_orientation_is_applied_and_a_large_photo_scaled_down() -> None:
    # Orientation 6: the camera was turned; the picture must be rotated 90° clockwise.
    original = make_photo("JPEG", (4000, 3000), orientation=6)
    checked = inspect(original)
    result = Image.open(io.BytesIO(checked.data))
    assert result.size == (MAX_IMAGE_SIDE * 3 // 4, MAX_IMAGE_SIDE)
    assert ORIENTATION not in result.getexif()
    # The dark left half is now on top.
    rgb = result.convert("RGB")
    top = rgb.getpixel((result.width // 2, result.height // 4))
    bottom = rgb.getpixel((result.width // 2, result.height * 3 // 4))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert sum(top) < 100 < sum(bottom)


def test_the_type_is_decided_by_content_never_by_name() -> None:
    assert sniff(make_pdf(1)) == "application/pdf"
    assert sniff(make_photo("JPEG", (10, 10))) == "image/jpeg"
    assert sniff(make_photo("PNG", (10, 10))) == "image/png"
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    for data in (b"<html><body>ktp.pdf</body></html>", gif.getvalue(), b"PK\x03\x04docx"):
        assert sniff(data) is None
        with pytest.raises(UnsupportedType) as caught:
            inspect(data)
        error = refusal_error(caught.value)
        assert error["field"] == "files.kk"
        assert "Kartu Keluarga" in caught.value.message_id
        assert "Family card" in caught.value.message_en
        assert caught.value.extra["accepted"] == ["application/pdf", "image/jpeg", "image/png"]


def test_a_file_over_the_limit_is_too_large_before_any_parsing() -> None:
    data = make_pdf(1)
    with pytest.raises(TooLarge) as caught:
        inspect(data, max_bytes=len(data) - 1)
    assert refusal_error(caught.value)["field"] == "files.kk"
    assert caught.value.extra["max_bytes"] == len(data) - 1
    assert inspect(data, max_bytes=len(data)).size == len(data)
    with pytest.raises(TooLarge) as caught:
        inspect(b"\x00" * (5 * MB + 1))
    assert "5 MB" in caught.value.message_id
    assert "5 MB" in caught.value.message_en


def test_an_empty_file_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        inspect(b"")
    assert refusal_error(caught.value)["type"] == "empty"


# Pillow warns past its own bound (the 100 and 144 Mpx cases); refused here all the same.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("fmt", "side", "limit"),
    [("PNG", 4_500, "16"), ("PNG", 10_000, "16"), ("JPEG", 8_000, "60"), ("JPEG", 12_000, "60")],
    ids=["png-20Mpx", "png-100Mpx", "jpeg-64Mpx", "jpeg-144Mpx"],
)
def test_a_decompression_bomb_is_refused_before_decoding(fmt: str, side: int, limit: str) -> None:
    out = io.BytesIO()
    Image.new("L", (side, side)).save(out, format=fmt)  # millions of pixels in a few kB
    assert len(out.getvalue()) < 2_000_000
    with pytest.raises(Invalid) as caught:
        inspect(out.getvalue())
    error = refusal_error(caught.value)
    assert error["type"] == "too_many_pixels"
    assert f"{limit} megapixels" in error["message_en"]
    assert f"{limit} megapiksel" in error["message_id"]


def test_a_large_camera_photo_is_decoded_scaled_down_and_passes() -> None:
    # 48 Mpx, as a phone's high-resolution mode makes it.
    checked = inspect(make_photo("JPEG", (8_000, 6_000)), max_bytes=20 * MB)
    assert Image.open(io.BytesIO(checked.data)).size == (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE * 3 // 4)


def test_all_papers_of_an_application_have_a_limit() -> None:
    check_application_total(
        15 * MB, 5 * MB, field="files.kk", requirement_name=KK, max_bytes=20 * MB
    )
    with pytest.raises(TooLarge) as caught:
        check_application_total(
            15 * MB, 5 * MB + 1, field="files.kk", requirement_name=KK, max_bytes=20 * MB
        )
    assert "20 MB" in caught.value.message_en
    assert "Kartu Keluarga" in caught.value.message_id


def test_bytes_encryption_is_bound_to_its_context() -> None:
    cipher = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)
    data = make_pdf(1)
    blob = cipher.encrypt_bytes(data, context="upload:a/1")
    assert data not in blob
    assert blob != cipher.encrypt_bytes(data, context="upload:a/1")  # a fresh nonce each time
    assert cipher.decrypt_bytes(blob, context="upload:a/1") == data
    with pytest.raises(InvalidTag):
        cipher.decrypt_bytes(blob, context="upload:a/2")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(InvalidTag):
        cipher.decrypt_bytes(tampered, context="upload:a/1")


def test_upload_settings_default_to_the_database_and_refuse_an_incomplete_s3() -> None:
    settings = IntakeSettings()
    assert settings.upload_storage == "postgres"
    assert settings.upload_max_file_bytes == 5 * MB
    assert settings.upload_max_application_bytes == 20 * MB
    assert settings.upload_retention_days == 30
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        IntakeSettings(upload_storage="s3")
    IntakeSettings(
        upload_storage="s3", s3_bucket="mpp-uploads"
    )  # development: MinIO's login is fine


def test_production_refuses_s3_without_a_real_login() -> None:
    production: dict[str, Any] = {
        "mpp_env": "production",
        **intake_secrets(),
        "upload_storage": "s3",
        "s3_bucket": "mpp-uploads",
        "s3_endpoint_url": "http://minio:9000",
    }
    with pytest.raises(ValidationError, match="S3_ACCESS_KEY_ID"):
        IntakeSettings(**production)
    with pytest.raises(ValidationError, match="S3_SECRET_ACCESS_KEY"):
        IntakeSettings(
            **production, s3_access_key_id="mpp-intake", s3_secret_access_key="minioadmin"
        )
    IntakeSettings(**production, s3_access_key_id="mpp-intake", s3_secret_access_key="s3cr3t-value")
    IntakeSettings(**{**production, "upload_storage": "postgres"})


def test_the_pixel_bounds_are_below_pillows_own() -> None:
    """Otherwise Pillow's bomb check (a warning, process-wide) would come first."""
    from mpp_intake.domain.uploads import MAX_IMAGE_PIXELS

    assert Image.MAX_IMAGE_PIXELS is not None
    assert max(MAX_IMAGE_PIXELS.values()) < Image.MAX_IMAGE_PIXELS
