"""A lead's first answer (status out of ``new`` or an assignment, console or CLI): ``MinutesToFirstAnswer``
once, in the minutes its SLA counts, and ``LeadStatusChanged`` events with ids and codes only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner
from leads_cli.main import cli
from leads_core import aws, lead_events
from leads_core.hours import SlaPolicy, parse_business_hours
from leads_core.lead_events import SpeedObserver
from leads_core.manage import LeadAdmin
from leads_core.observability import metrics
from leads_core.sweep import iso
from send_alerts import app as send_alerts_app

from tests.alerts.conftest import AlertWorld, lambda_event

POLICY = SlaPolicy(
    parse_business_hours("naperville=America/Chicago;mon-fri 08:00-18:00", ("naperville", "oak-brook")),
    first_contact_minutes=15,
    urgent_minutes=5,
)
FRIDAY_1759 = datetime(2026, 11, 27, 23, 59, tzinfo=UTC)  # 17:59 CST


def metric_values(name: str) -> list[float]:
    return list(metrics.provider.metric_set.get(name, {}).get("Value", []))


@pytest.fixture
def events_queue(alert_world: AlertWorld) -> tuple[str, str]:
    """A bus with one rule (every clinic.leads event) to an SQS queue, as docs/speed-to-lead.md shows."""
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name="test-lead-events")
    url = sqs.create_queue(QueueName="test-crm-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="to-crm", EventBusName="test-lead-events", EventPattern=json.dumps({"source": ["clinic.leads"]})
    )
    events.put_targets(Rule="to-crm", EventBusName="test-lead-events", Targets=[{"Id": "crm", "Arn": arn}])
    return "test-lead-events", url


def received(url: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def admin(world: AlertWorld, now: datetime, bus: str = "") -> LeadAdmin:
    return LeadAdmin(
        world.resources.table_name, clock=lambda: now, observer=SpeedObserver(policy=POLICY, bus=bus)
    )


def test_the_first_answer_records_business_minutes_once(alert_world: AlertWorld) -> None:
    metrics.clear_metrics()
    lead = alert_world.put_lead(created_at=iso(FRIDAY_1759), location="naperville")
    monday_0830 = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    admin(alert_world, monday_0830).assign(lead["id"], "morgan")
    assert metric_values("MinutesToFirstAnswer") == [31.0]  # 1 minute on Friday + 30 on Monday
    admin(alert_world, monday_0830 + timedelta(minutes=5)).set_status(lead["id"], "contacted", None, "morgan")
    assert metric_values("MinutesToFirstAnswer") == [31.0]  # answered already: not again
    item = alert_world.get_item(lead["id"])
    assert item["first_answered_at"]["S"].startswith("2026-11-30T14:30:00")
    metrics.clear_metrics()


def test_an_urgent_lead_counts_calendar_minutes(alert_world: AlertWorld) -> None:
    metrics.clear_metrics()
    lead = alert_world.put_lead(created_at=iso(FRIDAY_1759), urgent=True, in_crisis=True)
    admin(alert_world, FRIDAY_1759 + timedelta(minutes=7)).set_status(lead["id"], "contacted", None, "morgan")
    assert metric_values("MinutesToFirstAnswer") == [7.0]
    metrics.clear_metrics()


def test_a_status_change_is_an_event_with_ids_and_codes_only(
    alert_world: AlertWorld, events_queue: tuple[str, str]
) -> None:
    bus, url = events_queue
    lead = alert_world.put_lead(created_at=iso(FRIDAY_1759), service="ptsd", urgent=True, in_crisis=True)
    at = FRIDAY_1759 + timedelta(minutes=3)
    admin(alert_world, at, bus).set_status(lead["id"], "contacted", "called back, left a voicemail", "morgan")
    admin(alert_world, at, bus).set_status(lead["id"], "contacted", None, "morgan")  # no change: no event
    [event] = received(url)
    assert event["source"] == "clinic.leads"
    assert event["detail-type"] == "LeadStatusChanged"
    assert event["detail"] == {
        "lead_id": lead["id"],
        "status": "contacted",
        "previous_status": "new",
        "location": "naperville",
        "service": "ptsd",
        "priority": "urgent",
        "at": iso(at),
    }
    text = json.dumps(event)
    for value in (lead["first_name"], lead["last_name"], lead["email"], lead["phone"], "voicemail", "morgan"):
        assert value not in text


def test_lead_received_events_and_a_failing_bus_never_fail_the_caller(
    alert_world: AlertWorld, events_queue: tuple[str, str]
) -> None:
    bus, url = events_queue
    leads = [alert_world.put_lead() for _ in range(12)]
    assert lead_events.send_lead_received(leads, bus=bus) == 0
    seen = received(url) + received(url)
    assert {e["detail-type"] for e in seen} == {"LeadReceived"}
    assert len(seen) >= 10
    for event in seen:
        assert set(event["detail"]) == {"lead_id", "status", "location", "service", "priority", "at"}
    assert lead_events.send_lead_received(leads, bus="") == 0  # no bus configured: nothing sent

    def throttled(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
        return AWSResponse("https://events.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]

    metrics.clear_metrics()
    aws.client("events").meta.events.register("before-call.events.PutEvents", throttled)
    assert lead_events.send_lead_received(leads[:3], bus=bus) == 3
    assert metric_values("LeadEventsFailed") == [3.0]
    assert received(url) == []
    metrics.clear_metrics()


def test_the_alert_function_sends_lead_received_for_each_alerted_lead(
    alert_world: AlertWorld,
    events_queue: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    bus, url = events_queue
    monkeypatch.setenv("LEAD_EVENTS_BUS", bus)
    leads = [alert_world.put_lead(), alert_world.put_lead(urgent=True, in_crisis=True)]
    alert_world.put_lead(status="spam")
    records = alert_world.new_stream_records()

    assert send_alerts_app.lambda_handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}
    assert send_alerts_app.lambda_handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}

    seen = received(url) + received(url)
    assert {e["detail-type"] for e in seen} == {"LeadReceived"}
    # Each alerted lead at least once (the redelivered batch sends its leads again), the spam lead never.
    assert {e["detail"]["lead_id"] for e in seen} == {lead["id"] for lead in leads}
    urgent = next(e["detail"] for e in seen if e["detail"]["lead_id"] == leads[1]["id"])
    assert urgent == {
        "lead_id": leads[1]["id"],
        "status": "new",
        "location": "naperville",
        "service": "anxiety",
        "priority": "urgent",
        "at": leads[1]["created_at"],
    }


def test_leads_set_status_sends_lead_status_changed_when_the_target_has_a_bus(
    alert_world: AlertWorld, events_queue: tuple[str, str]
) -> None:
    bus, url = events_queue
    lead = alert_world.put_lead()
    env = {"LEADS_STACK": None, "LEADS_TABLE": alert_world.resources.table_name, "LEADS_EVENTS_BUS": bus}
    result = CliRunner(env=env).invoke(cli, ["set-status", lead["id"], "scheduled", "--json"])
    assert result.exit_code == 0, result.stderr
    [event] = received(url)
    assert event["detail-type"] == "LeadStatusChanged"
    assert (event["detail"]["previous_status"], event["detail"]["status"]) == ("new", "scheduled")
    without_bus = {**env, "LEADS_EVENTS_BUS": None}
    result = CliRunner(env=without_bus).invoke(cli, ["set-status", lead["id"], "closed", "--json"])
    assert result.exit_code == 0, result.stderr
    assert received(url) == []
