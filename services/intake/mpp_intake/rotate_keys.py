"""`python -m mpp_intake.rotate_keys`: move intake's encrypted columns and blind
indexes to the active keys, in batches, while the service runs; stop it and
run it again to carry on (`--check` only counts what is left). Reads the
service's settings (DATABASE_URL, PII_ENCRYPTION_KEYS, PII_INDEX_KEYS).
`make rotate-keys` runs it for the four services of `make run`."""

from __future__ import annotations

import sys

from mpp_intake.settings import IntakeSettings
from mpp_intake.store.encrypted_columns import REGISTRY
from mpp_shared.keyrotation import main

if __name__ == "__main__":
    sys.exit(main(REGISTRY, IntakeSettings()))
