"""The local event source mapping: partial failures, retries, bisect, on-failure, filtering, batching."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import boto3
import pytest
from leads_local.poller import EventSourceMapping, HandlerUnavailable, StreamPoller, StreamRecord
from leads_local.template import StreamEventSource, stream_event_source

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-29T00:00:00.000"


def _records(count: int, arrival: float | None = None) -> list[StreamRecord]:
    arrival = time.time() if arrival is None else arrival
    return [
        StreamRecord.from_stream(
            {
                "eventID": f"e{n}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": int(arrival),
                    "Keys": {"pk": {"S": f"LEAD#{n}"}, "sk": {"S": "LEAD"}},
                    "NewImage": {"pk": {"S": f"LEAD#{n}"}, "sk": {"S": "LEAD"}},
                    "SequenceNumber": str(100 + n),
                    "SizeBytes": 10,
                    "StreamViewType": "NEW_IMAGE",
                },
            },
            shard_id="shardId-1",
            stream_arn=STREAM_ARN,
        )
        for n in range(1, count + 1)
    ]


class FakeAlertFunction:
    """Records every invocation; fails the records it is told to, the way it is told to."""

    def __init__(self, behaviour: Any = None) -> None:
        self.calls: list[list[str]] = []
        self.behaviour = behaviour or (lambda sequence_numbers, call: None)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        assert context.aws_request_id
        assert context.get_remaining_time_in_millis() > 0
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.calls.append(sequence_numbers)
        return self.behaviour(sequence_numbers, len(self.calls))


def _mapping(function: FakeAlertFunction, **settings: Any) -> tuple[EventSourceMapping, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    mapping = EventSourceMapping(
        settings=dataclasses.replace(stream_event_source(), **settings),
        load_handler=lambda: function,
        stream_arn=STREAM_ARN,
        function_name="clinic-leads-local-SendAlertsFunction",
        send_on_failure=sent.append,
        retry_delay_seconds=0,
        log=lambda line: None,
    )
    return mapping, sent


def test_template_settings_are_the_ones_emulated() -> None:
    settings = stream_event_source()
    assert settings == StreamEventSource(
        batch_size=100,
        batching_window_seconds=0,
        report_batch_item_failures=True,
        bisect_on_error=True,
        maximum_retry_attempts=5,
        maximum_record_age_seconds=3600,
        starting_position="TRIM_HORIZON",
        on_failure_queue_logical_id="AlertFailuresQueue",
        filter_patterns=settings.filter_patterns,
    )


def test_success_invokes_once_with_lambda_shaped_records() -> None:
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.append(event)

    mapping, sent = _mapping(FakeAlertFunction())
    mapping.load_handler = lambda: handler
    mapping.deliver(_records(3))
    assert len(seen) == 1
    record = seen[0]["Records"][0]
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["eventSource"] == "aws:dynamodb"
    assert set(record["dynamodb"]) >= {"Keys", "NewImage", "SequenceNumber", "ApproximateCreationDateTime"}
    assert sent == []


def test_partial_failure_retries_from_the_first_failed_record() -> None:
    function = FakeAlertFunction(
        lambda seqs, call: (
            {"batchItemFailures": [{"itemIdentifier": "104"}, {"itemIdentifier": "103"}]}
            if call == 1
            else None
        )
    )
    mapping, sent = _mapping(function)
    mapping.deliver(_records(5))
    assert function.calls == [["101", "102", "103", "104", "105"], ["103", "104", "105"]]
    assert sent == []


def test_persistent_partial_failure_goes_to_on_failure_after_the_retries() -> None:
    function = FakeAlertFunction(
        lambda seqs, call: {"batchItemFailures": [{"itemIdentifier": "103"}]} if "103" in seqs else None
    )
    mapping, sent = _mapping(function)
    mapping.deliver(_records(5))
    assert function.calls[0] == ["101", "102", "103", "104", "105"]
    assert function.calls[1:] == [["103", "104", "105"]] * 5  # MaximumRetryAttempts: 5
    assert len(sent) == 1
    info = sent[0]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("103", "105", 3)
    assert sent[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert sent[0]["requestContext"]["approximateInvokeCount"] == 6
    assert "functionError" not in sent[0]["responseContext"]


def test_function_error_bisects_down_to_the_poison_record() -> None:
    def fail_on_105(seqs: list[str], call: int) -> None:
        if "105" in seqs:
            raise RuntimeError("poison")

    function = FakeAlertFunction(fail_on_105)
    mapping, sent = _mapping(function)
    mapping.deliver(_records(8))
    delivered = {s for call in function.calls for s in call if "105" not in call}
    assert delivered == {"101", "102", "103", "104", "106", "107", "108"}
    assert function.calls.count(["105"]) == 6  # one invocation alone, then five retries: splits are free
    assert len(sent) == 1
    message = sent[0]
    assert set(message) == {"requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"}
    assert message["version"] == "1.0"
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["requestContext"]["functionArn"].endswith(
        ":function:clinic-leads-local-SendAlertsFunction"
    )
    info = message["DDBStreamBatchInfo"]
    assert info == {
        "shardId": "shardId-1",
        "startSequenceNumber": "105",
        "endSequenceNumber": "105",
        "approximateArrivalOfFirstRecord": info["approximateArrivalOfFirstRecord"],
        "approximateArrivalOfLastRecord": info["approximateArrivalOfLastRecord"],
        "batchSize": 1,
        "streamArn": STREAM_ARN,
    }
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert mapping.stats.bisections >= 3


def test_without_bisect_the_whole_batch_is_retried_then_reported() -> None:
    def always_fail(seqs: list[str], call: int) -> None:
        raise RuntimeError("down")

    function = FakeAlertFunction(always_fail)
    mapping, sent = _mapping(function, bisect_on_error=False, maximum_retry_attempts=2)
    mapping.deliver(_records(4))
    assert function.calls == [["101", "102", "103", "104"]] * 3
    assert [m["DDBStreamBatchInfo"]["batchSize"] for m in sent] == [4]


@pytest.mark.parametrize("identifier", ["", None, "999"])
def test_invalid_item_identifier_fails_the_whole_batch(identifier: str | None) -> None:
    function = FakeAlertFunction(
        lambda seqs, call: {"batchItemFailures": [{"itemIdentifier": identifier}]} if call == 1 else None
    )
    mapping, sent = _mapping(function)
    mapping.deliver(_records(4))
    assert function.calls == [["101", "102", "103", "104"], ["101", "102"], ["103", "104"]]  # bisected
    assert sent == []


def test_partial_responses_are_ignored_without_report_batch_item_failures() -> None:
    function = FakeAlertFunction(lambda seqs, call: {"batchItemFailures": [{"itemIdentifier": "101"}]})
    mapping, sent = _mapping(function, report_batch_item_failures=False)
    mapping.deliver(_records(2))
    assert function.calls == [["101", "102"]]
    assert sent == []


def test_records_older_than_the_maximum_age_are_reported_not_invoked() -> None:
    function = FakeAlertFunction()
    mapping, sent = _mapping(function)
    mapping.deliver(_records(2, arrival=time.time() - 3601 - 5))
    assert function.calls == []
    assert sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"
    assert sent[0]["DDBStreamBatchInfo"]["batchSize"] == 2


def test_unavailable_function_keeps_the_records() -> None:
    def missing() -> Any:
        raise HandlerUnavailable("send_alerts.app does not exist yet")

    mapping, sent = _mapping(FakeAlertFunction())
    mapping.load_handler = missing
    with pytest.raises(HandlerUnavailable):
        mapping.deliver(_records(1))
    assert sent == []


# -- the poller against a real (moto) stream -----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _put_lead(client: Any, table: str, lead_id: str, status: str = "new") -> None:
    item = {
        "pk": {"S": f"LEAD#{lead_id}"},
        "sk": {"S": "LEAD"},
        "entity": {"S": "lead"},
        "id": {"S": lead_id},
        "status": {"S": status},
        "created_at": {"S": "2026-11-29T13:45:12.345Z"},
    }
    client.put_item(TableName=table, Item=item)


def _poller(stack: Any, function: FakeAlertFunction, clock: FakeClock, **settings: Any) -> StreamPoller:
    sqs = boto3.client("sqs", region_name="us-east-1")

    def send(message: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=stack.alert_failures_queue_url, MessageBody=json.dumps(message))

    mapping = EventSourceMapping(
        settings=dataclasses.replace(stream_event_source(), **settings),
        load_handler=lambda: function,
        stream_arn=stack.stream_arn,
        function_name="clinic-leads-local-SendAlertsFunction",
        send_on_failure=send,
        retry_delay_seconds=0,
        log=lambda line: None,
    )
    poller = StreamPoller(boto3.client("dynamodbstreams", region_name="us-east-1"), mapping, monotonic=clock)
    poller.discover_shards()
    return poller


def test_poller_filters_and_delivers_new_lead_inserts(stack: Any) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    _put_lead(dynamodb, stack.table_name, "AAAAAAAAAA")
    dynamodb.put_item(TableName=stack.table_name, Item={"pk": {"S": "IDEM#k"}, "sk": {"S": "IDEM"}})
    _put_lead(dynamodb, stack.table_name, "SPAMSPAMSP", status="spam")
    _put_lead(dynamodb, stack.table_name, "AAAAAAAAAA", status="contacted")  # MODIFY
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.extend(event["Records"])

    function = FakeAlertFunction()
    clock = FakeClock()
    poller = _poller(stack, function, clock, batching_window_seconds=1)  # the template sets none
    poller.mapping.load_handler = lambda: handler
    assert poller.poll_once() == 0  # inside the batching window, fewer than batch_size records: wait
    clock.now += 1
    assert poller.poll_once() == 1
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in seen] == ["LEAD#AAAAAAAAAA"]
    record = seen[0]
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == stack.stream_arn
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["status"] == {"S": "new"}
    assert poller.mapping.stats.records_filtered_out == 3
    assert poller.poll_once() == 0  # nothing new: nothing delivered twice


def test_with_the_template_settings_a_lone_lead_is_delivered_at_the_first_read(stack: Any) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    _put_lead(dynamodb, stack.table_name, "LONELEAD01")
    function = FakeAlertFunction()
    poller = _poller(stack, function, FakeClock())  # the clock never moves: no window to wait for

    assert poller.poll_once() == 1
    assert len(function.calls) == 1
    assert len(function.calls[0]) == 1


def test_poller_batches_by_batch_size_and_reports_failures_to_the_queue(stack: Any) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for n in range(3):
        _put_lead(dynamodb, stack.table_name, f"LEAD00000{n}")

    def fail_second(seqs: list[str], call: int) -> None:
        if len(seqs) == 1:
            raise RuntimeError("down")

    function = FakeAlertFunction(fail_second)
    clock = FakeClock()
    poller = _poller(
        stack, function, clock, batch_size=2, batching_window_seconds=1, maximum_retry_attempts=1
    )
    assert poller.poll_once() == 1  # the full batch of 2 goes at once; the third waits for the window
    clock.now += 1
    assert poller.poll_once() == 1
    assert [len(c) for c in function.calls] == [2, 1, 1]
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=stack.alert_failures_queue_url, MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert len(messages) == 1
    info = json.loads(messages[0]["Body"])["DDBStreamBatchInfo"]
    shard_id = boto3.client("dynamodbstreams", region_name="us-east-1").describe_stream(
        StreamArn=stack.stream_arn
    )["StreamDescription"]["Shards"][0]["ShardId"]
    assert info["shardId"] == shard_id
    assert info["streamArn"] == stack.stream_arn
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == function.calls[-1][0]
