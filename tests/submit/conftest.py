"""Fixtures of the submit-path tests: settings, table read-back, AWS call counting and fault injection."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from leads_core import aws

from tests.conftest import read_table_items


@pytest.fixture
def table_items(stack: Any) -> Callable[[], list[dict[str, Any]]]:
    """Every item of the leads table, as plain Python values (consistent scan)."""
    client = boto3.client("dynamodb", region_name="us-east-1")

    def read() -> list[dict[str, Any]]:
        return read_table_items(client, stack.table_name)

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


_SHARED_SESSION: boto3.Session | None = None


@pytest.fixture(autouse=True)
def _reuse_one_boto3_session(request: pytest.FixtureRequest) -> None:
    """Tests with a ``stack`` share one boto3 session in ``leads_core.aws`` (loading service models is slow).

    moto intercepts every session created after it is imported; ``lead_session`` still gives a test its own
    session when it registers event hooks.
    """
    global _SHARED_SESSION  # noqa: PLW0603
    if "stack" not in request.fixturenames:
        return
    request.getfixturevalue("stack")
    if _SHARED_SESSION is None:
        _SHARED_SESSION = boto3.Session()
    aws.use_session(_SHARED_SESSION)


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
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, HTTPHeaders(), None), parsed


@pytest.fixture
def faults(lead_session: Any) -> FaultInjector:
    injector = FaultInjector()
    lead_session.events.register("before-call", injector)
    return injector


# --- invoking the real handler ------------------------------------------------------------------------------


class Invoker:
    """Calls ``submit_consultation.app.lambda_handler`` with events from events/ (optionally modified)."""

    def __init__(self, context: Any) -> None:
        from submit_consultation import app

        self.app = app
        self.context = context

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.app.lambda_handler(copy.deepcopy(event), self.context)


@pytest.fixture
def invoke(stack: Any, lambda_context: Any) -> Invoker:
    return Invoker(lambda_context)


def response_header(response: dict[str, Any], name: str) -> str | None:
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def response_json(response: dict[str, Any]) -> Any:
    assert (response_header(response, "Content-Type") or "").startswith("application/json")
    return json.loads(response["body"])


def with_body(
    event: dict[str, Any], body: str | dict[str, Any] | None, **headers: str | None
) -> dict[str, Any]:
    """A copy of ``event`` with another body (dicts become JSON) and headers set (``None`` removes one)."""
    changed = copy.deepcopy(event)
    if isinstance(body, dict):
        body = json.dumps(body)
    changed["body"] = body
    changed["isBase64Encoded"] = False
    for raw_name, value in headers.items():
        set_header(changed, raw_name.replace("_", "-"), value)
    return changed


def set_header(event: dict[str, Any], name: str, value: str | None) -> None:
    for field in ("headers", "multiValueHeaders"):
        mapping = event.get(field)
        if not isinstance(mapping, dict):
            continue
        for key in [k for k in mapping if k.lower() == name.lower()]:
            del mapping[key]
        if value is not None:
            mapping[name] = [value] if field == "multiValueHeaders" else value


def from_ip(event: dict[str, Any], ip: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["requestContext"]["identity"]["sourceIp"] = ip
    return changed
