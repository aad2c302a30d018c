"""Where documents keeps personal data under keys (see mpp_shared.keyrotation):
no encrypted column. The one key-dependent value is the holder's NIK check,
which intake computes; it is listed so that the old index key is kept here
until the jobs carrying a check under it are picked up."""

from __future__ import annotations

from mpp_shared.keyrotation import NotRotated, Registry

REGISTRY = Registry(
    service="documents",
    tables=(),
    not_rotated=(
        NotRotated(
            "jobs",
            "holder_nik_check",
            "intake's blind index of the holder's NIK (hex), with no clear NIK here; "
            "compared under the index key it names",
        ),
    ),
)
