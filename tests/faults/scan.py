"""The personal-data scan of a fault run: what the faults left behind (every
log line of the services, every span they exported, every record still on
the broker's topics) holds no clear NIK, phone number or e-mail address.
Each fault module's stack is scanned when the module ends."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

from aiokafka import AIOKafkaConsumer

from tests.faults.harness import FaultStack
from tests.privacy import Finding, PersonalDataDetector, exported_spans, office_mailboxes


def assert_no_clear_personal_data(stack: FaultStack) -> None:
    """Scan `stack` (on a loop of its own: callable from sync or async code)."""
    with ThreadPoolExecutor(1) as pool:
        scanned, findings = pool.submit(asyncio.run, _scan(stack)).result()
    assert all(scanned.values()), f"nothing to scan of some kind: {scanned}"
    assert not findings, "clear personal data in the fault run:\n" + "\n".join(
        str(f) for f in findings[:20]
    )
    print(f"\npersonal-data scan of {stack.workdir.name}: {scanned}, nothing found")


async def _scan(stack: FaultStack) -> tuple[dict[str, int], list[Finding]]:
    detector = PersonalDataDetector(allowed_emails=office_mailboxes())
    findings: list[Finding] = []
    scanned = {"log lines": 0, "spans": 0, "records": 0}
    for log in sorted((stack.workdir / "logs").glob("*.log")):
        for n, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            scanned["log lines"] += 1
            findings.extend(detector.scan_log_line(line, f"{log.name}:{n}"))
    assert stack.providers is not None
    for span in exported_spans(stack.providers.server):
        scanned["spans"] += 1
        findings.extend(detector.scan_span(span))
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
