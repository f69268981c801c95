"""Count the AWS API calls the handlers make, with a botocore event hook on ``leads_core.aws.session()``.

botocore copies the session's event emitter into each client when the client is created, so the hook is
registered on a fresh session before ``leads_core.aws`` creates any client (``install_counter``).
``before-call`` fires once per API operation (retries of that operation are counted by ``before-send``).

Time inside an AWS call (``seconds_in_calls``) runs from ``provide-client-params``, the first event of a
client method call, to ``after-call``: botocore's parameter validation, request building and response parsing
count as the call, not as the caller's code. ``seconds_sending`` is the part from ``before-call`` (request
built) to ``after-call``, the boundary used before 2026-12-02.
``before-parameter-build`` sees each operation's parameters as the caller passed them: the first ones of
each operation are kept (``first_params``), e.g. the submit handler's ``TransactWriteItems`` for the
reference handler.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from typing import Any


class CallCounter:
    """Thread-safe tally of ``service:Operation`` API calls and HTTP attempts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.seconds_in_calls = 0.0
        self.seconds_sending = 0.0
        self.first_params: dict[str, dict[str, Any]] = {}
        self._started = threading.local()

    def _on_params(self, params: Any = None, model: Any = None, **_: Any) -> None:
        if model is None or not isinstance(params, dict):
            return
        name = f"{model.service_model.service_name}:{model.name}"
        if name not in self.first_params:
            with self._lock:
                self.first_params.setdefault(name, copy.deepcopy(params))

    def _on_call_start(self, **_: Any) -> None:
        self._started.at = time.perf_counter()

    def _on_call(self, model: Any = None, **_: Any) -> None:
        self._started.sending = time.perf_counter()
        if model is not None:
            with self._lock:
                self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def _on_call_done(self, **_: Any) -> None:
        now = time.perf_counter()
        started = getattr(self._started, "at", None)
        sending = getattr(self._started, "sending", None)
        with self._lock:
            if started is not None:
                self.seconds_in_calls += now - started
            if sending is not None:
                self.seconds_sending += now - sending
        self._started.at = self._started.sending = None

    def _on_send(self, event_name: str = "", **_: Any) -> None:
        with self._lock:
            self.attempts[event_name.removeprefix("before-send.")] += 1

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts.clear()
            self.seconds_in_calls = 0.0
            self.seconds_sending = 0.0

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)

    def total(self, service: str | None = None) -> int:
        with self._lock:
            return sum(
                n for name, n in self.calls.items() if service is None or name.startswith(service + ":")
            )


def install_counter() -> CallCounter:
    """Hook a counter on a fresh ``leads_core.aws.session()``; handlers create their clients afterwards."""
    from leads_core import aws

    counter = CallCounter()
    aws.reset()
    session = aws.session()
    session.events.register("provide-client-params", counter._on_call_start)
    session.events.register("before-parameter-build", counter._on_params)
    session.events.register("before-call", counter._on_call)
    session.events.register("before-send", counter._on_send)
    session.events.register("after-call", counter._on_call_done)
    session.events.register("after-call-error", counter._on_call_done)
    return counter
