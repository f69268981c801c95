"""``leads subscriptions`` and ``leads subscriptions confirm URL`` through the real CLI against moto.

moto confirms and authenticates every subscription at once; the states real SNS reports for a subscription
waiting for its confirmation or confirmed through the email's link are set on moto's record of it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from leads_cli.main import cli
from leads_core import aws
from leads_local.template import create_subscriptions, resource
from moto.sns.models import sns_backends

from .conftest import CallLog, Cli, audit_items

EMAIL = "morgan.lee@clinic-staff.example.com"
SECOND_EMAIL = "front.desk@clinic-staff.example.com"
PHONE = "+16305550142"
URGENT = "+16305550177"
TOKEN = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad0"


@pytest.fixture
def recipients(stack: Any, cli_env: dict[str, str | None]) -> dict[str, str]:
    """Two emails, a phone and an urgent phone configured (environment), subscribed as the template does."""
    cli_env.update(
        {"STAFF_EMAILS": f"{EMAIL},{SECOND_EMAIL}", "STAFF_PHONES": PHONE, "URGENT_PHONES": URGENT}
    )
    return create_subscriptions(
        aws.client("sns"),
        stack.topic_arn,
        {"StaffEmails": [EMAIL, SECOND_EMAIL], "StaffPhones": [PHONE], "UrgentPhones": [URGENT]},
    )


def _moto_attributes(arn: str, **attributes: Any) -> None:
    sns_backends["123456789012"]["us-east-1"].subscriptions[arn].attributes.update(attributes)


def _link(topic_arn: str, **overrides: str) -> str:
    query = {"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": TOKEN, **overrides}
    return f"https://sns.us-east-1.amazonaws.com/?{urlencode(query)}"


def test_all_confirmed_listed_masked(leads: Cli, recipients: dict[str, str]) -> None:
    result = leads.json("subscriptions")

    assert [(s["source"], s["protocol"], s["endpoint"], s["state"]) for s in result["subscriptions"]] == [
        ("StaffEmails", "email", "m***@clinic-staff.example.com", "confirmed"),
        ("StaffEmails", "email", "f***@clinic-staff.example.com", "confirmed"),
        ("StaffPhones", "sms", "+1******0142", "confirmed"),
        ("UrgentPhones", "sms", "+1******0177", "confirmed"),
    ]
    template_policy = resource("UrgentPhoneSubscription1")["Properties"]["FilterPolicy"]
    assert result["subscriptions"][3]["filter_policy"] == template_policy
    assert template_policy["priority"] == ["urgent"]
    assert result["unhealthy"] == 0


def test_each_problem_has_its_state_and_what_to_do(leads: Cli, recipients: dict[str, str]) -> None:
    aws.client("sns").unsubscribe(SubscriptionArn=recipients["StaffEmailSubscription1"])  # a mail scanner
    _moto_attributes(recipients["StaffEmailSubscription2"], ConfirmationWasAuthenticated="false")
    _moto_attributes(recipients["UrgentPhoneSubscription1"], PendingConfirmation="true")

    result = leads.json("subscriptions")
    human = leads("subscriptions")

    assert [s["state"] for s in result["subscriptions"]] == [
        "missing",
        "unauthenticated-unsubscribe",
        "confirmed",
        "pending",
    ]
    assert result["counts"] == {"confirmed": 1, "pending": 1, "missing": 1, "unauthenticated-unsubscribe": 1}
    assert result["unhealthy"] == 3
    assert human.exit_code == 0
    for state in ("missing", "unauthenticated-unsubscribe", "pending", "leads subscriptions confirm URL"):
        assert state in human.stdout
    assert "4 configured, 3 need attention" in " ".join(human.stdout.split())
    for output in (human.stdout, json.dumps(result)):
        for value in (EMAIL, SECOND_EMAIL, PHONE, URGENT, "morgan.lee", "5550142"):
            assert value not in output


def test_other_subscriptions_are_counted_not_listed(
    leads: Cli, recipients: dict[str, str], stack: Any
) -> None:
    aws.client("sns").subscribe(TopicArn=stack.topic_arn, Protocol="email", Endpoint="someone@else.example")
    result = leads.json("subscriptions")
    assert result["other_subscriptions"] == {"email": 1}
    assert "someone" not in json.dumps(result)


def test_nothing_configured_says_so(leads: Cli, stack: Any) -> None:
    result = leads("subscriptions")
    assert result.exit_code == 0
    assert "No alert recipients are configured" in result.stdout
    assert leads.json("subscriptions")["subscriptions"] == []


@contextmanager
def _deployed(name: str, stack: Any, parameters: dict[str, str]) -> Iterator[None]:
    """``DescribeStacks`` of a deployed stack with list parameters (a CommaDelimitedList is one string)."""
    client = aws.client("cloudformation")
    description = {
        "StackName": name,
        "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/0",
        "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Outputs": [{"OutputKey": "StaffAlertsTopicArn", "OutputValue": stack.topic_arn}],
    }
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", {"Stacks": [description]}, {"StackName": name})
        yield
        stubber.assert_no_pending_responses()


def test_a_deployed_stack_is_compared_with_its_parameters(stack: Any, recipients: dict[str, str]) -> None:
    # The environment names other endpoints: the stack's parameters win for a deployed stack.
    runner = CliRunner(env={"LEADS_STACK": None, "LEADS_TOPIC_ARN": None, "STAFF_EMAILS": "x@y.example"})
    with _deployed(
        "clinic-prod", stack, {"StaffEmails": f"{EMAIL},gone@clinic-staff.example.com", "StaffPhones": PHONE}
    ):
        result = runner.invoke(
            cli, ["--stack", "clinic-prod", "subscriptions", "--json"], catch_exceptions=False
        )
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)["subscriptions"]
    assert [(s["source"], s["endpoint"], s["state"]) for s in listed] == [
        ("StaffEmails", "m***@clinic-staff.example.com", "confirmed"),
        ("StaffEmails", "g***@clinic-staff.example.com", "missing"),
        ("StaffPhones", "+1******0142", "confirmed"),
    ]


# ------------------------------------------------------------------------------------------ confirm


@pytest.fixture
def confirm_calls(stack: Any) -> Iterator[list[dict[str, Any]]]:
    """The parameters of every ConfirmSubscription the CLI sends (moto accepts and ignores them)."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    client = aws.client("sns")
    client.meta.events.register("provide-client-params.sns.ConfirmSubscription", record)
    yield seen
    client.meta.events.unregister("provide-client-params.sns.ConfirmSubscription", record)


