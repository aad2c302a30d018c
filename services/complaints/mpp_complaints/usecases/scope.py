"""Which complaints a caller may see and work: complaint officers,
supervisors and admins every one; an OPD's system (`opd_system` token) only
the complaints assigned to the OPD its token names (claim `opd`).

Another OPD's complaint (or one not assigned yet) is answered as not found,
on reading and on working it alike (progress, response): an OPD learns
neither that the id exists nor the state it is in. A token of an OPD system
that names no OPD is refused (403) before anything is read."""

from __future__ import annotations

import uuid

import asyncpg

from mpp_complaints.store import queue
from mpp_complaints.store.complaints import COMPLAINT
from mpp_complaints.usecases.lifecycle import OFFICER_ROLES
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Forbidden

NO_OPD = (
    "opd_missing",
    "Token sistem OPD ini tidak menyebut OPD-nya (klaim opd); minta token baru yang "
    "menyebut OPD kepada admin",
    "This OPD system token does not name its OPD (claim opd); ask an admin for a token "
    "that names the OPD",
)
OTHER_OPD = (
    "other_opd",
    "Sistem OPD hanya dapat melihat pengaduan yang diteruskan ke OPD-nya sendiri",
    "An OPD system can list only the complaints assigned to its own OPD",
)


def opd_scope(principal: Principal) -> str | None:
    """None when the caller sees every complaint, else the one OPD whose
    complaints it sees; Forbidden for an OPD system naming no OPD."""
    if principal.has_any(OFFICER_ROLES):
        return None
    if Role.OPD_SYSTEM in principal.roles and principal.opd:
        return principal.opd
    raise Forbidden(*NO_OPD)


def scoped_opd(principal: Principal, asked: str | None) -> str | None:
    """The OPD filter a listing runs with: the caller's own OPD for an OPD
    system (Forbidden when it asks for another), else what was asked."""
    scope = opd_scope(principal)
    if scope is None:
        return asked
    if asked is not None and asked != scope:
        raise Forbidden(*OTHER_OPD)
    return scope


def refuse_unseen(principal: Principal, complaint_opd: str | None) -> None:
    """NotFound unless the caller may see a complaint assigned to `complaint_opd`."""
    scope = opd_scope(principal)
    if scope is not None and complaint_opd != scope:
        raise COMPLAINT.not_found()


async def lock_for(conn: asyncpg.Connection, complaint_id: uuid.UUID, principal: Principal) -> None:
    """Before an OPD works a complaint: lock it and answer NotFound unless it
    is the OPD's (checked before its state, which another OPD never learns)."""
    if opd_scope(principal) is None:
        return
    row = await queue.opd_of(conn, complaint_id, lock=True)
    if row is None:
        raise COMPLAINT.not_found()
    refuse_unseen(principal, row["opd"])
