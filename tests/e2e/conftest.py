"""The running system for end-to-end tests: the four services as real
processes on the test servers, the district's providers and an OTLP
collector faked on loopback (tests.support.providers), and an outside reader
of the topics (like another OPD's system)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from mpp_devstack.stack import Stack
from tests.conftest import Servers
from tests.support.clock import ServiceClock
from tests.support.http import LIVE
from tests.support.oidc import Provider as OidcProvider
from tests.support.opd import OutsideReader
from tests.support.otlp import OtlpReceiver
from tests.support.providers import Providers


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    found = Providers.start(mail=True)
    yield found
    found.stop()


@pytest.fixture(scope="session")
def otlp(providers: Providers) -> OtlpReceiver:
    """The collector the services export their spans to."""
    return providers.otlp


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """The district's identity provider (JWKS on loopback): the stack accepts
    its tokens beside the HS256 development ones (MPP_ENV is not production)."""
    found = OidcProvider.start()
    yield found
    found.stop()


@pytest.fixture(scope="session")
def service_clock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceClock]:
    """The clock of every service of the stack (and of this process): tests
    move it forward instead of editing timer rows."""
    found = ServiceClock(tmp_path_factory.mktemp("clock") / "offset")
    yield found
    found.close()


@pytest.fixture(scope="session")
def stack(
    servers: Servers,
    providers: Providers,
    service_clock: ServiceClock,
    oidc_provider: OidcProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    env = {
        "CLOCK_FILE": str(service_clock.path),
        # Schedulers look again within a second after the clock moved.
        "SLA_SCHEDULER_INTERVAL": "1",
        "COMPLAINT_SCHEDULER_INTERVAL": "1",
        "POPULATION_SCHEDULER_INTERVAL": "1",
        # The kecamatan supervisor who hears of Pare's reports not followed up.
        "KECAMATAN_SUPERVISOR_EMAILS": '{"350617": "camat.pare@kedirikab.go.id"}',
        "OUTBOX_POLL_INTERVAL": "0.2",
        # Gauges read from the databases follow within a second.
        "METRICS_REFRESH_INTERVAL": "1",
        **providers.env(),
        # Fast retries; quiet hours off (the quiet-hours test turns them on).
        "DELIVERY_POLL_INTERVAL": "0.2",
        "DELIVERY_BACKOFF_BASE": "0.4",
        "WEBHOOK_POLL_INTERVAL": "0.2",
        "WEBHOOK_BACKOFF_BASE": "0.4",
        "WEBHOOK_DISABLE_AFTER": "3",
        "QUIET_HOURS_START": "00:00",
        "QUIET_HOURS_END": "00:00",
        # Officers may also sign in at the identity provider (audience mpp-<service>).
        **oidc_provider.settings_env(),
    }
    if servers.broker is not None:
        env["CONSUMER_REBALANCE_TIMEOUT_MS"] = "2000"
    running = Stack(
        workdir=Path(tmp_path_factory.mktemp("stack")),
        fixed_ports=False,
        database_url=servers.dsn,
        kafka_bootstrap=servers.bootstrap,
        db_prefix=f"e2e_{uuid.uuid4().hex[:6]}_",
        extra_env=env,
    )
    try:
        running.start_services()
        # Meta calls notify's webhook back with each message's status.
        providers.whatsapp_webhook = f"{running.services['notify'].url}/v1/whatsapp/webhook"
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10, limits=LIVE) as client:
        yield client


@pytest.fixture(scope="session")
async def opd_reader(stack: Stack, servers: Servers) -> AsyncIterator[OutsideReader]:
    async with OutsideReader.reading(servers.bootstrap, group_prefix="opd-dukcapil") as reader:
        yield reader
