"""Exactly once, whatever fails: each fault class of the alert path, injected through the real boto3 calls
(moto; botocore ``before-call`` hooks, which bypass botocore's own retries like ``LOCAL_FAULTS``), with the
exact number of alerts per lead read back from an SQS subscriber of the topic."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from leads_core import aws, delivery, keys
from leads_core.alerts import Alert
from leads_core.dlq import replay_failures
from leads_core.settings import load_settings
from leads_core.store import alert_state
from leads_local.apigw import LambdaContext
from leads_local.faults import FaultInjector, parse_faults
from leads_local.poller import EventSourceMapping, StreamRecord, sqs_on_failure_sender
from leads_local.template import stream_event_source

from tests.alerts.conftest import AlertWorld, SnsFaults, _shared_session, lambda_event

CLAIM = "alert_lease_until = :until"
MARK = "alerted_at = :sent"
RELEASE = "REMOVE alert_lease_until, alert_attempt"


def _alert_counts(world: AlertWorld) -> Counter[str]:
    return Counter(e["MessageAttributes"]["lead_id"]["Value"] for e in world.inbox())


def _failures(response: dict[str, Any]) -> list[str]:
    return sorted(f["itemIdentifier"] for f in response["batchItemFailures"])


def _throttle_error() -> tuple[AWSResponse, dict[str, Any]]:
    error = {
        "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]


class UpdateFaults:
    """Throttle the bookkeeping writes by kind (claim, mark, release) at a rate (seeded), per update: an
    ``UpdateItem``, or a ``TransactWriteItems`` (a chunk's marks) when any of its updates draws a throttle, as
    DynamoDB throttles a transaction when one of the partitions it writes is throttled."""

    def __init__(self, seed: int = 7) -> None:
        self.rates: dict[str, float] = {}
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)

    def install(self) -> UpdateFaults:
        events = aws.client("dynamodb").meta.events
        events.register("before-call.dynamodb.UpdateItem", self._before_call)
        events.register("before-call.dynamodb.TransactWriteItems", self._before_call)
        return self

    def _before_call(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params["body"]
        text = body.decode() if isinstance(body, bytes) else str(body)
        for marker, rate in self.rates.items():
            draws = [self._random.random() < rate for _ in range(text.count(marker))]
            if any(draws):
                self.injected[marker] += 1
                return _throttle_error()
        return None


@contextmanager
def local_faults(spec: str, seed: int) -> Iterator[FaultInjector]:
    """``LOCAL_FAULTS`` as the local stack applies it: on the handlers' session, every listed operation."""
    session = boto3.Session(region_name="us-east-1")
    injector = FaultInjector(parse_faults(spec), seed=seed)
    injector.install(session)
    aws.use_session(session)
    try:
        yield injector
    finally:
        aws.use_session(_shared_session())


def _drive_stream(
    world: AlertWorld,
    records: list[dict[str, Any]],
    handler: Callable[..., Any],
    context_timeout: float = 10.0,
) -> EventSourceMapping:
    """Deliver ``records`` the way Lambda's event source mapping does (partial-batch checkpoints, 5 retries,
    on-failure queue), with the local stack's emulation of it."""
    sqs = boto3.client("sqs", region_name="us-east-1")  # not faulted: Lambda's own send
    mapping = EventSourceMapping(
        settings=stream_event_source(),
        load_handler=lambda: handler,
        stream_arn=world.resources.stream_arn,
        function_name="clinic-leads-test-alerts",
        send_on_failure=sqs_on_failure_sender(sqs, world.resources.alert_failures_queue_url),
        retry_delay_seconds=0.0,
        timeout_seconds=context_timeout,
        log=lambda line: None,
    )
    mapping.deliver([StreamRecord(record=r, shard_id=world.shard_id) for r in records])
    return mapping


# ------------------------------------------------------------------------------ the double alert of issue 11


def test_a_record_redelivered_after_the_lease_expired_is_not_alerted_again(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    """Main alerted twice: the mark failed after SNS accepted, the record came again after the lease."""
    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    faults = UpdateFaults().install()
    faults.rates = {MARK: 1.0}  # every mark attempt of this invocation fails

    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}
    assert "alerted_at" not in alert_world.get_item(lead["id"])

    faults.rates = {}
    aws.client("dynamodb").update_item(  # the lease ran out before the record came again
        TableName=alert_world.resources.table_name,
        Key=keys.lead_key(lead["id"]),
        UpdateExpression="SET alert_lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}

    assert _alert_counts(alert_world) == {lead["id"]: 1}
    item = alert_world.get_item(lead["id"])
    assert "alerted_at" in item
    assert "alert_lease_until" not in item
    assert item["alert_message_id"]["S"] == alert_world.published_messages()[0]["message_id"]


def test_the_stream_retry_after_a_partial_failure_does_not_repeat_an_unmarked_alert(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    """Partial batch responses retry from the LOWEST failed record: later records, alerted but not marked,
    come again."""
    first, second = alert_world.put_lead(), alert_world.put_lead()
    records = alert_world.new_stream_records()
    faults = UpdateFaults().install()
    faults.rates = {MARK: 1.0}
    sns_faults.failing_ids = {first["id"]}

    response = handler(lambda_event(records), lambda_context)
    assert _failures(response) == [records[0]["dynamodb"]["SequenceNumber"]]

    faults.rates, sns_faults.failing_ids = {}, set()
    aws.client("dynamodb").update_item(
        TableName=alert_world.resources.table_name,
        Key=keys.lead_key(second["id"]),
        UpdateExpression="SET alert_lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}  # from the first on

    assert _alert_counts(alert_world) == {first["id"]: 1, second["id"]: 1}
    assert all("alerted_at" in alert_world.get_item(lead["id"]) for lead in (first, second))


def test_an_expired_lease_of_an_unknown_attempt_is_published_again_rather_than_lost(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    """The one ambiguous case (another container published, or died before publishing): lost is worse."""
    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    dead = alert_state.claim(lead["id"], now=1_000)  # an invocation that died holding the lease, long ago
    assert dead.claimed

    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}

    assert _alert_counts(alert_world) == {lead["id"]: 1}
    item = alert_world.get_item(lead["id"])
    assert item["alert_attempts"] == {"N": "2"}
    assert "alerted_at" in item


# -------------------------------------------------------------------------------------- lease and time budget


def test_the_lease_outlives_the_invocation_that_took_it(alert_world: AlertWorld) -> None:
    lead = alert_world.put_lead()
    store = UpdateFaults().install()
    store.rates = {RELEASE: 1.0}
    seen: dict[str, int] = {}

    def record_lease(**_: Any) -> None:
        item = boto3.client("dynamodb", region_name="us-east-1").get_item(
            TableName=alert_world.resources.table_name, Key=keys.lead_key(lead["id"])
        )["Item"]
        seen["lease"] = int(item["alert_lease_until"]["N"])

    aws.client("sns").meta.events.register("before-call.sns.PublishBatch", record_lease)
    before = int(__import__("time").time())
    delivery.deliver([lead], time_left=lambda: 120_000)

    assert seen["lease"] >= before + 120 + delivery.LEASE_MARGIN_SECONDS


def test_chunks_are_marked_before_the_next_chunk_and_none_starts_without_time(
    alert_world: AlertWorld, sns_faults: SnsFaults
) -> None:
    leads = alert_world.put_leads(25)
    ids = [lead["id"] for lead in leads]
    marked_before_call: list[int] = []
    reader = boto3.client("dynamodb", region_name="us-east-1")

    def count_marked(**_: Any) -> None:
        marked_before_call.append(
            sum(
                "alerted_at"
                in reader.get_item(TableName=alert_world.resources.table_name, Key=keys.lead_key(i))["Item"]
                for i in ids
            )
        )

    aws.client("sns").meta.events.register("before-call.sns.PublishBatch", count_marked)
    left_ms = [9_000.0]

    def spend_time(**_: Any) -> None:  # the invocation's clock runs low after the second chunk went out
        if len(marked_before_call) == 2:
            left_ms[0] = 2_000.0

    aws.client("sns").meta.events.register("after-call.sns.PublishBatch", spend_time)

    def time_left() -> float:
        return left_ms[0]

    report = delivery.deliver(leads, time_left=time_left)

    assert marked_before_call[:2] == [0, 10]  # chunk 1 was marked before chunk 2 went out
    assert sorted(report.published) == sorted(ids[:20])
    assert sorted(report.failed_lead_ids) == sorted(ids[20:])  # no time for chunk 3: never claimed
    assert all("alert_lease_until" not in alert_world.get_item(i) for i in ids[20:])
    assert sorted(delivery.deliver(leads).published) == sorted(ids[20:])
    assert _alert_counts(alert_world) == dict.fromkeys(ids, 1)


def test_lambda_context_time_is_passed_to_delivery(alert_world: AlertWorld, handler: Any) -> None:
    leads = alert_world.put_leads(3)
    records = alert_world.new_stream_records()
    nearly_over = LambdaContext(function_name="clinic-leads-test-alerts", timeout_seconds=1.0)

    response = handler(lambda_event(records), nearly_over)

    assert len(_failures(response)) == 3  # too little time to start a chunk: retried, not half-done
    assert alert_world.inbox() == []
    assert all("alert_lease_until" not in alert_world.get_item(lead["id"]) for lead in leads)


# ------------------------------------------------------------------------------- one fault class at a time


def _run_until_settled(
    world: AlertWorld, handler: Any, records: list[dict[str, Any]], context: Any, limit: int = 20
) -> None:
    for _ in range(limit):
        if not records:
            return
        failed = set(_failures(handler(lambda_event(records), context)))
        if not failed:
            return
        records = [r for r in records if r["dynamodb"]["SequenceNumber"] in failed]
    pytest.fail("records still failing")


@pytest.mark.parametrize("kind", [CLAIM, MARK, RELEASE])
def test_bookkeeping_throttled_at_30_percent_alerts_each_lead_exactly_once(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults, kind: str
) -> None:
    leads = alert_world.put_leads(40)
    records = alert_world.new_stream_records()
    faults = UpdateFaults(seed=11).install()
    faults.rates = {kind: 0.3}
    if kind == RELEASE:  # releases happen only after failed publishes
        sns_faults.failing_ids = {lead["id"] for lead in leads[::3]}

    first = handler(lambda_event(records), lambda_context)
    sns_faults.failing_ids = set()
    failed = set(_failures(first))
    _run_until_settled(
        alert_world,
        handler,
        [r for r in records if r["dynamodb"]["SequenceNumber"] in failed],
        lambda_context,
    )

    assert faults.injected[kind] > 0
    assert _alert_counts(alert_world) == {lead["id"]: 1 for lead in leads}
    assert all("alerted_at" in alert_world.get_item(lead["id"]) for lead in leads)


def test_a_failed_release_does_not_delay_the_retry_in_this_container(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    lead = alert_world.put_lead()
    records = alert_world.new_stream_records()
    faults = UpdateFaults().install()
    faults.rates = {RELEASE: 1.0}
    sns_faults.failing_ids = {lead["id"]}

    assert len(_failures(handler(lambda_event(records), lambda_context))) == 1
    assert "alert_lease_until" in alert_world.get_item(lead["id"])  # the lease is still there...

    faults.rates, sns_faults.failing_ids = {}, set()
    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}  # ...and it is ours

    assert _alert_counts(alert_world) == {lead["id"]: 1}


def test_a_throttled_publish_is_retried_within_the_invocation(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    leads = alert_world.put_leads(3)
    records = alert_world.new_stream_records()
    sns_faults.throttle_calls = {1}

    assert handler(lambda_event(records), lambda_context) == {"batchItemFailures": []}

    assert sns_faults.calls == 2
    assert _alert_counts(alert_world) == {lead["id"]: 1 for lead in leads}


# ------------------------------------------------------------------------------- everything at 30 %, seeded


def test_all_dynamodb_and_sns_operations_throttled_at_30_percent_alert_each_lead_exactly_once(
    alert_world: AlertWorld, handler: Any
) -> None:
    leads = alert_world.put_leads(60)
    records = alert_world.new_stream_records()

    with local_faults("dynamodb:*=0.3,sns:*=0.3", seed=20261202) as injector:
        _drive_stream(alert_world, records, handler)
        settings = load_settings().require_alerts()
        for _ in range(3):  # the replay of what ended on the failure queue (kept while not settled)
            replay_failures(
                alert_world.resources.alert_failures_queue_url,
                alert_world.resources.stream_arn,
                settings=settings,
            )

    assert injector.injected["sns:PublishBatch"] > 0
    assert injector.injected["dynamodb:UpdateItem"] > 0
    assert _alert_counts(alert_world) == {lead["id"]: 1 for lead in leads}
    assert all("alerted_at" in alert_world.get_item(lead["id"]) for lead in leads)


def test_a_digest_style_job_on_its_own_item_goes_out_once(alert_world: AlertWorld) -> None:
    """The generic path: an item that does not exist yet is created by the claim (a digest window)."""
    settings = load_settings().require_alerts()
    key = {keys.PK: {"S": "DIGEST#2026-12-02T06:10"}, keys.SK: {"S": "DIGEST"}}
    alert = Alert(
        lead_id="DIGEST-202612020610",
        subject="3 new consultation requests",
        email="3 new requests since 06:10",
        sms="3 new requests since 06:10",
        default="3 new requests since 06:10",
        attributes={"lead_id": "DIGEST-202612020610", "alert_type": "digest"},
    )
    jobs = [delivery.AlertJob(key=key, alert=alert, expires_at=1_900_000_000)]

    first = delivery.publish_once(jobs, settings=settings)
    second = delivery.publish_once(jobs, settings=settings)

    assert list(first.published) == ["DIGEST-202612020610"]
    assert second.suppressed == ["DIGEST-202612020610"]
    assert _alert_counts(alert_world) == {"DIGEST-202612020610": 1}
    item = aws.client("dynamodb").get_item(TableName=alert_world.resources.table_name, Key=key)["Item"]
    assert item["expires_at"] == {"N": "1900000000"}  # the item the claim created expires
    assert "alerted_at" in item
