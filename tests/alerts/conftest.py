"""Alert-path fixtures: lead items in the table's exact shape, the REAL stream records moto recorded for them
(wrapped into Lambda's event shape), and an SQS inbox subscribed to the staff topic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse
from leads_core import aws, delivery, keys
from leads_core.observability import metrics
from leads_core.settings import load_settings
from leads_local.template import stream_event_source
from moto.sns.models import sns_backends
from send_alerts import app

LEAD_DEFAULTS: dict[str, Any] = {
    "entity": "lead",
    "status": "new",
    "first_name": "Maria",
    "last_name": "Lopez",
    "email": "maria.lopez@example.com",
    "phone": "+16305550123",
    "preferred_contact": "phone",
    "best_time": "morning",
    "service": "anxiety",
    "location": "naperville",
    "referral_type": "self",
    "message": "I have been struggling with panic attacks at work.",
    "consent_privacy": True,
    "consent_sms": False,
    "in_crisis": False,
    "urgent": False,
    "channel": "json",
    "source_hash": "0" * 64,
    "email_hash": "1" * 64,
    "phone_hash": "2" * 64,
}


def lead_item(**overrides: Any) -> dict[str, Any]:
    """A lead item as the submit path stores it (architecture.md, "Lead item"); ``None`` drops a field."""
    lead_id = overrides.pop("id", None) or keys.new_lead_id()
    created = datetime.now(UTC) - timedelta(seconds=2)
    item: dict[str, Any] = {
        "pk": f"LEAD#{lead_id}",
        "sk": keys.LEAD_SK,
        "id": lead_id,
        "created_at": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "expires_at": int((created + timedelta(days=730)).timestamp()),
        "consent_privacy_at": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        **LEAD_DEFAULTS,
    }
    item.update(overrides)
    if item.get("urgent") and "urgent_reasons" not in overrides:
        item["urgent_reasons"] = ["self_reported"]
    if item.get("status") == "spam" and "spam_reasons" not in overrides:
        item["spam_reasons"] = ["honeypot"]
    return {name: value for name, value in item.items() if value is not None and value != ""}


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in item.items()}


def matches_pattern(value: Any, pattern: Any) -> bool:
    """EventBridge-style matching of the template's FilterCriteria (exact-value lists and nesting)."""
    if isinstance(pattern, list):
        return value in pattern
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches_pattern(value.get(k), p) for k, p in pattern.items())
    return value == pattern


