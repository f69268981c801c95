"""Fixtures of the ``leads`` CLI tests.

Leads are stored by the REAL submit handler (events/ as the template of each request); the CLI is driven
through its real entry point (``leads_cli.main:cli``) with resource overrides pointing at the moto stack built
from template.yaml; every AWS call the CLI makes can be counted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from leads_cli.main import cli
from leads_core import aws, hashing
from leads_core.settings import load_settings
from leads_local.template import create_resources, table_create_kwargs, table_ttl_attribute
from moto import mock_aws

from tests.conftest import load_event, read_table_items, set_function_environment

SUBMIT_DEFAULTS: dict[str, Any] = {
    "first_name": "Jordan",
    "last_name": "Sample",
    "email": "jordan.sample@example.com",
    "phone": "(630) 555-0199",
    "preferred_contact": "phone",
    "best_time": "evening",
    "service": "anxiety",
    "location": "naperville",
    "referral_type": "self",
    "message": "I would like to talk to someone about panic attacks.",
    "consent_privacy": True,
}


@dataclass
class Submitter:
    """Posts consultation requests through ``submit_consultation.app.lambda_handler``."""

    context: Any
    _ips: Iterator[int] = field(default_factory=lambda: count(1))

    def __call__(self, **fields: Any) -> str:
        """Submit ``SUBMIT_DEFAULTS`` updated with ``fields`` (``None`` drops one); return the lead id."""
        # The handler module validates its settings at import: import it once the stack's environment is set.
        from submit_consultation.app import lambda_handler

        body_fields = {**SUBMIT_DEFAULTS, **fields}
        body = json.dumps({k: v for k, v in body_fields.items() if v is not None})
        event = load_event("submit_valid_json")
        event["body"] = body
        for headers in (event["headers"], event["multiValueHeaders"]):
            headers.pop("Content-Length", None)
        # One source address per submission: the per-address rate limit is not what these tests are about.
        number = next(self._ips)
        event["requestContext"]["identity"]["sourceIp"] = f"198.51.{number // 250}.{number % 250 + 1}"
        event["requestContext"]["requestId"] = f"cli-test-{number}"
        response = lambda_handler(event, self.context)
        assert response["statusCode"] == 201, response
        lead_id = str(json.loads(response["body"])["id"])
        # created_at has millisecond resolution: keep the order of submissions unambiguous.
        time.sleep(0.003)
        return lead_id


@pytest.fixture(scope="package")
def module_stack() -> Iterator[Any]:
    """One moto world for these CLI tests with the table, topic, queue and secret created from template.yaml
    (``leads_local.template.create_resources``, as the root ``stack`` fixture does): creating them and the
    clients again for every test would take most of this suite's time budget."""
    aws.reset()
    hashing.forget_key()
    with mock_aws():
        yield create_resources(boto3.Session(region_name="us-east-1"), prefix="cli")
    aws.reset()
    hashing.forget_key()


def _recreate_table(resources: Any) -> None:
    """A new, empty table (with a new, empty stream) from the template's definition, under the same name.

    Emptying the old one would keep its stream records, and moto copies the whole table, stream included, for
    every transaction item: the submissions would get slower test after test.
    """
    dynamodb = aws.client("dynamodb")
    dynamodb.delete_table(TableName=resources.table_name)
    table = dynamodb.create_table(**table_create_kwargs(resources.table_name))["TableDescription"]
    ttl_attribute = table_ttl_attribute()
    if ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=resources.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
        )
    resources.table_arn = table["TableArn"]
    resources.stream_arn = table["LatestStreamArn"]


def _drain_queue(queue_url: str) -> None:
    sqs = aws.client("sqs")
    for _ in range(50):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def stack(module_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Overrides the root ``stack`` for these tests: the package's resources, a new table for each test, with
    the functions' environment set by the root conftest's ``set_function_environment``."""
    _recreate_table(module_stack)
    _drain_queue(module_stack.alert_failures_queue_url)
    set_function_environment(monkeypatch, module_stack)
    load_settings.cache_clear()
    yield module_stack
    load_settings.cache_clear()
    sns = aws.client("sns")
    for subscription in sns.list_subscriptions_by_topic(TopicArn=module_stack.topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])


@pytest.fixture
def submit(stack: Any, lambda_context: Any) -> Submitter:
    return Submitter(context=lambda_context)


class CallLog:
    """Every AWS operation of the ``leads_core.aws`` clients, e.g. ``dynamodb.Query``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.removeprefix("before-call."))

    def count(self, operation: str) -> int:
        return self.calls.count(operation)


@pytest.fixture
def aws_calls(stack: Any) -> Iterator[CallLog]:
    """Registered on the clients ``leads_core.aws`` hands out (the CLI uses them with override targets)."""
    log = CallLog()
    clients = [aws.client(service) for service in ("dynamodb", "sts", "secretsmanager", "sns", "sqs")]
    for client in clients:
        client.meta.events.register("before-call", log)
    yield log
    for client in clients:
        client.meta.events.unregister("before-call", log)


@dataclass
class Cli:
    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    def json(self, *args: str, input: str | None = None) -> Any:
        """Run with ``--json``; assert exit 0 and that stdout is exactly one JSON document."""
        result = self(*args, "--json", input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)


@pytest.fixture
def cli_env(stack: Any) -> dict[str, str | None]:
    return {
        "LEADS_STACK": None,
        "LEADS_TABLE": stack.table_name,
        "LEADS_TOPIC_ARN": stack.topic_arn,
        "LEADS_QUEUE_URL": stack.alert_failures_queue_url,
        "LEADS_HASH_KEY_SECRET": stack.hash_key_secret_id,
        "LEADS_STREAM_ARN": stack.stream_arn,
        "LEADS_PAGE_SIZE": None,
    }


@pytest.fixture
def leads(cli_env: dict[str, str | None]) -> Cli:
    """The CLI, targeting the moto stack through the documented resource overrides."""
    return Cli(CliRunner(env=cli_env))


@pytest.fixture
def table_items(stack: Any) -> Callable[[], list[dict[str, Any]]]:
    """Every item of the table (a test-only consistent scan), as plain values."""

    def read() -> list[dict[str, Any]]:
        return read_table_items(aws.client("dynamodb"), stack.table_name)

    return read


def lead_ids(items: list[dict[str, Any]]) -> set[str]:
    return {str(item["id"]) for item in items if item.get("entity") == "lead"}


def audit_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if str(item.get("pk", "")).startswith("AUDIT#")]
