"""The end-of-case check of the fault suite: nothing lost, nothing twice.

``await check_invariants(stack, load, *, settle=60.0, expect_dead_lettered=0)
-> InvariantReport``
    Reads every service database (read-only) and the fake providers, retrying
    until everything holds or ``settle`` seconds pass; then raises
    AssertionError listing every violation:
    - every accepted application is verified and picked_up in intake, its
      timeline has each step once, and documents has exactly one job for it,
      picked_up;
    - one issued document per job, numbers unique, each series gapless 1..N,
      the job carries its document's number;
    - every citizen-facing event of a journey (from the producers' outboxes)
      has exactly one message in notify's delivery_log, delivered, and the SMS
      gateway got each message, never more often than the attempts notify
      claimed for it (a repeat under the same reference is the retry of an
      attempt whose answer was lost; more calls than attempts would be two
      senders at once); nothing was sent that the log does not know;
    - each consumer's inbox holds exactly the events of the types it handles
      (its service's handler map) that the producers' outboxes hold: none
      missing, none extra, none dead-lettered (unless ``expect_dead_lettered``);
    - no outbox row is left unpublished;
    - each webhook subscription has one live delivery per matching event,
      delivered, received by the OPD, never more often than attempted.
    The report counts what it checked (``applications``, ``jobs``,
    ``documents``, ``messages``, ``inbox``, ``sms_repeats``, ...) and
    ``settle_seconds``, the time until everything held.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

import mpp_shared.events.schemas  # noqa: F401  (registers the event types)
from mpp_shared.events.envelope import registered_types
from tests.faults.harness import FaultStack
from tests.faults.journeys import STEPS, Journey, JourneyLoad

TIMELINE = ("submitted", "verified", *STEPS)
PRODUCERS = ("intake", "documents", "complaints", "notify")
# Journeys' events, which notify tells citizens about and the OPD subscribed to.
JOURNEY_PRODUCERS = ("intake", "documents")
WEBHOOK_PREFIXES = ("mpp.application.", "mpp.document.")
SHOWN = 40  # violations listed in the failure message

Violation = Callable[[str], None]
Events = dict[str, list[asyncpg.Record]]  # producer -> its outbox rows


@dataclass
class InvariantReport:
    applications: int = 0
    jobs: int = 0
    documents: int = 0
    messages: int = 0
    sms_repeats: int = 0  # gateway calls repeated under one reference (lost answers)
    webhook_deliveries: int = 0
    webhook_repeats: int = 0
    inbox: dict[str, int] = field(default_factory=dict)
    settle_seconds: float = 0.0  # until every invariant held
    violations: list[str] = field(default_factory=list)


async def _fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction(readonly=True):
            return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def consumed_types() -> dict[str, set[str]]:
    """Per consuming service, the event types its consumer handles (and so
    records in its inbox), from the services' own handler maps."""
    from mpp_complaints.handlers import HANDLERS as complaints
    from mpp_documents.handlers import make_handlers
    from mpp_documents.settings import DocumentsSettings
    from mpp_intake.handlers import HANDLERS as intake
    from mpp_notify.handlers import CONSUMED_TOPICS

    notify = {t for t, model in registered_types().items() if model.topic in CONSUMED_TOPICS}
    return {
        "intake": set(intake),
        "documents": set(make_handlers(DocumentsSettings())),
        "complaints": set(complaints),
        "notify": notify,
    }


def _citizen_facing() -> set[str]:
    return {t for t, model in registered_types().items() if model.citizen_facing}


