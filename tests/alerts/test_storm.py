"""Storm guard (contract 2.5) against moto: the real alert handler and the real flush, phones and inboxes as
SQS queues subscribed with the template's own filter policies (moto applies filter policies to SQS)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from leads_core import aws, delivery, storm
from leads_core.alerts import GSM7_BASIC, PRINTABLE_ASCII, SMS_MAX_CHARS, Alert, sms_as_delivered
from leads_core.errors import ConfigurationError
from leads_core.settings import load_settings, settings_from
from leads_local.faults import FaultInjector, parse_faults
from leads_local.template import load_template
from send_alerts import app

from tests.alerts.conftest import AlertWorld, _shared_session, lambda_event

# 2026-12-02 14:20 UTC = 08:20 America/Chicago: the window [14:20, 14:30) UTC.
WINDOW = int(datetime(2026, 12, 2, 14, 20, tzinfo=UTC).timestamp())
INSIDE = WINDOW + 125.0
NEXT_WINDOW = WINDOW + storm.WINDOW_SECONDS + 5.0


def _template_policy(logical_id: str) -> dict[str, Any]:
    return dict(load_template()["Resources"][logical_id]["Properties"]["FilterPolicy"])


@pytest.fixture
def phones(alert_world: AlertWorld, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """SQS stand-ins for the StaffPhones and UrgentPhones subscriptions (same filter policies)."""
    monkeypatch.setattr(storm, "_clock", lambda: INSIDE)
    monkeypatch.setattr(storm, "_sleep", lambda seconds: None)
    return {
        "staff": alert_world.subscribe_queue("test-staff-phone", _template_policy("StaffPhoneSubscription1")),
        "urgent": alert_world.subscribe_queue(
            "test-urgent-phone", _template_policy("UrgentPhoneSubscription1")
        ),
    }


def _ids(envelopes: list[dict[str, Any]]) -> list[str]:
    return [e["MessageAttributes"]["lead_id"]["Value"] for e in envelopes]


def _alert_leads(world: AlertWorld, lambda_context: Any) -> None:
    """Run the alert function over the new stream records until every record succeeded (stream retries)."""
    records = world.new_stream_records()
    for _ in range(30):
        if not records:
            return
        failures = app.lambda_handler(lambda_event(records), lambda_context)["batchItemFailures"]
        failed = {f["itemIdentifier"] for f in failures}
        records = [r for r in records if r["dynamodb"]["SequenceNumber"] in failed]
    raise AssertionError("records still failing after 30 attempts")


def _window_item(world: AlertWorld, start: int = WINDOW) -> dict[str, Any]:
    return (
        aws.client("dynamodb")
        .get_item(TableName=world.resources.table_name, Key=storm.window_key(start), ConsistentRead=True)
        .get("Item", {})
    )


def _held(world: AlertWorld) -> set[str]:
    return set(_window_item(world).get("held_ids", {}).get("SS", []))


def _flush() -> storm.FlushReport:
    return storm.flush_digests(settings=load_settings().require_alerts(), now=NEXT_WINDOW)


# ---------------------------------------------------------------------------------------------- windows


def test_window_maths_and_keys() -> None:
    assert storm.window_start(WINDOW) == WINDOW
    assert storm.window_start(WINDOW + 599.9) == WINDOW
    assert storm.window_start(WINDOW + 600) == WINDOW + 600
    assert storm.window_start(WINDOW - 0.1) == WINDOW - 600
    assert storm.window_key(WINDOW) == {"pk": {"S": "STORM#2026-12-02T14:20Z"}, "sk": {"S": "STORM"}}
    assert storm.digest_id(WINDOW) == "DIGEST-20261202T1420Z"
    assert storm.STORM_PREFIX == "STORM#"


def test_threshold_and_display_name_settings_are_validated() -> None:
    base = {"TABLE_NAME": "leads-table"}
    assert settings_from(base).alert_storm_threshold == 20
    assert settings_from({**base, "ALERT_STORM_THRESHOLD": "5"}).alert_storm_threshold == 5
    assert settings_from(base).topic_display_name == "Clinic leads"
    for bad in ("0", "-1", "many"):
        with pytest.raises(ConfigurationError, match="ALERT_STORM_THRESHOLD"):
            settings_from({**base, "ALERT_STORM_THRESHOLD": bad})
    for bad in ("Clinic €", "Leads [new]", "x" * 41):
        with pytest.raises(ConfigurationError, match="TOPIC_DISPLAY_NAME"):
            settings_from({**base, "TOPIC_DISPLAY_NAME": bad})


# --------------------------------------------------------------------------------------- filter policies


def test_sqs_subscribers_with_the_phone_filter_policies_get_only_sms_send(alert_world: AlertWorld) -> None:
    """Checks moto's (and SNS's) filter semantics the guard relies on: a missing ``sms`` attribute matches
    nothing, ``hold`` is kept from phones, the email-like subscriber without a policy gets everything."""
    staff = alert_world.subscribe_queue("p-staff", _template_policy("StaffPhoneSubscription1"))
    urgent = alert_world.subscribe_queue("p-urgent", _template_policy("UrgentPhoneSubscription1"))
    sns = aws.client("sns")
    for lead_id, attributes in {
        "SEND": {"sms": "send", "priority": "normal"},
        "HOLD": {"sms": "hold", "priority": "normal"},
        "NONE": {"priority": "normal"},
        "URGENT": {"sms": "send", "priority": "urgent"},
        "URGENTHOLD": {"sms": "hold", "priority": "urgent"},
    }.items():
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {**attributes, "lead_id": lead_id}.items()
        }
        sns.publish(
            TopicArn=alert_world.resources.topic_arn, Message="x", MessageAttributes=message_attributes
        )

    assert sorted(_ids(alert_world.inbox())) == ["HOLD", "NONE", "SEND", "URGENT", "URGENTHOLD"]
    assert sorted(_ids(alert_world.inbox(staff))) == ["SEND", "URGENT"]
    assert _ids(alert_world.inbox(urgent)) == ["URGENT"]


# ------------------------------------------------------------------------------------------ the decision


def test_25_new_leads_in_a_window_text_20_and_hold_5_while_all_25_are_emailed(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any
) -> None:
    leads = alert_world.put_leads(25)
    _alert_leads(alert_world, lambda_context)

    emailed = alert_world.inbox()
    texted = alert_world.inbox(phones["staff"])
    assert Counter(_ids(emailed)) == Counter(lead["id"] for lead in leads)  # every lead, once
    assert len(texted) == 20
    assert len(set(_ids(texted))) == 20
    held = _held(alert_world)
    assert len(held) == 5
    assert held == {lead["id"] for lead in leads} - set(_ids(texted))
    sms_attribute = {
        e["MessageAttributes"]["lead_id"]["Value"]: e["MessageAttributes"]["sms"]["Value"] for e in emailed
    }
    assert {lead_id for lead_id, value in sms_attribute.items() if value == "hold"} == held
    assert all(e["MessageAttributes"]["alert_type"]["Value"] == "new_lead" for e in emailed)
    assert alert_world.inbox(phones["urgent"]) == []


def test_urgent_leads_are_never_held(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any
) -> None:
    normal = alert_world.put_leads(22)
    _alert_leads(alert_world, lambda_context)
    urgent = [alert_world.put_lead(urgent=True, in_crisis=True) for _ in range(4)]
    _alert_leads(alert_world, lambda_context)

    texted = _ids(alert_world.inbox(phones["staff"]))
    assert len(texted) == 20 + 4
    assert {lead["id"] for lead in urgent} <= set(texted)
    assert sorted(_ids(alert_world.inbox(phones["urgent"]))) == sorted(lead["id"] for lead in urgent)
    assert len(_held(alert_world)) == 2
    assert _held(alert_world) <= {lead["id"] for lead in normal}
    assert len(alert_world.inbox()) == 26


def test_a_lead_decided_again_keeps_its_decision_and_is_counted_once(alert_world: AlertWorld) -> None:
    table = alert_world.resources.table_name
    decisions = [
        storm.decide(f"L{n:02d}", urgent=False, table_name=table, threshold=2, now=INSIDE) for n in range(4)
    ]
    assert decisions == ["send", "send", "hold", "hold"]
    again = [
        storm.decide(f"L{n:02d}", urgent=False, table_name=table, threshold=2, now=INSIDE) for n in range(4)
    ]
    assert again == decisions  # a stream retry or replay of the same lead
    item = _window_item(alert_world)
    assert sorted(item["sent_ids"]["SS"]) == ["L00", "L01"]
    assert sorted(item["held_ids"]["SS"]) == ["L02", "L03"]
    assert storm.decide("URG", urgent=True, table_name=table, threshold=2, now=INSIDE) == "send"
    assert storm.decide("L04", urgent=False, table_name=table, threshold=2, now=NEXT_WINDOW) == "send"


def test_a_lead_reaching_a_closed_window_is_texted(alert_world: AlertWorld, phones: dict[str, str]) -> None:
    table = alert_world.resources.table_name
    for n in range(3):
        storm.decide(f"L{n}", urgent=False, table_name=table, threshold=2, now=INSIDE)
    storm._close(table, WINDOW, NEXT_WINDOW)  # the flush closed the window: its digest count is final
    assert storm.decide("LATE", urgent=False, table_name=table, threshold=2, now=INSIDE) == "send"
    assert (
        storm.decide("L2", urgent=False, table_name=table, threshold=2, now=INSIDE) == "hold"
    )  # same as before


def test_a_failing_table_texts_rather_than_holds(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_STORM_THRESHOLD", "1")
    load_settings.cache_clear()
    leads = alert_world.put_leads(3)
    alerts = [
        Alert(lead["id"], "s", "e", "t", "e", {"alert_type": "new_lead", "sms": "send"}) for lead in leads
    ]

    def refuse(**_: Any) -> Any:
        error = {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]

    refusing = _shared_session().client("dynamodb")  # a moto client whose every UpdateItem is throttled
    refusing.meta.events.register("before-call.dynamodb.UpdateItem", refuse)
    decided = storm.hold_sms(alerts, settings=load_settings(), dynamodb=refusing)
    assert [a.attributes["sms"] for a in decided] == ["send", "send", "send"]

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug in the decision")

    monkeypatch.setattr(storm, "decide", broken)
    monkeypatch.setattr(storm, "decide_many", broken)  # a chunk is decided by decide_many (decide: fallback)
    assert [a.attributes["sms"] for a in storm.hold_sms(alerts, settings=load_settings())] == ["send"] * 3
    test_alert = Alert("TEST-1", "s", "e", "t", "e", {"alert_type": "test"})
    assert storm.hold_sms([test_alert], settings=load_settings()) == [test_alert]  # only new-lead alerts


# -------------------------------------------------------------------------------------------- the digest


def _digests(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in envelopes if e["MessageAttributes"]["alert_type"]["Value"] == "digest"]


def test_the_digest_goes_out_once_after_the_window_even_when_the_flush_runs_again(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any
) -> None:
    alert_world.put_leads(25)
    _alert_leads(alert_world, lambda_context)
    alert_world.inbox()
    alert_world.inbox(phones["staff"])

    early = storm.flush_digests(settings=load_settings().require_alerts(), now=INSIDE + 60)
    assert early.windows == []  # the window has not ended
    first = _flush()
    second = _flush()
    assert first.published == ["DIGEST-20261202T1420Z"]
    assert second.published == []

    [texted] = alert_world.inbox(phones["staff"])
    [emailed] = alert_world.inbox()
    assert alert_world.inbox(phones["urgent"]) == []
    assert texted["MessageId"] == emailed["MessageId"]
    attributes = {name: value["Value"] for name, value in texted["MessageAttributes"].items()}
    assert attributes["alert_type"] == "digest"
    assert attributes["sms"] == "send"
    assert attributes["lead_id"] == "DIGEST-20261202T1420Z"
    [published] = [m for m in alert_world.published_messages() if m["message_id"] == texted["MessageId"]]
    sms = published["message"]["sms"]
    assert sms.startswith("5 new requests since 08:20")  # the clinic's clock
    delivered = sms_as_delivered(sms, "Clinic leads")
    assert len(delivered) <= SMS_MAX_CHARS
    assert all(c in GSM7_BASIC for c in delivered)
    subject = texted["Subject"]
    assert 1 <= len(subject) <= 99
    assert all(c in PRINTABLE_ASCII for c in subject)
    assert subject.startswith("SMS digest: 5 new consultation requests since 08:20")
    for lead_id in _held(alert_world):
        assert lead_id in published["message"]["email"]
    assert "alerted_at" in _window_item(alert_world)


def test_overlapping_flushes_send_one_digest(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any
) -> None:
    """Two flushes overlapping at every point that matters (moto's DynamoDB has no per-item locking, so real
    threads would test moto; the interleavings are made explicit instead): B runs whole between A's read and
    A's claim, and C runs whole while A's PublishBatch is in flight (A holds the lease)."""
    alert_world.put_leads(23)
    _alert_leads(alert_world, lambda_context)
    alert_world.inbox(phones["staff"])
    settings = load_settings().require_alerts()
    nested: list[storm.FlushReport] = []

    def publish_after_another_flush(jobs: Any, **kwargs: Any) -> delivery.DeliveryReport:
        nested.append(storm.flush_digests(settings=settings, now=NEXT_WINDOW))  # B, whole
        return delivery.publish_once(jobs, **kwargs)

    a = storm.flush_digests(settings=settings, now=NEXT_WINDOW, publish=publish_after_another_flush)
    assert nested[0].published == ["DIGEST-20261202T1420Z"]
    assert a.published == []  # A's claim found the digest marked: suppressed, not sent again

    # A second window, C while A publishes.
    later = NEXT_WINDOW + storm.WINDOW_SECONDS
    table = alert_world.resources.table_name
    for n in range(22):
        storm.decide(f"W2L{n:02d}", urgent=False, table_name=table, threshold=20, now=NEXT_WINDOW)
    during: list[storm.FlushReport] = []

    def flush_while_publishing(**_: Any) -> None:
        if not during:
            during.append(storm.flush_digests(settings=settings, now=later))  # C, whole

    aws.client("sns").meta.events.register("before-call.sns.PublishBatch", flush_while_publishing)
    try:
        a2 = storm.flush_digests(settings=settings, now=later)
    finally:
        aws.client("sns").meta.events.unregister("before-call.sns.PublishBatch", flush_while_publishing)
    assert during[0].published == []
    assert during[0].failed == ["DIGEST-20261202T1430Z"]  # leased by A: retried by the next run
    assert a2.published == ["DIGEST-20261202T1430Z"]
    assert storm.flush_digests(settings=settings, now=later).windows == []  # marked: nothing left

    digests = _digests(alert_world.inbox(phones["staff"]))
    assert sorted(d["MessageAttributes"]["lead_id"]["Value"] for d in digests) == [
        "DIGEST-20261202T1420Z",
        "DIGEST-20261202T1430Z",
    ]
    texts = {m["message_id"]: m["message"]["sms"] for m in alert_world.published_messages()}
    assert sorted(texts[d["MessageId"]][:26] for d in digests) == [
        "2 new requests since 08:30",
        "3 new requests since 08:20",
    ]


def test_no_digest_for_a_window_that_held_nothing(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any
) -> None:
    alert_world.put_leads(20)
    _alert_leads(alert_world, lambda_context)
    assert _flush().windows == []
    assert _digests(alert_world.inbox()) == []


def test_storm_and_digest_under_30_percent_throttling_of_every_dynamodb_and_sns_call(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any
) -> None:
    leads = alert_world.put_leads(30)
    records = alert_world.new_stream_records()
    faulted = boto3.Session(region_name="us-east-1")
    injector = FaultInjector(parse_faults("dynamodb:*=0.3,sns:*=0.3"), seed=11)
    injector.install(faulted)
    aws.use_session(faulted)
    try:
        for _ in range(40):  # stream retries
            if not records:
                break
            failures = app.lambda_handler(lambda_event(records), lambda_context)["batchItemFailures"]
            failed = {f["itemIdentifier"] for f in failures}
            records = [r for r in records if r["dynamodb"]["SequenceNumber"] in failed]
        assert records == []
        settings = load_settings().require_alerts()
        published: list[str] = []
        for _ in range(20):  # the schedule keeps running
            published += storm.flush_digests(settings=settings, now=NEXT_WINDOW).published
    finally:
        aws.use_session(None)
        delivery.container_memory.clear()
    assert injector.injected["dynamodb:UpdateItem"] > 0
    assert injector.injected["sns:PublishBatch"] > 0

    aws.use_session(boto3.Session(region_name="us-east-1"))
    emailed = alert_world.inbox()
    texted = alert_world.inbox(phones["staff"])
    new_lead_emails = [e for e in emailed if e["MessageAttributes"]["alert_type"]["Value"] == "new_lead"]
    assert Counter(_ids(new_lead_emails)) == Counter(lead["id"] for lead in leads)  # exactly once each
    held = _held(alert_world)
    texted_leads = [e for e in texted if e["MessageAttributes"]["alert_type"]["Value"] == "new_lead"]
    assert set(_ids(texted_leads)) == {lead["id"] for lead in leads} - held
    assert len(texted_leads) == len(set(_ids(texted_leads)))
    assert len(held) >= 1
    assert published == ["DIGEST-20261202T1420Z"]
    digests = _digests(texted)
    assert len(digests) == 1
    assert len(_digests(emailed)) == 1
    message = json.loads(
        next(
            json.dumps(m["message"])
            for m in alert_world.published_messages()
            if m["message_id"] == digests[0]["MessageId"]
        )
    )
    assert message["sms"].startswith(f"{len(held)} new request")


def test_the_scheduled_replay_function_sends_the_due_digest(
    alert_world: AlertWorld, phones: dict[str, str], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leads_local.apigw import LambdaContext
    from leads_local.scheduler import scheduled_event
    from replay_alerts import app as replay_app

    alert_world.put_leads(21)
    _alert_leads(alert_world, lambda_context)
    alert_world.inbox(phones["staff"])
    context = LambdaContext(function_name="clinic-leads-test-replay", timeout_seconds=60.0)
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/x")

    assert replay_app.lambda_handler(event, context)["storm_digests"] == []  # the window is still open
    monkeypatch.setattr(storm, "_clock", lambda: NEXT_WINDOW)
    assert replay_app.lambda_handler(event, context)["storm_digests"] == ["DIGEST-20261202T1420Z"]
    assert replay_app.lambda_handler(event, context)["storm_digests"] == []

    [digest] = alert_world.inbox(phones["staff"])
    assert digest["MessageAttributes"]["alert_type"]["Value"] == "digest"


@pytest.mark.parametrize("display_name", ["", "Clinic leads", "Naperville Wellness Clinic new leads"])
@pytest.mark.parametrize("clinic_name", ["Naperville Wellness Clinic", "Zoë’s [Care] ~ Clinic 😀", "W" * 60])
@pytest.mark.parametrize("count", [1, 7, 12345])
def test_digest_is_one_segment_with_the_prefix_and_an_ascii_subject(
    display_name: str, clinic_name: str, count: int
) -> None:
    ids = [f"LEAD{n:06d}" for n in range(count)]
    for console_url in (
        "",
        "https://staff.example-clinic.com/staff/",
        "https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn/v1/staff/",
    ):
        digest = storm.render_digest(
            WINDOW,
            ids,
            threshold=20,
            clinic_name=clinic_name,
            display_name=display_name,
            console_url=console_url,
        )
        delivered = sms_as_delivered(digest.sms, display_name)
        assert len(delivered) <= SMS_MAX_CHARS, delivered
        assert all(c in GSM7_BASIC for c in delivered)
        assert digest.sms.startswith(f"{count} new request{'s' if count > 1 else ''} since 08:20")
        if console_url:  # the console's own link, whole, at the end of the SMS and in the email
            assert digest.sms.endswith(f" {console_url}")
            assert f"Staff console: {console_url}\n" in digest.email
        assert 1 <= len(digest.subject) <= 99
        assert all(c in PRINTABLE_ASCII for c in digest.subject)
        assert digest.attributes == {
            "lead_id": "DIGEST-20261202T1420Z",
            "priority": "normal",
            "alert_type": "digest",
            "sms": "send",
        }
        assert digest.to_publish_entry()["Id"] == "DIGEST-20261202T1420Z"
