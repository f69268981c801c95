"""The alert inbox: SNS envelopes (as an SQS subscriber receives them) -> alerts; the staff HTML view."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from leads_core.alerts import SMS_MAX_CHARS, sms_as_delivered
from leads_local.inbox import (
    AlertInbox,
    DeliveredAlert,
    SmsRoute,
    alert_from_envelope,
    console_line,
    read_sms_route,
    render_inbox,
)
from leads_local.template import load_template

ALL_PHONES = SmsRoute("Clinic leads", ((None, "MessageAttributes"),))

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
    alert = alert_from_envelope(_envelope("Lead X"), DOCUMENT, ALL_PHONES)
    assert alert == DeliveredAlert(
        lead_id="X",
        subject="New consultation request X",
        email="Mail body for X",
        sms="Clinic leads> SMS for X",
        attributes={"lead_id": "X", "priority": "urgent"},
        published_at="2026-11-29T13:45:12.345Z",
        message_id="m-1",
    )
    assert set(alert.public()) == {"lead_id", "subject", "email", "sms", "attributes", "published_at"}


def test_plain_message_is_both_parts() -> None:
    alert = alert_from_envelope(
        _envelope("plain text"), "plain text", SmsRoute("", ((None, "MessageAttributes"),))
    )
    assert (alert.email, alert.sms) == (
        "plain text",
        "plain text",
    )  # a topic without a display name: no prefix
    assert alert_from_envelope(_envelope("plain"), None, ALL_PHONES).sms == "Clinic leads> plain"


def test_sms_is_null_when_no_sms_subscription_received_it() -> None:
    assert alert_from_envelope(_envelope("Lead X"), DOCUMENT).sms is None  # no SMS subscription known
    assert alert_from_envelope(_envelope("Lead X"), DOCUMENT, SmsRoute("Clinic leads", ())).sms is None
    urgent_only = SmsRoute("Clinic leads", (({"priority": ["normal"]}, "MessageAttributes"),))
    assert alert_from_envelope(_envelope("Lead X"), DOCUMENT, urgent_only).sms is None  # filtered out
    held = SmsRoute("Clinic leads", (({"sms": ["send"]}, "MessageAttributes"),))
    assert alert_from_envelope(_envelope("Lead X"), DOCUMENT, held).sms is None  # no sms=send attribute
    page = render_inbox([alert_from_envelope(_envelope("Lead X"), DOCUMENT)])
    assert "No SMS subscription received this alert." in page


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
    page = render_inbox([hostile])  # (an SMS bubble, escaped, since sms is not None)
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&amp; &lt;b&gt;" in page
    assert 'http-equiv="refresh"' in page
    assert "No alerts yet" in render_inbox([])


def _publish_alerts(sns: Any, topic_arn: str, lead_ids: tuple[str, ...]) -> None:
    for lead_id in lead_ids:
        sns.publish(
            TopicArn=topic_arn,
            Message=DOCUMENT,
            MessageStructure="json",
            Subject=f"New consultation request {lead_id}",
            MessageAttributes={"lead_id": {"DataType": "String", "StringValue": lead_id}},
        )


def _subscribed_queue(sqs: Any, sns: Any, topic_arn: str, name: str) -> str:
    """A queue subscribed to the topic, as the local stack's inbox queue is; its URL."""
    queue_url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def _queue_with_three_alerts(topic_arn: str, name: str) -> tuple[Any, str]:
    """An SQS client and a queue subscribed to the topic that holds three alerts (A1, B2, C3)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    queue_url = _subscribed_queue(sqs, sns, topic_arn, name)
    _publish_alerts(sns, topic_arn, ("A1", "B2", "C3"))
    return sqs, queue_url


def test_inbox_records_a_batch_and_deletes_it_in_one_call(stack: Any) -> None:
    sqs, queue_url = _queue_with_three_alerts(stack.topic_arn, "inbox-batch")
    calls: list[str] = []
    sqs.meta.events.register("before-call.sqs.*", lambda event_name, **_: calls.append(event_name))
    inbox = AlertInbox(sqs, queue_url, stack.topic_arn)

    assert inbox.drain_once() == 3
    assert sorted(alert.lead_id for alert in inbox.alerts()) == ["A1", "B2", "C3"]
    assert calls == ["before-call.sqs.ReceiveMessage", "before-call.sqs.DeleteMessageBatch"]
    assert inbox.drain_once() == 0  # all three deleted
    assert len(inbox.alerts()) == 3


def test_what_a_failing_drain_recorded_is_deleted_and_the_rest_comes_again(stack: Any) -> None:
    sqs, queue_url = _queue_with_three_alerts(stack.topic_arn, "inbox-failing")
    seen: list[str] = []

    def on_alert(alert: DeliveredAlert) -> None:
        seen.append(alert.lead_id)
        if len(seen) == 2:
            raise RuntimeError("console line failed")

    inbox = AlertInbox(sqs, queue_url, stack.topic_arn, on_alert=on_alert)

    with pytest.raises(RuntimeError):
        inbox.drain_once()

    assert len(inbox.alerts()) == 2  # the first two were recorded...
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"  # ...and deleted; the third comes again
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_inbox_drains_the_subscribed_queue_with_the_published_document(stack: Any) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    queue_url = _subscribed_queue(sqs, sns, stack.topic_arn, "inbox")
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
    assert (alert.lead_id, alert.email, alert.sms) == ("X", "Mail body for X", None)  # no SMS reader given


def _subscribe_phone(sns: Any, topic_arn: str, logical_id: str, number: str) -> str:
    policy = load_template()["Resources"][logical_id]["Properties"]["FilterPolicy"]
    return str(
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sms",
            Endpoint=number,
            Attributes={"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageAttributes"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
    )


def _publish(sns: Any, topic_arn: str, lead_id: str, text: str, **attributes: str) -> None:
    document = json.dumps({"default": f"Mail {lead_id}", "email": f"Mail {lead_id}", "sms": text})
    sns.publish(
        TopicArn=topic_arn,
        Message=document,
        MessageStructure="json",
        Subject=f"New consultation request {lead_id}",
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in {"lead_id": lead_id, **attributes}.items()
        },
    )


def test_inbox_shows_the_sms_as_the_phone_receives_it_per_the_topics_sms_subscriptions(stack: Any) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    queue_url = _subscribed_queue(sqs, sns, stack.topic_arn, "inbox")
    inbox = AlertInbox(sqs, queue_url, stack.topic_arn, sns_client=sns)
    text = "New consultation request: Maria L. - call +16305550123, mornings. Anxiety, Naperville. Ref A."

    _publish(sns, stack.topic_arn, "BEFORE", text, priority="normal", sms="send")
    assert inbox.drain_once() == 1  # no SMS subscription yet
    urgent_arn = _subscribe_phone(sns, stack.topic_arn, "UrgentPhoneSubscription1", "+16305550199")
    _publish(sns, stack.topic_arn, "NORMAL", text, priority="normal", sms="send")
    _publish(sns, stack.topic_arn, "URGENT", "URGENT text", priority="urgent", sms="send")
    inbox.drain_once()
    staff_arn = _subscribe_phone(sns, stack.topic_arn, "StaffPhoneSubscription1", "+16305550100")
    _publish(sns, stack.topic_arn, "HELD", text, priority="normal", sms="hold")
    _publish(sns, stack.topic_arn, "SENT", text, priority="normal", sms="send")
    inbox.drain_once()

    sms = {alert.lead_id: alert.sms for alert in inbox.alerts()}
    assert sms == {
        "BEFORE": None,
        "NORMAL": None,  # only the urgent phone subscribed: filtered out
        "URGENT": "Clinic leads> URGENT text",
        "HELD": None,  # the storm guard's hold: emailed, not texted
        "SENT": f"Clinic leads> {text}",
    }
    assert len(sms_as_delivered(text)) == len(str(sms["SENT"])) <= SMS_MAX_CHARS
    route = read_sms_route(sns, stack.topic_arn)
    assert route.display_name == "Clinic leads"  # the template's DisplayName, read from the topic
    assert sorted(json.dumps(p, sort_keys=True) for p, _ in route.policies) == [
        '{"priority": ["urgent"], "sms": ["send"]}',
        '{"sms": ["send"]}',
    ]
    assert {urgent_arn, staff_arn} <= {
        s["SubscriptionArn"]
        for s in sns.list_subscriptions_by_topic(TopicArn=stack.topic_arn)["Subscriptions"]
    }


@pytest.mark.stack
def test_local_stack_holds_storm_texts_and_shows_the_digest_as_phones_receive_it(tmp_path: Path) -> None:
    """``make run`` end to end with ALERT_STORM_THRESHOLD=2: four leads in one window -> two texted, two held
    (email only, ``sms`` null in the inbox), then the scheduled function sends one digest for the window."""
    from leads_core import storm
    from leads_local.stack import LocalStack

    from tests.local import storm_clock
    from tests.local.test_stack import _lead, _submit_json, call

    window = 1_796_220_000  # a window start (multiple of 600 s)
    clock = tmp_path / "clock"
    storm_clock.set_clock(clock, window + 30.0)  # the functions' clock (they run in their own processes)
    local = LocalStack(
        port=0,
        aws_port=0,
        settings={
            "RATE_LIMIT_PER_HOUR": "1000",
            "ALERT_STORM_THRESHOLD": "2",
            storm_clock.VARIABLE: str(clock),
        },
        preload=["tests.local.storm_clock"],
        schedule_seconds=0,
        log=lambda line: None,
    )
    local.start()
    try:
        lead_ids = [_submit_json(local, _lead()).json()["id"] for _ in range(4)]

        def alerts() -> list[dict[str, Any]]:
            return list(call(f"{local.base_url}/_local/alerts").json()["alerts"])

        deadline = time.monotonic() + 30
        while len(alerts()) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        by_lead = {a["lead_id"]: a for a in alerts()}
        assert set(by_lead) == set(lead_ids)  # every lead's email
        texted = [a for a in by_lead.values() if a["sms"] is not None]
        held = [a for a in by_lead.values() if a["sms"] is None]
        assert len(texted) == 2
        assert len(held) == 2
        assert all(a["attributes"]["sms"] == "hold" for a in held)
        assert all(a["sms"].startswith("Clinic leads> New consultation request") for a in texted)

        storm_clock.set_clock(clock, window + storm.WINDOW_SECONDS + 5.0)
        local.run_scheduled_functions()
        local.run_scheduled_functions()  # a second run sends nothing more
        deadline = time.monotonic() + 10
        while len(alerts()) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        digests = [a for a in alerts() if a["attributes"].get("alert_type") == "digest"]
        assert len(digests) == 1
        assert digests[0]["sms"].startswith("Clinic leads> 2 new requests since ")
        assert len(digests[0]["sms"]) <= SMS_MAX_CHARS
        assert digests[0]["sms"].endswith(f" {local.base_url}/staff/")  # the console's link, whole
        for lead_id in (a["lead_id"] for a in held):
            assert lead_id in digests[0]["email"]
    finally:
        local.stop()
