"""Checking an uploaded outreach list (CSV), without I/O: good rows, every
kind of bad row with its line number and reason, and refusals of the file."""

from __future__ import annotations

import pytest

from mpp_intake.domain.outreach import (
    RowProblem,
    UploadRefused,
    desa_of_counter,
    parse_outreach_csv,
)

SERVICES = {"akta_kelahiran", "kk", "ktp_el"}
HEADER = "nik,full_name,desa_code,service_code,phone,address"
NIK_1 = "3506172602660001"  # Pare, born 26-02-1966
NIK_2 = "3506176502660002"  # a woman: day + 40
NIK_3 = "3506042602660003"


def csv(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *lines]).encode()


def problems_by_line(problems: list[RowProblem]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for p in problems:
        found.setdefault(p.line, []).append((p.field, p.code))
    return found


def test_good_rows_are_normalised() -> None:
    parsed = parse_outreach_csv(
        csv(
            f"{NIK_1},Siti  Rahayu,3506172001,akta_kelahiran,0857 1234 5678,RT 02 RW 01",
            f"{NIK_2},Dewi Lestari,35.06.17.2002,KK,,",
            f"{NIK_3},Budi Santoso,3506042003,ktp_el",  # phone and address left out
        ),
        SERVICES,
    )
    assert parsed.problems == [] and parsed.rows_total == 3
    first, second, third = parsed.rows
    assert (first.line, first.nik, first.full_name) == (2, NIK_1, "Siti Rahayu")
    assert (first.desa_code, first.kecamatan_code) == ("3506172001", "350617")
    assert first.phone == "+6285712345678" and first.address == "RT 02 RW 01"
    assert (second.desa_code, second.service_code, second.phone, second.address) == (
        "3506172002",
        "kk",
        None,
        None,
    )
    assert (third.line, third.phone, third.address) == (4, None, None)


def test_optional_columns_may_be_absent_from_the_header() -> None:
    parsed = parse_outreach_csv(
        csv(
            f"3506172001,{NIK_1},akta_kelahiran,Siti Rahayu",
            header="desa_code,nik,service_code,full_name",
        ),
        SERVICES,
    )
    [row] = parsed.rows
    assert (row.nik, row.full_name, row.phone, row.address) == (NIK_1, "Siti Rahayu", None, None)


def test_each_kind_of_bad_row_has_its_line_field_and_reason() -> None:
    parsed = parse_outreach_csv(
        csv(
            f"{NIK_1},Siti Rahayu,3506172001,akta_kelahiran,,",  # 2: good
            "35061726026600,Ani,3506172001,kk,,",  # 3: NIK too short
            "3506173202660004,Ani,3506172001,kk,,",  # 4: day 32 cannot exist
            f"{NIK_3},,3506172001,kk,,",  # 5: no name
            f"{NIK_3},Ani,3507172001,kk,,",  # 6: desa outside Kabupaten Kediri
            f"{NIK_3},Ani,350617200,kk,,",  # 7: desa code of 9 digits
            f"{NIK_3},Ani,3506172001,paspor,,",  # 8: not in the catalog
            f"{NIK_3},Ani,3506172001,kk,12345,",  # 9: phone not valid
            f"{NIK_3},Ani,3506172001,kk,,RT 1,extra",  # 10: more fields than the header
            f"{NIK_1},Siti Rahayu,3506172001,akta_kelahiran,,",  # 11: same as line 2
            f"{NIK_3},A,3506172001,kk,,",  # 12: name too short
            ",Ani,3506172001,,,",  # 13: no NIK, no service
        ),
        SERVICES,
    )
    assert [r.line for r in parsed.rows] == [2]
    assert parsed.rows_total == 12
    assert problems_by_line(parsed.problems) == {
        3: [("nik", "nik_format")],
        4: [("nik", "nik_invalid")],
        5: [("full_name", "missing")],
        6: [("desa_code", "desa_code_invalid")],
        7: [("desa_code", "desa_code_invalid")],
        8: [("service_code", "unknown_service")],
        9: [("phone", "phone_invalid")],
        10: [("row", "too_many_fields")],
        11: [("nik", "duplicate_row")],
        12: [("full_name", "name_length")],
        13: [("nik", "missing"), ("service_code", "missing")],
    }
    assert parsed.rejected_lines == list(range(3, 14))
    reasons = {p.line: p for p in parsed.problems}
    assert reasons[3].message_id == "NIK harus 16 angka"
    assert reasons[3].message_en == "the NIK must be 16 digits"
    assert "3506" in reasons[6].message_id and "Kabupaten Kediri" in reasons[6].message_en
    assert "paspor" in reasons[8].message_id and "paspor" in reasons[8].message_en
    assert reasons[11].message_id == "NIK dan layanan yang sama sudah ada di baris 2"
    assert reasons[11].reason("en") == "the same NIK and service are already on line 2"


def test_the_rejection_report_never_holds_a_clear_nik() -> None:
    bad_niks = ["3506173202660004", "35061726026600", "3506172602660001"]
    parsed = parse_outreach_csv(
        csv(
            f"{bad_niks[0]},Ani,3506172001,kk,,",
            f"{bad_niks[1]},Ani,3506172001,kk,,",
            f"{bad_niks[2]},Ani,3506172001,paspor,,",
            "Siti Rahayu,Ani,3506172001,kk,,",  # a name typed in the NIK column
        ),
        SERVICES,
    )
    assert len(parsed.problems) == 4
    report = repr([p.as_json() for p in parsed.problems])
    for nik in bad_niks:
        assert nik not in report
    assert "Siti" not in report and "Rahayu" not in report
    assert parsed.problems[0].nik_masked == "3506**********04"
    assert parsed.problems[2].nik_masked == "3506**********01"
    assert set(parsed.problems[3].nik_masked or "") == {"*"}


def test_semicolon_delimiter_as_spreadsheets_write_it() -> None:
    parsed = parse_outreach_csv(
        csv(
            f'{NIK_1};"Rahayu; Siti";3506172001;akta_kelahiran;085712345678;"Jl. Mawar 1, RT 02"',
            f"{NIK_2};Dewi;3506172001;paspor;;",
            header=HEADER.replace(",", ";"),
        ),
        SERVICES,
    )
    [row] = parsed.rows
    assert (row.full_name, row.address) == ("Rahayu; Siti", "Jl. Mawar 1, RT 02")
    assert problems_by_line(parsed.problems) == {3: [("service_code", "unknown_service")]}


def test_byte_order_mark_crlf_blank_lines_and_header_case() -> None:
    data = (
        "\ufeffNIK, Full_Name ,DESA_CODE,service_code,phone,address\r\n"
        f"{NIK_1},Siti Rahayu,3506172001,kk,,\r\n"
        "\r\n"
        f"{NIK_2},Dewi Lestari,3506172001,kk,,\r\n"
    ).encode()
    parsed = parse_outreach_csv(data, SERVICES)
    assert [(r.line, r.nik) for r in parsed.rows] == [(2, NIK_1), (4, NIK_2)]
    assert parsed.rows_total == 2


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty_file", "kosong"),
        (b"\xef\xbb\xbf \n\n", "empty_file", "kosong"),
        (HEADER.encode() + b"\n\n", "no_rows", "judul kolom"),
        (f"{NIK_1},Siti Rahayu,3506172001,kk,,".encode(), "header_missing", HEADER),
        (
            b"nik,nama,desa_code,layanan\n" + NIK_1.encode() + b",Siti,3506172001,kk",
            "header_incomplete",
            "full_name, service_code",
        ),
        (b"nik,nik,full_name,desa_code,service_code\n", "header_duplicate", "nik"),
        ("nik,full_name\n\u00e9".encode("latin-1"), "not_utf8", "UTF-8"),
    ],
)
def test_unusable_files_are_refused_naming_the_problem(data: bytes, code: str, words: str) -> None:
    with pytest.raises(UploadRefused) as refused:
        parse_outreach_csv(data, SERVICES)
    assert refused.value.code == code
    assert refused.value.status_code == 422
    assert words in refused.value.message_id
    assert refused.value.message_en and refused.value.message_en != refused.value.message_id


def test_too_many_rows_is_refused_as_too_large() -> None:
    rows = [f"{NIK_1[:-4]}{n:04d},Siti Rahayu,3506172001,kk,," for n in range(1, 12)]
    assert len(parse_outreach_csv(csv(*rows[:10]), SERVICES, max_rows=10).rows) == 10
    with pytest.raises(UploadRefused) as refused:
        parse_outreach_csv(csv(*rows), SERVICES, max_rows=10)
    assert (refused.value.status_code, refused.value.code) == (413, "too_many_rows")
    assert "10" in refused.value.message_id and "10" in refused.value.message_en


def test_desa_officer_counter() -> None:
    assert desa_of_counter("DESA-3506172001") == "3506172001"
    for counter in (None, "", "MPP-01", "KEC-PARE-1", "DESA-350617200", "desa-3506172001"):
        assert desa_of_counter(counter) is None
