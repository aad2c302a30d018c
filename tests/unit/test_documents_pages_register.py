"""The pure parts behind the documents pages and the register search: the
URL a document's QR code holds, dates and times in WIB as the pages write
them, and a supervisor's filters turned into the register's query."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mpp_documents.domain.register import ZONE, verification_url
from mpp_documents.usecases.register import RegisterFilters, register_query
from mpp_shared.errors import Invalid


def test_the_qr_code_opens_the_public_verification_page() -> None:
    assert (
        verification_url("https://dokumen.kedirikab.go.id/", "V7KQ3M9XH26")
        == "https://dokumen.kedirikab.go.id/verify/V7KQ3M9XH26"
    )
    assert verification_url("http://127.0.0.1:8002", "V2") == "http://127.0.0.1:8002/verify/V2"


def test_filters_become_the_registers_query() -> None:
    query = register_query(
        RegisterFilters(
            number=" 3506-ktp-2026-000012 ",
            number_prefix="3506-ktp-",
            service_code="ktp_el",
            pickup_point="KEC-PARE",
            issued_from=date(2026, 3, 1),
            issued_to=date(2026, 3, 31),
            revoked=True,
        )
    )
    assert (query.number, query.number_prefix) == ("3506-KTP-2026-000012", "3506-KTP-")
    assert (query.doc_type, query.pickup_point, query.revoked) == ("ktp_el", "KEC-PARE", True)
    # WIB days, both ends included: [1 March 00:00 WIB, 1 April 00:00 WIB).
    assert query.since == datetime(2026, 3, 1, tzinfo=ZONE)
    assert query.before == datetime(2026, 4, 1, tzinfo=ZONE)
    assert query.since is not None and query.since.astimezone(UTC).hour == 17

    nothing = register_query(RegisterFilters(number="", number_prefix="", service_code=""))
    assert nothing.args() == (None,) * 7

    one_day = register_query(
        RegisterFilters(issued_from=date(2026, 3, 4), issued_to=date(2026, 3, 4))
    )
    assert (one_day.since, one_day.before) == (
        datetime(2026, 3, 4, tzinfo=ZONE),
        datetime(2026, 3, 5, tzinfo=ZONE),
    )


def test_a_range_ending_before_it_starts_is_refused_on_its_end() -> None:
    with pytest.raises(Invalid) as refused:
        register_query(RegisterFilters(issued_from=date(2026, 3, 5), issued_to=date(2026, 3, 4)))
    [error] = refused.value.extra["errors"]
    assert (error["field"], error["type"]) == ("issued_to", "range")
    assert "issued_from" in error["message_en"] and "issued_from" in error["message_id"]
