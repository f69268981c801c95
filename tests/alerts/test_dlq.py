"""After the stream's retries give up, the on-failure queue holds Lambda's invocation record;
``replay_failures`` reads the records back from the stream and alerts each lead at most once."""

from __future__ import annotations

import json
from typing import Any

from leads_core import aws, keys
from leads_core.dlq import list_failures, replay_failures
from leads_local.template import stream_event_source

from tests.alerts.conftest import AlertWorld, SnsFaults, lambda_event


def _on_failure_message(world: AlertWorld, records: list[dict[str, Any]], invocations: int) -> dict[str, Any]:
    """What Lambda sends to the on-failure destination of a DynamoDB event source mapping."""
    first, last = records[0], records[-1]
    return {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4e2c-8e53-7e1d1a2f6b11",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:clinic-leads-SendAlertsFunction",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invocations,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None},
        "version": "1.0",
        "timestamp": "2026-11-29T13:50:00.000Z",
        "DDBStreamBatchInfo": {
            "shardId": world.shard_id,
            "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": "2026-11-29T13:45:12Z",
            "approximateArrivalOfLastRecord": "2026-11-29T13:45:13Z",
            "batchSize": len(records),
            "streamArn": world.resources.stream_arn,
        },
    }


def _send_to_failure_queue(world: AlertWorld, body: dict[str, Any] | str) -> None:
    aws.client("sqs").send_message(
        QueueUrl=world.resources.alert_failures_queue_url,
        MessageBody=body if isinstance(body, str) else json.dumps(body),
    )


def _alerted(world: AlertWorld) -> list[str]:
    return sorted(e["MessageAttributes"]["lead_id"]["Value"] for e in world.inbox())


def test_a_record_that_keeps_failing_is_replayed_from_the_failure_queue_exactly_once(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    ok = alert_world.put_lead()
    stuck = alert_world.put_lead()
    records = alert_world.new_stream_records()
    sns_faults.failing_ids = {stuck["id"]}
    stuck_sequence = next(r for r in records if r["dynamodb"]["NewImage"]["id"]["S"] == stuck["id"])
    invocations = 1 + stream_event_source().maximum_retry_attempts

    for _ in range(invocations):  # the first attempt plus every retry the template allows
        response = handler(lambda_event(records), lambda_context)
        assert response == {
            "batchItemFailures": [{"itemIdentifier": stuck_sequence["dynamodb"]["SequenceNumber"]}]
        }
    assert _alerted(alert_world) == [ok["id"]]

    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, invocations))
    [listed] = list_failures(queue_url)
    assert listed.condition == "RetryAttemptsExhausted"
    assert listed.shard_id == alert_world.shard_id
    assert listed.batch_size == 2
    assert listed.start_sequence_number == records[0]["dynamodb"]["SequenceNumber"]
    assert len(list_failures(queue_url)) == 1  # listing leaves the message on the queue

    sns_faults.failing_ids = set()  # SNS recovered
    report = replay_failures(queue_url)

    assert set(report.published) == {stuck["id"]}
    assert report.suppressed == [ok["id"]]  # already alerted by the stream: not again
    assert report.messages == report.messages_deleted == 1
    assert report.failed_lead_ids == []
    assert _alerted(alert_world) == [stuck["id"]]

    assert replay_failures(queue_url).messages == 0
    assert list_failures(queue_url) == []
    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}
    assert alert_world.inbox() == []


def test_replay_keeps_the_message_while_publishing_still_fails(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    stuck = alert_world.put_lead()
    records = alert_world.new_stream_records()
    sns_faults.failing_ids = {stuck["id"]}
    handler(lambda_event(records), lambda_context)
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))

    report = replay_failures(queue_url)

    assert report.failed_lead_ids == [stuck["id"]]
    assert report.messages_deleted == 0
    assert [f.start_sequence_number for f in list_failures(queue_url)] == [
        records[0]["dynamodb"]["SequenceNumber"]
    ]
    assert "alert_lease_until" not in alert_world.get_item(stuck["id"])
    assert alert_world.inbox() == []


def test_replay_settles_erased_leads_and_malformed_records_without_alerting(
    alert_world: AlertWorld, sns_faults: SnsFaults
) -> None:
    erased = alert_world.put_lead()
    alert_world.put_lead(status="spam")
    records = alert_world.new_stream_records(filtered=False)
    aws.client("dynamodb").delete_item(
        TableName=alert_world.resources.table_name, Key=keys.lead_key(erased["id"])
    )
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))

    report = replay_failures(queue_url)

    assert report.skipped == [erased["id"]]
    assert report.published == {}
    assert report.records_read == 2
    assert report.messages_deleted == 1
    assert sns_faults.calls == 0
    assert alert_world.inbox() == []


def test_a_message_that_is_no_stream_invocation_record_is_kept_and_named(alert_world: AlertWorld) -> None:
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, "not json")

    report = replay_failures(queue_url)

    [listed] = list_failures(queue_url)
    assert report.unreadable_message_ids == [listed.message_id]
    assert listed.problem
    assert "receipt_handle" not in listed.to_dict()


def test_replay_stays_within_the_failed_range(alert_world: AlertWorld, sns_faults: SnsFaults) -> None:
    first, second, third = (alert_world.put_lead() for _ in range(3))
    records = alert_world.new_stream_records()
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records[1:2], 6))

    report = replay_failures(queue_url)

    assert list(report.published) == [second["id"]]
    assert report.records_read == 1
    assert "alerted_at" not in alert_world.get_item(first["id"])
    assert "alerted_at" not in alert_world.get_item(third["id"])


def test_a_batch_whose_stream_is_gone_is_kept_as_unreadable(alert_world: AlertWorld) -> None:
    alert_world.put_lead()
    records = alert_world.new_stream_records()
    message = _on_failure_message(alert_world, records, 6)
    message["DDBStreamBatchInfo"]["streamArn"] = (
        "arn:aws:dynamodb:us-east-1:123456789012:table/deleted-table/stream/2026-01-01T00:00:00.000"
    )
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, message)

    report = replay_failures(queue_url)

    assert len(report.unreadable_message_ids) == 1
    assert report.messages_deleted == 0
    assert len(list_failures(queue_url)) == 1
    assert alert_world.inbox() == []