async def _check_intake(stack: FaultStack, ids: list[uuid.UUID], bad: Violation) -> None:
    """Every accepted application verified and picked up, each step once."""
    apps = {
        r["id"]: r
        for r in await _fetch(
            stack.dsn("intake"),
            "SELECT id, status, progress FROM applications WHERE id = ANY($1::uuid[])",
            ids,
        )
    }
    steps: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for r in await _fetch(
        stack.dsn("intake"),
        "SELECT application_id, step FROM application_timeline WHERE application_id = ANY($1::uuid[])",
        ids,
    ):
        steps[r["application_id"]][r["step"]] += 1
    for app_id in ids:
        row = apps.get(app_id)
        if row is None:
            bad(f"intake: accepted application {app_id} is missing")
            continue
        if (row["status"], row["progress"]) != ("verified", "picked_up"):
            bad(f"intake: application {app_id} is {row['status']}/{row['progress']}")
        wrong = {s: n for s, n in steps[app_id].items() if n != 1} | {
            s: 0 for s in TIMELINE if s not in steps[app_id]
        }
        if wrong:
            bad(f"intake: timeline of {app_id} has steps {wrong} (each once expected)")


async def _check_jobs(
    stack: FaultStack, ids: list[uuid.UUID], report: InvariantReport, bad: Violation
) -> list[asyncpg.Record]:
    """One job per verified application, in the state intake shows."""
    jobs = await _fetch(
        stack.dsn("documents"), "SELECT id, application_id, state, document_number FROM jobs"
    )
    report.jobs = len(jobs)
    verified_in_intake = {
        r["id"]
        for r in await _fetch(
            stack.dsn("intake"), "SELECT id FROM applications WHERE status = 'verified'"
        )
    }
    per_app = Counter(r["application_id"] for r in jobs)
    for app_id, n in per_app.items():
        if n != 1:
            bad(f"documents: {n} jobs for application {app_id}")
    for app_id in verified_in_intake - set(per_app):
        bad(f"documents: no job for verified application {app_id}")
    for app_id in set(per_app) - verified_in_intake:
        bad(f"documents: job for application {app_id} which intake does not show verified")
    job_of = {r["application_id"]: r for r in jobs}
    for app_id in ids:
        job = job_of.get(app_id)
        if job is not None and job["state"] != "picked_up":
            bad(f"documents: job of {app_id} is {job['state']} (intake and documents disagree)")
    return jobs


async def _check_issued(
    stack: FaultStack, jobs: list[asyncpg.Record], report: InvariantReport, bad: Violation
) -> None:
    """One numbered document per job, numbers unique, each series gapless."""
    issued = await _fetch(
        stack.dsn("documents"),
        "SELECT job_id, doc_type, office, year, seq, number FROM issued_documents",
    )
    report.documents = len(issued)
    for job_id, n in Counter(r["job_id"] for r in issued).items():
        if n != 1:
            bad(f"documents: {n} documents issued for job {job_id}")
    for number, n in Counter(r["number"] for r in issued).items():
        if n != 1:
            bad(f"documents: number {number} issued {n} times")
    series: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for r in issued:
        series[(r["doc_type"], r["office"], r["year"])].append(r["seq"])
    for key, seqs in series.items():
        if sorted(seqs) != list(range(1, len(seqs) + 1)):
            bad(f"documents: series {key} is not gapless 1..{len(seqs)}")
    number_of = {r["job_id"]: r["number"] for r in issued}
    for r in jobs:
        if r["state"] in ("produced", "ready_for_pickup", "picked_up"):
            if number_of.get(r["id"]) is None:
                bad(f"documents: job {r['id']} is {r['state']} without an issued document")
            elif r["document_number"] != number_of[r["id"]]:
                bad(f"documents: job {r['id']} carries {r['document_number']}, not its number")


async def _outbox_events(stack: FaultStack, bad: Violation) -> Events:
    """Events the producers wrote (the outbox keeps them for its retention
    window); every row published."""
    events: Events = {}
    for name in PRODUCERS:
        events[name] = await _fetch(
            stack.dsn(name),
            "SELECT event_id, topic, event_type, payload, published_at FROM outbox ORDER BY id",
        )
        unpublished = [r for r in events[name] if r["published_at"] is None]
        if unpublished:
            bad(f"{name}: {len(unpublished)} outbox rows not published")
    return events


