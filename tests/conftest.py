"""Shared fixtures: fake AWS credentials, moto, resources from template.yaml, a fake Lambda context."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Fake credentials and region before anything can build a client; never reach real AWS from tests.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_SERVICE_NAME": "clinic-leads",
        "POWERTOOLS_METRICS_NAMESPACE": "ClinicLeads",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def _share_botocore_loaders() -> None:
    """Every botocore session in a test process reads its service models through one shared loader.

    moto replaces boto3's default session during each mock and most tests start from a fresh session, and a
    fresh session parses the service models (``endpoints.json``, each service's JSON) again: about a third of
    the CPU time of a moto-backed test. A loader only caches what it read from botocore's data files, which no
    test changes; clients from different sessions then share the parsed models as clients of one session do.
    """
    import botocore.session

    create_loader = botocore.session.create_loader
    loaders: dict[str | None, Any] = {}

    def shared_loader(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader


_share_botocore_loaders()

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"


@dataclass
class FakeLambdaContext:
    function_name: str = "clinic-leads-test"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:clinic-leads-test"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
    log_group_name: str = "/aws/lambda/clinic-leads-test"
    log_stream_name: str = "2026/11/29/[$LATEST]test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def load_event(name: str) -> dict[str, Any]:
    """An event JSON from events/ (``name`` without the .json suffix)."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def aws_mock() -> Iterator[None]:
    """moto for every AWS call in the test; our client cache is reset on both sides."""
    from leads_core import aws, hashing
    from moto import mock_aws

    aws.reset()
    hashing.forget_key()
    with mock_aws():
        yield
    aws.reset()
    hashing.forget_key()


_RESOURCE_SESSIONS: list[Any] = []


def _resource_session(boto3: Any) -> Any:
    """One boto3 session for creating test resources (loading service models per test costs seconds)."""
    if not _RESOURCE_SESSIONS:
        _RESOURCE_SESSIONS.append(boto3.Session(region_name="us-east-1"))
    return _RESOURCE_SESSIONS[0]


@pytest.fixture
def stack(aws_mock: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Table, topic, queue and secret created from template.yaml, with the functions' environment set."""
    import boto3
    from leads_core.settings import load_settings
    from leads_local.template import create_resources

    resources = create_resources(_resource_session(boto3), prefix="test")
    set_function_environment(monkeypatch, resources)
    load_settings.cache_clear()
    yield resources
    load_settings.cache_clear()


# The functions' settings in every moto-backed test (the resource names come from the created stack).
TEST_FUNCTION_SETTINGS = {
    "ALLOWED_ORIGINS": "https://www.example-clinic.com,http://127.0.0.1:3000",
    "THANK_YOU_URL": "https://www.example-clinic.com/thank-you",
    "FORM_URL": "https://www.example-clinic.com/consultation",
    "LOCATIONS": "naperville,oak-brook",
    "CLINIC_NAME": "Naperville Wellness Clinic",
    "CONSOLE_URL": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/",
}


def set_function_environment(monkeypatch: pytest.MonkeyPatch, resources: Any) -> None:
    """The environment the template gives the functions, for ``resources`` made by ``create_resources``."""
    for name, value in {**resources.function_environment(), **TEST_FUNCTION_SETTINGS}.items():
        monkeypatch.setenv(name, value)


def read_table_items(client: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item of a table as plain Python values (a test-only consistent scan, all pages)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend({k: deserializer.deserialize(v) for k, v in raw.items()} for raw in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def local_cli_json(aws_port: int, *args: str) -> Any:
    """``leads --local ARGS --json`` against a running local stack, in this process (click's runner).

    The CLI installs its own boto3 session and points boto3 at the stack (``AWS_ENDPOINT_URL``) in the process
    it runs in: both are put back, or later tests in this worker would talk to that stack, not their moto.
    """
    from click.testing import CliRunner
    from leads_cli.main import cli
    from leads_core import aws

    saved, saved_environ = aws.session(), dict(os.environ)
    try:
        runner = CliRunner(env={"AWS_PORT": str(aws_port), "LEADS_STACK": None})
        result = runner.invoke(cli, ["--local", *args, "--json"], catch_exceptions=False)
    finally:
        aws.use_session(saved)
        os.environ.clear()
        os.environ.update(saved_environ)
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)
