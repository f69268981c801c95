"""Run the template's scheduled functions the way EventBridge would, on a local timer.

Every ``AWS::Serverless::Function`` with a ``Schedule`` or ``ScheduleV2`` event in ``template.yaml`` is
found by ``leads_local.template.scheduled_functions()`` and invoked here with an EventBridge "Scheduled
Event", one invocation at a time, every ``every_seconds`` (``LOCAL_SCHEDULE_SECONDS``, default 10; 0 turns
the timer off). A deployed schedule (e.g. ``rate(1 minute)``) fires less often: locally a shorter period
keeps the demo and the tests quick. A job may have its own period (``ScheduledJob.every_seconds``: the
speed-to-lead sweep runs every ``LOCAL_SWEEP_SECONDS``); 0 turns that job off. A failing invocation is
logged (type and frames only: an exception's message may quote data) and the timer goes on, as EventBridge
would invoke again at the next tick.
"""

from __future__ import annotations

import threading
import time
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
    every_seconds: float | None = None  # its own period; None: the scheduler's
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
    """A thread that runs every job every ``every_seconds`` (or its own period) until ``stop()``."""

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

    def period(self, job: ScheduledJob) -> float:
        return self.every_seconds if job.every_seconds is None else job.every_seconds

    @property
    def enabled(self) -> bool:
        return any(self.period(job) > 0 for job in self.jobs)

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
        periods = {id(job): self.period(job) for job in self.jobs}
        tick = min(p for p in periods.values() if p > 0)
        if all(p in {0, tick} for p in periods.values()):  # one period for all: run them together
            while not self.stop_event.wait(tick):
                self.run_all_once()
            return
        next_run = {id(job): time.monotonic() + periods[id(job)] for job in self.jobs}
        while not self.stop_event.is_set():
            due = min(next_run[id(job)] for job in self.jobs if periods[id(job)] > 0)
            if self.stop_event.wait(max(0.0, due - time.monotonic())):
                return
            for job in self.jobs:
                period = periods[id(job)]
                if period > 0 and next_run[id(job)] <= time.monotonic() and not self.stop_event.is_set():
                    job.run_once(self.log)
                    next_run[id(job)] = time.monotonic() + period
