"""Intake's one domain error that becomes an HTTP answer at the edge: an
uploaded outreach file refused as a whole (`UploadRefused`), whose status
(422, or 413 for too many rows) no refusal kind carries. It answers in the
shape of every other refusal."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mpp_intake.domain.outreach import UploadRefused
from mpp_shared.web import ApiError, refusal_response, request_language


async def _upload_refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UploadRefused)
    refusal = ApiError(
        exc.status_code,
        exc.code,
        f"Berkas ditolak: {exc.message_id}",
        f"The file was refused: {exc.message_en}",
    )
    return refusal_response(refusal, request_language(request))


def install_intake_errors(app: FastAPI) -> None:
    app.add_exception_handler(UploadRefused, _upload_refused)
