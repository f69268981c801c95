"""One worker process of one function: the local stand-in for a Lambda execution environment ("container").

``python -m leads_local.container`` is started by ``leads_local.workers``, never by hand, with the function's
environment. Over its control connection (``leads_local.processes``) it receives, in order:

1. ``init`` (``module``, ``preload``, ``faults``, ``seed``): it installs the ``LOCAL_FAULTS`` hook on this
   process's boto3 session (``leads_core.aws.use_session``), imports the ``preload`` modules (tests use one
   to fix a clock), then the handler's module, once, as Lambda's init phase does, and answers ``ready`` or
   the init error (import failures with their traceback: no request has run yet, so they hold no visitor
   data).
2. one invocation at a time (``event``, ``context`` fields, the current ``faults`` rules): it runs
   ``lambda_handler`` with a ``LambdaContext`` whose clock starts now, and answers with the ``result`` (JSON,
   as Lambda's is; a result that is not JSON is Lambda's ``Runtime.MarshalError``) and whether it ``overran``
   its timeout, or with the ``error``'s type and frames (never its message: it may quote visitor data), plus
   the throttling errors it injected since its last answer.

The parent ends the process when an invocation overruns its timeout, when the stack stops, or when the
function's workers are replaced; the process also ends by itself when the parent is gone.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from leads_local import processes
from leads_local.apigw import LambdaContext
from leads_local.faults import FaultInjector, FaultRule
from leads_local.poller import HandlerUnavailable

Handler = Callable[[dict[str, Any], Any], Any]


def _init_error(module: str, exc: BaseException) -> str:
    """An import-time failure with its traceback (no request has run yet, so it holds no visitor data)."""
    return f"{module} failed to import:\n" + "".join(traceback.format_exception(exc)).rstrip()


class LazyHandler:
    """Imports ``module.lambda_handler`` on first use (the handler module may not exist yet)."""

    def __init__(self, module: str, handler: Handler | None = None) -> None:
        self.module = module
        self._handler = handler
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._handler is not None

    def __call__(self) -> Handler:
        if self._handler is not None:
            return self._handler
        with self._lock:
            if self._handler is None:
                module = _import(self.module)
                handler = getattr(module, "lambda_handler", None)
                if not callable(handler):
                    raise HandlerUnavailable(f"{self.module} has no lambda_handler")
                self._handler = handler
            return self._handler


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise HandlerUnavailable(f"{name} does not exist yet") from None
        raise HandlerUnavailable(_init_error(name, exc)) from exc
    except Exception as exc:
        raise HandlerUnavailable(_init_error(name, exc)) from exc


def fault_rules(rules: Sequence[Sequence[Any]]) -> tuple[FaultRule, ...]:
    """``FaultRule``s from ``[service, operation, rate]`` triples (how the parent sends them)."""
    return tuple(FaultRule(str(service), str(operation), float(rate)) for service, operation, rate in rules)


def rule_triples(rules: Sequence[FaultRule]) -> list[list[Any]]:
    return [[rule.service, rule.operation, rule.rate] for rule in rules]


def _install_session(faults: FaultInjector) -> None:
    """This process's handlers get their clients from a session with the fault hook on it."""
    import boto3  # noqa: PLC0415
    from leads_core import aws  # noqa: PLC0415

    session = boto3.Session(region_name=os.environ.get("AWS_REGION") or None)
    faults.install(session)
    aws.use_session(session)


def initialise(init: dict[str, Any], faults: FaultInjector) -> Handler:
    """Lambda's init phase: the fault hook, the preload modules, the handler (``HandlerUnavailable``)."""
    _install_session(faults)
    for name in init.get("preload") or []:
        _import(str(name))
    return LazyHandler(str(init["module"]))()


def invoke(handler: Handler, message: dict[str, Any], faults: FaultInjector) -> dict[str, Any]:
    """Run one invocation; the answer for the parent (see the module's docstring)."""
    rules = fault_rules(message.get("faults") or [])
    if rules != faults.rules:
        faults.set_rules(rules)
    fields = message.get("context") or {}
    context = LambdaContext(
        function_name=str(fields.get("function_name", "")),
        aws_request_id=str(fields.get("aws_request_id", "")),
        memory_limit_in_mb=int(fields.get("memory_limit_in_mb", 128)),
        timeout_seconds=float(fields.get("timeout_seconds", 3)),
    )
    reply: dict[str, Any]
    try:
        result = handler(message.get("event") or {}, context)
    except Exception as exc:
        reply = {"error": type(exc).__name__, "frames": "".join(traceback.format_tb(exc.__traceback__))}
    else:
        reply = {"result": result, "overran": context.get_remaining_time_in_millis() <= 0}
    reply["injected"] = faults.take_injected()
    return reply


def _answer(connection: Connection, reply: dict[str, Any]) -> None:
    try:
        processes.send(connection, reply)
    except (TypeError, ValueError):  # the result is not JSON: Lambda cannot return it either
        marshal_error = {"error": "MarshalError", "frames": "", "injected": reply.get("injected", {})}
        processes.send(connection, marshal_error)


def main() -> int:
    connection = processes.connect_to_parent()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(line_buffering=True)  # whole log lines, in order with the other processes' lines
    init = processes.receive(connection)
    if init is None:
        return 0
    faults = FaultInjector(fault_rules(init.get("faults") or []), seed=init.get("seed"))
    try:
        handler = initialise(init, faults)
    except HandlerUnavailable as exc:
        processes.send(connection, {"init_error": str(exc)})
        return 1
    processes.send(connection, {"ready": True})
    while (message := processes.receive(connection)) is not None:
        _answer(connection, invoke(handler, message, faults))
    return 0


if __name__ == "__main__":
    sys.exit(main())
