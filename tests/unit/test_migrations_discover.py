"""Discovery of numbered SQL migration files (no database needed)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from mpp_shared import migrate
from mpp_shared.migrate import Migration, discover

SERVICE_PACKAGES = ["mpp_intake", "mpp_documents", "mpp_complaints", "mpp_notify"]


def _write(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text(f"-- {name}\nSELECT 1;\n")


def test_orders_files_by_number(tmp_path: Path) -> None:
    _write(tmp_path, "010_ten.sql", "001_one.sql", "002_two.sql")
    found = discover("intake", tmp_path)
    assert [(m.version, m.name) for m in found] == [(1, "one"), (2, "two"), (10, "ten")]
    assert all(m.source == "intake" for m in found)
    assert found[0] == Migration("intake", 1, "one", tmp_path / "001_one.sql")


def test_ignores_files_that_are_not_sql(tmp_path: Path) -> None:
    _write(tmp_path, "001_one.sql", "README.md", "__init__.py", "002_two.sql.bak")
    assert [m.name for m in discover("s", tmp_path)] == ["one"]


def test_empty_folder(tmp_path: Path) -> None:
    assert discover("s", tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [
        "1_short_number.sql",
        "01_short_number.sql",
        "001-dash.sql",
        "001_Upper.sql",
        "001_.sql",
        "001_with space.sql",
        "abc_name.sql",
        "001_name.SQL.sql",
    ],
)
def test_rejects_bad_names(tmp_path: Path, bad: str) -> None:
    _write(tmp_path, "001_good.sql", bad)
    with pytest.raises(ValueError, match=r"NNN_name\.sql"):
        discover("s", tmp_path)


def test_rejects_duplicate_numbers(tmp_path: Path) -> None:
    _write(tmp_path, "001_first.sql", "002_second.sql", "002_again.sql")
    with pytest.raises(ValueError, match="duplicate"):
        discover("s", tmp_path)


def test_rejects_duplicate_numbers_written_differently(tmp_path: Path) -> None:
    _write(tmp_path, "001_first.sql", "0001_same_number.sql")
    with pytest.raises(ValueError, match="duplicate"):
        discover("s", tmp_path)


def test_orders_numerically_past_999(tmp_path: Path) -> None:
    _write(tmp_path, "998_a.sql", "999_b.sql", "1000_c.sql")
    assert [m.version for m in discover("s", tmp_path)] == [998, 999, 1000]


def test_shared_migrations_parse() -> None:
    found = discover("shared", migrate.SHARED_MIGRATIONS)
    assert [(m.version, m.name) for m in found] == [
        (1, "plumbing"),
        (2, "audit"),
        (3, "outbox_wakeup"),
        (4, "audit_chain"),
        (5, "rate_limits"),
        (6, "personal_data_retention"),
        (7, "audit_listing"),
        (8, "inbox_retention"),
    ]
    assert all(m.path.read_text().strip() for m in found)


@pytest.mark.parametrize("package", SERVICE_PACKAGES)
def test_service_migrations_parse(package: str) -> None:
    folder = Path(importlib.import_module(package).__file__ or "").parent / "migrations"
    found = discover(package, folder)
    assert found, f"{package} has no migrations"
    versions = [m.version for m in found]
    assert versions == sorted(versions)
    assert versions[0] == 1
    assert versions == list(range(1, len(versions) + 1)), "numbering has a gap"
    for m in found:
        statements = _statements(m.path.read_text())
        assert statements, f"{m.path} holds no SQL statement"
        # the runner wraps each file in its own transaction
        assert not {s.split()[0].upper() for s in statements} & {"BEGIN", "COMMIT", "ROLLBACK"}
    assert any(
        s.upper().startswith("CREATE TABLE") for s in _statements(found[0].path.read_text())
    ), f"{package}'s first migration creates no table"


def _statements(sql: str) -> list[str]:
    """The statements of a migration, `--` comments removed and `$$` bodies
    (functions) kept whole (good enough for these files: no `--` or `;` inside
    their string literals outside the seed)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    code = re.sub(r"\$\$.*?\$\$", "$$ body $$", code, flags=re.DOTALL)
    return [s.strip() for s in code.split(";") if s.strip()]


def test_statements_ignores_comments_and_blank_statements() -> None:
    sql = "-- only a comment;\n\nCREATE TABLE t (a int); -- trailing\n;\n SELECT 1 ;"
    assert _statements(sql) == ["CREATE TABLE t (a int)", "SELECT 1"]
    assert _statements("-- nothing here\n\n") == []
    body = "CREATE FUNCTION f() RETURNS int AS $$\nDECLARE n int;\nBEGIN\n  RETURN 1;\nEND\n$$;"
    assert _statements(body) == ["CREATE FUNCTION f() RETURNS int AS $$ body $$"]


def test_intake_migrations() -> None:
    folder = Path(importlib.import_module("mpp_intake").__file__ or "").parent / "migrations"
    found = discover("intake", folder)
    assert [m.name for m in found] == [
        "applications",
        "catalog",
        "catalog_seed",
        "complete_on_first_visit",
        "outreach",
        "hold_reason",
        "citizen_signin",
        "upload_blobs",
        "online_applications",
        "personal_data_erasure",
        "personal_data_requests",
        "population_reports",
        "listing_keyset",
        "application_ended_at",
    ]
    catalog, seed, complete = (_statements(m.path.read_text()) for m in found[1:4])
    created = {s.split()[2] for s in catalog if s.upper().startswith("CREATE TABLE")}
    assert {"catalog_services", "catalog_service_versions", "pickup_points"} <= created
    # the seed only adds rows: no schema change hides in it
    assert seed and all(s.upper().startswith("INSERT INTO ") for s in seed)
    # applications learn their catalog version, papers and promise, without a new table
    assert complete[0].upper().startswith("ALTER TABLE APPLICATIONS")
    assert not any(s.upper().startswith("CREATE TABLE") for s in complete)
    for column in ("catalog_version", "documents", "missing", "expected_ready_at", "active"):
        assert f"ADD COLUMN {column} " in complete[0], column
