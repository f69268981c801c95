"""The scheduled subscription check, its alarm, SMS delivery-status logging and the SNS delivery alarms, as
CloudFormation receives them (SAM transform applied, conditions resolved)."""

from __future__ import annotations

import re
from typing import Any

from leads_core.subscriptions import ENDPOINT_LISTS
from leads_local.template import load_template, scheduled_functions

from tests.template.sam import REPO_ROOT, effective
from tests.template.test_template import as_list, function_policy, of_type, props, statements_with

Template = dict[str, Any]
FUNCTION = "CheckSubscriptionsFunction"


def _schedule_rule(template: Template) -> dict[str, Any]:
    [rule] = [
        r["Properties"]
        for r in of_type(template, "AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]} for t in r["Properties"]["Targets"])
    ]
    return rule


def _minutes(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) minutes?\)", expression)
    assert match, expression
    return int(match.group(1))


def test_the_check_runs_on_a_schedule_and_the_local_stack_finds_it(dev: Template) -> None:
    rule = _schedule_rule(dev)
    assert rule.get("State", "ENABLED") == "ENABLED"
    assert _minutes(rule["ScheduleExpression"]) == 15
    assert props(dev, FUNCTION)["Handler"] == "check_subscriptions.app.lambda_handler"
    local = {f.logical_id: f for f in scheduled_functions()}
    assert local[FUNCTION].handler_module == "check_subscriptions.app"


def test_every_configured_list_reaches_the_function_joined(dev: Template) -> None:
    parameters = load_template()["Parameters"]
    variables = props(dev, FUNCTION)["Environment"]["Variables"]
    assert variables["TOPIC_ARN"] == {"Ref": "StaffAlertsTopic"}
    for entry in ENDPOINT_LISTS:  # the one table the check and the CLI share
        assert parameters[entry.parameter]["Type"] == "CommaDelimitedList"
        assert variables[entry.variable] == ""  # default: no recipients
    configured = effective(StaffEmails="a@clinic.example,b@clinic.example", UrgentPhones="+16305550177")
    variables = props(configured, FUNCTION)["Environment"]["Variables"]
    assert variables["STAFF_EMAILS"] == "a@clinic.example,b@clinic.example"
    assert variables["URGENT_PHONES"] == "+16305550177"


def test_the_check_reads_the_staff_topic_and_nothing_else(dev: Template) -> None:
    statements = function_policy(dev, FUNCTION)
    [listing] = statements_with(statements, "sns:ListSubscriptionsByTopic")
    assert listing["Resource"] == {"Ref": "StaffAlertsTopic"}
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    assert allowed == {
        "sns:ListSubscriptionsByTopic",
        "sns:GetSubscriptionAttributes",
        "sns:SetSMSAttributes",
        "sns:GetSMSAttributes",
        "iam:PassRole",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    [pass_role] = statements_with(statements, "iam:PassRole")
    assert pass_role["Resource"] == {"Fn::GetAtt": ["SmsDeliveryStatusRole", "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sns.amazonaws.com"}}
    role = props(dev, FUNCTION)["Role"]["Fn::GetAtt"][0]
    assert role == "CheckSubscriptionsRole"
    assert "ManagedPolicyArns" not in props(dev, role)
    assert dev["Resources"][FUNCTION]["DependsOn"] == "CheckSubscriptionsPolicy"


def test_the_check_logs_to_its_own_encrypted_group(dev: Template) -> None:
    assert props(dev, FUNCTION)["LoggingConfig"]["LogGroup"] == {"Ref": "CheckSubscriptionsLogGroup"}
    group = props(dev, "CheckSubscriptionsLogGroup")
    assert group["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert group["RetentionInDays"] == 90
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}/check-subscriptions"}
    [logs] = statements_with(function_policy(dev, FUNCTION), "logs:PutLogEvents")
    assert logs["Resource"] == {"Fn::GetAtt": ["CheckSubscriptionsLogGroup", "Arn"]}


def test_sms_delivery_status_is_set_through_the_check_function(dev: Template) -> None:
    resource = dev["Resources"]["SmsDeliveryStatus"]
    assert resource["Type"] == "Custom::SmsDeliveryStatus"
    assert resource["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [FUNCTION, "Arn"]},
        "DeliveryStatusIAMRole": {"Fn::GetAtt": ["SmsDeliveryStatusRole", "Arn"]},
        "DeliveryStatusSuccessSamplingRate": 100,
        "DefaultSMSType": "Transactional",
    }
    assert (
        props(effective(SmsSuccessSamplingRate=10), "SmsDeliveryStatus")["DeliveryStatusSuccessSamplingRate"]
        == 10
    )
    role = props(dev, "SmsDeliveryStatusRole")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sns.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert set(statement["Action"]) <= {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:PutMetricFilter",
        "logs:PutRetentionPolicy",
    }
    for resource_arn in statement["Resource"]:
        assert ":log-group:sns/${AWS::Region}/${AWS::AccountId}/*" in resource_arn["Fn::Sub"]


def test_sms_settings_can_be_left_to_someone_else() -> None:
    template = effective(ManageSmsSettings="false")
    assert "SmsDeliveryStatus" not in template["Resources"]
    assert "SmsDeliveryStatusRole" not in template["Resources"]
    allowed = {a for s in function_policy(template, FUNCTION) for a in as_list(s["Action"])}
    assert not allowed & {"sns:SetSMSAttributes", "sns:GetSMSAttributes", "iam:PassRole"}
    assert FUNCTION in template["Resources"]  # the subscription check stays


def _alarm(template: Template, logical_id: str) -> dict[str, Any]:
    alarm = props(template, logical_id)
    assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]
    assert alarm["OKActions"] == [{"Ref": "OpsAlarmsTopic"}]
    return alarm


