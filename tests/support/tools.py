"""Outside programs some tests need (promtool, kubectl, uv) that pip does not
install. Where one is missing, a developer's run skips those tests with the
reason and how to get the program; CI (`CI=true`) fails instead, since
`.ci/run` or `make setup` provides each of them there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def required_tool(name: str, how_to_get_it: str, *also: Path) -> str:
    """The path of program `name`: on PATH, else the first of `also` that
    exists. Missing: fails under CI, skips elsewhere, saying `how_to_get_it`."""
    found = shutil.which(name) or next((str(path) for path in also if path.exists()), None)
    if found:
        return found
    reason = f"{name} is not installed ({how_to_get_it})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must have it")
    pytest.skip(reason)