@dataclass
class AlertWorld:
    """The table, its stream and the topic, with an SQS inbox (raw delivery off) subscribed to the topic."""

    resources: Any
    inbox_url: str
    shard_id: str
    read_up_to: str | None = None
    subscriptions: list[str] = field(default_factory=list)

    # ---- table
    def put_lead(self, **overrides: Any) -> dict[str, Any]:
        item = lead_item(**overrides)
        aws.client("dynamodb").put_item(TableName=self.resources.table_name, Item=serialize(item))
        return item

    def put_leads(self, count: int) -> list[dict[str, Any]]:
        """``count`` default leads written with BatchWriteItem (25 a call), in order."""
        items = [lead_item() for _ in range(count)]
        for start in range(0, count, 25):
            requests = [{"PutRequest": {"Item": serialize(i)}} for i in items[start : start + 25]]
            aws.client("dynamodb").batch_write_item(RequestItems={self.resources.table_name: requests})
        return items

    def unsubscribe_inbox(self) -> None:
        sns = aws.client("sns")
        for subscription in sns.list_subscriptions_by_topic(TopicArn=self.resources.topic_arn)[
            "Subscriptions"
        ]:
            sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])

    def get_item(self, lead_id: str) -> dict[str, Any]:
        return (
            aws.client("dynamodb")
            .get_item(TableName=self.resources.table_name, Key=keys.lead_key(lead_id), ConsistentRead=True)
            .get("Item", {})
        )

    # ---- stream
    def new_stream_records(self, *, filtered: bool = True) -> list[dict[str, Any]]:
        """Stream records written since the last call, read from moto's dynamodbstreams, in Lambda's shape.

        ``filtered``: apply the template's FilterCriteria the way the event source mapping does.
        """
        streams = aws.client("dynamodbstreams")
        if self.read_up_to is None:
            iterator = streams.get_shard_iterator(
                StreamArn=self.resources.stream_arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        else:
            iterator = streams.get_shard_iterator(
                StreamArn=self.resources.stream_arn,
                ShardId=self.shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=self.read_up_to,
            )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        if records:
            self.read_up_to = records[-1]["dynamodb"]["SequenceNumber"]
        lambda_records = [to_lambda_record(record, self.resources.stream_arn) for record in records]
        if not filtered:
            return lambda_records
        patterns = stream_event_source().filter_patterns
        return [r for r in lambda_records if any(matches_pattern(r, p) for p in patterns)]

    # ---- topic
    def inbox(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """Every SNS envelope delivered to the inbox queue so far (consumed)."""
        sqs = aws.client("sqs")
        envelopes: list[dict[str, Any]] = []
        for _ in range(100):
            messages = sqs.receive_message(
                QueueUrl=queue_url or self.inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                envelopes.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=queue_url or self.inbox_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return envelopes

    def subscribe_queue(self, name: str, filter_policy: dict[str, Any] | None = None) -> str:
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
        aws.client("sns").subscribe(
            TopicArn=self.resources.topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes
        )
        return url

    def published_messages(self) -> list[dict[str, Any]]:
        """The PublishBatch entries exactly as SNS received them (moto's record of the topic)."""
        topic_arn = self.resources.topic_arn
        topic = sns_backends["123456789012"]["us-east-1"].topics[topic_arn]
        return [
            {"message_id": n[0], "message": json.loads(n[1]), "subject": n[2], "attributes": n[3]}
            for n in topic.sent_notifications
        ]


def to_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A ``GetRecords`` record as Lambda hands it to the function (epoch time, ``eventSourceARN``)."""
    wrapped = json.loads(json.dumps(record, default=str))
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        wrapped["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    wrapped["eventSourceARN"] = stream_arn
    return wrapped


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


@lru_cache(maxsize=1)
def _shared_session() -> boto3.Session:
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def alert_world(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    # One boto3 session for the whole run: its loader keeps the parsed service models, so each test's fresh
    # clients (the cache is reset per test) do not parse the botocore JSON again.
    aws.use_session(_shared_session())
    monkeypatch.setenv("ALERT_DETAIL", "contact")
    load_settings.cache_clear()
    streams = aws.client("dynamodbstreams")
    shard_id = streams.describe_stream(StreamArn=stack.stream_arn)["StreamDescription"]["Shards"][0][
        "ShardId"
    ]
    world = AlertWorld(resources=stack, inbox_url="", shard_id=shard_id)
    world.inbox_url = world.subscribe_queue("test-staff-inbox")
    delivery.container_memory.clear()  # each test is a fresh container
    monkeypatch.setattr(delivery, "_sleep", lambda seconds: None)  # backoff without waiting
    yield world
    delivery.container_memory.clear()
    metrics.clear_metrics()


@pytest.fixture
def handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    return app.lambda_handler


class SnsFaults:
    """Fault injection on our cached SNS client's ``PublishBatch`` (botocore events, no monkeypatching).

    ``throttle_calls``: 1-based call numbers answered with a whole-call ``Throttling`` error (nothing
    published). ``throttle_carrying``: every call carrying one of these entry ids is throttled (retries too).
    ``failing_ids``: entry ids SNS reports in ``Failed`` (``InternalError``) while the rest of the call goes
    out.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.throttle_calls: set[int] = set()
        self.throttle_carrying: set[str] = set()
        self.failing_ids: set[str] = set()
        self._stripped: list[str] = []
        self._throttled = False
        self._all_fail = False

    def install(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.sns.PublishBatch", self._params)
        client.meta.events.register("before-call.sns.PublishBatch", self._before_call)
        client.meta.events.register("after-call.sns.PublishBatch", self._after_call)

    def _params(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls += 1
        entries = params["PublishBatchRequestEntries"]
        self._throttled = self.calls in self.throttle_calls or any(
            e["Id"] in self.throttle_carrying for e in entries
        )
        self._stripped = [e["Id"] for e in entries if e["Id"] in self.failing_ids]
        self._all_fail = len(self._stripped) == len(entries)
        if self._all_fail:  # answered in before-call: an empty batch would not pass validation
            return params
        return {
            **params,
            "PublishBatchRequestEntries": [e for e in entries if e["Id"] not in self.failing_ids],
        }

    def _before_call(self, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if self._throttled:
            error = {
                "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://sns.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]
        if self._all_fail:
            ok = {"Successful": [], "Failed": [], "ResponseMetadata": {"HTTPStatusCode": 200}}
            return AWSResponse("https://sns.us-east-1.amazonaws.com/", 200, {}, None), ok  # type: ignore[arg-type]
        return None

    def _after_call(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._throttled:
            return
        for entry_id in self._stripped:
            parsed.setdefault("Failed", []).append(
                {"Id": entry_id, "Code": "InternalError", "Message": "injected", "SenderFault": False}
            )


@pytest.fixture
def sns_faults(alert_world: AlertWorld) -> SnsFaults:
    faults = SnsFaults()
    faults.install(aws.client("sns"))
    return faults