def test_any_unhealthy_subscription_or_a_stopped_check_alarms(dev: Template) -> None:
    alarm = _alarm(dev, "UnhealthySubscriptionsAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("ClinicLeads", "UnhealthySubscriptions")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "clinic-leads"}]  # Powertools' default
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        0,
        "GreaterThanThreshold",
    )
    # No data while the check should have run twice means it stopped: that is an alarm, not "all fine".
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["Period"] * alarm["EvaluationPeriods"] >= 2 * 60 * _minutes(
        _schedule_rule(dev)["ScheduleExpression"]
    )


def test_failed_deliveries_alarm_for_the_topic_and_for_sms(dev: Template) -> None:
    topic = _alarm(dev, "StaffAlertsDeliveryFailedAlarm")
    assert (topic["Namespace"], topic["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert topic["Dimensions"] == [
        {"Name": "TopicName", "Value": {"Fn::GetAtt": ["StaffAlertsTopic", "TopicName"]}}
    ]
    assert (topic["Statistic"], topic["Threshold"], topic["ComparisonOperator"]) == (
        "Sum",
        0,
        "GreaterThanThreshold",
    )
    sms = _alarm(dev, "SmsDeliveryFailedAlarm")
    assert (sms["Namespace"], sms["MetricName"]) == ("AWS/SNS", "SMSSuccessRate")
    # SMS metrics are published per destination country and SMS type; the type is the one the stack sets.
    assert sms["Dimensions"] == [
        {"Name": "Country", "Value": "US"},
        {"Name": "SMSType", "Value": props(dev, "SmsDeliveryStatus")["DefaultSMSType"]},
    ]
    assert (sms["Statistic"], sms["Threshold"], sms["ComparisonOperator"]) == (
        "Average",
        1,
        "LessThanThreshold",
    )
    other_country = effective(SmsMetricsCountry="CA")
    assert props(other_country, "SmsDeliveryFailedAlarm")["Dimensions"][0] == {
        "Name": "Country",
        "Value": "CA",
    }


def test_sam_build_packages_each_function_with_its_own_handler_package_only() -> None:
    """functions/Makefile has a target per function, and each copies leads_core plus the package its Handler
    names (so no function ships another's handler, and the ops code, outside functions/, ships with none)."""
    import re

    from leads_local.template import resources_of_type

    makefile = (REPO_ROOT / "functions" / "Makefile").read_text(encoding="utf-8")
    packages = dict(re.findall(r"^build-(\w+): FUNCTION_PACKAGE := (\w+)$", makefile, re.MULTILINE))
    handlers = {
        logical_id: str(resource["Properties"]["Handler"]).split(".", 1)[0]
        for logical_id, resource in resources_of_type("AWS::Serverless::Function").items()
    }
    assert FUNCTION in handlers
    assert packages == handlers
    [rule] = [line for line in makefile.splitlines() if line.startswith("build-") and ":=" not in line]
    assert set(rule.split(":")[0].split()) == {f"build-{name}" for name in handlers}
    [copy] = [line.split("&&")[-1] for line in makefile.splitlines() if "cp -R" in line]
    assert copy.split()[2:4] == ["leads_core", "$(FUNCTION_PACKAGE)"]


def test_sam_build_ships_cpython_313_bytecode_after_dropping_the_hosts() -> None:
    """Lambda's code directory is read-only: a package without .pyc files is compiled at every cold start.
    functions/Makefile removes whatever bytecode the install left (another Python's), then compiles the
    package with a CPython 3.13 into hash-based .pyc files, used whatever the zip does to file times."""
    makefile = (REPO_ROOT / "functions" / "Makefile").read_text(encoding="utf-8")
    lines = makefile.splitlines()
    [drop] = [i for i, line in enumerate(lines) if "-name __pycache__" in line and "rm -rf" in line]
    [compile_line] = [i for i, line in enumerate(lines) if "-m compileall" in line]
    assert drop < compile_line
    assert "--invalidation-mode unchecked-hash" in lines[compile_line]
    assert 'sys.implementation.cache_tag != "cpython-313"' in makefile
