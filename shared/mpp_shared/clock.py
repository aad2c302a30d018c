"""The clock of the service a citizen receives: every "now" that decides a
promised date, an SLA warning or breach, a pickup reminder, a complaint's
deadline, a quiet hour, an event's time or the day a report covers.

In production it is the machine's clock. Outside production, the setting
CLOCK_FILE names a file holding an offset in seconds (one number, e.g.
``259200`` for three days): every process reading that file runs that far
ahead of the machine, so a test can carry the whole running system across a
weekend or a holiday and let the real working-day, holiday and quiet-hours
code decide what is due. The file is read again whenever it changes; a
missing or empty file means no offset. Production refuses the setting
(`mpp_shared.settings`).

What measures the system rather than the service (the OPD webhook queue,
the outbox and inbox, `updated_at` bookkeeping, token expiry, migrations)
keeps the machine's or the database's own time.

``now()``
    The current instant, timezone-aware (UTC).
``use_file(path)``
    Read the offset from `path` from now on (None: the machine's clock).
``write_offset(path, offset)``
    Set the offset every process reading `path` runs at (tests).
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

_lock = threading.Lock()
_path: Path | None = None
# (the file's inode, mtime in ns and size when it was read, the offset it held);
# write_offset replaces the file, so each write is a new inode.
_read: tuple[tuple[int, int, int], timedelta] | None = None


def use_file(path: str | Path | None) -> None:
    global _path, _read
    with _lock:
        _path = Path(path) if path else None
        _read = None


def offset() -> timedelta:
    """How far this process's clock runs ahead of the machine's."""
    global _read
    path = _path
    if path is None:
        return timedelta(0)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return timedelta(0)
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _read is not None and _read[0] == stamp:
            return _read[1]
        text = path.read_text().strip()
        value = timedelta(seconds=float(text)) if text else timedelta(0)
        _read = (stamp, value)
        return value


def now() -> datetime:
    return datetime.now(UTC) + offset()


def write_offset(path: str | Path, value: timedelta) -> None:
    """Write `value` so that readers never see a half-written file."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(f"{value.total_seconds():.6f}\n")
    os.replace(partial, target)
