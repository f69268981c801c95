"""The local stack subscribes its demo recipients as the template's subscriptions do, and runs the scheduled
subscription check; ``leads --local subscriptions`` compares with the same recipients."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from leads_local.stack import LOCAL_ENDPOINT_DEFAULTS, LocalStack
from leads_local.template import resource

from tests.conftest import local_cli_json

pytestmark = pytest.mark.stack

CHECK = "CheckSubscriptionsFunction"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    saved = {name: os.environ.pop(name, None) for name in LOCAL_ENDPOINT_DEFAULTS}
    stack = LocalStack(port=0, aws_port=0, schedule_seconds=0, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
    assert "STAFF_EMAILS" not in os.environ  # the stack put the environment back


def _sns(local: LocalStack) -> Any:
    return boto3.client(
        "sns",
        endpoint_url=local.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _cli_json(local: LocalStack, *args: str) -> Any:
    return local_cli_json(local.aws_port, *args)


def test_demo_recipients_are_subscribed_like_the_template_does(local: LocalStack) -> None:
    assert local.resources is not None
    assert set(local.resources.subscriptions) == {
        "StaffEmailSubscription1",
        "StaffPhoneSubscription1",
        "UrgentPhoneSubscription1",
        "EscalationEmailSubscription1",
    }
    sns = _sns(local)
    listed = sns.list_subscriptions_by_topic(TopicArn=local.resources.topic_arn)["Subscriptions"]
    mine = {(s["Protocol"], s["Endpoint"]) for s in listed if s["Protocol"] != "sqs"}
    assert mine == {
        ("email", LOCAL_ENDPOINT_DEFAULTS["STAFF_EMAILS"]),
        ("sms", LOCAL_ENDPOINT_DEFAULTS["STAFF_PHONES"]),
        ("sms", LOCAL_ENDPOINT_DEFAULTS["URGENT_PHONES"]),
        ("email", LOCAL_ENDPOINT_DEFAULTS["ESCALATION_EMAILS"]),
    }
    urgent = sns.get_subscription_attributes(
        SubscriptionArn=local.resources.subscriptions["UrgentPhoneSubscription1"]
    )
    template_policy = resource("UrgentPhoneSubscription1")["Properties"]["FilterPolicy"]
    assert json.loads(urgent["Attributes"]["FilterPolicy"]) == template_policy
    assert template_policy["priority"] == ["urgent"]


def test_the_scheduled_check_reports_an_unsubscribed_email(local: LocalStack) -> None:
    assert local.resources is not None
    local.run_scheduled_functions()
    assert local.scheduled_result(CHECK)["unhealthy"] == 0
    assert [s["state"] for s in _cli_json(local, "subscriptions")["subscriptions"]] == ["confirmed"] * 4

    _sns(local).unsubscribe(SubscriptionArn=local.resources.subscriptions["StaffEmailSubscription1"])
    local.run_scheduled_functions()

    result = local.scheduled_result(CHECK)
    assert result["unhealthy"] == 1
    assert result["counts"]["missing"] == 1
    listed = _cli_json(local, "subscriptions")["subscriptions"]
    assert [(s["source"], s["endpoint"], s["state"]) for s in listed] == [
        ("StaffEmails", "f***@example.com", "missing"),
        ("StaffPhones", "+1******0100", "confirmed"),
        ("UrgentPhones", "+1******0199", "confirmed"),
        ("EscalationEmails", "m***@example.com", "confirmed"),
    ]
    assert local.health()["scheduled"][CHECK]["errors"] == 0
