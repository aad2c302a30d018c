"""Fixtures of the fault-injection suite: one FaultStack per test module (its
own PostgreSQL, broker and services, never the session's servers), healed by
each case before it ends."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from tests.faults.harness import FaultStack
from tests.privacy import Finding, PersonalDataDetector, office_mailboxes


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    stack = FaultStack(tmp_path_factory.mktemp("faults"))
    try:
        stack.start()
        yield stack
        # What the faults left behind is scanned too: every log line of the
        # services and every record still on the broker's topics.
        with ThreadPoolExecutor(1) as pool:
            scanned, findings = pool.submit(asyncio.run, _scan(stack)).result()
        assert scanned["log lines"] > 0 and scanned["records"] > 0, scanned
        assert not findings, "clear personal data in the fault run:\n" + "\n".join(
            str(f) for f in findings[:20]
        )
    finally:
        stack.stop()


async def _scan(stack: FaultStack) -> tuple[dict[str, int], list[Finding]]:
    detector = PersonalDataDetector(allowed_emails=office_mailboxes())
    findings: list[Finding] = []
    scanned = {"log lines": 0, "records": 0}
    for log in sorted((stack.workdir / "logs").glob("*.log")):
        for n, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            scanned["log lines"] += 1
            findings.extend(detector.scan_log_line(line, f"{log.name}:{n}"))
    assert stack.stack is not None and stack.stack.kafka_bootstrap
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.stack.kafka_bootstrap,
        group_id=f"privacy-scan-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith("mpp."))
        consumer.subscribe(topics)
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=1000)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for r in records:
                    scanned["records"] += 1
                    findings.extend(
                        detector.scan_event(
                            r.value, f"{r.topic}@{r.offset}", key=r.key, headers=r.headers
                        )
                    )
    finally:
        await consumer.stop()
    return scanned, findings


@pytest.fixture
async def healthy_stack(fault_stack: FaultStack) -> AsyncIterator[FaultStack]:
    """The module's FaultStack, healed after the case whatever it left broken."""
    await fault_stack.heal()
    yield fault_stack
    await fault_stack.heal()


@pytest.fixture
def figures(request: pytest.FixtureRequest, fault_stack: FaultStack) -> Iterator[dict[str, Any]]:
    """What a case measured; printed and appended to <stack workdir>/figures.jsonl."""
    found: dict[str, Any] = {}
    yield found
    if found:
        line = json.dumps({"case": request.node.name, **found}, default=str)
        print(f"\nfigures: {line}")
        with (fault_stack.workdir / "figures.jsonl").open("a") as out:
            out.write(line + "\n")
