"""Speed to lead in the template: the sweep on a one-minute schedule with its own least-privilege role and log
group, the escalation subscriptions (second level only), the SLA parameters and the unanswered-leads alarm."""

from __future__ import annotations

from leads_core.subscriptions import ENDPOINT_LISTS
from leads_local.template import load_template, scheduled_functions

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

FUNCTION = "SweepLeadsFunction"
TABLE_ARN = {"Fn::GetAtt": ["LeadsTable", "Arn"]}


def test_the_sweep_runs_every_minute_and_the_local_stack_runs_it_too(dev: Template) -> None:
    [rule] = [
        r["Properties"]
        for r in of_type(dev, "AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]} for t in r["Properties"]["Targets"])
    ]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule.get("State", "ENABLED") == "ENABLED"
    assert {f.logical_id: f.handler_module for f in scheduled_functions()}[FUNCTION] == "sweep_leads.app"
    assert props(dev, FUNCTION)["Timeout"] < 60


def test_the_sweep_role_has_exactly_what_the_sweep_calls(dev: Template) -> None:
    assert props(dev, FUNCTION)["Role"] == {"Fn::GetAtt": ["SweepLeadsRole", "Arn"]}
    assert "ManagedPolicyArns" not in props(dev, "SweepLeadsRole")
    assert dev["Resources"][FUNCTION]["DependsOn"] == "SweepLeadsPolicy"
    statements = function_policy(dev, FUNCTION)
    assert actions(statements) == {
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    [query] = statements_with(statements, "dynamodb:Query")
    assert query["Resource"] == {"Fn::Sub": "${LeadsTable.Arn}/index/ByStatus"}  # no Scan, no other index
    for action in ("dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"):
        assert statements_with(statements, action) == statements_with(statements, "dynamodb:PutItem")
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem"):
        [statement] = statements_with(statements, action)
        assert statement["Resource"] == TABLE_ARN
        assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LEAD#*"]}}
    [publish] = statements_with(statements, "sns:Publish")
    assert publish["Resource"] == {"Ref": "StaffAlertsTopic"}
    [kms] = statements_with(statements, "kms:Decrypt")
    assert kms["Resource"] == DATA_KEY_ARN
    [logs] = statements_with(statements, "logs:PutLogEvents")
    assert logs["Resource"] == {"Fn::GetAtt": ["SweepLeadsLogGroup", "Arn"]}
    for statement in statements:
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_the_sweep_logs_to_its_own_encrypted_group_and_gets_the_sla_settings(dev: Template) -> None:
    p = props(dev, FUNCTION)
    assert p["Handler"] == "sweep_leads.app.lambda_handler"
    assert p["LoggingConfig"]["LogGroup"] == {"Ref": "SweepLeadsLogGroup"}
    assert props(dev, "SweepLeadsLogGroup")["KmsKeyId"] == DATA_KEY_ARN
    env = p["Environment"]["Variables"]
    assert env["TOPIC_ARN"] == {"Ref": "StaffAlertsTopic"}
    sla = (env["BUSINESS_HOURS"], env["FIRST_CONTACT_SLA_MINUTES"], env["URGENT_SLA_MINUTES"])
    assert [str(value) for value in sla] == ["", "15", "5"]
    assert "execute-api" in str(env["CONSOLE_URL"])  # the API's own console address by default
    configured = effective(
        BusinessHours="naperville=America/Chicago;mon-sun 00:00-24:00",
        FirstContactSlaMinutes="0.5",
        UrgentSlaMinutes="0.2",
        ConsoleUrl="https://staff.example-clinic.com/staff/",
    )
    env = props(configured, FUNCTION)["Environment"]["Variables"]
    assert env["BUSINESS_HOURS"] == "naperville=America/Chicago;mon-sun 00:00-24:00"
    assert (str(env["FIRST_CONTACT_SLA_MINUTES"]), str(env["URGENT_SLA_MINUTES"])) == ("0.5", "0.2")
    assert env["CONSOLE_URL"] == "https://staff.example-clinic.com/staff/"
    staff = props(configured, "StaffApiFunction")["Environment"]["Variables"]  # MinutesToFirstAnswer
    assert staff["BUSINESS_HOURS"] == env["BUSINESS_HOURS"]
    assert str(staff["FIRST_CONTACT_SLA_MINUTES"]) == "0.5"


def test_escalation_lists_subscribe_with_a_level_two_filter_and_are_checked(dev: Template) -> None:
    configured = effective(
        EscalationEmails="boss@clinic.example,owner@clinic.example", EscalationPhones="+16305550188"
    )
    subscriptions = of_type(configured, "AWS::SNS::Subscription")
    escalation = {k: v["Properties"] for k, v in subscriptions.items() if k.startswith("Escalation")}
    assert set(escalation) == {
        "EscalationEmailSubscription1",
        "EscalationEmailSubscription2",
        "EscalationPhoneSubscription1",
    }
    for logical_id, p in escalation.items():
        expected = {"alert_type": ["escalation"], "escalation_level": ["2"]}
        if p["Protocol"] == "sms":
            expected["sms"] = ["send"]
        assert p["FilterPolicy"] == expected, logical_id
        assert p["FilterPolicyScope"] == "MessageAttributes"
    assert not [k for k in of_type(dev, "AWS::SNS::Subscription") if k.startswith("Escalation")]
    lists = {entry.parameter: entry.variable for entry in ENDPOINT_LISTS}
    assert lists["EscalationEmails"] == "ESCALATION_EMAILS"
    assert lists["EscalationPhones"] == "ESCALATION_PHONES"
    check = props(configured, "CheckSubscriptionsFunction")["Environment"]["Variables"]
    assert check["ESCALATION_EMAILS"] == "boss@clinic.example,owner@clinic.example"
    assert check["ESCALATION_PHONES"] == "+16305550188"


def test_sla_parameters_allow_fractions_and_have_the_contract_defaults() -> None:
    parameters = load_template()["Parameters"]
    defaults = (parameters["FirstContactSlaMinutes"]["Default"], parameters["UrgentSlaMinutes"]["Default"])
    assert defaults == (15, 5)
    for name in ("FirstContactSlaMinutes", "UrgentSlaMinutes"):
        assert parameters[name]["Type"] == "Number"
        assert 0 < parameters[name]["MinValue"] < 1
    assert parameters["BusinessHours"]["Default"] == ""


def test_leads_unanswered_past_twice_the_sla_alarm_ops(dev: Template) -> None:
    alarm = props(dev, "LeadsUnansweredAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("ClinicLeads", "LeadsUnansweredPastTwiceSla")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "clinic-leads"}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        0,
        "GreaterThanThreshold",
    )
    assert alarm["TreatMissingData"] == "breaching"  # a stopped sweep alarms too
    assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]
    assert dev["Outputs"]["SweepLeadsFunctionName"]["Value"] == {"Ref": FUNCTION}