def test_confirm_from_the_emails_link_requires_credentials_to_unsubscribe(
    leads: Cli,
    stack: Any,
    confirm_calls: list[dict[str, Any]],
    table_items: Callable[[], list[dict[str, Any]]],
) -> None:
    result = leads.json("subscriptions", "confirm", _link(stack.topic_arn))

    assert confirm_calls == [
        {"TopicArn": stack.topic_arn, "Token": TOKEN, "AuthenticateOnUnsubscribe": "true"}
    ]
    assert result["authenticate_on_unsubscribe"] is True
    assert result["subscription_arn"].startswith(stack.topic_arn + ":")
    human = leads("subscriptions", "confirm", TOKEN)  # the token alone works too
    assert human.exit_code == 0
    assert "requires AWS credentials" in human.stdout
    assert len(confirm_calls) == 2
    audited = [(a["action"], a["target"], a["count"]) for a in audit_items(table_items())]
    assert audited == [("subscription_confirm", result["subscription_arn"], 1)] * 2


@pytest.mark.parametrize(
    ("link", "message"),
    [
        (lambda topic: _link(topic, Action="Unsubscribe"), "not a ConfirmSubscription link"),
        (lambda topic: _link(topic, TopicArn=topic + "-other"), "another topic"),
        (lambda topic: _link(topic).replace("amazonaws.com", "amazonaws.com.example.net"), "not an SNS link"),
        (lambda topic: _link(topic, Token=""), "no Token"),
        (lambda topic: "https://safelinks.protection.outlook.com/?url=x", "not an SNS link"),
    ],
)
def test_anything_but_this_topics_confirmation_link_exits_9(
    leads: Cli, stack: Any, aws_calls: CallLog, link: Any, message: str
) -> None:
    result = leads("subscriptions", "confirm", link(stack.topic_arn), "--json")

    assert result.exit_code == 9
    error = json.loads(result.stderr)
    assert error["exit_code"] == 9
    assert message in error["error"]
    assert aws_calls.count("sns.ConfirmSubscription") == 0
    assert result.stdout == ""


def test_a_token_sns_refuses_exits_9(leads: Cli, stack: Any) -> None:
    with Stubber(aws.client("sns")) as stub:
        stub.add_client_error(
            "confirm_subscription",
            "InvalidParameter",
            "Invalid parameter: Token",
            400,
            expected_params={
                "TopicArn": stack.topic_arn,
                "Token": TOKEN,
                "AuthenticateOnUnsubscribe": "true",
            },
        )
        result = leads("subscriptions", "confirm", _link(stack.topic_arn))
    assert result.exit_code == 9
    assert "expired" in result.stderr


def test_exit_code_9_is_documented(leads: Cli) -> None:
    assert "9  refused: not an SNS confirmation link" in leads("subscriptions", "--help").stdout
