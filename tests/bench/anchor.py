"""The benchmark's anchor: the least a counter POST can cost on this machine.

A minimal FastAPI + asyncpg endpoint, `POST /v1/applications`, validating the
same body as intake (pydantic; a NIK of 16 digits, a name, a phone, the
papers handed in) and writing an application row and an outbox row in one
transaction; nothing else (no catalog, no rules, no audit, no relay). Traced
the way the services trace (the FastAPI instrumentation and one span per
database transaction, `mpp_shared.dbtrace`; every span created, none
exported) unless `ANCHOR_TRACED=false`.

    python -m tests.bench.anchor PORT DATABASE_URL

`tests.bench.run` starts it beside the stack, on the stack's PostgreSQL, and
drives it with the same load generator; the services' figures are printed as
a ratio of the anchor's.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field, StringConstraints

from mpp_shared import dbtrace
from mpp_shared.dbtrace import TracedConnection

SCHEMA = """
CREATE TABLE IF NOT EXISTS anchor_applications (
    id uuid PRIMARY KEY, nik text NOT NULL, full_name text NOT NULL, phone text,
    service_code text NOT NULL, channel text NOT NULL, pickup_point text,
    documents text[] NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS anchor_outbox (
    id bigserial PRIMARY KEY, key text NOT NULL, payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
INSERT_APPLICATION = """
INSERT INTO anchor_applications (id, nik, full_name, phone, service_code, channel,
    pickup_point, documents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
INSERT_OUTBOX = "INSERT INTO anchor_outbox (key, payload) VALUES ($1, $2::jsonb)"


class ApplicationCreate(BaseModel):
    service_code: Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,40}$")]
    nik: Annotated[str, StringConstraints(pattern=r"^\d{16}$")]
    full_name: Annotated[str, StringConstraints(min_length=2, max_length=120)]
    phone: Annotated[str | None, StringConstraints(pattern=r"^\+?\d{9,15}$")] = None
    channel: Annotated[str, StringConstraints(max_length=20)]
    pickup_point: Annotated[str | None, StringConstraints(max_length=40)] = None
    documents: list[str] = Field(default_factory=list, max_length=20)


def create_app(database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            database_url, min_size=2, max_size=10, connection_class=TracedConnection
        )
        assert pool is not None
        await pool.execute(SCHEMA)
        app.state.pool = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/applications", status_code=201)
    async def submit(body: ApplicationCreate, request: Request) -> dict[str, Any]:
        application_id = uuid.uuid4()
        event = {"type": "anchor.application.submitted", "id": str(application_id)}
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                INSERT_APPLICATION,
                application_id,
                body.nik,
                body.full_name,
                body.phone,
                body.service_code,
                body.channel,
                body.pickup_point,
                body.documents,
            )
            await conn.execute(INSERT_OUTBOX, str(application_id), json.dumps(event))
        return {"id": str(application_id), "status": "submitted"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str]) -> None:
    port, database_url = int(argv[0]), argv[1]
    app = create_app(database_url)
    if os.environ.get("ANCHOR_TRACED", "true").lower() != "false":
        from opentelemetry import trace
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.trace import TracerProvider

        trace.set_tracer_provider(TracerProvider())
        dbtrace.enable()
        FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
