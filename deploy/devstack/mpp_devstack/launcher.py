"""`make run`: the whole system on the embedded default, until Ctrl-C.

A service that dies is started again (mpp_devstack.supervisor); the others go
on serving. Options (the defaults are what `make run` uses):

  --workdir DIR   data, logs and the trace viewer's files (default ./.mpp)
  --free-ports    any free ports instead of 8001-8004 and 9092 (tests)
  --traces        start the trace viewer and send every span to it
  --no-phone      no development phone: notify's SMS and WhatsApp settings come
                  from the environment (without them messages are only recorded)
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

from mpp_devstack.phone import DevelopmentPhone
from mpp_devstack.stack import SERVICES, Stack
from mpp_devstack.supervisor import Supervisor

BANNER = """
MPP backend is running.
{lines}
  broker      {broker}
  database    {database}
  logs        {logs}/<service>.log
  metrics     <service URL>/metrics{traces}

Citizens' pages (open in a browser):
  {intake}/services            services and their requirements
  {intake}/track               tracking by the code on a receipt
  {documents}/verify           checking a document's verification code
  {documents}/board/MPP        the pickup board of a waiting room
  {complaints}/complaints/new  the complaint form
  {intake}/online              applying online (sign-in code by SMS or WhatsApp){phone}

Development token:  make token ROLE=frontdesk   (roles: frontdesk verifier production pickup
                    complaint_officer supervisor admin opd_system)
A service that stops is started again. Stop everything with Ctrl-C.
"""

PHONE_LINES = """
  {phone}/                    the development phone: the SMS and WhatsApp
                                            messages notify sent (sign-in codes too);
                                            talk to the WhatsApp assistant there"""


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path.cwd() / ".mpp")
    parser.add_argument("--free-ports", action="store_true")
    parser.add_argument("--traces", action="store_true")
    parser.add_argument("--no-phone", dest="phone", action="store_false")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    root: Path = options.workdir.resolve()
    stack = Stack(workdir=root, fixed_ports=not options.free_ports)
    stopping = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    viewer = None
    phone = None
    try:
        if options.traces:
            from mpp_devstack.traces import TraceViewer

            print("starting the trace viewer ...", flush=True)
            viewer = TraceViewer(root / "traces", fixed_port=not options.free_ports)
            viewer.start()
            stack.extra_env.update(viewer.service_env())
        if options.phone:
            phone = DevelopmentPhone(fixed_port=not options.free_ports)
            phone.start()
            stack.extra_env.update(phone.service_env())
        print("starting PostgreSQL and the broker ...", flush=True)
        stack.start_servers()
        print("starting the services ...", flush=True)
        stack.start_services()
        if phone is not None:
            phone.connect(stack.services["notify"].url)
    except Exception as exc:
        print(f"could not start: {exc}", flush=True)
        stack.stop()
        if viewer is not None:
            viewer.stop()
        if phone is not None:
            phone.stop()
        return 1
    lines = "\n".join(
        f"  {name:<11} {stack.services[name].url}   API docs: {stack.services[name].url}/docs"
        for name in SERVICES
    )
    print(
        BANNER.format(
            lines=lines,
            broker=stack.kafka_bootstrap,
            database=stack.database_url,
            logs=root / "logs",
            traces=f"\n  traces      {viewer.url}" if viewer is not None else "",
            intake=stack.services["intake"].url,
            documents=stack.services["documents"].url,
            complaints=stack.services["complaints"].url,
            phone=PHONE_LINES.format(phone=phone.url) if phone is not None else "",
        ),
        flush=True,
    )
    supervisor = Supervisor(stack.services, say=lambda line: print(line, flush=True))
    while not stopping.wait(0.5):
        supervisor.tick()
    print("\nstopping ...", flush=True)
    stack.stop()
    if viewer is not None:
        viewer.stop()
    if phone is not None:
        phone.stop()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
