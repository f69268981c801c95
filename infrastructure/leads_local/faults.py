"""``LOCAL_FAULTS``: make the handlers' AWS calls fail with the service's real throttling error.

Spec: a comma list of ``service:Operation=rate`` (rate 0..1, ``*`` for any operation of the service), e.g.
``dynamodb:PutItem=0.3,sns:*=0.5``. An exact operation wins over ``*`` for the same service.

How: a ``before-call`` handler on the *handlers'* boto3 session (installed with ``leads_core.aws.use_session``
in each worker process, ``leads_local.container``; the stack's injector holds the rules the workers take with
each invocation and adds up what they injected). botocore treats a non-None ``before-call`` return value as
``(http_response, parsed_response)`` and skips the network, exactly like ``botocore.stub.Stubber``; a status
>= 300 then raises the modelled ``ClientError`` subclass (``ProvisionedThroughputExceededException``,
``ThrottledException``, ...). botocore's retry handler runs inside the endpoint send, which this
short-circuits, so an injected fault is NOT retried by botocore: the handler's call fails at exactly the
configured rate. The stream poller and the alert inbox use their own sessions and are never faulted."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV_NAME = "LOCAL_FAULTS"

_ITEM_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem"}
)
_SPEC_ITEM = re.compile(r"^(?P<service>[a-z0-9-]+):(?P<operation>\*|[A-Z][A-Za-z0-9]*)=(?P<rate>[0-9.]+)$")


class FaultSpecError(ValueError):
    """``LOCAL_FAULTS`` is not a valid spec; the message names the variable and the bad item."""


@dataclass(frozen=True)
class FaultRule:
    service: str
    operation: str
    rate: float

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}={self.rate:g}"


def _operation_names(service: str) -> frozenset[str] | None:
    """Operations botocore knows for ``service`` (``None`` for an unknown service)."""
    import botocore.session  # noqa: PLC0415
    from botocore.exceptions import UnknownServiceError  # noqa: PLC0415

    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return None
    return frozenset(model.operation_names)


def parse_faults(spec: str) -> tuple[FaultRule, ...]:
    """Parse a ``LOCAL_FAULTS`` value; raise ``FaultSpecError`` naming ``LOCAL_FAULTS`` on any bad item."""
    rules: dict[tuple[str, str], FaultRule] = {}
    for raw_item in spec.split(","):
        item = raw_item.strip()
        if not item:
            continue
        match = _SPEC_ITEM.match(item)
        if not match:
            raise FaultSpecError(
                f"{ENV_NAME}: {item!r} is not 'service:Operation=rate' "
                "(e.g. 'dynamodb:PutItem=0.3', 'sns:*=0.5')"
            )
        service, operation = match["service"], match["operation"]
        try:
            rate = float(match["rate"])
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(f"{ENV_NAME}: rate in {item!r} must be a number from 0 to 1")
        operations = _operation_names(service)
        if operations is None:
            raise FaultSpecError(f"{ENV_NAME}: unknown service {service!r} in {item!r} (e.g. dynamodb, sns)")
        if operation != "*" and operation not in operations:
            raise FaultSpecError(f"{ENV_NAME}: {service} has no operation {operation!r} (in {item!r})")
        if (service, operation) in rules:
            raise FaultSpecError(f"{ENV_NAME}: {service}:{operation} is listed twice")
        rules[(service, operation)] = FaultRule(service, operation, rate)
    return tuple(rules.values())


def throttling_error(service: str, operation: str) -> tuple[str, int, str]:
    """(error code, HTTP status, message) of the throttling error ``service`` answers ``operation`` with."""
    if service == "dynamodb":
        if operation in _ITEM_OPERATIONS:
            return (
                "ProvisionedThroughputExceededException",
                400,
                "The level of configured provisioned throughput for the table was exceeded (LOCAL_FAULTS).",
            )
        return "ThrottlingException", 400, "Rate of requests exceeds the allowed throughput (LOCAL_FAULTS)."
    if service == "sns":
        return "Throttled", 429, "Rate exceeded (LOCAL_FAULTS)."
    if service == "sqs":
        return "RequestThrottled", 400, "Rate exceeded (LOCAL_FAULTS)."
    return "ThrottlingException", 400, "Rate exceeded (LOCAL_FAULTS)."


class FaultInjector:
    """Registers on a boto3 session and answers matching calls with a throttling error at the given rates."""

    def __init__(self, rules: tuple[FaultRule, ...], seed: int | None = None) -> None:
        self.set_rules(rules)
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def set_rules(self, rules: tuple[FaultRule, ...]) -> None:
        """Replace the rules (takes effect on the next call; clients need not be recreated)."""
        self.rules = rules
        self._by_operation = {(r.service, r.operation): r for r in rules}

    def rule_for(self, service: str, operation: str) -> FaultRule | None:
        return self._by_operation.get((service, operation)) or self._by_operation.get((service, "*"))

    def record(self, counts: Mapping[str, int]) -> None:
        """Add injections counted elsewhere (a worker process's injector) to this one's counts."""
        with self._lock:
            self.injected.update(counts)

    def take_injected(self) -> dict[str, int]:
        """The injections counted since the last call (and forget them)."""
        with self._lock:
            counts = dict(self.injected)
            self.injected.clear()
        return counts

    def install(self, session: Any) -> None:
        """Hook every API call made by clients that ``session`` (a boto3 Session) creates from now on."""
        session.events.register("before-call", self._before_call, unique_id="leads-local-faults")

    def _before_call(self, model: Any, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        service = model.service_model.service_name
        rule = self.rule_for(service, model.name)
        if rule is None:
            return None
        with self._lock:
            fail = self._random.random() < rule.rate
            if fail:
                self.injected[f"{service}:{model.name}"] += 1
        if not fail:
            return None
        from botocore.awsrequest import AWSResponse  # noqa: PLC0415

        code, status, message = throttling_error(service, model.name)
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse(None, status, {}, None), parsed  # type: ignore[arg-type]
