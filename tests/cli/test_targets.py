"""How the CLI finds its resources: ``--stack`` (CloudFormation outputs and parameters), ``--local`` (the
local stack's fixed names on ``AWS_PORT``), overrides; and the exit codes when it cannot."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from leads_cli.target import Target, TargetError, TargetOptions
from leads_core import aws
from leads_local.template import create_resources
from moto.server import ThreadedMotoServer

from .conftest import Cli, Submitter

NO_OVERRIDES: dict[str, str | None] = {
    "LEADS_STACK": None,
    "LEADS_TABLE": None,
    "LEADS_TOPIC_ARN": None,
    "LEADS_QUEUE_URL": None,
    "LEADS_HASH_KEY_SECRET": None,
    "LEADS_STREAM_ARN": None,
}


@pytest.fixture
def bare(stack: Any) -> Iterator[Cli]:
    """The CLI with no resource overrides; ``--local``/``--stack`` change the process's AWS session and
    endpoint (a CLI process targets one place), which are put back afterwards."""
    saved_session = aws.session()
    saved_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    yield Cli(CliRunner(env=NO_OVERRIDES))
    if saved_endpoint is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = saved_endpoint
    aws.use_session(saved_session)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


STACK_PARAMETERS = {"ClinicName": "Stack Clinic", "AlertDetail": "minimal"}


@contextmanager
def deployed(
    name: str, outputs: dict[str, str], calls: int = 1, parameters: dict[str, str] | None = None
) -> Iterator[Stubber]:
    """``DescribeStacks`` of a deployed stack named ``name`` with these outputs, answered ``calls`` times.

    botocore's Stubber checks the request and the response against the CloudFormation service model; moto's
    CloudFormation would import every moto backend (seconds of this suite's budget) to serve the same answer.
    """
    client = aws.client("cloudformation")
    stubber = Stubber(client)
    description = {
        "StackName": name,
        "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/0",
        "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in {**STACK_PARAMETERS, **(parameters or {})}.items()
        ],
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
    }
    for _ in range(calls):
        stubber.add_response("describe_stacks", {"Stacks": [description]}, {"StackName": name})
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def test_without_a_target_exits_4(bare: Cli) -> None:
    result = bare("list")

    assert result.exit_code == 4
    assert "--local" in result.stderr
    assert "--stack" in result.stderr
    assert result.stdout == ""


def test_stack_outputs_name_the_resources(bare: Cli, stack: Any, submit: Submitter) -> None:
    lead_id = submit(submission_id="stack-lead-0001")
    outputs = {
        "LeadsTableName": stack.table_name,
        "StaffAlertsTopicArn": stack.topic_arn,
        "AlertFailuresQueueUrl": stack.alert_failures_queue_url,
        "HashKeySecretArn": stack.hash_key_secret_id,
        "LeadsTableStreamArn": stack.stream_arn,
    }

    with deployed("clinic-leads-prod", outputs, calls=4):
        listed = bare.json("--stack", "clinic-leads-prod", "--region", "us-east-1", "list")
        shown = bare.json("show", lead_id, "--stack", "clinic-leads-prod")
        by_env = Cli(CliRunner(env={**NO_OVERRIDES, "LEADS_STACK": "clinic-leads-prod"})).json("list")
        test_alert = bare.json("alert-test", "--stack", "clinic-leads-prod")

    assert [lead["id"] for lead in listed["leads"]] == [lead_id]
    assert shown["id"] == lead_id
    assert [lead["id"] for lead in by_env["leads"]] == [lead_id]
    assert test_alert["subject"].endswith("| Stack Clinic")  # the stack's ClinicName parameter


def test_unknown_stack_and_missing_output_exit_4(bare: Cli, stack: Any) -> None:
    client = aws.client("cloudformation")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message="Stack with id no-such-stack does not exist",
            http_status_code=400,
            expected_params={"StackName": "no-such-stack"},
        )
        unknown = bare("list", "--stack", "no-such-stack", "--json")
    with deployed("clinic-leads-partial", {"LeadsTableName": stack.table_name}):
        missing_topic = bare("alert-test", "--stack", "clinic-leads-partial")

    assert unknown.exit_code == 4
    assert "no-such-stack" in json.loads(unknown.stderr)["error"]
    assert missing_topic.exit_code == 4
    assert "StaffAlertsTopicArn" in missing_topic.stderr


def test_local_and_stack_together_is_a_usage_error(bare: Cli) -> None:
    assert bare("list", "--local", "--stack", "clinic").exit_code == 2


def test_local_stack_not_running_exits_5(bare: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PORT", str(_free_port()))

    result = bare("--local", "list")

    assert result.exit_code == 5
    assert "make run" in result.stderr


def test_local_target_uses_the_local_stack_names(
    bare: Cli, stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a moto server on AWS_PORT holding resources named like `make run` names them."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        local = create_resources(aws.session(), prefix="clinic-leads-local")
        monkeypatch.setenv("AWS_PORT", str(port))

        listed = bare.json("--local", "list")
        failures = bare.json("--local", "dlq", "list")
        published = bare.json("--local", "alert-test")

        assert listed == {"leads": [], "count": 0, "truncated": False}
        assert failures == {"failures": [], "count": 0}
        assert published["topic_arn"] == local.topic_arn
        assert published["lead_id"].startswith("TEST-")
    finally:
        server.stop()


def test_local_smoke_says_which_address_did_not_answer(
    bare: Cli, stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_PORT answers (a moto server) but nothing listens on PORT: one sentence naming the address and
    `make run`, not a bare ``URLError``; exit code 5 (the endpoint cannot be reached)."""
    aws_port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)
    server.start()
    with socket.socket() as closed:  # bound, never listening: connecting to it is refused
        closed.bind(("127.0.0.1", 0))
        port = int(closed.getsockname()[1])
        monkeypatch.setenv("AWS_PORT", str(aws_port))
        monkeypatch.setenv("PORT", str(port))
        try:
            result = bare("--local", "smoke")
            as_json = bare("--local", "smoke", "--json")
        finally:
            server.stop()

    expected = (
        f"cannot reach the local stack at http://127.0.0.1:{port}: `make run` must be running "
        "(and PORT set to the port it printed, if not 3000)"
    )
    assert result.exit_code == 5
    assert result.stderr.strip() == f"Error: {expected}"
    assert "URLError" not in result.stderr
    assert as_json.exit_code == 5
    assert json.loads(as_json.stderr) == {"error": expected, "exit_code": 5}
    assert as_json.stdout == ""


