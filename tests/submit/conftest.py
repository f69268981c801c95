"""Fixtures of the submit-path tests: settings, table read-back, AWS call counting and fault injection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse
from leads_core import aws


@pytest.fixture
def table_items(stack: Any) -> Callable[[], list[dict[str, Any]]]:
    """Every item of the leads table, as plain Python values (consistent scan)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    deserializer = TypeDeserializer()

    def read() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": stack.table_name, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            items.extend({k: deserializer.deserialize(v) for k, v in raw.items()} for raw in page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    return read


def leads_in(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if item.get("entity") == "lead"]


class CallCounter:
    """Counts AWS API calls (one ``before-call`` event per operation call, retries not included)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.removeprefix("before-call."))

    def reset(self) -> None:
        self.calls.clear()


@pytest.fixture
def lead_session(stack: Any) -> Iterator[Any]:
    """A fresh session in ``leads_core.aws`` (hooks registered on it reach every client created later)."""
    aws.reset()
    yield aws.session()
    aws.reset()


@pytest.fixture
def aws_calls(lead_session: Any) -> CallCounter:
    """Counter registered on the session of ``leads_core.aws`` before any of its clients exists."""
    counter = CallCounter()
    lead_session.events.register("before-call", counter)
    return counter


class FaultInjector:
    """Makes chosen operations of ``leads_core.aws`` clients fail with an AWS error code (no retry)."""

    def __init__(self) -> None:
        self.failures: dict[str, str] = {}
        self.injected = 0

    def fail(self, operation: str, code: str) -> None:
        self.failures[operation] = code

    def clear(self) -> None:
        self.failures.clear()

    def __call__(self, event_name: str, model: Any, **_: Any) -> Any:
        code = self.failures.get(model.name)
        if code is None:
            return None
        self.injected += 1
        status = 500 if code in {"InternalServerError", "ServiceUnavailable"} else 400
        parsed = {
            "Error": {"Code": code, "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, {}, None), parsed


@pytest.fixture
def faults(lead_session: Any) -> FaultInjector:
    injector = FaultInjector()
    lead_session.events.register("before-call", injector)
    return injector
