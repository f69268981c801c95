"""``leads alert-test`` and ``leads dlq list`` / ``leads dlq replay`` through the topic, read back from an SQS
queue subscribed to it (the way an email/SMS subscription would receive them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from leads_core import aws

from .conftest import Cli, Submitter


@pytest.fixture
def inbox(stack: Any) -> Callable[[], list[dict[str, Any]]]:
    """An SQS queue subscribed to the staff topic; calling it drains and returns the SNS envelopes."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="cli-staff-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=stack.topic_arn, Protocol="sqs", Endpoint=arn)

    def drain() -> list[dict[str, Any]]:
        envelopes: list[dict[str, Any]] = []
        for _ in range(20):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                envelopes.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return envelopes

    drain()
    return drain


def test_alert_test_publishes_one_marked_normal_alert(
    leads: Cli, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    result = leads.json("alert-test")

    delivered = inbox()
    assert len(delivered) == 1
    envelope = delivered[0]
    assert envelope["Subject"].startswith("TEST:")
    assert "TEST" in envelope["Subject"]
    assert envelope["MessageId"] == result["message_id"]
    attributes = {name: value["Value"] for name, value in envelope["MessageAttributes"].items()}
    assert attributes["priority"] == "normal"
    assert attributes["lead_id"] == result["lead_id"]
    assert result["lead_id"].startswith("TEST-")
    assert set(attributes) >= {"lead_id", "location", "service", "priority", "referral_type"}
    assert attributes["alert_type"] == "test"
    assert attributes["sms"] == "send"  # phone subscriptions (filter sms=send) receive it
    assert "no action needed" in envelope["Message"]
    assert envelope["Subject"].endswith("| Naperville Wellness Clinic")  # CLINIC_NAME, as the alert function
    # The console the alert functions link to (CONSOLE_URL), itself: a test alert has no lead to open.
    console = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/"
    assert f"Staff console (real alerts open their lead there): {console}\n" in envelope["Message"]


def test_alert_test_urgent_and_human_output(leads: Cli, inbox: Callable[[], list[dict[str, Any]]]) -> None:
    result = leads("alert-test", "--urgent")

    assert result.exit_code == 0
    assert "Published test alert TEST-" in result.stdout
    (envelope,) = inbox()
    assert envelope["MessageAttributes"]["priority"]["Value"] == "urgent"
    assert envelope["Subject"].startswith("TEST: URGENT")


def _stream_record_of(stack: Any, lead_id: str) -> tuple[str, str]:
    """(shard id, sequence number) of the INSERT record moto's stream holds for ``lead_id``."""
    streams = aws.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=stack.stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stack.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            image = record["dynamodb"].get("NewImage", {})
            if record["eventName"] == "INSERT" and image.get("id", {}).get("S") == lead_id:
                return shard["ShardId"], record["dynamodb"]["SequenceNumber"]
    raise AssertionError(f"no stream record for {lead_id}")


def _fail_alert(stack: Any, lead_id: str) -> None:
    """What Lambda sends to the on-failure queue when the alert batch of ``lead_id`` exhausted its retries."""
    shard_id, sequence = _stream_record_of(stack, lead_id)
    record = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "timestamp": "2026-11-29T13:50:00.000Z",
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence,
            "endSequenceNumber": sequence,
            "approximateArrivalOfFirstRecord": "2026-11-29T13:45:00Z",
            "approximateArrivalOfLastRecord": "2026-11-29T13:45:00Z",
            "batchSize": 1,
            "streamArn": stack.stream_arn,
        },
    }
    aws.client("sqs").send_message(QueueUrl=stack.alert_failures_queue_url, MessageBody=json.dumps(record))


def test_dlq_list_and_replay_alert_each_lead_once(
    leads: Cli, submit: Submitter, stack: Any, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    lead_id = submit(first_name="Replay", submission_id="dlq-lead-0001")
    assert leads.json("dlq", "list") == {"failures": [], "count": 0}
    _fail_alert(stack, lead_id)

    listed = leads.json("dlq", "list")
    assert listed["count"] == 1
    assert listed["failures"][0]["condition"] == "RetryAttemptsExhausted"
    assert listed["failures"][0]["batch_size"] == 1

    replayed = leads.json("dlq", "replay")
    assert list(replayed["published"]) == [lead_id]
    assert replayed["messages_deleted"] == 1
    assert leads.json("dlq", "list")["count"] == 0

    # The same failure delivered again (a duplicate on-failure message): no second alert.
    _fail_alert(stack, lead_id)
    again = leads.json("dlq", "replay")
    assert again["published"] == {}
    assert again["suppressed"] == [lead_id]

    delivered = inbox()
    assert [e["MessageAttributes"]["lead_id"]["Value"] for e in delivered] == [lead_id]
    actions = [entry["action"] for entry in leads.json("audit")["entries"]]
    assert actions.count("dlq_replay") == 2


def test_dlq_replay_skips_an_erased_lead_and_human_output(
    leads: Cli, submit: Submitter, stack: Any, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    lead_id = submit(first_name="Erased", submission_id="dlq-lead-0002")
    _fail_alert(stack, lead_id)
    leads.json("erase", lead_id, "--yes")

    listed = leads("dlq", "list")
    replayed = leads("dlq", "replay")

    assert listed.exit_code == 0
    assert "RetryAttemptsExhausted" in listed.stdout
    assert replayed.exit_code == 0
    assert "0 alerts sent" in replayed.stdout
    assert "1 not needed" in replayed.stdout
    assert inbox() == []


def test_dlq_replay_keeps_a_message_whose_records_are_not_readable_yet_and_says_why(
    leads: Cli, submit: Submitter, stack: Any, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    lead_id = submit(first_name="Later", submission_id="dlq-lead-0003")
    shard_id, sequence = _stream_record_of(stack, lead_id)
    record = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence,
            "endSequenceNumber": str(int(sequence) + 10**9),  # a record the stream does not show yet
            "batchSize": 2,
            "streamArn": stack.stream_arn,
        },
    }
    aws.client("sqs").send_message(QueueUrl=stack.alert_failures_queue_url, MessageBody=json.dumps(record))

    replayed = leads("dlq", "replay")
    as_json = leads.json("dlq", "replay")

    assert replayed.exit_code == 0
    assert "1 message(s) kept on the queue" in replayed.stdout
    assert "did not reach the batch's last record" in replayed.stdout
    assert list(as_json["kept"].values()) == ["stream_read_incomplete"]
    assert leads.json("dlq", "list")["count"] == 1
    # The lead that was read is alerted meanwhile, once, though the message stays.
    assert [e["MessageAttributes"]["lead_id"]["Value"] for e in inbox()] == [lead_id]


def test_alert_test_goes_through_the_exactly_once_path_and_its_ledger_item_expires(
    leads: Cli, stack: Any, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    result = leads.json("alert-test")  # the alert path's log lines stay off stdout

    (envelope,) = inbox()
    assert envelope["MessageAttributes"]["lead_id"]["Value"] == result["lead_id"]
    item = aws.client("dynamodb").get_item(
        TableName=stack.table_name,
        Key={"pk": {"S": f"ALERTTEST#{result['lead_id']}"}, "sk": {"S": "ALERTTEST"}},
    )["Item"]
    assert item["alert_message_id"]["S"] == result["message_id"]
    assert "expires_at" in item
