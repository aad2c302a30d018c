"""`make run`: the whole system on the embedded default, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from mpp_shared.stack.stack import SERVICES, Stack

BANNER = """
MPP backend is running.
{lines}
  broker      {broker}
  database    {database}
  logs        {logs}/<service>.log

Development token:  make token ROLE=frontdesk   (roles: frontdesk verifier production pickup
                    complaint_officer supervisor admin opd_system)
Stop with Ctrl-C.
"""


def main() -> None:
    root = Path.cwd() / ".mpp"
    stack = Stack(workdir=root)
    stopping = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        print("starting PostgreSQL and the broker ...", flush=True)
        stack.start_servers()
        print("starting the services ...", flush=True)
        stack.start_services()
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
            ),
            flush=True,
        )
        while not stopping.wait(1.0):
            for name, proc in stack.services.items():
                if proc.process is not None and proc.process.poll() is not None:
                    print(
                        f"{name} exited ({proc.process.returncode}); see {proc.log_path}",
                        file=sys.stderr,
                    )
                    stopping.set()
    except Exception as exc:
        print(f"could not start: {exc}", file=sys.stderr)
        stack.stop()
        sys.exit(1)
    print("\nstopping ...", flush=True)
    stack.stop()
    print("stopped.")


if __name__ == "__main__":
    main()
