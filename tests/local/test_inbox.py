"""The alert inbox: SNS envelopes (as an SQS subscriber receives them) -> alerts; the staff HTML view."""

from __future__ import annotations

import json
from typing import Any

import boto3
from leads_local.inbox import AlertInbox, DeliveredAlert, alert_from_envelope, console_line, render_inbox

DOCUMENT = json.dumps({"default": "Lead X", "email": "Mail body for X", "sms": "SMS for X"})


def _envelope(message: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "m-1",
        "Subject": "New consultation request X",
        "Message": message,
        "Timestamp": "2026-11-29T13:45:12.345Z",
        "MessageAttributes": {
            "lead_id": {"Type": "String", "Value": "X"},
            "priority": {"Type": "String", "Value": "urgent"},
        },
    }


def test_structured_message_shows_each_protocol_part() -> None:
    alert = alert_from_envelope(_envelope("Lead X"), DOCUMENT)
    assert alert == DeliveredAlert(
        lead_id="X",
        subject="New consultation request X",
        email="Mail body for X",
        sms="SMS for X",
        attributes={"lead_id": "X", "priority": "urgent"},
        published_at="2026-11-29T13:45:12.345Z",
        message_id="m-1",
    )
    assert set(alert.public()) == {"lead_id", "subject", "email", "sms", "attributes", "published_at"}


def test_plain_message_is_both_parts() -> None:
    alert = alert_from_envelope(_envelope("plain text"), "plain text")
    assert (alert.email, alert.sms) == ("plain text", "plain text")
    assert alert_from_envelope(_envelope("plain"), None).sms == "plain"


def test_console_line_carries_ids_only() -> None:
    alert = alert_from_envelope(_envelope("Lead X"), DOCUMENT)
    line = console_line(alert)
    assert "X" in line
    assert "urgent" in line
    assert "Mail body" not in line
    assert "SMS for" not in line


def test_inbox_page_escapes_everything() -> None:
    hostile = DeliveredAlert(
        lead_id="<i>X</i>",
        subject="<script>alert(1)</script>",
        email="Name: <img src=x onerror=alert(1)>",
        sms="& <b>",
        attributes={"priority": "urgent", "lead_id": "X"},
        published_at="2026-11-29T13:45:12.345Z",
        message_id="m",
    )
    page = render_inbox([hostile])
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&amp; &lt;b&gt;" in page
    assert 'http-equiv="refresh"' in page
    assert "No alerts yet" in render_inbox([])


def test_inbox_drains_the_subscribed_queue_with_the_published_document(stack: Any) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=stack.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(
        TopicArn=stack.topic_arn,
        Message=DOCUMENT,
        MessageStructure="json",
        Subject="New consultation request X",
        MessageAttributes={"lead_id": {"DataType": "String", "StringValue": "X"}},
    )
    seen: list[DeliveredAlert] = []
    inbox = AlertInbox(sqs, queue_url, stack.topic_arn, on_alert=seen.append)
    assert inbox.drain_once() == 1
    assert inbox.drain_once() == 0  # deleted once recorded
    [alert] = inbox.alerts()
    assert seen == [alert]
    assert (alert.lead_id, alert.email, alert.sms) == ("X", "Mail body for X", "SMS for X")
