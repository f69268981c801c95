"""The ``CaptchaUnverified`` alarm: a lead accepted without a verified captcha reaches ops."""

from __future__ import annotations

from typing import Any

from tests.template.sam import effective

Template = dict[str, Any]


def captcha_alarms(template: Template) -> list[dict[str, Any]]:
    return [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("MetricName") == "CaptchaUnverified"
    ]


def test_captcha_unverified_alarm_watches_the_powertools_metric_and_notifies_ops() -> None:
    with_captcha = effective(CaptchaProvider="turnstile", CaptchaSecretParameter="/clinic/captcha")
    (alarm,) = captcha_alarms(with_captcha)

    assert alarm["Namespace"] == "ClinicLeads"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "clinic-leads"}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]
    assert alarm["OKActions"] == [{"Ref": "OpsAlarmsTopic"}]


def test_no_captcha_alarm_without_a_captcha_provider(dev: Template) -> None:
    assert captcha_alarms(dev) == []
