"""The template's staff subscriptions: optional slots driven by the list parameters, and the urgent-only
filter policy proven on moto with two queues subscribed to the topic."""

from __future__ import annotations

from typing import Any

import pytest
from leads_local.template import load_template, resources_of_type
from send_alerts import app

from tests.alerts.conftest import AlertWorld, lambda_event

LIST_PARAMETERS = {
    "StaffEmails": "email",
    "StaffPhones": "sms",
    "UrgentPhones": "sms",
    "EscalationEmails": "email",
    "EscalationPhones": "sms",
}


def _evaluate(expression: Any, parameters: dict[str, list[str]], conditions: dict[str, Any]) -> Any:
    """Just enough of CloudFormation's intrinsic functions to evaluate the subscription conditions."""
    if isinstance(expression, list):
        return [_evaluate(item, parameters, conditions) for item in expression]
    if not isinstance(expression, dict):
        return expression
    [(name, args)] = expression.items()
    if name == "Ref":
        return parameters[args]
    if name == "Condition":
        return _evaluate(conditions[args], parameters, conditions)
    values = [_evaluate(a, parameters, conditions) for a in args] if isinstance(args, list) else args
    if name == "Fn::Not":
        return not values[0]
    if name == "Fn::Equals":
        return values[0] == values[1]
    if name == "Fn::Join":
        return values[0].join(values[1] if isinstance(values[1], list) else [values[1]])
    if name == "Fn::Split":
        return values[1].split(values[0])
    if name == "Fn::Select":
        return values[1][int(values[0])]  # IndexError would be a failed deployment
    raise AssertionError(f"unexpected function {name}")


def _subscriptions_for(parameters: dict[str, list[str]]) -> list[tuple[str, str, Any]]:
    """(protocol, endpoint, filter policy) of every subscription the stack would create."""
    template = load_template()
    conditions = template["Conditions"]
    parameters = {name: [""] for name in LIST_PARAMETERS} | parameters  # unset: CloudFormation reads [""]
    created = []
    for resource in resources_of_type("AWS::SNS::Subscription").values():
        props = resource["Properties"]
        if props.get("TopicArn") != {"Ref": "StaffAlertsTopic"}:
            continue
        if not _evaluate({"Condition": resource["Condition"]}, parameters, conditions):
            continue
        endpoint = _evaluate(props["Endpoint"], parameters, conditions)
        created.append((props["Protocol"], endpoint, props.get("FilterPolicy")))
    return sorted(created, key=lambda s: (s[0], s[1]))


def test_list_parameters_default_to_empty() -> None:
    parameters = load_template()["Parameters"]
    for name in LIST_PARAMETERS:
        assert parameters[name]["Type"] == "CommaDelimitedList"
        assert parameters[name]["Default"] == ""


def test_empty_lists_create_no_subscription() -> None:
    # CloudFormation reads the "" default of a CommaDelimitedList as [""].
    assert _subscriptions_for({name: [""] for name in LIST_PARAMETERS}) == []


@pytest.mark.parametrize("count", [1, 2, 5])
def test_each_listed_recipient_gets_one_subscription(count: int) -> None:
    emails = [f"staff{i}@example-clinic.com" for i in range(count)]
    phones = [f"+1630555010{i}" for i in range(count)]
    urgent = ["+16305550999"]
    created = _subscriptions_for({"StaffEmails": emails, "StaffPhones": phones, "UrgentPhones": urgent})

    assert [s[1] for s in created if s[0] == "email"] == sorted(emails)
    assert sorted(s[1] for s in created if s[0] == "sms" and s[2] == {"sms": ["send"]}) == sorted(phones)
    assert [(s[1], s[2]) for s in created if s[2] is not None and "priority" in s[2]] == [
        ("+16305550999", {"priority": ["urgent"], "sms": ["send"]})
    ]


def _urgent_filter_policy() -> dict[str, Any]:
    policies = {
        str(r["Properties"]["Endpoint"]["Fn::Select"][1]["Ref"]): r["Properties"].get("FilterPolicy")
        for r in resources_of_type("AWS::SNS::Subscription").values()
        if r["Properties"].get("TopicArn") == {"Ref": "StaffAlertsTopic"}
    }
    assert policies["StaffEmails"] is None
    assert policies["StaffPhones"] == {"sms": ["send"]}  # the storm guard's hold (tests/alerts/test_storm.py)
    policy = policies["UrgentPhones"]
    assert policy == {"priority": ["urgent"], "sms": ["send"]}
    return policy


def test_urgent_phones_receive_only_urgent_alerts(alert_world: AlertWorld, lambda_context: Any) -> None:
    urgent_queue = alert_world.subscribe_queue("test-urgent-phones", filter_policy=_urgent_filter_policy())
    normal = alert_world.put_lead()
    urgent = alert_world.put_lead(urgent=True, in_crisis=True)

    assert app.lambda_handler(lambda_event(alert_world.new_stream_records()), lambda_context) == {
        "batchItemFailures": []
    }

    everyone = [e["MessageAttributes"]["lead_id"]["Value"] for e in alert_world.inbox()]
    only_urgent = [e["MessageAttributes"]["lead_id"]["Value"] for e in alert_world.inbox(urgent_queue)]
    assert sorted(everyone) == sorted([normal["id"], urgent["id"]])
    assert only_urgent == [urgent["id"]]
