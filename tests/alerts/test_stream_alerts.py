"""The alert function end to end on moto: lead items written to the table, the REAL stream records moto
recorded for them (in Lambda's event shape), the handler, and the topic read back through an SQS inbox."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from leads_core import aws, keys
from leads_core.alerts import GSM7_BASIC, SMS_MAX_CHARS
from leads_core.errors import ConfigurationError
from leads_core.observability import logger
from leads_core.settings import load_settings
from leads_core.store import alert_state
from leads_local import moto_patches
from leads_local.template import stream_event_source

from tests.alerts.conftest import AlertWorld, SnsFaults, lambda_event
from tests.conftest import load_event

ATTRIBUTE_NAMES = {"lead_id", "location", "service", "priority", "referral_type"}
PII_FIELDS = ("first_name", "last_name", "email", "phone", "message")


def _attributes(envelope: dict[str, Any]) -> dict[str, str]:
    return {name: value["Value"] for name, value in envelope.get("MessageAttributes", {}).items()}


def _alerted_ids(envelopes: list[dict[str, Any]]) -> list[str]:
    return sorted(_attributes(e)["lead_id"] for e in envelopes)


def _failures(response: dict[str, Any]) -> list[str]:
    return sorted(item["itemIdentifier"] for item in response["batchItemFailures"])


def _sequence_numbers_of(records: list[dict[str, Any]], lead_ids: set[str]) -> list[str]:
    return sorted(
        r["dynamodb"]["SequenceNumber"] for r in records if r["dynamodb"]["NewImage"]["id"]["S"] in lead_ids
    )


def test_one_alert_per_new_lead_and_none_for_spam(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    leads = [alert_world.put_lead() for _ in range(3)]
    spam = alert_world.put_lead(status="spam")
    records = alert_world.new_stream_records(
        filtered=False
    )  # the code's own check, without the template filter
    assert len(records) == 4

    response = handler(lambda_event(records), lambda_context)

    assert response == {"batchItemFailures": []}
    assert _alerted_ids(alert_world.inbox()) == sorted(lead["id"] for lead in leads)
    assert "alerted_at" not in alert_world.get_item(spam["id"])
    for lead in leads:
        item = alert_world.get_item(lead["id"])
        assert item["alert_message_id"]["S"]
        assert item["alerted_at"]["S"].endswith("Z")
        assert "alert_lease_until" not in item


def test_the_same_batch_delivered_again_alerts_nobody_twice(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    leads = [alert_world.put_lead() for _ in range(4)]
    event = lambda_event(alert_world.new_stream_records())
    duplicate_record = copy.deepcopy(event["Records"][0])
    event_with_duplicate = lambda_event([*event["Records"], duplicate_record])

    assert handler(event_with_duplicate, lambda_context) == {"batchItemFailures": []}
    assert handler(event, lambda_context) == {"batchItemFailures": []}
    assert handler(event, lambda_context) == {"batchItemFailures": []}

    assert _alerted_ids(alert_world.inbox()) == sorted(lead["id"] for lead in leads)
    assert len(alert_world.published_messages()) == 4


def test_alert_holds_codes_in_attributes_and_no_person_in_subject(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    lead = alert_world.put_lead(
        first_name="Zoë",
        last_name="O'Connor-Núñez",
        email="zoe.oconnor@example.org",
        phone="+13125550199",
        location="oak-brook",
        service="ptsd",
        referral_type="self",
        message="Nightmares since the accident. Please call after 5pm.",
    )
    handler(lambda_event(alert_world.new_stream_records()), lambda_context)

    [envelope] = alert_world.inbox()
    assert _attributes(envelope) == {
        "lead_id": lead["id"],
        "location": "oak-brook",
        "service": "ptsd",
        "priority": "normal",
        "referral_type": "self",
        "alert_type": "new_lead",
        "sms": "send",
        "AWS.SNS.SMS.SMSType": "Transactional",
    }
    subject = envelope["Subject"]
    assert subject.startswith(f"New consultation request {lead['id']} - Oak Brook")
    for name in PII_FIELDS:
        for word in str(lead[name]).replace("-", " ").split():
            if len(word) > 3:
                assert word.lower() not in subject.lower()
                assert all(word.lower() not in v.lower() for v in _attributes(envelope).values())

    [published] = alert_world.published_messages()
    assert set(published["message"]) == {"default", "email", "sms"}
    sms = published["message"]["sms"]
    assert len(sms) <= SMS_MAX_CHARS
    assert set(sms) <= GSM7_BASIC
    assert "Zoe O." in sms  # contact detail (alert_world's): first name and last initial, transliterated
    assert "+13125550199" in sms
    assert "Nightmares" not in sms
    assert envelope["Message"] == published["message"]["default"]


@pytest.mark.parametrize("detail", ["minimal", "contact", "full"])
def test_detail_levels_as_published(
    detail: str, alert_world: AlertWorld, handler: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("ALERT_DETAIL", detail)
    # A custom domain's console URL: short enough that contact detail fits beside the link in the SMS.
    monkeypatch.setenv("CONSOLE_URL", "https://care.example.org/staff")
    load_settings.cache_clear()
    lead = alert_world.put_lead(
        first_name="Dana",
        last_name="Whitfield",
        phone="+16305550142",
        message="Looking for help with anxiety.",
        attribution={"utm_source": "newsletter"},
    )
    handler(lambda_event(alert_world.new_stream_records()), lambda_context)

    [published] = alert_world.published_messages()
    email, sms = published["message"]["email"], published["message"]["sms"]
    for part in (email, sms):
        assert lead["id"] in part
        assert "Anxiety" in part
        assert "Naperville" in part
        assert f"https://care.example.org/staff/#{lead['id']}" in part  # normalised to end with "/"
    assert sms.endswith(f" https://care.example.org/staff/#{lead['id']}")
    assert "Looking for help" not in sms
    assert "Whitfield" not in sms
    if detail == "minimal":
        for text in (email, sms):
            assert "Dana" not in text
            assert "+16305550142" not in text
    elif detail == "contact":
        for text in (email, sms):
            assert "Dana W." in text
            assert "+16305550142" in text
        assert "Whitfield" not in email
        assert "Looking for help" not in email
        assert "newsletter" not in email
    else:
        assert "Dana Whitfield" in email
        assert "Looking for help with anxiety." in email
        assert "newsletter" in email
        assert "Dana W." in sms


def test_urgent_alert_says_so_first(alert_world: AlertWorld, handler: Any, lambda_context: Any) -> None:
    lead = alert_world.put_lead(in_crisis=True, urgent=True, urgent_reasons=["self_reported"])
    handler(lambda_event(alert_world.new_stream_records()), lambda_context)

    [envelope] = alert_world.inbox()
    assert envelope["Subject"].startswith(f"URGENT: new consultation request {lead['id']}")
    assert _attributes(envelope)["priority"] == "urgent"
    [published] = alert_world.published_messages()
    assert published["message"]["sms"].startswith("URGENT")
    assert published["message"]["email"].startswith("URGENT")
    assert "988" in published["message"]["email"]


def test_modify_remove_ttl_and_non_new_inserts_never_alert(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:

    lead = alert_world.put_lead()
    handler(lambda_event(alert_world.new_stream_records()), lambda_context)
    assert len(alert_world.inbox()) == 1
    claim_and_mark = alert_world.new_stream_records(filtered=False)
    lead_changes = [r for r in claim_and_mark if r["dynamodb"]["Keys"]["pk"]["S"] == f"LEAD#{lead['id']}"]
    assert [r["eventName"] for r in lead_changes] == ["MODIFY", "MODIFY"]  # (and the storm window's item)

    dynamodb = aws.client("dynamodb")
    table = alert_world.resources.table_name
    dynamodb.update_item(
        TableName=table,
        Key=keys.lead_key(lead["id"]),
        UpdateExpression="SET #s = :s REMOVE alerted_at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "new"}},
    )
    dynamodb.delete_item(TableName=table, Key=keys.lead_key(lead["id"]))
    alert_world.put_lead(status="contacted")
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "RATE#abc"}, "sk": {"S": "2026112913"}, "hits": {"N": "1"}}
    )
    records = alert_world.new_stream_records(filtered=False)
    assert [r["eventName"] for r in records] == ["MODIFY", "REMOVE", "INSERT", "INSERT"]
    ttl_delete = copy.deepcopy(records[1])
    ttl_delete["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    ttl_delete["dynamodb"]["SequenceNumber"] = str(int(records[-1]["dynamodb"]["SequenceNumber"]) + 1)

    response = handler(lambda_event([*claim_and_mark, *records, ttl_delete]), lambda_context)

    assert response == {"batchItemFailures": []}
    assert alert_world.inbox() == []


def test_template_filter_passes_only_new_lead_inserts(alert_world: AlertWorld) -> None:
    patterns = stream_event_source().filter_patterns
    assert patterns, "the template's event source must filter the stream"
    fresh = alert_world.put_lead()
    alert_world.put_lead(status="spam")
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in alert_world.new_stream_records()] == [fresh["id"]]


def test_malformed_records_are_reported_not_crashed_on(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    good = alert_world.put_lead()
    records = alert_world.new_stream_records()
    last = int(records[-1]["dynamodb"]["SequenceNumber"])

    no_id = copy.deepcopy(records[0])
    del no_id["dynamodb"]["NewImage"]["id"]
    no_id["dynamodb"]["SequenceNumber"] = str(last + 1)
    bad_type = copy.deepcopy(records[0])
    bad_type["dynamodb"]["NewImage"]["urgent"] = {"ZZ": "?"}
    bad_type["dynamodb"]["SequenceNumber"] = str(last + 2)
    unknown_event = copy.deepcopy(records[0])
    unknown_event["eventName"] = "UPSERT"
    unknown_event["dynamodb"]["SequenceNumber"] = str(last + 3)
    no_sequence = copy.deepcopy(records[0])
    del no_sequence["dynamodb"]["SequenceNumber"]

    response = handler(lambda_event([*records, no_id, bad_type, unknown_event, no_sequence]), lambda_context)

    assert _failures(response) == sorted([str(last + 1), str(last + 2), str(last + 3)])
    assert _alerted_ids(alert_world.inbox()) == [good["id"]]


def test_sns_failures_report_exactly_the_failed_records_and_a_retry_sends_only_those(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    leads = alert_world.put_leads(23)
    records = alert_world.new_stream_records()
    event = lambda_event(records)
    ids = [lead["id"] for lead in leads]
    # Publish calls go out in record order, 10 entries each: the second chunk carries leads 10-19. Its calls
    # (and the in-invocation retries) are throttled; two entries fail on every try.
    sns_faults.throttle_carrying = {ids[10]}
    sns_faults.failing_ids = {ids[3], ids[21]}

    first = handler(event, lambda_context)

    failed = {ids[3], ids[21], *ids[10:20]}
    assert _failures(first) == _sequence_numbers_of(records, failed)
    assert _alerted_ids(alert_world.inbox()) == sorted(set(ids) - failed)
    for lead_id in failed:
        item = alert_world.get_item(lead_id)
        assert "alerted_at" not in item
        assert "alert_lease_until" not in item  # released, so the retry can claim at once

    sns_faults.throttle_carrying = set()
    sns_faults.failing_ids = set()
    second = handler(event, lambda_context)

    assert second == {"batchItemFailures": []}
    assert _alerted_ids(alert_world.inbox()) == sorted(failed)
    assert len(alert_world.published_messages()) == 23


def test_a_whole_batch_failing_is_reported_record_by_record(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    leads = [alert_world.put_lead() for _ in range(3)]
    records = alert_world.new_stream_records()
    sns_faults.throttle_carrying = {lead["id"] for lead in leads}

    response = handler(lambda_event(records), lambda_context)

    assert _failures(response) == sorted(r["dynamodb"]["SequenceNumber"] for r in records)
    assert alert_world.inbox() == []


def test_publish_batch_calls_for_a_100_record_batch(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    batch_size = stream_event_source().batch_size
    leads = alert_world.put_leads(batch_size)
    records = alert_world.new_stream_records()
    assert len(records) == batch_size
    alert_world.unsubscribe_inbox()  # counted at the topic below; no need to fan 100 messages out to SQS

    # Stock moto copies the whole table for each chunk's mark transaction (6-13 s here); the local stack's
    # patch keeps only what a transaction names (same answers: tests/local/test_moto_patches.py).
    with moto_patches.installed():
        assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}

    published = alert_world.published_messages()
    assert sorted(p["attributes"]["lead_id"]["Value"] for p in published) == sorted(x["id"] for x in leads)
    assert sns_faults.calls / batch_size == pytest.approx(0.1)


def test_a_lead_leased_by_another_invocation_is_retried_not_dropped(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:

    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    assert alert_state.claim(lead["id"]).claimed  # another invocation is publishing right now

    assert _failures(handler(lambda_event(records), lambda_context)) == _sequence_numbers_of(
        records, {lead["id"]}
    )
    assert alert_world.inbox() == []

    # That invocation died: its lease runs out and the stream's retry alerts once.
    aws.client("dynamodb").update_item(
        TableName=alert_world.resources.table_name,
        Key=keys.lead_key(lead["id"]),
        UpdateExpression="SET alert_lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}
    assert _alerted_ids(alert_world.inbox()) == [lead["id"]]


def test_a_lead_erased_before_its_alert_is_not_alerted(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:

    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    aws.client("dynamodb").delete_item(
        TableName=alert_world.resources.table_name, Key=keys.lead_key(lead["id"])
    )

    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}
    assert alert_world.inbox() == []
    assert alert_world.get_item(lead["id"]) == {}  # the claim did not recreate the item


def test_logs_and_metrics_carry_no_visitor_values(
    alert_world: AlertWorld,
    handler: Any,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:

    lead = alert_world.put_lead(
        first_name="Quentinella",
        last_name="Marchbanks",
        email="quentinella@example.net",
        phone="+17735550111",
    )
    spam = alert_world.put_lead(status="spam", first_name="Spammerton")
    records = alert_world.new_stream_records(filtered=False)
    broken = copy.deepcopy(records[0])
    del broken["dynamodb"]["NewImage"]["id"]
    broken["dynamodb"]["SequenceNumber"] = str(int(records[-1]["dynamodb"]["SequenceNumber"]) + 1)

    with caplog.at_level("DEBUG", logger=logger.name):
        handler(lambda_event([*records, broken]), lambda_context)

    log_lines = [logger.registered_formatter.format(record) for record in caplog.records]
    output = capsys.readouterr().out + "\n".join(log_lines)
    assert log_lines
    assert lead["id"] in output  # logs name the lead by id
    assert '"AlertPublished"' in output  # EMF metrics are flushed
    for value in ("Quentinella", "Marchbanks", "quentinella@example.net", "+17735550111", "Spammerton"):
        assert value not in output
    assert spam["id"] not in {e["MessageAttributes"]["lead_id"]["Value"] for e in alert_world.inbox()}


def test_missing_topic_setting_names_the_variable(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.delenv("TOPIC_ARN")
    load_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="TOPIC_ARN"):
        handler(lambda_event([]), lambda_context)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (None, "CONSOLE_URL: required by the alert functions"),
        ("http://staff.example-clinic.com/staff/", "CONSOLE_URL: must be an https URL"),
        ("https://" + "s" * 130 + ".example-clinic.com/staff/", "CONSOLE_URL: too long for a one-segment"),
    ],
)
def test_a_missing_or_bad_console_url_stops_the_alert_function_naming_it(
    value: str | None,
    rule: str,
    alert_world: AlertWorld,
    handler: Any,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alert_world.put_lead()
    if value is None:
        monkeypatch.delenv("CONSOLE_URL")
    else:
        monkeypatch.setenv("CONSOLE_URL", value)
    load_settings.cache_clear()
    with pytest.raises(ConfigurationError, match=rule) as refused:
        handler(lambda_event(alert_world.new_stream_records()), lambda_context)
    assert "example-clinic" not in str(refused.value)
    assert alert_world.inbox() == []  # nothing sent: the stream retries the batch once the setting is fixed


def test_event_records_keep_lambda_shape(alert_world: AlertWorld) -> None:
    alert_world.put_lead()
    [record] = alert_world.new_stream_records()
    assert record["eventSourceARN"] == alert_world.resources.stream_arn
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert json.loads(json.dumps(record)) == record


def test_sample_stream_events_for_sam_local_invoke(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    event = load_event("stream_mixed_batch")
    assert load_event("stream_new_lead")["Records"] == event["Records"][:1]
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            aws.client("dynamodb").put_item(
                TableName=alert_world.resources.table_name, Item=record["dynamodb"]["NewImage"]
            )

    assert handler(event, lambda_context) == {"batchItemFailures": []}

    envelopes = alert_world.inbox()
    assert _alerted_ids(envelopes) == ["7K3M9Q2XAB", "8N4P0R3YBC"]
    assert {_attributes(e)["lead_id"]: _attributes(e)["priority"] for e in envelopes} == {
        "7K3M9Q2XAB": "normal",
        "8N4P0R3YBC": "urgent",
    }
