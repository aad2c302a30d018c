"""The shape of the code, read from the source (AST), never imported: each
service keeps the layout api/ → usecases/ → store/, domain/; a route holds no
SQL and no transaction; no module grows past 450 lines; no public name hides
behind an underscore alias. Import direction between the layers is checked
by `lint-imports` (the contracts in pyproject.toml); these checks cover what
an import graph cannot see.

Every failure names the file and line to change.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = sorted(REPO_ROOT.glob("services/*/mpp_*"))
SHARED_PACKAGE = REPO_ROOT / "shared" / "mpp_shared"

# What every service package holds (the layout the import contracts name).
LAYER_PACKAGES = ("api", "usecases", "store", "domain")
SERVICE_MODULES = ("handlers.py", "main.py", "settings.py")

MAX_MODULE_LINES = 450
# Connection and pool methods of asyncpg: SQL or a transaction.
DATABASE_CALLS = frozenset(
    {"transaction", "acquire", "fetch", "fetchrow", "fetchval", "execute", "executemany"}
)


def relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def source_modules() -> list[Path]:
    """Every non-test Python module of the services and the shared package."""
    modules = [
        path
        for package in [*SERVICE_PACKAGES, SHARED_PACKAGE]
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    return sorted(path for path in modules if not path.name.startswith("test_"))


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def api_modules() -> list[Path]:
    """Every module under an `api/` folder of a service or the shared package."""
    return [path for path in source_modules() if "api" in path.relative_to(REPO_ROOT).parts[:-1]]


def database_uses(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, what) for each asyncpg import and each connection/pool call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "asyncpg":
                    yield node.lineno, f"imports {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").split(".")[0] == "asyncpg":
                yield node.lineno, f"imports from {node.module}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in DATABASE_CALLS
        ):
            yield node.lineno, f"calls .{node.func.attr}()"


def underscore_aliases(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, import) for each public name imported under a private alias."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for alias in node.names:
            public = not alias.name.split(".")[-1].startswith("_")
            if alias.asname and alias.asname.startswith("_") and public:
                yield node.lineno, f"{alias.name} as {alias.asname}"


class Finding(NamedTuple):
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def refuse(title: str, found: list[Finding]) -> None:
    """Fail with every finding on its own line, in file and line order."""
    if found:
        listed = "\n  ".join(str(finding) for finding in sorted(found))
        pytest.fail(f"{title} ({len(found)}):\n  {listed}", pytrace=False)


def test_the_packages_are_found() -> None:
    # Guards every check below against passing on an empty list of files.
    assert len(SERVICE_PACKAGES) == 4, [relative(path) for path in SERVICE_PACKAGES]
    assert api_modules()


@pytest.mark.parametrize("package", SERVICE_PACKAGES, ids=lambda path: path.name)
def test_each_service_has_the_layered_layout(package: Path) -> None:
    # The import contracts name the layers by wildcard, so they would pass
    # unnoticed on a layer that is missing or misnamed.
    expected = [package / name / "__init__.py" for name in LAYER_PACKAGES]
    expected += [package / name for name in SERVICE_MODULES]
    missing = [relative(path) for path in expected if not path.is_file()]
    if missing:
        pytest.fail("missing from the service layout:\n  " + "\n  ".join(missing), pytrace=False)


def test_api_modules_hold_no_sql_and_no_transaction() -> None:
    found = [
        Finding(relative(path), line, what)
        for path in api_modules()
        for line, what in database_uses(parsed(path))
    ]
    refuse(
        "a route parses, authorizes and calls one use case; SQL and transactions "
        "belong in usecases/ and store/",
        found,
    )


def test_no_module_is_over_the_line_limit() -> None:
    found = []
    for path in source_modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(
                Finding(
                    relative(path),
                    MAX_MODULE_LINES + 1,
                    f"{lines} lines (limit {MAX_MODULE_LINES})",
                )
            )
    refuse(f"modules over {MAX_MODULE_LINES} lines", found)


def test_no_public_name_is_imported_under_an_underscore_alias() -> None:
    found = [
        Finding(relative(path), line, what)
        for path in source_modules()
        for line, what in underscore_aliases(parsed(path))
    ]
    refuse("public names behind underscore aliases", found)
