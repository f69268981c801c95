"""After the stream's retries give up, the on-failure queue holds Lambda's invocation record;
``replay_failures`` reads the records back from the stream and alerts each lead at most once."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse
from leads_core import aws, keys
from leads_core.dlq import KEEP_REASONS, backoff_seconds, list_failures, replay_failures
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


class EmptyPages:
    """DynamoDB Streams answering ``GetRecords`` with empty pages first (allowed before records appear)."""

    def __init__(self, empty_pages: int) -> None:
        self.left = empty_pages
        self.calls = 0

    def install(self) -> EmptyPages:
        aws.client("dynamodbstreams").meta.events.register(
            "before-call.dynamodbstreams.GetRecords", self._before_call
        )
        return self

    def _before_call(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.calls += 1
        if self.left <= 0:
            return None
        self.left -= 1
        iterator = json.loads(params["body"])["ShardIterator"]
        page = {"Records": [], "NextShardIterator": iterator, "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse("https://streams.dynamodb.us-east-1.amazonaws.com/", 200, {}, None), page  # type: ignore[arg-type]


def test_empty_stream_pages_before_the_records_do_not_lose_the_alert(alert_world: AlertWorld) -> None:
    """Main gave up after 5 empty pages, deleted the message and the alert was lost."""
    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))
    EmptyPages(8).install()

    report = replay_failures(queue_url)

    assert list(report.published) == [lead["id"]]
    assert report.messages_deleted == 1
    assert _alerted(alert_world) == [lead["id"]]


def test_a_read_that_never_reaches_the_batch_end_keeps_the_message_and_says_why(
    alert_world: AlertWorld,
) -> None:
    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))
    pages = EmptyPages(10_000).install()

    report = replay_failures(queue_url)

    [listed] = list_failures(queue_url)
    assert report.kept == {listed.message_id: "stream_read_incomplete"}
    assert KEEP_REASONS["stream_read_incomplete"]
    assert report.messages_deleted == 0
    assert pages.calls > 5
    assert alert_world.inbox() == []

    pages.left = 0  # the records show up: the next replay alerts once
    assert list(replay_failures(queue_url).published) == [lead["id"]]
    assert list_failures(queue_url) == []
    assert _alerted(alert_world) == [lead["id"]]


def test_throttled_reads_in_a_replay_neither_lose_nor_double(alert_world: AlertWorld) -> None:
    leads = [alert_world.put_lead() for _ in range(6)]
    records = alert_world.new_stream_records()
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))
    throttled = {"GetItem": 0}
    rng = random.Random(2026)

    def throttle_reads(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if rng.random() < 0.6:
            throttled["GetItem"] += 1
            error = {
                "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]
        return None

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.GetItem", throttle_reads)
    reports = [replay_failures(queue_url) for _ in range(3)]

    assert throttled["GetItem"] > 0
    assert sum(r.messages_deleted for r in reports) == 1
    assert Counter(_alerted(alert_world)) == {lead["id"]: 1 for lead in leads}


def test_the_scheduled_replay_spaces_its_retries_out(alert_world: AlertWorld, sns_faults: SnsFaults) -> None:
    stuck = alert_world.put_lead()
    records = alert_world.new_stream_records()
    queue_url = alert_world.resources.alert_failures_queue_url
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))
    sns_faults.failing_ids = {stuck["id"]}

    report = replay_failures(queue_url, backoff=True)

    assert list(report.kept.values()) == ["alerts_failed"]
    assert list_failures(queue_url) == []  # hidden for backoff_seconds(1) = 60 s, not visible at once
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5, 9)] == [60, 120, 240, 480, 900, 900]
