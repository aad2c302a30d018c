"""What the documents routes depend on: the service's settings, its public
pages, and the officers each resource admits (admin always)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mpp_documents.settings import DocumentsSettings
from mpp_shared.auth import Principal, Role
from mpp_shared.web.auth import require_roles


async def get_settings(request: Request) -> DocumentsSettings:
    settings: DocumentsSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[DocumentsSettings, Depends(get_settings)]


async def public_documents_url(request: Request) -> str:
    """Where this service's public pages are reached from outside (setting
    PUBLIC_DOCUMENTS_URL); empty, so a path on this service, for an app built
    around a router alone without the service's settings."""
    return str(getattr(request.app.state.settings, "public_documents_url", ""))


PublicDocumentsUrl = Annotated[str, Depends(public_documents_url)]


# The production and pickup desks and their supervisors: the jobs, the
# pickup board, the backlog.
Staff = Annotated[Principal, Depends(require_roles(Role.PRODUCTION, Role.PICKUP, Role.SUPERVISOR))]
# Supervisors: revocations and the SLA report.
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
