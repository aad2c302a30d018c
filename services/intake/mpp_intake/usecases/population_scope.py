"""Who sees which village's reports of births, deaths and moves.

- A desa officer (a `frontdesk` principal whose counter is `DESA-<desa code>`)
  reports for and sees their desa only.
- A kecamatan officer (a principal whose counter is a kecamatan pickup point,
  e.g. `KEC-PARE`) sees the desa of that kecamatan (the point's 6-digit
  region code), and may report for one of them.
- Supervisors and admins see every kecamatan (the regency).

Anything outside one's scope is refused (Forbidden) before anything of it is
told.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from mpp_intake.domain import outreach as outreach_rules
from mpp_intake.store import population
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Forbidden

_REGENCY = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Scope:
    """One desa, one kecamatan, or (both None) the whole regency."""

    desa_code: str | None = None
    kecamatan_code: str | None = None

    @property
    def regency(self) -> bool:
        return self.desa_code is None and self.kecamatan_code is None

    def allows(self, desa_code: str) -> bool:
        if self.desa_code is not None:
            return desa_code == self.desa_code
        if self.kecamatan_code is not None:
            return desa_code[:6] == self.kecamatan_code
        return True

    def allows_kecamatan(self, kecamatan_code: str) -> bool:
        if self.desa_code is not None:
            return kecamatan_code == self.desa_code[:6]
        return self.kecamatan_code in (None, kecamatan_code)

    def where(self) -> str:
        return self.desa_code or self.kecamatan_code or "3506"


async def scope_of(conn: asyncpg.Connection | asyncpg.Pool, officer: Principal) -> Scope:
    if officer.has_any(_REGENCY):
        return Scope()
    desa = outreach_rules.desa_of_counter(officer.counter)
    if desa is not None:
        return Scope(desa_code=desa, kecamatan_code=desa[:6])
    kecamatan = await population.kecamatan_of_point(conn, officer.counter or "")
    if kecamatan is not None:
        return Scope(kecamatan_code=kecamatan)
    raise Forbidden(
        "not_a_desa_or_kecamatan_counter",
        "Laporan kependudukan desa hanya untuk petugas desa (loket DESA-<kode desa 10 angka>) "
        "atau kecamatan (loket kantor kecamatan, misalnya KEC-PARE); loket Anda: "
        f"{officer.counter or 'tidak ada'}",
        "The village's population reports are for desa officers (counter DESA-<10-digit desa "
        "code>) or kecamatan officers (a kecamatan office counter, e.g. KEC-PARE); your "
        f"counter: {officer.counter or 'none'}",
    )


def refuse_desa(scope: Scope, desa_code: str) -> None:
    if not scope.allows(desa_code):
        raise Forbidden(
            "other_desa",
            f"Desa {desa_code} di luar wilayah Anda ({scope.where()})",
            f"Desa {desa_code} is outside your area ({scope.where()})",
        )


def refuse_kecamatan(scope: Scope, kecamatan_code: str) -> None:
    if not scope.allows_kecamatan(kecamatan_code):
        raise Forbidden(
            "other_kecamatan",
            f"Kecamatan {kecamatan_code} di luar wilayah Anda ({scope.where()})",
            f"Kecamatan {kecamatan_code} is outside your area ({scope.where()})",
        )
