"""``python -m leads_local`` (what ``make run`` starts): the whole product on one machine, in the foreground.

Environment: ``PORT`` (HTTP, 3000), ``AWS_PORT`` (local AWS endpoint, 4566), ``LOCAL_FAULTS``,
``LOCAL_FAULTS_SEED``, ``LOCAL_SCHEDULE_SECONDS``, ``LOCAL_SUBMIT_WORKERS`` (submissions served at once, 4)
and the function settings of contract section 2.6. Ctrl-C or SIGTERM stops it and every process it started
(exit 0).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from leads_local.faults import FaultSpecError
from leads_local.inbox import DeliveredAlert, console_line
from leads_local.stack import DEFAULT_SUBMIT_WORKERS, LocalStack, LocalStackError


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise LocalStackError(f"{name}: must be a TCP port number (1-65535)")
    return int(raw)


def _seed() -> int | None:
    raw = os.environ.get("LOCAL_FAULTS_SEED", "").strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit():
        raise LocalStackError("LOCAL_FAULTS_SEED: must be an integer")
    return int(raw)


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise LocalStackError(f"{name}: must be a number of seconds from 0 (off) to 3600")
    return value


def _workers(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise LocalStackError(f"{name}: must be a number of worker processes from 1 to 64")
    return int(raw)


def _say(line: str) -> None:
    print(line, flush=True)


def banner(stack: LocalStack) -> list[str]:
    resources = stack.resources
    assert resources is not None
    aws_port_env = "" if stack.aws_port == 4566 else f"AWS_PORT={stack.aws_port} "
    lines = [
        f"local AWS endpoint: {stack.aws_endpoint} (moto, region us-east-1, any credentials; memory only)",
        f"  functions: each in its own processes; up to {stack.submit.max_workers} submissions at once",
        f"  table {resources.table_name}, topic {resources.topic_arn}",
        f"  on-failure queue {resources.alert_failures_queue_url}",
        f"  aws --endpoint-url {stack.aws_endpoint} dynamodb scan --table-name {resources.table_name}",
        f"  {aws_port_env}leads --local list",
        f"demo page:   {stack.base_url}/",
        f"staff inbox: {stack.base_url}/_local/inbox   (JSON: {stack.base_url}/_local/alerts)",
    ]
    staff_line = stack.staff_console_line()
    if staff_line:
        lines.append(staff_line)
    if stack.faults.rules:
        lines.append("LOCAL_FAULTS: " + ", ".join(str(rule) for rule in stack.faults.rules))
    lines.append(f"ready: {stack.base_url}")
    return lines


def main() -> int:
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    def announce(alert: DeliveredAlert) -> None:
        _say(console_line(alert))

    try:
        stack = LocalStack(
            port=_port("PORT", 3000),
            aws_port=_port("AWS_PORT", 4566),
            faults=os.environ.get("LOCAL_FAULTS", ""),
            faults_seed=_seed(),
            schedule_seconds=_seconds("LOCAL_SCHEDULE_SECONDS", 10.0),
            sweep_seconds=_seconds("LOCAL_SWEEP_SECONDS", 10.0),
            submit_workers=_workers("LOCAL_SUBMIT_WORKERS", DEFAULT_SUBMIT_WORKERS),
            log=lambda line: print(line, file=sys.stderr, flush=True),
            on_alert=announce,
        )
        stack.start()
    except (LocalStackError, FaultSpecError) as exc:
        print(f"leads_local: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        for line in banner(stack):
            _say(line)
        while not stop.wait(0.5):
            pass
        _say("stopping...")
    finally:
        stack.stop()
    _say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
