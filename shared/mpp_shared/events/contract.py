"""The event contract for outsiders, as files: an AsyncAPI 3.0 document
(`asyncapi`) and one JSON Schema (draft 2020-12) per event type
(`json_schemas`), generated from the registered models.

The generated files live next to this module in `contract/` and ship in the
wheel; notify serves them as they are kept (`stored`). A unit test
regenerates them in memory and fails when they drifted from the models.

    python -m mpp_shared.events.contract           # (re)write the files
    python -m mpp_shared.events.contract --check   # exit 1 if they drifted
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mpp_shared.events.asyncapi import CITIZEN_FACING_TAG, asyncapi_document
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.json_schemas import ENVELOPE_NAME, envelope_schema, event_schema
from mpp_shared.events.topics import dlq_of

CONTRACT_DIR = Path(__file__).with_name("contract")
ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_DIR = "schemas"


# --- generating and checking the files ----------------------------------------


def dumps(doc: dict[str, Any]) -> str:
    """The stored form: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every contract file by its path relative to the contract directory."""
    files = {ASYNCAPI_FILE: dumps(asyncapi_document())}
    files[f"{SCHEMAS_DIR}/{ENVELOPE_NAME}.json"] = dumps(envelope_schema())
    for event_type in sorted(registered_types()):
        files[f"{SCHEMAS_DIR}/{event_type}.json"] = dumps(event_schema(event_type))
    return files


def _on_disk(directory: Path) -> set[str]:
    found = {ASYNCAPI_FILE} if (directory / ASYNCAPI_FILE).exists() else set()
    schemas = directory / SCHEMAS_DIR
    if schemas.is_dir():
        found |= {f"{SCHEMAS_DIR}/{p.name}" for p in schemas.glob("*.json")}
    return found


def drifted(directory: Path = CONTRACT_DIR, expected: dict[str, str] | None = None) -> list[str]:
    """Files missing, different from the models, or left over from a removed type."""
    expected = render() if expected is None else expected
    present = _on_disk(directory)
    changed = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(changed + [name for name in present if name not in expected])


def write(directory: Path = CONTRACT_DIR) -> list[str]:
    """(Re)write the contract files; returns those created, changed or removed."""
    expected = render()
    touched = drifted(directory, expected)
    (directory / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
    for name in touched:
        path = directory / name
        if name in expected:
            path.write_text(expected[name], encoding="utf-8")
        else:
            path.unlink()
    return touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the files differ from the models"
    )
    parser.add_argument("--dir", type=Path, default=CONTRACT_DIR, help="contract directory")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted(args.dir)
        if stale:
            print(
                "The event contract drifted from the models in mpp_shared.events; "
                "run `make contract` and commit the result. Drifted files:\n  "
                + "\n  ".join(str(args.dir / name) for name in stale),
                file=sys.stderr,
            )
            return 1
        print(f"event contract up to date ({args.dir})")
        return 0
    touched = write(args.dir)
    for name in touched:
        print(
            f"wrote {args.dir / name}"
            if (args.dir / name).exists()
            else f"removed {args.dir / name}"
        )
    print(f"event contract: {len(touched)} file(s) changed in {args.dir}")
    return 0


# --- loading what is kept in the repository -----------------------------------


@dataclass(frozen=True)
class StoredFile:
    content: bytes
    etag: str


@dataclass(frozen=True)
class IndexEntry:
    event_type: str
    topic: str
    citizen_facing: bool


@dataclass(frozen=True)
class StoredContract:
    asyncapi: StoredFile
    schemas: dict[str, StoredFile]  # by event type, plus the envelope as `cloudevent`
    index: list[IndexEntry]


def _stored(content: bytes) -> StoredFile:
    return StoredFile(content, f'"{hashlib.sha256(content).hexdigest()[:32]}"')


@cache
def stored() -> StoredContract:
    """The contract files shipped with the package, read once."""
    root = resources.files(__package__ or "mpp_shared.events") / "contract"
    asyncapi = (root / ASYNCAPI_FILE).read_bytes()
    schemas = {
        entry.name.removesuffix(".json"): _stored(entry.read_bytes())
        for entry in (root / SCHEMAS_DIR).iterdir()
        if entry.name.endswith(".json")
    }
    doc = json.loads(asyncapi)
    messages = doc["components"]["messages"]
    index = [
        IndexEntry(
            event_type=name,
            topic=channel["address"],
            citizen_facing=any(
                tag["name"] == CITIZEN_FACING_TAG for tag in messages[name].get("tags", [])
            ),
        )
        for channel in doc["channels"].values()
        if not channel["address"].endswith(dlq_of(""))
        for name in channel["messages"]
    ]
    return StoredContract(
        asyncapi=_stored(asyncapi),
        schemas=schemas,
        index=sorted(index, key=lambda e: e.event_type),
    )


if __name__ == "__main__":
    sys.exit(main())
