"""Security and operations properties of template.yaml, asserted on the transformed template.

Each test pins one property the security review relies on; removing that property from the template makes
the test fail. Parameter-dependent properties are checked for the deployment flavour that turns them on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from leads_local.template import stream_event_source

from tests.template.conftest import EXISTING_KEY_ARN
from tests.template.sam import effective

Template = dict[str, Any]
Statement = dict[str, Any]

DATA_KEY_ARN = {"Fn::GetAtt": ["DataKey", "Arn"]}


def of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def props(template: Template, logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy document in the template: IAM, key, topic and queue policies."""
    for logical_id, res in template["Resources"].items():
        p = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Policy":
            yield logical_id, p["PolicyDocument"]
        elif res["Type"] == "AWS::IAM::Role":
            yield f"{logical_id}.AssumeRolePolicyDocument", p["AssumeRolePolicyDocument"]
            for inline in p.get("Policies", []):
                yield f"{logical_id}.{inline['PolicyName']}", inline["PolicyDocument"]
        elif res["Type"] == "AWS::KMS::Key":
            yield logical_id, p["KeyPolicy"]
        elif res["Type"] in {"AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"}:
            yield logical_id, p["PolicyDocument"]


def function_policy(template: Template, function_id: str) -> list[Statement]:
    """Statements of every IAM policy attached to the function's role."""
    role = props(template, function_id)["Role"]["Fn::GetAtt"][0]
    statements: list[Statement] = []
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for inline in props(template, role).get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    return statements


def actions(statements: list[Statement]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def statements_with(statements: list[Statement], action: str) -> list[Statement]:
    return [s for s in statements if action in as_list(s["Action"]) and s["Effect"] == "Allow"]


# --- least privilege ------------------------------------------------------------------------------


def test_no_allow_statement_anywhere_uses_a_wildcard_action(dev: Template) -> None:
    offenders = [
        (where, action)
        for where, doc in policy_documents(dev)
        for s in doc["Statement"]
        if s["Effect"] == "Allow"
        for action in as_list(s["Action"])
        if "*" in action
    ]
    assert offenders == []


def test_function_permissions_are_scoped_to_resources_except_xray(dev: Template) -> None:
    for function_id in ("SubmitConsultationFunction", "SendAlertsFunction"):
        for s in function_policy(dev, function_id):
            if s["Resource"] == "*" or "*" in as_list(s["Resource"]):
                assert set(as_list(s["Action"])) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, s


def test_each_function_has_its_own_role_without_managed_policies(dev: Template) -> None:
    roles = [
        props(dev, f)["Role"]["Fn::GetAtt"][0] for f in ("SubmitConsultationFunction", "SendAlertsFunction")
    ]
    assert len(set(roles)) == 2
    for role in roles:
        assert "ManagedPolicyArns" not in props(dev, role)
        principal = props(dev, role)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        assert principal == {"Service": "lambda.amazonaws.com"}


def test_functions_wait_for_their_policy_before_the_event_source_mapping_is_created(dev: Template) -> None:
    assert dev["Resources"]["SubmitConsultationFunction"]["DependsOn"] == "SubmitConsultationPolicy"
    assert dev["Resources"]["SendAlertsFunction"]["DependsOn"] == "SendAlertsPolicy"


def test_submit_role_has_only_the_transaction_item_actions_on_the_table(dev: Template) -> None:
    statements = function_policy(dev, "SubmitConsultationFunction")
    dynamodb = {a for a in actions(statements) if a.startswith("dynamodb:")}
    # TransactWriteItems is authorized per item (Put, Update, ConditionCheck); GetItem reads a duplicate.
    assert dynamodb == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
    }
    for action in dynamodb:
        assert [s["Resource"] for s in statements_with(statements, action)] == [
            {"Fn::GetAtt": ["LeadsTable", "Arn"]}
        ]


def test_submit_role_reads_only_the_hash_key_secret(dev: Template) -> None:
    statements = function_policy(dev, "SubmitConsultationFunction")
    [secret] = statements_with(statements, "secretsmanager:GetSecretValue")
    assert secret["Resource"] == {"Ref": "HashKeySecret"}
    assert {a for a in actions(statements) if a.startswith("secretsmanager:")} == {
        "secretsmanager:GetSecretValue"
    }