API_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/consultations"


@pytest.mark.parametrize(
    ("outputs", "parameters", "environ", "expected"),
    [
        ({"ApiUrl": API_URL}, {}, {}, "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/"),
        (
            {"ApiUrl": API_URL, "StaffConsoleUrl": "https://care.example.org/staff/"},
            {},
            {},
            "https://care.example.org/staff/",
        ),
        (
            {"ApiUrl": API_URL, "StaffConsoleUrl": "https://care.example.org/staff/"},
            {"ConsoleUrl": "https://desk.example.org/staff"},
            {},
            "https://desk.example.org/staff/",
        ),
        (
            {"ApiUrl": API_URL},
            {},
            {"LEADS_CONSOLE_URL": "https://ops.example.org/staff/"},
            "https://ops.example.org/staff/",
        ),
    ],
)
def test_the_console_url_alerts_link_to_is_the_stacks(
    stack: Any, outputs: dict[str, str], parameters: dict[str, str], environ: dict[str, str], expected: str
) -> None:
    """As the deployed alert functions have it: the ConsoleUrl parameter, else the StaffConsoleUrl output,
    else the API's own /staff/; LEADS_CONSOLE_URL overrides."""
    with deployed("clinic-leads-prod", outputs, parameters=parameters):
        target = Target(TargetOptions(stack="clinic-leads-prod"), environ=environ)
        assert target.console_url() == expected


def test_the_local_console_url_and_a_bad_one(stack: Any, cli_env: dict[str, str | None]) -> None:
    assert Target(TargetOptions(local=True), environ={"PORT": "3600"}).console_url() == (
        "http://127.0.0.1:3600/staff/"
    )
    overridden = Target(TargetOptions(local=True), environ={"LEADS_CONSOLE_URL": "http://care.example.org/"})
    with pytest.raises(TargetError, match=r"CONSOLE_URL\) must be an https URL"):
        overridden.console_url()
    too_long = "https://" + "a" * 130 + ".org/staff/"
    with pytest.raises(TargetError, match=r"CONSOLE_URL\) is too long for a one-segment SMS"):
        Target(TargetOptions(local=True), environ={"LEADS_CONSOLE_URL": too_long}).console_url()

    bad = {**cli_env, "LEADS_CONSOLE_URL": "https://care.example.org/staff/?tab=new"}
    refused = Cli(CliRunner(env=bad))("alert-test")
    assert refused.exit_code == 4
    assert "CONSOLE_URL" in refused.stderr
    assert "tab=new" not in refused.stderr