def _journey_events(
    events: Events, accepted: dict[uuid.UUID, Journey]
) -> dict[uuid.UUID, tuple[str, uuid.UUID]]:
    """Citizen-facing events of the load's journeys: event id -> (type, application)."""
    facing = _citizen_facing()
    found: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
    for name in JOURNEY_PRODUCERS:
        for r in events[name]:
            if r["event_type"] not in facing:
                continue
            data = json.loads(r["payload"]).get("data") or {}
            named = data.get("application_id")
            if named and uuid.UUID(str(named)) in accepted:
                found[r["event_id"]] = (r["event_type"], uuid.UUID(str(named)))
    return found


async def _check_messages(
    stack: FaultStack,
    accepted: dict[uuid.UUID, Journey],
    events: Events,
    report: InvariantReport,
    bad: Violation,
) -> None:
    """One message per citizen-facing event of a journey, delivered."""
    log_rows = await _fetch(
        stack.dsn("notify"),
        "SELECT id, source_event_id, source_event_type, channel, status, application_id, attempts "
        "FROM delivery_log WHERE application_id = ANY($1::uuid[])",
        list(accepted),
    )
    report.messages = len(log_rows)
    per_event = Counter(r["source_event_id"] for r in log_rows)
    for event_id, (event_type, app_id) in _journey_events(events, accepted).items():
        if per_event.get(event_id, 0) != 1:
            bad(f"notify: {per_event.get(event_id, 0)} messages for {event_type} of {app_id}")
    per_type = Counter((r["application_id"], r["source_event_type"]) for r in log_rows)
    for (app_id, event_type), n in per_type.items():
        if n != 1:
            bad(f"notify: {n} messages for {event_type} of {app_id}")
    for r in log_rows:
        if r["status"] != "delivered":
            bad(f"notify: message {r['id']} ({r['source_event_type']}) is {r['status']}")
    await _check_gateway(stack, log_rows, report, bad)


async def _check_gateway(
    stack: FaultStack, log_rows: list[asyncpg.Record], report: InvariantReport, bad: Violation
) -> None:
    """The SMS gateway got each message, never more often than attempted,
    and nothing notify's log does not know."""
    assert stack.providers is not None
    requests, delivered = stack.providers.sms_snapshot()
    for r in log_rows:
        ref = str(r["id"])
        if r["channel"] != "sms":
            continue
        calls = requests.get(ref, 0)
        if calls == 0 and r["status"] == "delivered":
            bad(f"notify: message {ref} marked delivered, never reached the gateway")
        report.sms_repeats += max(0, calls - 1)
        # A repeat is a retry of an attempt whose answer was lost (claimed,
        # counted, then a timeout or a dead dispatcher); never more calls
        # than claimed attempts, which would be two senders at once.
        if calls > r["attempts"]:
            bad(f"notify: message {ref} sent {calls} times in {r['attempts']} attempts")
    all_refs = {
        str(r["id"]) for r in await _fetch(stack.dsn("notify"), "SELECT id FROM delivery_log")
    }
    for ref in delivered:
        if ref not in all_refs:
            bad(f"gateway: message {ref} was sent but notify's log does not know it")


async def _check_inboxes(
    stack: FaultStack,
    events: Events,
    expect_dead_lettered: int,
    report: InvariantReport,
    bad: Violation,
) -> None:
    """The inbox holds exactly the events each consumer handles, none parked."""
    dead = 0
    for name, types in consumed_types().items():
        inbox = await _fetch(stack.dsn(name), "SELECT event_id, outcome FROM inbox")
        report.inbox[name] = len(inbox)
        dead += sum(1 for r in inbox if r["outcome"] == "dead_lettered")
        have = {r["event_id"] for r in inbox if r["outcome"] != "dead_lettered"}
        due = {r["event_id"]: r for p in PRODUCERS for r in events[p] if r["event_type"] in types}
        for event_id in due.keys() - have:
            bad(f"{name}: event {due[event_id]['event_type']} {event_id} never handled")
        for event_id in have - due.keys():
            bad(f"{name}: handled event {event_id}, which no producer wrote for it")
    if dead != expect_dead_lettered:
        bad(f"consumers: {dead} events dead-lettered, {expect_dead_lettered} expected")


