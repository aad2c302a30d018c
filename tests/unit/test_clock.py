"""The service clock: the machine's time, or that time moved by a file that
every process of a test stack reads; production refuses the file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mpp_shared import clock
from mpp_shared.settings import ServiceSettings
from tests.support.secrets import real_secrets


@pytest.fixture
def offset_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "offset"
    clock.use_file(path)
    yield path
    clock.use_file(None)


def _close(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(seconds=2)


def test_without_a_file_it_is_the_machines_clock() -> None:
    clock.use_file(None)
    assert clock.offset() == timedelta(0)
    assert clock.now().tzinfo is not None
    assert _close(clock.now(), datetime.now(UTC))


def test_a_missing_or_empty_file_means_no_offset(offset_file: Path) -> None:
    assert clock.offset() == timedelta(0)
    offset_file.write_text("")
    assert clock.offset() == timedelta(0)


def test_the_offset_is_read_again_whenever_the_file_changes(offset_file: Path) -> None:
    clock.write_offset(offset_file, timedelta(days=3))
    assert clock.offset() == timedelta(days=3)
    assert _close(clock.now(), datetime.now(UTC) + timedelta(days=3))
    clock.write_offset(offset_file, timedelta(days=3, hours=7, seconds=0.5))
    assert clock.offset() == timedelta(days=3, hours=7, seconds=0.5)
    assert not list(offset_file.parent.glob("*.partial"))


def test_production_refuses_a_clock_file() -> None:
    assert ServiceSettings(mpp_env="test", clock_file="/tmp/offset").clock_file == "/tmp/offset"
    with pytest.raises(ValueError, match="CLOCK_FILE"):
        ServiceSettings(mpp_env="production", clock_file="/tmp/offset", **real_secrets())
