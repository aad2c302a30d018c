"""Database spans: one per transaction, not one per statement.

Every service connection is a `TracedConnection` (`mpp_shared.db`). While
tracing is on (`enable()`, called by `mpp_shared.telemetry.setup_telemetry`):

- a transaction (`conn.transaction()`) is one span, `TRANSACTION <database>`,
  from BEGIN to COMMIT or ROLLBACK. Its `db.statement` lists the statements it
  ran, in order (whitespace folded, cut at `STATEMENTS_TEXT_LIMIT`
  characters), and `db.statement.count` how many; a failed statement marks
  the span as an error with the statement's SQLSTATE;
- a statement outside any transaction is a span of its own, named by its
  first word (`SELECT`, `INSERT` ...);
- a statement inside a transaction that took at least `slow_statement_ms`
  (`DB_SLOW_STATEMENT_MS`, default 50) also gets a child span of its own, so
  a slow transaction shows which statement made it slow.

- database work outside any span (the idle polls of the outbox relay and
  of the schedulers) is not traced: it would only make one-span traces that
  belong to no journey. Work worth following starts a span first (a request,
  a consumed event, a fired timer, a message sent, an event published);
- `statements_on(span)` puts the statements of a stretch of a longer
  transaction on a span of the caller's (the consumer's span of each event
  handled in a batch transaction).

The statements are seen through asyncpg's query loggers, called just after
each statement in the context of the code that ran it. Errors are told by
class and SQLSTATE only: a server message can repeat the values of a row,
which may be a citizen's personal data.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

STATEMENTS_TEXT_LIMIT = 4096

tracer = trace.get_tracer("mpp.db")

_enabled = False
_slow_ns = 50 * 1_000_000


def enable(slow_statement_ms: float | None = None) -> None:
    """Trace the database work of every `TracedConnection` from now on."""
    global _enabled, _slow_ns
    if slow_statement_ms is None:
        slow_statement_ms = float(os.environ.get("DB_SLOW_STATEMENT_MS", "50"))
    _slow_ns = int(slow_statement_ms * 1_000_000)
    _enabled = True


def disable() -> None:
    global _enabled
    _enabled = False


def enabled() -> bool:
    return _enabled


class _Work:
    """What one traced transaction has run so far."""

    __slots__ = ("closed", "count", "length", "span", "statements")

    def __init__(self, span: Span) -> None:
        self.span = span
        self.statements: list[str] = []
        self.count = 0
        self.length = 0
        self.closed = False


_current: contextvars.ContextVar[_Work | None] = contextvars.ContextVar(
    "mpp_db_transaction", default=None
)

_SPACES = re.compile(r"\s+")
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@lru_cache(maxsize=1024)
def _folded(query: str) -> str:
    return _SPACES.sub(" ", query).strip()


_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")


@lru_cache(maxsize=1024)
def _operation(query: str) -> str:
    word = _FIRST_WORD.match(query)
    return word.group(1).upper() if word else "SQL"


def _base_attributes(conn: Any) -> dict[str, Any]:
    params = getattr(conn, "_params", None)
    addr = getattr(conn, "_addr", None)
    attributes: dict[str, Any] = {"db.system": "postgresql"}
    if params is not None:
        attributes["db.name"] = params.database
        attributes["db.user"] = params.user
    if isinstance(addr, tuple) and len(addr) >= 2:
        attributes["net.peer.name"] = str(addr[0])
        attributes["net.peer.port"] = addr[1]
    return attributes


def _error_attributes(exc: BaseException) -> dict[str, Any]:
    attributes: dict[str, Any] = {"error.type": type(exc).__qualname__}
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate:
        attributes["db.response.status_code"] = sqlstate
    return attributes


def _statement_span(record: Any, parent: Span | None, attributes: dict[str, Any]) -> None:
    """A span for one statement that has already run (`record` is asyncpg's
    LoggedQuery), ending now and starting `elapsed` before."""
    end = time.time_ns()
    start = end - int(record.elapsed * 1e9)
    ctx = trace.set_span_in_context(parent) if parent is not None else None
    span = tracer.start_span(
        _operation(record.query),
        context=ctx,
        kind=SpanKind.CLIENT,
        attributes={**attributes, "db.statement": _folded(record.query)},
        start_time=start,
    )
    if record.exception is not None:
        span.set_attributes(_error_attributes(record.exception))
        span.set_status(Status(StatusCode.ERROR, type(record.exception).__qualname__))
    span.end(end_time=end)


def log_statement(record: Any) -> None:
    """asyncpg query logger: note the statement on its transaction's span,
    or give it a span of its own."""
    if not _enabled:
        return
    work = _current.get()
    if work is None or work.closed:
        if _operation(record.query) in _CONTROL or not _in_span():
            return
        attributes = {"db.system": "postgresql"}
        params = record.conn_params
        if params is not None:
            attributes["db.name"] = params.database
            attributes["db.user"] = params.user
        _statement_span(record, None, attributes)
        return
    query = record.query
    if _operation(query) in _CONTROL:
        return
    work.count += 1
    if work.length < STATEMENTS_TEXT_LIMIT:
        text = _folded(query)
        work.statements.append(text)
        work.length += len(text) + 2
    if record.exception is not None:
        work.span.set_attributes(_error_attributes(record.exception))
    if record.elapsed * 1e9 >= _slow_ns:
        _statement_span(record, work.span, {"db.system": "postgresql"})


def _in_span() -> bool:
    return trace.get_current_span().get_span_context().is_valid


def _annotate(span: Span, work: _Work) -> None:
    span.set_attribute("db.statement", "; ".join(work.statements)[:STATEMENTS_TEXT_LIMIT])
    span.set_attribute("db.statement.count", work.count)


@asynccontextmanager
async def statements_on(span: Span) -> AsyncIterator[None]:
    """The statements run inside go on `span` (the caller's, which it ends
    itself), even within a transaction traced as a whole."""
    if not _enabled:
        yield
        return
    work = _Work(span)
    token = _current.set(work)
    try:
        yield
    finally:
        # The last statement's logger call is queued behind this task's step.
        await asyncio.sleep(0)
        work.closed = True
        _current.reset(token)
        if work.count:
            _annotate(span, work)


class TracedTransaction(Transaction):
    """A transaction that is one span while tracing is on."""

    __slots__ = ("_ctx_token", "_token", "_work")

    async def __aenter__(self) -> Any:
        self._work = None
        if _enabled and _current.get() is None and _in_span():
            attributes = _base_attributes(self._connection)
            span = tracer.start_span(
                f"TRANSACTION {attributes.get('db.name', '')}".rstrip(),
                kind=SpanKind.CLIENT,
                attributes=attributes,
            )
            self._work = _Work(span)
            self._token = _current.set(self._work)
            # Spans started inside (a slow statement's) have this one as parent.
            self._ctx_token = otel_context.attach(trace.set_span_in_context(span))
        try:
            return await super().__aenter__()
        except BaseException as exc:
            self._finish(exc)
            raise

    async def __aexit__(self, extype: Any, ex: Any, tb: Any) -> Any:
        try:
            return await super().__aexit__(extype, ex, tb)
        except BaseException as exc:
            self._finish(exc)
            raise
        finally:
            self._finish(ex)

    def _finish(self, exc: BaseException | None) -> None:
        work = self._work
        if work is None:
            return
        self._work = None
        work.closed = True
        otel_context.detach(self._ctx_token)
        _current.reset(self._token)
        span = work.span
        _annotate(span, work)
        if exc is not None:
            span.set_attributes(_error_attributes(exc))
            span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
        span.end()


class TracedConnection(asyncpg.Connection):
    """An asyncpg connection whose transactions are traced (`TracedTransaction`)
    and whose statements are seen by `log_statement`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_query_logger(log_statement)

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Transaction:
        self._check_open()
        return TracedTransaction(self, isolation, readonly, deferrable)
