"""Each function of the local stack in its own worker processes, as Lambda runs each in its own containers.

A ``FunctionPool`` holds one function's workers (``leads_local.container`` processes, started through
``leads_local.processes``); nothing is shared between pools, so the submit function, the alert function and
the scheduled functions never wait for each other. Like Lambda:

* a worker imports the handler once and then answers one invocation at a time (a warm container);
* concurrent invocations run in concurrent workers, up to the pool's ``max_workers``; a new worker is
  started only when every worker is busy (a cold start), and an idle worker is reused, most recent first;
* an invocation that returns after the function's timeout fails where the caller asks for it
  (``overrun_fails``: API Gateway's 502 for the submit function, as the local stack always answered); a worker
  that does not answer at all within the timeout plus ``hung_grace_seconds`` is hung: its invocation fails and
  it is ended and replaced, as is a worker whose process died;
* a failed init (the handler's module does not import) fails the invocation that waited for it, and the next
  invocation tries a new worker.

``invoke(event, context)`` has the handler's own signature, so the stream poller and the scheduler call a
pool where they called the handler; errors come back as ``FunctionError`` (named after the handler's
exception type), ``FunctionTimeout`` or ``HandlerUnavailable``.
"""

from __future__ import annotations

import itertools
import keyword
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leads_local import processes
from leads_local.container import rule_triples
from leads_local.faults import FaultInjector
from leads_local.poller import HandlerUnavailable

START_TIMEOUT_SECONDS = 90.0  # a cold start on a busy two-core machine; Lambda's own init limit is 10 s
# How long past its timeout a silent worker is taken for hung, ended and replaced. Generous: moto on a busy
# machine is many times slower than AWS, and the handlers keep to their own time budget.
HUNG_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, as the pool runs it."""

    logical_id: str
    module: str  # the handler's module, e.g. "submit_consultation.app"
    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int
    max_workers: int = 1


class FunctionError(Exception):
    """The handler raised; ``frames`` say where (the message stays in the worker: it may quote visitors)."""

    def __init__(self, frames: str = "") -> None:
        super().__init__(type(self).__name__)
        self.frames = frames


class FunctionTimeout(FunctionError):
    """The invocation overran the function's timeout; its worker was ended."""


class FunctionCrashed(FunctionError):
    """The worker's process ended during the invocation."""


_error_types: dict[str, type[FunctionError]] = {}


def remote_error(type_name: str, frames: str) -> FunctionError:
    """A ``FunctionError`` whose type has the name of the exception the handler raised (for the logs)."""
    name = type_name if type_name.isidentifier() and not keyword.iskeyword(type_name) else "FunctionError"
    error_type = _error_types.get(name)
    if error_type is None:
        error_type = _error_types.setdefault(name, type(name, (FunctionError,), {}))
    return error_type(frames)


@dataclass
class PoolStats:
    invocations: int = 0
    cold_starts: int = 0
    init_errors: int = 0
    timeouts: int = 0
    crashes: int = 0


class Worker:
    """One worker process (parent side)."""

    def __init__(
        self, spec: FunctionSpec, env: Mapping[str, str], init: Mapping[str, Any], generation: int
    ) -> None:
        self.spec = spec
        self.generation = generation
        self.child = processes.ChildProcess("leads_local.container", [], env)
        self.child.send(dict(init))

    @property
    def pid(self) -> int:
        return self.child.pid

    def wait_ready(self, timeout: float) -> str | None:
        """``None`` once the handler is loaded; otherwise the init error (and the process is ended)."""
        try:
            message = self.child.receive(timeout)
        except processes.ChildExited as exc:
            message = {"init_error": f"{self.spec.module}: the worker process ended during init ({exc})"}
        if message is None:
            message = {"init_error": f"{self.spec.module}: the worker did not start within {timeout:g} s"}
        if message.get("ready"):
            return None
        self.child.kill()
        return str(message.get("init_error") or f"{self.spec.module}: unexpected answer during init")

    def invoke(self, message: Mapping[str, Any], hung_grace_seconds: float) -> dict[str, Any]:
        """Send one invocation and wait for its answer (``FunctionTimeout`` when the worker is hung)."""
        try:
            self.child.send(message)
            reply = self.child.receive(self.spec.timeout_seconds + hung_grace_seconds)
        except processes.ChildExited:
            self.child.kill()
            raise FunctionCrashed("") from None
        if reply is None:
            self.child.kill()
            raise FunctionTimeout("")
        return reply

    def stop(self) -> None:
        """End the process now: it holds nothing to save (as Lambda ends an environment)."""
        self.child.kill()