async def _check_webhooks(
    stack: FaultStack, events: Events, report: InvariantReport, bad: Violation
) -> None:
    """One live delivery per (subscription, matching event), received."""
    assert stack.subscription_id is not None and stack.providers is not None
    # Read before the deliveries: a count is then never ahead of its attempts.
    hooks = stack.providers.opd.snapshot()
    deliveries = await _fetch(
        stack.dsn("notify"),
        "SELECT id, event_id, status, attempts FROM webhook_deliveries "
        "WHERE subscription_id = $1 AND NOT replay",
        uuid.UUID(stack.subscription_id),
    )
    report.webhook_deliveries = len(deliveries)
    for event_id, n in Counter(r["event_id"] for r in deliveries).items():
        if n != 1:
            bad(f"webhooks: {n} live deliveries of event {event_id}")
    matching = {
        r["event_id"]
        for name in JOURNEY_PRODUCERS
        for r in events[name]
        if r["event_type"].startswith(WEBHOOK_PREFIXES)
    }
    for event_id in matching - {r["event_id"] for r in deliveries}:
        bad(f"webhooks: no delivery of event {event_id}")
    received = Counter[str]()
    for (_delivery_id, hooked), n in hooks.items():
        received[hooked] += n
    for r in deliveries:
        n = received.get(str(r["event_id"]), 0)
        if r["status"] != "delivered":
            bad(f"webhooks: delivery {r['id']} is {r['status']}")
        elif n == 0:
            bad(f"webhooks: delivery {r['id']} delivered but never received")
        report.webhook_repeats += max(0, n - 1)
        if n > r["attempts"]:
            bad(f"webhooks: event {r['event_id']} received {n} times in {r['attempts']} attempts")


async def _check_once(
    stack: FaultStack, load: JourneyLoad, expect_dead_lettered: int
) -> InvariantReport:
    report = InvariantReport()
    bad = report.violations.append
    accepted = {uuid.UUID(a): j for a, j in load.accepted.items()}
    ids = list(accepted)
    report.applications = len(ids)
    await _check_intake(stack, ids, bad)
    jobs = await _check_jobs(stack, ids, report, bad)
    await _check_issued(stack, jobs, report, bad)
    events = await _outbox_events(stack, bad)
    await _check_messages(stack, accepted, events, report, bad)
    await _check_inboxes(stack, events, expect_dead_lettered, report, bad)
    if stack.subscription_id is not None:
        await _check_webhooks(stack, events, report, bad)
    return report


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def _listing(violations: list[str]) -> str:
    """The violations counted by kind (ids and numbers blanked), then the first ones."""
    kinds = Counter(_NUMBER.sub("<n>", _ID.sub("<id>", v)) for v in violations)
    summary = "\n  ".join(f"{n} x {kind}" for kind, n in kinds.most_common(15))
    shown = "\n  ".join(violations[:SHOWN])
    more = len(violations) - SHOWN
    return (
        f"{len(violations)} invariant violations, by kind:\n  {summary}\n"
        f"first ones:\n  {shown}" + (f"\n  ... and {more} more" if more > 0 else "")
    )


async def check_invariants(
    stack: FaultStack,
    load: JourneyLoad,
    *,
    settle: float = 60.0,
    expect_dead_lettered: int = 0,
) -> InvariantReport:
    """Every invariant of the module docstring; AssertionError listing each violation."""
    started = time.monotonic()
    while True:
        report = await _check_once(stack, load, expect_dead_lettered)
        report.settle_seconds = time.monotonic() - started
        if not report.violations or report.settle_seconds > settle:
            break
        await asyncio.sleep(1.0)
    if load.unexpected:
        report.violations.extend(f"load: unexpected answer {u}" for u in load.unexpected[:20])
    if report.violations:
        raise AssertionError(_listing(report.violations))
    return report
