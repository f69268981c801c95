"""Run the template's scheduled functions the way EventBridge would, on a local timer.

Every ``AWS::Serverless::Function`` with a ``Schedule`` or ``ScheduleV2`` event in ``template.yaml`` is
found by ``leads_local.template.scheduled_functions()`` and invoked here with an EventBridge "Scheduled
Event", one invocation at a time, every ``every_seconds`` (``LOCAL_SCHEDULE_SECONDS``, default 10; 0 turns
the timer off). A deployed schedule (e.g. ``rate(1 minute)``) fires less often: locally a shorter period
keeps the demo and the tests quick. A failing invocation is logged (type and frames only: an exception's
message may quote data) and the timer goes on, as EventBridge would invoke again at the next tick.
"""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leads_local.apigw import ACCOUNT_ID, REGION, LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


def scheduled_event(rule_arn: str, now: datetime | None = None) -> dict[str, Any]:
    """The event EventBridge sends a function for a scheduled rule."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class ScheduledJob:
    """One scheduled function: its name, how to load its handler, and what the last runs did."""

    logical_id: str
    function_name: str
    load_handler: Callable[[], Handler]
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 512
    runs: int = 0
    errors: int = 0
    last_result: Any = field(default=None, repr=False)

    @property
    def rule_arn(self) -> str:
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{self.function_name}-schedule"

    def run_once(self, log: Callable[[str], None]) -> Any:
        """Invoke the function once with a scheduled event; errors are logged, counted and swallowed."""
        context = LambdaContext(
            function_name=self.function_name,
            memory_limit_in_mb=self.memory_limit_in_mb,
            timeout_seconds=self.timeout_seconds,
        )
        self.runs += 1
        try:
            handler = self.load_handler()
            self.last_result = handler(scheduled_event(self.rule_arn), context)
        except Exception as exc:
            self.errors += 1
            frames = "".join(traceback.format_tb(exc.__traceback__)[-3:])
            log(f"scheduled function {self.logical_id} failed: {type(exc).__name__}\n{frames}".rstrip())
            return None
        return self.last_result


class Scheduler:
    """A thread that runs every job every ``every_seconds`` until ``stop()``."""

    def __init__(
        self,
        jobs: list[ScheduledJob],
        every_seconds: float,
        *,
        log: Callable[[str], None] = print,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.jobs = jobs
        self.every_seconds = every_seconds
        self.log = log
        self.stop_event = stop_event or threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.every_seconds > 0 and bool(self.jobs)

    def start(self) -> None:
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_all_once(self) -> None:
        for job in self.jobs:
            if self.stop_event.is_set():
                return
            job.run_once(self._log)

    def _log(self, line: str) -> None:
        if not self.stop_event.is_set():  # a run cut short by the stack stopping is not a failure
            self.log(line)

    def _run(self) -> None:
        while not self.stop_event.wait(self.every_seconds):
            self.run_all_once()