def test_captcha_parameter_is_readable_only_when_a_provider_is_configured(dev: Template) -> None:
    assert not [
        a for a in actions(function_policy(dev, "SubmitConsultationFunction")) if a.startswith("ssm:")
    ]
    with_captcha = effective(CaptchaProvider="turnstile", CaptchaSecretParameter="/clinic/captcha")
    statements = function_policy(with_captcha, "SubmitConsultationFunction")
    [ssm] = statements_with(statements, "ssm:GetParameter")
    assert as_list(ssm["Action"]) == ["ssm:GetParameter"]
    assert ssm["Resource"]["Fn::Sub"].endswith(":parameter${CaptchaSecretParameter}")


def test_alert_role_has_exactly_what_the_alert_path_calls(dev: Template) -> None:
    statements = function_policy(dev, "SendAlertsFunction")
    assert actions(statements) == {
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "sns:Publish",
        "sqs:SendMessage",
        "events:PutEvents",  # LeadReceived (docs/speed-to-lead.md)
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    assert statements_with(statements, "sns:Publish")[0]["Resource"] == {"Ref": "StaffAlertsTopic"}
    bus = {"Fn::GetAtt": ["LeadEventsBus", "Arn"]}
    assert statements_with(statements, "events:PutEvents")[0]["Resource"] == bus
    assert statements_with(statements, "sqs:SendMessage")[0]["Resource"] == {
        "Fn::GetAtt": ["AlertFailuresQueue", "Arn"]
    }
    assert statements_with(statements, "dynamodb:GetRecords")[0]["Resource"] == {
        "Fn::GetAtt": ["LeadsTable", "StreamArn"]
    }


def test_function_key_use_is_limited_to_the_data_key_through_named_services(dev: Template) -> None:
    for function_id in ("SubmitConsultationFunction", "SendAlertsFunction"):
        [kms] = statements_with(function_policy(dev, function_id), "kms:Decrypt")
        assert kms["Resource"] == DATA_KEY_ARN
        assert kms["Condition"]["StringEquals"]["kms:ViaService"]


# --- encryption -----------------------------------------------------------------------------------


def encrypted_resources(template: Template) -> dict[str, Any]:
    return {
        "LeadsTable": props(template, "LeadsTable")["SSESpecification"].get("KMSMasterKeyId"),
        "StaffAlertsTopic": props(template, "StaffAlertsTopic").get("KmsMasterKeyId"),
        "OpsAlarmsTopic": props(template, "OpsAlarmsTopic").get("KmsMasterKeyId"),
        "AlertFailuresQueue": props(template, "AlertFailuresQueue").get("KmsMasterKeyId"),
        "HashKeySecret": props(template, "HashKeySecret").get("KmsKeyId"),
        **{k: v["Properties"].get("KmsKeyId") for k, v in of_type(template, "AWS::Logs::LogGroup").items()},
    }


def test_table_topics_queue_secret_and_logs_use_the_stack_key(dev: Template) -> None:
    assert props(dev, "LeadsTable")["SSESpecification"]["SSEEnabled"] is True
    assert props(dev, "LeadsTable")["SSESpecification"]["SSEType"] == "KMS"
    keys = encrypted_resources(dev)
    assert len(keys) == 12  # table, 2 topics, queue, secret, 7 log groups
    assert {name: key for name, key in keys.items() if key != DATA_KEY_ARN} == {}


def test_an_existing_key_replaces_the_stack_key_everywhere() -> None:
    template = effective(ExistingKmsKeyArn=EXISTING_KEY_ARN)
    assert "DataKey" not in template["Resources"]
    assert set(encrypted_resources(template).values()) == {EXISTING_KEY_ARN}


def test_key_rotates_and_its_policy_names_only_the_expected_principals(dev: Template) -> None:
    key = props(dev, "DataKey")
    assert key["EnableKeyRotation"] is True
    principals: set[str] = set()
    for s in key["KeyPolicy"]["Statement"]:
        assert s["Effect"] == "Allow"
        principal = s["Principal"]
        principals.update(json.dumps(p, sort_keys=True) for p in as_list(principal.get("AWS", [])))
        principals.update(json.dumps(p, sort_keys=True) for p in as_list(principal.get("Service", [])))
    assert principals == {
        json.dumps({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}),
        json.dumps({"Fn::GetAtt": ["SubmitConsultationRole", "Arn"]}),
        json.dumps({"Fn::GetAtt": ["SendAlertsRole", "Arn"]}),
        json.dumps({"Fn::GetAtt": ["StaffApiRole", "Arn"]}),
        json.dumps("cloudwatch.amazonaws.com"),
        json.dumps({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}),
    }


def test_account_principals_use_the_key_only_through_the_lead_services(dev: Template) -> None:
    crypto = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
    for s in props(dev, "DataKey")["KeyPolicy"]["Statement"]:
        if crypto & set(as_list(s["Action"])) and "AWS" in s["Principal"]:
            assert s["Condition"]["StringEquals"]["kms:ViaService"], s["Sid"]
        if "Service" in s["Principal"]:
            assert s["Condition"], s[
                "Sid"
            ]  # services only for this account's alarms / this stack's log groups


def test_key_secret_and_table_survive_stack_deletion(dev: Template) -> None:
    for logical_id in ("DataKey", "HashKeySecret", "LeadsTable"):
        assert dev["Resources"][logical_id]["DeletionPolicy"] == "Retain", logical_id
        assert dev["Resources"][logical_id]["UpdateReplacePolicy"] == "Retain", logical_id


# --- data lifecycle -------------------------------------------------------------------------------


def test_table_has_point_in_time_recovery(dev: Template) -> None:
    assert props(dev, "LeadsTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_table_expires_items_by_the_ttl_attribute(dev: Template) -> None:
    assert props(dev, "LeadsTable")["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_table_stream_carries_new_images(dev: Template) -> None:
    assert props(dev, "LeadsTable")["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_prod_turns_on_deletion_protection_and_dev_does_not(dev: Template, prod: Template) -> None:
    assert props(prod, "LeadsTable")["DeletionProtectionEnabled"] is True
    assert props(dev, "LeadsTable")["DeletionProtectionEnabled"] is False


# --- transport ------------------------------------------------------------------------------------


def denies_insecure_transport(template: Template, policy_id: str, action: str) -> bool:
    for s in props(template, policy_id)["PolicyDocument"]["Statement"]:
        if (
            s["Effect"] == "Deny"
            and s["Principal"] == "*"
            and action in as_list(s["Action"])
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ):
            return True
    return False


def test_topics_deny_publishing_without_tls(dev: Template) -> None:
    assert denies_insecure_transport(dev, "StaffAlertsTopicPolicy", "sns:Publish")
    assert denies_insecure_transport(dev, "OpsAlarmsTopicPolicy", "sns:Publish")


def test_failure_queue_denies_access_without_tls(dev: Template) -> None:
    assert denies_insecure_transport(dev, "AlertFailuresQueuePolicy", "sqs:*")


def stage(template: Template) -> dict[str, Any]:
    [(_, res)] = of_type(template, "AWS::ApiGateway::Stage").items()
    return res["Properties"]


def test_stage_throttling_comes_from_the_parameters() -> None:
    template = effective(ThrottlingRateLimit=7, ThrottlingBurstLimit=9)
    [settings] = stage(template)["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (7, 9)


def test_access_log_is_json_metadata_without_body_query_or_client_identity(dev: Template) -> None:
    access = stage(dev)["AccessLogSetting"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(access["Format"])
    values = set(fields.values())
    for needed in (
        "requestId",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLatency",
        "integrationLatency",
    ):
        assert f"$context.{needed}" in values, needed
    assert all(re.fullmatch(r"\$context\.[A-Za-z.]+", v) for v in values)  # nothing but context variables
    forbidden = ("$input", "body", "querystring", "identity.", "path", "requestOverride")
    assert [v for v in values if any(f in v.replace("resourcePath", "") for f in forbidden)] == []


def test_execution_logs_and_data_trace_are_off(dev: Template) -> None:
    [settings] = stage(dev)["MethodSettings"]
    assert settings["DataTraceEnabled"] is False
    assert settings["LoggingLevel"] == "OFF"


def test_functions_are_traced_with_xray_and_the_stage_is_not(dev: Template) -> None:
    assert stage(dev)["TracingEnabled"] is False  # visitor IP and user agent (test_least_privilege.py)
    for function in of_type(dev, "AWS::Lambda::Function").values():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_waf_is_absent_unless_enabled(dev: Template) -> None:
    assert not of_type(dev, "AWS::WAFv2::WebACL")
    assert not of_type(dev, "AWS::WAFv2::WebACLAssociation")


def test_waf_rate_limits_per_ip_and_runs_the_managed_rule_groups() -> None:
    template = effective(EnableWaf="true", WafRateLimitPer5Minutes=150)
    [acl] = of_type(template, "AWS::WAFv2::WebACL").values()
    rules = acl["Properties"]["Rules"]
    [rate] = [r["Statement"]["RateBasedStatement"] for r in rules if "RateBasedStatement" in r["Statement"]]
    assert (rate["AggregateKeyType"], rate["Limit"]) == ("IP", 150)
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in rules
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    [association] = of_type(template, "AWS::WAFv2::WebACLAssociation").values()
    assert "/stages/${ConsultationsApiv1Stage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]


# --- operations -----------------------------------------------------------------------------------


def alarm_metrics(template: Template) -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        subject = json.dumps(p["Dimensions"][0]["Value"], sort_keys=True)
        found[(p["Namespace"], p["MetricName"], subject)] = p
    return found


def test_alarms_watch_the_service_and_notify_the_ops_topic(dev: Template) -> None:
    submit, alerts = (
        json.dumps({"Ref": "SubmitConsultationFunction"}),
        json.dumps({"Ref": "SendAlertsFunction"}),
    )
    queue = json.dumps({"Fn::GetAtt": ["AlertFailuresQueue", "QueueName"]}, sort_keys=True)
    expected = {
        ("AWS/ApiGateway", "5XXError", json.dumps({"Fn::Sub": "${AWS::StackName}-consultations"})),
        ("AWS/Lambda", "Errors", submit),
        ("AWS/Lambda", "Throttles", submit),
        ("AWS/Lambda", "Errors", alerts),
        ("AWS/Lambda", "Throttles", alerts),
        ("AWS/Lambda", "IteratorAge", alerts),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue),
        ("ClinicLeads", "AlertLag", json.dumps("clinic-leads")),
        ("ClinicLeads", "UnhealthySubscriptions", json.dumps("clinic-leads")),
        ("ClinicLeads", "LeadsUnansweredPastTwiceSla", json.dumps("clinic-leads")),
        (
            "AWS/SNS",
            "NumberOfNotificationsFailed",
            json.dumps({"Fn::GetAtt": ["StaffAlertsTopic", "TopicName"]}),
        ),
        ("AWS/SNS", "SMSSuccessRate", json.dumps("US")),
    }
    alarms = alarm_metrics(dev)
    assert set(alarms) == expected
    for p in alarms.values():
        assert p["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]


def test_5xx_alarm_is_a_rate_and_alert_lag_uses_the_powertools_service_dimension(dev: Template) -> None:
    alarms = {k[1]: v for k, v in alarm_metrics(dev).items()}
    assert alarms["5XXError"]["Statistic"] == "Average"  # mean of 0/1 per request = error rate
    assert alarms["5XXError"]["Threshold"] < 1
    assert alarms["AlertLag"]["Dimensions"] == [{"Name": "service", "Value": "clinic-leads"}]
    assert alarms["ApproximateNumberOfMessagesVisible"]["Threshold"] == 0


def test_ops_email_is_subscribed_only_when_given(dev: Template) -> None:
    def ops_subscriptions(template: Template) -> list[dict[str, Any]]:
        subscriptions = of_type(template, "AWS::SNS::Subscription").values()
        return [s for s in subscriptions if s["Properties"]["TopicArn"] == {"Ref": "OpsAlarmsTopic"}]

    assert ops_subscriptions(dev) == []
    [sub] = ops_subscriptions(effective(OpsEmail="ops@example.org"))
    assert sub["Properties"] == {
        "TopicArn": {"Ref": "OpsAlarmsTopic"},
        "Protocol": "email",
        "Endpoint": "ops@example.org",
    }


def test_cloudwatch_may_publish_to_the_ops_topic_only_for_this_accounts_alarms(dev: Template) -> None:
    [allow] = [
        s for s in props(dev, "OpsAlarmsTopicPolicy")["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_dashboard_shows_leads_spam_urgent_lag_5xx_and_failure_queue(dev: Template) -> None:
    [dashboard] = of_type(dev, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(re.sub(r"\$\{[^}]+\}", "X", dashboard["Properties"]["DashboardBody"]["Fn::Sub"]))
    shown = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"] if m[0] != "..."}
    assert {"LeadAccepted", "SpamQuarantined", "UrgentLead", "AlertLag", "5XXError"} <= shown
    assert "ApproximateNumberOfMessagesVisible" in shown
    assert {
        "AlertPublished",
        "AlertFailed",
        "AlertStormDigests",
        "UnhealthySubscriptions",
        "CaptchaUnverified",
    } <= shown


def test_every_log_group_has_the_configured_retention(dev: Template) -> None:
    template = effective(LogRetentionDays=30)
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert set(groups) == {
        "SubmitConsultationLogGroup",
        "SendAlertsLogGroup",
        "ApiAccessLogGroup",
        "CheckSubscriptionsLogGroup",
        "ReplayAlertsLogGroup",
        "SweepLeadsLogGroup",
        "StaffApiLogGroup",
    }
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {30}
    for function_id, group in (
        ("SubmitConsultationFunction", "SubmitConsultationLogGroup"),
        ("SendAlertsFunction", "SendAlertsLogGroup"),
    ):
        assert props(dev, function_id)["LoggingConfig"]["LogGroup"] == {"Ref": group}
        [logs] = statements_with(function_policy(dev, function_id), "logs:PutLogEvents")
        assert logs["Resource"] == {"Fn::GetAtt": [group, "Arn"]}


def test_reserved_concurrency_is_unset_by_default_and_follows_the_parameters(dev: Template) -> None:
    assert "ReservedConcurrentExecutions" not in props(dev, "SubmitConsultationFunction")
    assert "ReservedConcurrentExecutions" not in props(dev, "SendAlertsFunction")
    template = effective(SubmitReservedConcurrency=5, AlertsReservedConcurrency=2)
    assert props(template, "SubmitConsultationFunction")["ReservedConcurrentExecutions"] == 5
    assert props(template, "SendAlertsFunction")["ReservedConcurrentExecutions"] == 2


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("FunctionResponseTypes", ["ReportBatchItemFailures"]),
        ("BisectBatchOnFunctionError", True),
        ("DestinationConfig", {"OnFailure": {"Destination": {"Fn::GetAtt": ["AlertFailuresQueue", "Arn"]}}}),
    ],
)
def test_stream_mapping_setting(dev: Template, setting: str, expected: Any) -> None:
    [mapping] = of_type(dev, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"][setting] == expected


def test_stream_mapping_retries_and_record_age_are_finite(dev: Template) -> None:
    [mapping] = of_type(dev, "AWS::Lambda::EventSourceMapping").values()
    p = mapping["Properties"]
    assert 0 <= p["MaximumRetryAttempts"] <= 10
    assert 60 <= p["MaximumRecordAgeInSeconds"] <= 86400  # -1 (default) would retry until the record expires
    assert p["EventSourceArn"] == {"Fn::GetAtt": ["LeadsTable", "StreamArn"]}


def test_local_stack_reads_the_same_event_source_settings(dev: Template) -> None:
    [mapping] = of_type(dev, "AWS::Lambda::EventSourceMapping").values()
    local = stream_event_source()
    p = mapping["Properties"]
    assert (local.batch_size, local.maximum_retry_attempts, local.maximum_record_age_seconds) == (
        p["BatchSize"],
        p["MaximumRetryAttempts"],
        p["MaximumRecordAgeInSeconds"],
    )
    assert local.on_failure_queue_logical_id == "AlertFailuresQueue"


def test_a_new_lead_waits_for_no_batching_window(dev: Template) -> None:
    # Speed to lead: a lone lead's alert goes out at the first read of the stream, not a window later.
    [mapping] = of_type(dev, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"].get("MaximumBatchingWindowInSeconds", 0) == 0
    assert stream_event_source().batching_window_seconds == 0


def test_outputs_keep_their_names(dev: Template) -> None:
    assert {
        "ApiUrl",
        "LeadsTableName",
        "LeadsTableStreamArn",
        "StaffAlertsTopicArn",
        "AlertFailuresQueueUrl",
        "HashKeySecretArn",
    } <= set(dev["Outputs"])


def test_api_gateway_account_logging_role_is_opt_in_and_the_api_waits_for_it(dev: Template) -> None:
    assert not of_type(dev, "AWS::ApiGateway::Account")
    template = effective(CreateApiGatewayAccountRole="true")
    [(account_id, account)] = of_type(template, "AWS::ApiGateway::Account").items()
    assert account["DeletionPolicy"] == "Retain"  # an account-wide setting other APIs rely on
    assert f"${{{account_id}}}" in props(template, "ConsultationsApi")["Description"]["Fn::Sub"]
