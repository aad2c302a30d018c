"""The online application's pure rules, and the edge's check of multipart
forms (an uploaded scan holds NUL bytes; a text field may not)."""

from __future__ import annotations

from mpp_intake.domain.applications import Status
from mpp_intake.domain.catalog import Alternative, Requirement, ServiceVersion
from mpp_intake.domain.online import (
    missing_papers,
    paper_slots,
    points_nearest_first,
    requirement_for,
    verifier_may_read,
)
from mpp_shared.web.unstorable import _unstorable_in_multipart

MARRIAGE = Requirement(
    "buku_nikah", "Buku nikah", "Marriage book", True, (Alternative("sptjm", "SPTJM", "SPTJM"),)
)
KK = Requirement("kartu_keluarga", "Kartu Keluarga", "Family card", True)
PHOTO = Requirement("pas_foto", "Pas foto", "Photo", False)
SERVICE = ServiceVersion(
    code="kk",
    version=1,
    name_id="KK",
    name_en="KK",
    opd="DISDUKCAPIL",
    fee_idr=0,
    sla_amount=1,
    sla_unit="working_days",
    pickup_points=("DUKCAPIL", "KEC-PARE", "MPP", "KEC-WATES"),
    channels=("online",),
    requirements=(MARRIAGE, KK, PHOTO),
)


def test_an_alternative_answers_its_requirement_and_nothing_else_is_missing() -> None:
    assert requirement_for(SERVICE, "sptjm") == MARRIAGE
    assert requirement_for(SERVICE, "sertifikat") is None
    slots = paper_slots(SERVICE, {"buku_nikah": "sptjm"})
    assert [(s.requirement.code, s.document, s.missing) for s in slots] == [
        ("buku_nikah", "sptjm", False),
        ("kartu_keluarga", None, True),
        ("pas_foto", None, False),  # optional: never missing
    ]
    assert missing_papers(SERVICE, ["sptjm"]) == [KK]


def test_the_nearest_point_comes_first_then_the_mpp() -> None:
    assert points_nearest_first(SERVICE.pickup_points, "KEC-WATES") == [
        "KEC-WATES",
        "MPP",
        "DUKCAPIL",
        "KEC-PARE",
    ]
    assert points_nearest_first(SERVICE.pickup_points, None)[0] == "MPP"
    assert points_nearest_first(SERVICE.pickup_points, "ELSEWHERE")[0] == "MPP"


def test_a_verifier_reads_papers_only_while_verifying() -> None:
    assert [s for s in Status if verifier_may_read(s)] == [Status.SUBMITTED, Status.RETURNED]


def form(field_value: bytes, file_bytes: bytes) -> bytes:
    return (
        b'--XyZ\r\nContent-Disposition: form-data; name="document"\r\n\r\n'
        + field_value
        + b'\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + file_bytes + b"\r\n--XyZ--\r\n"
    )


def test_a_multipart_file_may_hold_nul_bytes_a_text_field_may_not() -> None:
    kind = "multipart/form-data; boundary=XyZ"
    assert _unstorable_in_multipart(form(b"skpwni", b"%PDF-\x00\x00\xff"), kind) is None
    assert _unstorable_in_multipart(form(b"skp\x00wni", b"%PDF-"), kind) == "document"
    assert _unstorable_in_multipart(form(b"skpwni", b"%PDF-"), "multipart/form-data") is None
