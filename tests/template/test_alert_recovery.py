"""Automatic recovery of failed alerts: ``ReplayAlertsFunction`` on a schedule, its least-privilege role and
log group, and the alarm that tells ops when a failed alert keeps failing (docs/alerts.md)."""

from __future__ import annotations

from typing import Any

from leads_local.template import scheduled_functions

from tests.template.sam import effective
from tests.template.test_template import (
    DATA_KEY_ARN,
    Template,
    actions,
    as_list,
    function_policy,
    of_type,
    props,
    statements_with,
)


def _schedule_events(template: Template, function_id: str) -> list[dict[str, Any]]:
    rules = of_type(template, "AWS::Events::Rule")
    return [
        r["Properties"]
        for r in rules.values()
        if any(t["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]} for t in r["Properties"]["Targets"])
    ]


def test_replay_function_runs_every_minute_and_the_local_stack_runs_it_too(dev: Template) -> None:
    [rule] = _schedule_events(dev, "ReplayAlertsFunction")
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule.get("State", "ENABLED") == "ENABLED"
    local = {f.logical_id: f for f in scheduled_functions()}
    assert local["ReplayAlertsFunction"].handler_module == "replay_alerts.app"


def test_replay_function_has_its_own_role_with_exactly_what_the_replay_calls(dev: Template) -> None:
    role = props(dev, "ReplayAlertsFunction")["Role"]["Fn::GetAtt"][0]
    assert role == "ReplayAlertsRole"
    assert "ManagedPolicyArns" not in props(dev, role)
    assert dev["Resources"]["ReplayAlertsFunction"]["DependsOn"] == "ReplayAlertsPolicy"
    statements = function_policy(dev, "ReplayAlertsFunction")
    assert actions(statements) == {
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",  # the storm digest reads the last windows (leads_core.storm)
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "sns:Publish",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    resources = {
        "dynamodb:GetItem": {"Fn::GetAtt": ["LeadsTable", "Arn"]},
        "dynamodb:GetRecords": {"Fn::GetAtt": ["LeadsTable", "StreamArn"]},
        "sns:Publish": {"Ref": "StaffAlertsTopic"},
        "sqs:DeleteMessage": {"Fn::GetAtt": ["AlertFailuresQueue", "Arn"]},
        "logs:PutLogEvents": {"Fn::GetAtt": ["ReplayAlertsLogGroup", "Arn"]},
    }
    for action, resource in resources.items():
        assert [s["Resource"] for s in statements_with(statements, action)] == [resource], action
    [kms] = statements_with(statements, "kms:Decrypt")
    assert kms["Resource"] == DATA_KEY_ARN
    assert kms["Condition"]["StringEquals"]["kms:ViaService"]
    for s in statements:
        if "*" in as_list(s["Resource"]):
            assert set(as_list(s["Action"])) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_replay_function_logs_to_its_own_encrypted_group_and_knows_the_queue_and_stream(
    dev: Template,
) -> None:
    p = props(dev, "ReplayAlertsFunction")
    assert p["LoggingConfig"]["LogGroup"] == {"Ref": "ReplayAlertsLogGroup"}
    group = props(dev, "ReplayAlertsLogGroup")
    assert group["KmsKeyId"] == DATA_KEY_ARN
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"} or isinstance(
        group["RetentionInDays"], int
    )
    env = p["Environment"]["Variables"]
    assert env["ALERT_FAILURES_QUEUE_URL"] == {"Ref": "AlertFailuresQueue"}
    assert env["ALERT_STREAM_ARN"] == {"Fn::GetAtt": ["LeadsTable", "StreamArn"]}
    assert env["TOPIC_ARN"] == {"Ref": "StaffAlertsTopic"}
    assert p["Handler"] == "replay_alerts.app.lambda_handler"
    # A run ends before its messages' receive visibility (120 s, leads_core.dlq) runs out.
    assert p["Timeout"] < 120


def test_an_alarm_fires_when_a_failed_alert_waits_longer_than_the_give_up_time() -> None:
    template = effective(AlertReplayGiveUpSeconds=900)
    alarm = props(template, "AlertReplayGaveUpAlarm")
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["AlertFailuresQueue", "QueueName"]}
    assert alarm["Threshold"] == 900
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]
    parameter = template["Parameters"]["AlertReplayGiveUpSeconds"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (1800, 300, 86400)
    assert props(effective(), "AlertReplayGaveUpAlarm")["Threshold"] == 1800


def test_replay_function_name_is_an_output(dev: Template) -> None:
    assert dev["Outputs"]["ReplayAlertsFunctionName"]["Value"] == {"Ref": "ReplayAlertsFunction"}
