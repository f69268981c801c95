"""The SMS budget and the storm guard in template.yaml: the display-name setting, the threshold parameter and
the phone subscriptions' ``sms=send`` filter policies, asserted on the deployed shape of the template."""

from __future__ import annotations

from typing import Any

from tests.template.sam import effective

PHONES = {"StaffPhones": "+16305550100,+16305550101", "UrgentPhones": "+16305550111"}


def _alert_environment(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["SendAlertsFunction"]["Properties"]["Environment"]["Variables"])


def test_the_alert_function_budgets_sms_with_the_topics_display_name() -> None:
    template = effective()
    display_name = template["Resources"]["StaffAlertsTopic"]["Properties"]["DisplayName"]
    assert _alert_environment(template)["TOPIC_DISPLAY_NAME"] == display_name


def test_storm_threshold_parameter_is_wired_to_the_alert_function() -> None:
    parameter = effective()["Parameters"]["AlertStormThreshold"]
    assert parameter["Type"] == "Number"
    assert parameter["Default"] == 20
    assert parameter["MinValue"] == 1
    assert _alert_environment(effective())["ALERT_STORM_THRESHOLD"] == 20
    assert _alert_environment(effective(AlertStormThreshold=50))["ALERT_STORM_THRESHOLD"] == 50


def test_every_phone_subscription_requires_sms_send_and_email_subscriptions_do_not() -> None:
    resources = effective(StaffEmails="frontdesk@example-clinic.com", **PHONES)["Resources"]
    subscriptions = {
        logical_id: res["Properties"]
        for logical_id, res in resources.items()
        if res["Type"] == "AWS::SNS::Subscription"
    }
    phones = {k: p for k, p in subscriptions.items() if p["Protocol"] == "sms"}
    emails = {k: p for k, p in subscriptions.items() if p["Protocol"] == "email"}
    assert set(phones) == {"StaffPhoneSubscription1", "StaffPhoneSubscription2", "UrgentPhoneSubscription1"}
    assert set(emails) == {"StaffEmailSubscription1"}
    for logical_id, properties in phones.items():
        assert properties["FilterPolicyScope"] == "MessageAttributes"
        expected = {"sms": ["send"]}
        if logical_id.startswith("Urgent"):
            expected = {"priority": ["urgent"], "sms": ["send"]}
        assert properties["FilterPolicy"] == expected, logical_id
    for properties in emails.values():
        assert "FilterPolicy" not in properties  # every alert, held SMS or not, reaches the inbox
