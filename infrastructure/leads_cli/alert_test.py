"""``leads alert-test``: one clearly marked test alert through the real topic and the real renderer.

The alert is rendered by ``leads_core.alerts.render_alert`` from a made-up lead (id ``TEST-...``, no
person's data, ``minimal`` detail), then marked: the subject starts with ``TEST:``, the email and SMS say it
is a test that needs no action, and both carry the staff console's link (``CONSOLE_URL``, the console itself:
a test alert has no lead to open). It carries the same message attributes as a real alert, with
``alert_type=test`` and ``sms=send``, so subscription filter policies (``priority``, ``sms``) apply to it
exactly as to a real one and its SMS reaches every phone subscription (the storm guard never holds it).

Given the table, it goes out through the alerts' one exactly-once path (``leads_core.delivery.publish_once``)
with its own ledger item (``ALERTTEST#<id>``, expiring after a day): throttling is retried and it is never
published twice.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from leads_core import aws, keys
from leads_core.alerts import SMS_SEND, SUBJECT_MAX_CHARS, Alert, render_alert
from leads_core.errors import NotificationFailed
from leads_core.gsm7 import sms_budget

TEST_ALERT_TTL_SECONDS = 86_400

TEST_PREFIX = "TEST:"


@dataclass(frozen=True)
class _RenderSettings:
    clinic_name: str = "Clinic"
    alert_detail: str = "minimal"
    console_url: str = ""  # the made-up lead has no page in the console: the notice links the console itself


@dataclass(frozen=True)
class AlertTestResult:
    lead_id: str
    subject: str
    priority: str
    message_id: str
    topic_arn: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "subject": self.subject,
            "priority": self.priority,
            "message_id": self.message_id,
            "topic_arn": self.topic_arn,
        }


def build_test_alert(
    urgent: bool = False, lead_id: str | None = None, clinic_name: str = "Clinic", console_url: str = ""
) -> Alert:
    """The marked test alert (pure: no AWS); its email and SMS link to the console when ``console_url``."""
    lead_id = lead_id or f"TEST-{secrets.token_hex(4).upper()}"
    made_up_lead = {
        "id": lead_id,
        "status": "new",
        "service": "other",
        "location": "test",
        "referral_type": "self",
        "preferred_contact": "email",
        "best_time": "any",
        "urgent": urgent,
        "urgent_reasons": ["self_reported"] if urgent else [],
    }
    alert = render_alert(made_up_lead, _RenderSettings(clinic_name=clinic_name))
    notice = f"TEST ALERT from `leads alert-test` ({lead_id}): no one is waiting, no action needed."
    if console_url:
        notice += f"\nStaff console (real alerts open their lead there): {console_url}"
    subject = f"{TEST_PREFIX} {alert.subject}"[:SUBJECT_MAX_CHARS]
    email = f"{notice}\n\n{alert.email}"
    text = f"TEST alert, no action needed. Ref {lead_id}."
    budget = sms_budget()
    options = [f"{text} {console_url}", f"TEST alert. {console_url}"] if console_url else []
    sms = next((option for option in options if len(option) <= budget), text[:budget])
    attributes = {**alert.attributes, "alert_type": "test", "sms": SMS_SEND}
    return replace(alert, subject=subject, email=email, default=email, sms=sms, attributes=attributes)


@dataclass(frozen=True)
class _Target:
    topic_arn: str
    table_name: str


def test_alert_key(alert_id: str) -> dict[str, dict[str, str]]:
    """The ledger item of one test alert."""
    return {keys.PK: {"S": f"ALERTTEST#{alert_id}"}, keys.SK: {"S": "ALERTTEST"}}


def publish_test_alert(
    topic_arn: str,
    *,
    urgent: bool = False,
    clinic_name: str = "Clinic",
    table_name: str | None = None,
    console_url: str = "",
) -> AlertTestResult:
    alert = build_test_alert(urgent=urgent, clinic_name=clinic_name, console_url=console_url)
    if table_name:
        from leads_core.delivery import AlertJob, publish_once  # noqa: PLC0415

        job = AlertJob(
            key=test_alert_key(alert.lead_id),
            alert=alert,
            expires_at=int(time.time()) + TEST_ALERT_TTL_SECONDS,
        )
        report = publish_once([job], settings=_Target(topic_arn, table_name), emit_metrics=False)
        message_id = report.published.get(alert.lead_id)
        if message_id is None:
            raise NotificationFailed("the test alert was not published (SNS or DynamoDB failed): try again")
    else:
        entry = alert.to_publish_entry()
        response = aws.client("sns").publish(
            TopicArn=topic_arn,
            Message=entry["Message"],
            MessageStructure="json",
            Subject=entry["Subject"],
            MessageAttributes=entry["MessageAttributes"],
        )
        message_id = str(response["MessageId"])
    return AlertTestResult(
        lead_id=alert.lead_id,
        subject=alert.subject,
        priority=alert.priority,
        message_id=message_id,
        topic_arn=topic_arn,
    )