@dataclass
class _State:
    idle: list[Worker] = field(default_factory=list)
    busy: set[Worker] = field(default_factory=set)
    starting: int = 0
    launched: set[Worker] = field(default_factory=set)  # started, not ready yet
    init_failures: int = 0
    init_error: str = ""
    generation: int = 0
    stopped: bool = False


class FunctionPool:
    """The workers of one function (see the module's docstring)."""

    _seeds = itertools.count()

    def __init__(  # noqa: PLR0913 - keyword-only collaborators of the pool
        self,
        spec: FunctionSpec,
        *,
        environment: Callable[[], Mapping[str, str]],
        faults: FaultInjector,
        faults_seed: int | None = None,
        preload: Sequence[str] = (),
        start_timeout: float = START_TIMEOUT_SECONDS,
        hung_grace_seconds: float = HUNG_GRACE_SECONDS,
    ) -> None:
        self.spec = spec
        self.max_workers = max(1, spec.max_workers)
        self.environment = environment
        self.faults = faults
        self.faults_seed = faults_seed
        self.preload = tuple(preload)
        self.start_timeout = start_timeout
        self.hung_grace_seconds = hung_grace_seconds
        self.stats = PoolStats()
        self.loaded = False  # a worker has loaded the handler at least once
        self._state = _State()
        self._cond = threading.Condition()

    # -- invoking -------------------------------------------------------------------------------------------
    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        """The pool as a handler, once a worker has the handler loaded (``HandlerUnavailable`` otherwise)."""
        worker = self._acquire()
        self._release(worker, healthy=True)
        return self.invoke

    def invoke(self, event: dict[str, Any], context: Any, *, overrun_fails: bool = False) -> Any:
        """Run one invocation in a free worker; the handler's result, or ``FunctionError`` and subclasses
        (``FunctionTimeout`` also for a result that came after the timeout, with ``overrun_fails``)."""
        worker = self._acquire()
        # Lambda's clock starts when a container runs the invocation, not while it waits for one.
        start = getattr(context, "start_clock", None)
        if callable(start):
            start()
        message = {
            "event": event,
            "context": {
                "function_name": self.spec.function_name,
                "aws_request_id": str(getattr(context, "aws_request_id", "")),
                "memory_limit_in_mb": self.spec.memory_limit_in_mb,
                "timeout_seconds": self.spec.timeout_seconds,
            },
            "faults": rule_triples(self.faults.rules),
        }
        try:
            reply = worker.invoke(message, self.hung_grace_seconds)
        except FunctionError as exc:
            self._count(timeouts=isinstance(exc, FunctionTimeout), crashes=isinstance(exc, FunctionCrashed))
            self._release(worker, healthy=False)
            raise
        overran = bool(reply.get("overran"))
        self._count(timeouts=overran)
        self._release(worker, healthy=True)
        self.faults.record(reply.get("injected") or {})
        if "error" in reply:
            raise remote_error(str(reply["error"]), str(reply.get("frames") or ""))
        if overran and overrun_fails:
            raise FunctionTimeout("")
        return reply.get("result")

    def _count(self, *, timeouts: bool = False, crashes: bool = False) -> None:
        with self._cond:
            self.stats.invocations += 1
            self.stats.timeouts += int(timeouts)
            self.stats.crashes += int(crashes)

    # -- workers --------------------------------------------------------------------------------------------
    def prestart(self) -> None:
        """Start one worker now, without waiting (``wait_started`` waits)."""
        with self._cond:
            if not self._state.idle and not self._state.busy and not self._state.starting:
                self._start_in_background()

    def wait_started(self, timeout: float | None = None) -> str | None:
        """Wait until no worker is starting; the last init error, if the pool has no worker."""
        with self._cond:
            self._cond.wait_for(lambda: self._state.starting == 0, timeout)
            if self._state.idle or self._state.busy:
                return None
            return self._state.init_error or None

    def _acquire(self) -> Worker:
        state = self._state
        with self._cond:
            failures_seen = state.init_failures
            while True:
                if state.stopped:
                    raise HandlerUnavailable(f"{self.spec.module}: the stack is stopping")
                if state.idle:
                    worker = state.idle.pop()  # the most recently used one: the warmest
                    state.busy.add(worker)
                    return worker
                failed = state.init_failures > failures_seen
                if failed and not state.busy and not state.starting:
                    raise HandlerUnavailable(state.init_error)
                if not failed and len(state.busy) + state.starting < self.max_workers:
                    self._start_in_background()
                self._cond.wait()

    def _start_in_background(self) -> None:
        """(Under the lock.) One more worker, started by a thread; it joins ``idle`` once ready."""
        self._state.starting += 1
        threading.Thread(target=self._start_worker, name=f"start-{self.spec.logical_id}", daemon=True).start()

    def _start_worker(self) -> None:
        init = {
            "module": self.spec.module,
            "preload": list(self.preload),
            "faults": rule_triples(self.faults.rules),
            "seed": None if self.faults_seed is None else self.faults_seed + next(self._seeds),
        }
        worker: Worker | None = None
        error: str | None
        try:
            worker = Worker(self.spec, self.environment(), init, self._state.generation)
            with self._cond:
                self._state.launched.add(worker)
                stopped = self._state.stopped
            error = "the stack is stopping" if stopped else worker.wait_ready(self.start_timeout)
        except (OSError, processes.ChildExited) as exc:
            error = f"{self.spec.module}: could not start a worker ({type(exc).__name__})"
        retire: Worker | None = None
        with self._cond:
            state = self._state
            state.starting -= 1
            self.stats.cold_starts += 1
            if worker is not None:
                state.launched.discard(worker)
                if error is not None:
                    retire = worker  # its process has ended already, unless the stack is stopping
            if error is not None:
                self.stats.init_errors += 1
                state.init_failures += 1
                state.init_error = error
            elif worker is not None:
                if state.stopped or worker.generation != state.generation:
                    retire = worker
                else:
                    state.idle.append(worker)
                    self.loaded = True
            self._cond.notify_all()
        if retire is not None:
            retire.child.kill()

    def _release(self, worker: Worker, *, healthy: bool) -> None:
        retire = None
        with self._cond:
            state = self._state
            state.busy.discard(worker)
            if healthy and not state.stopped and worker.generation == state.generation and worker.child.alive:
                state.idle.append(worker)
            else:
                retire = worker
            self._cond.notify_all()
        if retire is not None:
            retire.stop()

    def replace_workers(self) -> None:
        """Every next invocation runs in a new worker (as after a deployment); busy workers end when done."""
        with self._cond:
            self._state.generation += 1
            retired, self._state.idle = self._state.idle, []
        for worker in retired:
            worker.stop()

    def stop(self) -> None:
        """End every worker (a busy one at once); later invocations fail with ``HandlerUnavailable``."""
        with self._cond:
            self._state.stopped = True
            idle, busy = self._state.idle, [*self._state.busy, *self._state.launched]
            self._state.idle = []
            self._cond.notify_all()
        for worker in busy:
            worker.child.kill()  # its invocation (or init) fails; releasing it then ends nothing more
        for worker in idle:
            worker.stop()

    # -- views ----------------------------------------------------------------------------------------------
    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in [*self._state.idle, *self._state.busy])

    def health(self) -> dict[str, Any]:
        with self._cond:
            return {
                "max_workers": self.max_workers,
                "workers": len(self._state.idle) + len(self._state.busy),
                "busy": len(self._state.busy),
                "starting": self._state.starting,
                "invocations": self.stats.invocations,
                "cold_starts": self.stats.cold_starts,
                "init_errors": self.stats.init_errors,
                "timeouts": self.stats.timeouts,
                "crashes": self.stats.crashes,
            }
