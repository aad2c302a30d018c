"""The catalog seed migration (003_catalog_seed.sql), checked without a database.

The seed is written in a documented, regular format (one INSERT per row, literal
values only, see the head of the SQL file). This test reads it with a small
tokenizer of SQL literals, then checks the catalog and the pickup points. Each
check returns its problems as text; the mutation tests at the end break a copy
of the parsed seed in one place and show that the check notices.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mpp_intake
from mpp_intake.api.catalog_schemas import ServiceDefinition
from mpp_intake.domain.catalog import CHANNELS, Requirement, ServiceVersion

SEED_FILE = Path(mpp_intake.__file__).parent / "migrations" / "003_catalog_seed.sql"

ONE_DAY_SERVICES = {
    "pindah_datang",
    "pindah_keluar",
    "akta_kelahiran",
    "akta_kematian",
    "kk",
    "ktp_el",
}
POINT_CODES = {
    "MPP",
    "DUKCAPIL",
    "KEC-BANYAKAN",
    "KEC-WATES",
    "KEC-PAPAR",
    "KEC-PARE",
    "KEC-NGADILUWIH",
}
# Kabupaten Kediri: province 35, regency 06, kecamatan 01..26 (Kemendagri codes).
KECAMATAN = {f"3506{n:02d}" for n in range(1, 27)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLA_UNITS = {"working_days", "working_hours"}
POINT_KINDS = {"mpp", "dukcapil", "kecamatan"}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,48}$")  # as the admin API accepts requirement codes
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

COLUMNS = {
    "pickup_points": [
        "code",
        "name",
        "kind",
        "region_code",
        "address",
        "opening_hours",
        "daily_capacity",
        "serves_regions",
    ],
    "catalog_services": ["code", "current_version", "active"],
    "catalog_service_versions": [
        "code",
        "version",
        "name_id",
        "name_en",
        "opd",
        "fee_idr",
        "sla_amount",
        "sla_unit",
        "pickup_points",
        "channels",
        "requirements",
        "created_by",
    ],
}


# -- reading the SQL ------------------------------------------------------------

_INSERT = re.compile(
    r"^INSERT INTO (?P<table>\w+) \((?P<columns>[^)]*)\)\s*VALUES\s*\(", re.MULTILINE
)
_TOKEN = re.compile(
    r"""
      (?P<space>\s+|--[^\n]*)
    | (?P<string>'(?:[^']|'')*')(?:::(?P<cast>jsonb|text\[\]))?
    | (?P<int>-?\d+)\b
    | (?P<word>true|false|null)\b
    | (?P<punct>[(),;])
    """,
    re.VERBOSE,
)
_TEXT_ARRAY = re.compile(r"^\{(?:[A-Za-z0-9_-]+(?:,[A-Za-z0-9_-]+)*)?\}$")
_COMMENT_LINE = re.compile(r"^\s*--[^\n]*$", re.MULTILINE)


class SeedFormatError(ValueError):
    pass


def _literal(match: re.Match[str]) -> Any:
    if match["int"] is not None:
        return int(match["int"])
    if match["word"] is not None:
        return {"true": True, "false": False, "null": None}[match["word"]]
    text = match["string"][1:-1].replace("''", "'")
    if match["cast"] == "jsonb":
        return json.loads(text)
    if match["cast"] == "text[]":
        if not _TEXT_ARRAY.match(text):
            raise SeedFormatError(f"text[] literal not in the {{A,B}} form: {text!r}")
        return text[1:-1].split(",") if text != "{}" else []
    return text


def parse_sql(sql: str) -> list[tuple[str, dict[str, Any]]]:
    """Rows as (table, {column: value}); raises SeedFormatError off the format."""
    rows: list[tuple[str, dict[str, Any]]] = []
    spans: list[tuple[int, int]] = []
    for insert in _INSERT.finditer(sql):
        columns = [c.strip() for c in insert["columns"].split(",")]
        values: list[Any] = []
        pos, expect_value = insert.end(), True
        while True:
            token = _TOKEN.match(sql, pos)
            if token is None:
                raise SeedFormatError(f"not a literal at {sql[pos : pos + 40]!r}")
            pos = token.end()
            if token["space"] is not None:
                continue
            punct = token["punct"]
            if expect_value:
                if punct is not None:
                    raise SeedFormatError(f"value expected before {punct!r} in {insert['table']}")
                values.append(_literal(token))
                expect_value = False
            elif punct == ",":
                expect_value = True
            elif punct == ")":
                break
            else:
                raise SeedFormatError(f"',' or ')' expected in {insert['table']}")
        end = re.compile(r"\s*;").match(sql, pos)
        if end is None:
            raise SeedFormatError(f"';' expected after the VALUES of {insert['table']}")
        if len(columns) != len(values):
            raise SeedFormatError(f"{len(columns)} columns but {len(values)} values")
        rows.append((insert["table"], dict(zip(columns, values, strict=True))))
        spans.append((insert.start(), end.end()))
    rest = sql
    for start, stop in reversed(spans):
        rest = rest[:start] + rest[stop:]
    rest = _COMMENT_LINE.sub("", rest).strip()
    if rest:
        raise SeedFormatError(f"statement outside the one-INSERT-per-row format: {rest[:60]!r}")
    return rows


@dataclass
class Seed:
    points: dict[str, dict[str, Any]]
    services: dict[str, dict[str, Any]]
    versions: list[dict[str, Any]]


def load_seed(sql: str) -> Seed:
    seed = Seed(points={}, services={}, versions=[])
    for table, row in parse_sql(sql):
        if list(row) != COLUMNS.get(table):
            raise SeedFormatError(f"{table}: columns {list(row)}, expected {COLUMNS.get(table)}")
        if table == "pickup_points":
            assert row["code"] not in seed.points, f"pickup point {row['code']} twice"
            seed.points[row["code"]] = row
        elif table == "catalog_services":
            assert row["code"] not in seed.services, f"service {row['code']} twice"
            seed.services[row["code"]] = row
        else:
            seed.versions.append(row)
    return seed


@pytest.fixture(scope="module")
def seed() -> Seed:
    return load_seed(SEED_FILE.read_text(encoding="utf-8"))


# -- the checks -------------------------------------------------------------------


def requirement_problems(service: str, requirements: Any) -> list[str]:
    if not isinstance(requirements, list) or not requirements:
        return [f"{service}: requirements must be a non-empty JSON array"]
    problems: list[str] = []
    codes: list[str] = []

    def named(item: Any, where: str, keys: set[str]) -> None:
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            return
        if set(item) - keys:
            problems.append(f"{where}: unknown keys {sorted(set(item) - keys)}")
        for key in ("code", "name_id", "name_en"):
            value = item.get(key)
            if not isinstance(value, str) or not 2 <= len(value.strip()) <= 200:
                problems.append(f"{where}: {key} missing or not a text of 2-200 characters")
        if isinstance(item.get("code"), str):
            codes.append(item["code"])
            if not CODE.match(item["code"]):
                problems.append(f"{where}: code {item['code']!r} is not snake_case")

    for i, item in enumerate(requirements):
        where = f"{service}.requirements[{i}]"
        named(item, where, {"code", "name_id", "name_en", "mandatory", "any_of"})
        if not isinstance(item, dict):
            continue
        if not isinstance(item.get("mandatory"), bool):
            problems.append(f"{where}: mandatory must be true or false")
        alternatives = item.get("any_of", [])
        if not isinstance(alternatives, list) or ("any_of" in item and not alternatives):
            problems.append(f"{where}: any_of must be a non-empty array when present")
            continue
        for j, alternative in enumerate(alternatives):
            named(alternative, f"{where}.any_of[{j}]", {"code", "name_id", "name_en"})
    dupes = sorted(code for code, n in Counter(codes).items() if n > 1)
    if dupes:
        problems.append(f"{service}: duplicate requirement codes {dupes}")
    return problems


def service_problems(seed: Seed) -> list[str]:
    problems: list[str] = []
    if len(seed.services) < 10:
        problems.append(f"only {len(seed.services)} services, at least 10 expected")
    for code in sorted(ONE_DAY_SERVICES - set(seed.services)):
        problems.append(f"missing one-day service {code}")
    by_code = Counter(v["code"] for v in seed.versions)
    for code in sorted(set(by_code) - set(seed.services)):
        problems.append(f"{code}: version without a catalog_services row")
    for code, service in sorted(seed.services.items()):
        if not CODE.match(code):
            problems.append(f"{code}: service code is not snake_case")
        if service["current_version"] != 1 or service["active"] is not True:
            problems.append(f"{code}: expected current_version 1 and active")
        if by_code[code] != 1:
            problems.append(f"{code}: {by_code[code]} version rows, expected exactly 1")
    for v in seed.versions:
        code = v["code"]
        if v["version"] != 1:
            problems.append(f"{code}: version {v['version']}, expected 1")
        if v["fee_idr"] != 0:
            problems.append(f"{code}: fee {v['fee_idr']}, population documents are free")
        if v["opd"] != "DISDUKCAPIL":
            problems.append(f"{code}: opd {v['opd']!r}")
        if v["created_by"] != "seed":
            problems.append(f"{code}: created_by {v['created_by']!r}")
        for key in ("name_id", "name_en"):
            if not isinstance(v[key], str) or len(v[key].strip()) < 2:
                problems.append(f"{code}: {key} missing")
        if v["sla_unit"] not in SLA_UNITS or not 1 <= v["sla_amount"] <= 30:
            problems.append(f"{code}: SLA {v['sla_amount']} {v['sla_unit']}")
        if code in ONE_DAY_SERVICES and (v["sla_amount"], v["sla_unit"]) != (1, "working_days"):
            problems.append(f"{code}: one-day service with SLA {v['sla_amount']} {v['sla_unit']}")
        channels = v["channels"]
        if not channels or len(set(channels)) != len(channels) or set(channels) - set(CHANNELS):
            problems.append(f"{code}: channels {channels}")
        pickup = v["pickup_points"]
        if len(set(pickup)) != len(pickup) or set(pickup) - set(seed.points):
            problems.append(f"{code}: pickup points {pickup} not all defined (once)")
        if not {"MPP", "DUKCAPIL"} <= set(pickup):
            problems.append(f"{code}: MPP and DUKCAPIL must both be pickup points")
        problems += requirement_problems(code, v["requirements"])
    return problems


def opening_hours_problems(point: str, hours: Any) -> list[str]:
    if not isinstance(hours, dict) or set(hours) != set(WEEKDAYS):
        keys = sorted(hours) if isinstance(hours, dict) else hours
        return [f"{point}: opening hours need exactly the keys {WEEKDAYS}, got {keys}"]
    problems: list[str] = []
    for day in WEEKDAYS:
        span = hours[day]
        if span is None:
            continue
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(t, str) and HHMM.match(t) for t in span)
            or span[0] >= span[1]
        ):
            problems.append(f"{point}: {day} must be null or [open, close] as HH:MM, got {span}")
    if all(hours[day] is None for day in WEEKDAYS[:5]):
        problems.append(f"{point}: closed on every working day")
    return problems


def point_problems(seed: Seed) -> list[str]:
    problems: list[str] = []
    if set(seed.points) != POINT_CODES:
        problems.append(f"pickup points {sorted(seed.points)}, expected {sorted(POINT_CODES)}")
    for code, p in sorted(seed.points.items()):
        kind, region = p["kind"], p["region_code"]
        if kind not in POINT_KINDS:
            problems.append(f"{code}: kind {kind!r}")
        expected_kind = {"MPP": "mpp", "DUKCAPIL": "dukcapil"}.get(code, "kecamatan")
        if kind != expected_kind:
            problems.append(f"{code}: kind {kind!r}, expected {expected_kind!r}")
        if kind == "kecamatan":
            if region not in KECAMATAN:
                problems.append(f"{code}: region {region!r} is not a Kabupaten Kediri kecamatan")
            elif region not in p["serves_regions"]:
                problems.append(f"{code}: does not serve its own kecamatan {region}")
        elif region != "3506":
            problems.append(f"{code}: region {region!r}, expected the regency code 3506")
        if not isinstance(p["daily_capacity"], int) or p["daily_capacity"] <= 0:
            problems.append(f"{code}: daily capacity {p['daily_capacity']!r}")
        for key in ("name", "address"):
            if len(p[key].strip()) < 5:
                problems.append(f"{code}: {key} missing")
        if "Kediri" not in p["address"]:
            problems.append(f"{code}: address does not name Kediri")
        problems += opening_hours_problems(code, p["opening_hours"])
    return problems


def coverage_problems(seed: Seed) -> list[str]:
    served = Counter(r for p in seed.points.values() for r in p["serves_regions"])
    problems = [
        f"kecamatan {r} is served by no pickup point" for r in sorted(KECAMATAN - set(served))
    ]
    problems += [
        f"kecamatan {r} is served by {n} pickup points" for r, n in served.items() if n > 1
    ]
    problems += [
        f"{r} is not a Kabupaten Kediri kecamatan" for r in sorted(set(served) - KECAMATAN)
    ]
    if seed.points.get("DUKCAPIL", {}).get("serves_regions"):
        problems.append("DUKCAPIL must serve no kecamatan (the MPP is the regency default)")
    return problems


# -- the seed passes --------------------------------------------------------------


def test_seed_is_in_the_documented_format(seed: Seed) -> None:
    assert len(seed.points) == 7
    assert len(seed.services) == len(seed.versions) >= 10


def test_services(seed: Seed) -> None:
    assert service_problems(seed) == []
    assert ONE_DAY_SERVICES <= set(seed.services)


def test_pickup_points(seed: Seed) -> None:
    assert point_problems(seed) == []


def test_every_kecamatan_is_served_by_exactly_one_point(seed: Seed) -> None:
    assert coverage_problems(seed) == []
    assert sum(len(p["serves_regions"]) for p in seed.points.values()) == 26


def test_seed_passes_the_admin_validation_and_the_domain(seed: Seed) -> None:
    """The seed must be something an admin could have published through the API."""
    for v in seed.versions:
        fields = {k: v[k] for k in COLUMNS["catalog_service_versions"]}
        for key in ("code", "version", "created_by"):
            fields.pop(key)
        ServiceDefinition.model_validate(fields)
        service = ServiceVersion(
            code=v["code"],
            version=v["version"],
            name_id=v["name_id"],
            name_en=v["name_en"],
            opd=v["opd"],
            fee_idr=v["fee_idr"],
            sla_amount=v["sla_amount"],
            sla_unit=v["sla_unit"],
            pickup_points=tuple(v["pickup_points"]),
            channels=tuple(v["channels"]),
            requirements=tuple(Requirement.from_json(r) for r in v["requirements"]),
        )
        assert service.missing(service.known_document_codes()) == []


def test_birth_certificate_accepts_the_sworn_statements(seed: Seed) -> None:
    """SPTJM instead of the birth notification and the marriage book is complete."""
    row = next(v for v in seed.versions if v["code"] == "akta_kelahiran")
    requirements = [Requirement.from_json(r) for r in row["requirements"]]
    mandatory = [r for r in requirements if r.mandatory]

    def missing(provided: set[str]) -> set[str]:
        return {r.code for r in mandatory if not (r.accepted_codes & provided)}

    with_sptjm = {"sptjm_kelahiran", "sptjm_pasangan", "kartu_keluarga", "ktp_el_orang_tua"}
    assert missing(with_sptjm) == set()
    assert missing(with_sptjm - {"kartu_keluarga"}) == {"kartu_keluarga"}
    assert missing(set()) == {r.code for r in mandatory}


# -- each check can fail ----------------------------------------------------------


def _version(seed: Seed, code: str) -> dict[str, Any]:
    return next(v for v in seed.versions if v["code"] == code)


def _drop_service(seed: Seed, code: str) -> None:
    del seed.services[code]
    seed.versions = [v for v in seed.versions if v["code"] != code]


def _keep_services(seed: Seed, count: int) -> None:
    for code in sorted(set(seed.services) - ONE_DAY_SERVICES)[: len(seed.services) - count]:
        _drop_service(seed, code)


SERVICE_MUTATIONS: dict[str, tuple[Callable[[Seed], object], str]] = {
    "too_few": (lambda s: _keep_services(s, 9), "at least 10 expected"),
    "one_day_dropped": (lambda s: _drop_service(s, "pindah_datang"), "missing one-day service"),
    "one_day_slow": (lambda s: _version(s, "kk").update(sla_amount=3), "one-day service with SLA"),
    "hours_unit": (
        lambda s: _version(s, "ktp_el").update(sla_unit="working_hours"),
        "one-day service with SLA",
    ),
    "fee": (lambda s: _version(s, "kia").update(fee_idr=5000), "free"),
    "opd": (lambda s: _version(s, "kia").update(opd="DPMPTSP"), "opd"),
    "created_by": (lambda s: _version(s, "kia").update(created_by="admin"), "created_by"),
    "version_2": (lambda s: _version(s, "kia").update(version=2), "version 2"),
    "no_version_row": (
        lambda s: setattr(s, "versions", [v for v in s.versions if v["code"] != "kia"]),
        "0 version rows",
    ),
    "inactive": (lambda s: s.services["kia"].update(active=False), "active"),
    "unknown_point": (
        lambda s: _version(s, "kk")["pickup_points"].append("KEC-ENTAH"),
        "not all defined",
    ),
    "no_mpp": (lambda s: _version(s, "kk")["pickup_points"].remove("MPP"), "MPP and DUKCAPIL"),
    "bad_channel": (lambda s: _version(s, "kk")["channels"].append("fax"), "channels"),
    "no_requirements": (lambda s: _version(s, "kk").update(requirements=[]), "non-empty JSON"),
    "duplicate_code": (
        lambda s: _version(s, "akta_kematian")["requirements"].append(
            dict(_version(s, "akta_kematian")["requirements"][-1], mandatory=False)
        ),
        "duplicate requirement codes",
    ),
    "alternative_collides": (
        lambda s: _version(s, "akta_kelahiran")["requirements"][0]["any_of"][0].update(
            code="kartu_keluarga"
        ),
        "duplicate requirement codes",
    ),
    "no_name_en": (
        lambda s: _version(s, "kk")["requirements"][0].pop("name_en"),
        "name_en missing",
    ),
    "alternative_no_name_id": (
        lambda s: _version(s, "akta_kelahiran")["requirements"][0]["any_of"][0].pop("name_id"),
        "any_of[0]: name_id missing",
    ),
    "mandatory_not_bool": (
        lambda s: _version(s, "kk")["requirements"][0].update(mandatory="yes"),
        "mandatory must be",
    ),
    "code_not_snake": (
        lambda s: _version(s, "kk")["requirements"][0].update(code="Kartu-Keluarga"),
        "not snake_case",
    ),
    "empty_any_of": (
        lambda s: _version(s, "kk")["requirements"][0].update(any_of=[]),
        "any_of must be",
    ),
}


@pytest.mark.parametrize("name", SERVICE_MUTATIONS)
def test_service_checks_catch(seed: Seed, name: str) -> None:
    mutate, expected = SERVICE_MUTATIONS[name]
    broken = copy.deepcopy(seed)
    mutate(broken)
    problems = service_problems(broken)
    assert any(expected in p for p in problems), problems


def _hours(seed: Seed, code: str) -> dict[str, Any]:
    hours: dict[str, Any] = seed.points[code]["opening_hours"]
    return hours


def _move_region(seed: Seed, region: str, to: str) -> None:
    for p in seed.points.values():
        if region in p["serves_regions"]:
            p["serves_regions"].remove(region)
    seed.points[to]["serves_regions"].append(region)


POINT_MUTATIONS: dict[str, tuple[Callable[[Seed], object], str]] = {
    "point_missing": (lambda s: s.points.pop("KEC-WATES"), "expected"),
    "bad_kind": (lambda s: s.points["KEC-PARE"].update(kind="desa"), "kind"),
    "region_outside_kediri": (
        lambda s: s.points["KEC-PARE"].update(region_code="357101"),
        "not a Kabupaten Kediri kecamatan",
    ),
    "own_region_not_served": (
        lambda s: _move_region(s, "350617", "MPP"),
        "does not serve its own kecamatan",
    ),
    "mpp_region": (lambda s: s.points["MPP"].update(region_code="350625"), "3506"),
    "capacity": (lambda s: s.points["MPP"].update(daily_capacity=0), "daily capacity"),
    "day_missing": (lambda s: _hours(s, "MPP").pop("sun"), "exactly the keys"),
    "bad_time": (lambda s: _hours(s, "MPP").update(mon=["8:00", "15:00"]), "mon must be"),
    "closes_before_opening": (
        lambda s: _hours(s, "KEC-PAPAR").update(fri=["11:00", "08:00"]),
        "fri must be",
    ),
    "span_not_a_pair": (lambda s: _hours(s, "KEC-PAPAR").update(tue="08:00-14:00"), "tue"),
    "never_open": (
        lambda s: _hours(s, "KEC-WATES").update(dict.fromkeys(WEEKDAYS)),
        "closed on every working day",
    ),
}


@pytest.mark.parametrize("name", POINT_MUTATIONS)
def test_point_checks_catch(seed: Seed, name: str) -> None:
    mutate, expected = POINT_MUTATIONS[name]
    broken = copy.deepcopy(seed)
    mutate(broken)
    problems = point_problems(broken)
    assert any(expected in p for p in problems), problems


COVERAGE_MUTATIONS: dict[str, tuple[Callable[[Seed], object], str]] = {
    "unserved": (lambda s: s.points["KEC-PARE"]["serves_regions"].remove("350626"), "no pickup"),
    "served_twice": (
        lambda s: s.points["MPP"]["serves_regions"].append("350617"),
        "served by 2 pickup points",
    ),
    "foreign_region": (
        lambda s: s.points["MPP"]["serves_regions"].append("357101"),
        "not a Kabupaten Kediri kecamatan",
    ),
    "dukcapil_serves": (lambda s: _move_region(s, "350625", "DUKCAPIL"), "DUKCAPIL"),
}


@pytest.mark.parametrize("name", COVERAGE_MUTATIONS)
def test_coverage_checks_catch(seed: Seed, name: str) -> None:
    mutate, expected = COVERAGE_MUTATIONS[name]
    broken = copy.deepcopy(seed)
    mutate(broken)
    problems = coverage_problems(broken)
    assert any(expected in p for p in problems), problems


_ROW = "INSERT INTO catalog_services (code, current_version, active)\nVALUES ('kk', 1, true);\n"


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (_ROW.replace("true", "now()"), SeedFormatError),
        (_ROW.replace(");", ")"), SeedFormatError),
        (_ROW.replace("1, ", ""), SeedFormatError),
        (_ROW + "UPDATE catalog_services SET active = false;\n", SeedFormatError),
        (
            _ROW + "INSERT INTO catalog_services (code, current_version, active)\n"
            "VALUES ('kia', 1, true), ('kk', 2, true);\n",
            SeedFormatError,
        ),
        (_ROW.replace("'kk'", "'{kk, kia}'::text[]"), SeedFormatError),
        (_ROW.replace("'kk'", "'[{\"code\": }]'::jsonb"), json.JSONDecodeError),
    ],
    ids=[
        "function",
        "no_semicolon",
        "column_count",
        "other_statement",
        "multi_row",
        "array",
        "json",
    ],
)
def test_reader_refuses_sql_off_the_format(sql: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_sql(sql)


def test_reader_reads_the_literal_forms() -> None:
    sql = (
        "-- a comment line\n"
        "INSERT INTO t (a, b, c, d, e, f)\n"
        "VALUES ('it''s', -3, false, '{}'::text[], '{MPP,KEC-PARE}'::text[],  -- trailing note\n"
        '        \'{"x": [1, null], "y": "a\'\'b"}\'::jsonb);\n'
    )
    assert parse_sql(sql) == [
        (
            "t",
            {
                "a": "it's",
                "b": -3,
                "c": False,
                "d": [],
                "e": ["MPP", "KEC-PARE"],
                "f": {"x": [1, None], "y": "a'b"},
            },
        )
    ]
