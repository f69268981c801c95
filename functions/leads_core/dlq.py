"""The alert function's on-failure queue: list and replay what failed (``leads dlq list`` / ``replay``).

When the stream's retries are exhausted (or a record is too old), Lambda sends its *invocation record* to the
on-failure destination, not the stream records themselves::

    {"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6, ...},
     "responseContext": {"statusCode": 200, "functionError": null, ...},
     "timestamp": "2026-11-29T13:50:00.000Z", "version": "1.0",
     "DDBStreamBatchInfo": {"shardId": "...", "startSequenceNumber": "...", "endSequenceNumber": "...",
                            "approximateArrivalOfFirstRecord": "...", "approximateArrivalOfLastRecord": "...",
                            "batchSize": 3, "streamArn": "arn:aws:dynamodb:...:table/.../stream/..."}}

``replay_failures`` reads those records back from the stream (``GetShardIterator AT_SEQUENCE_NUMBER`` then
``GetRecords`` up to ``endSequenceNumber``), keeps the ones the alert function would alert on, loads each
lead's *current* item and hands them to ``delivery.deliver`` (so a lead already alerted is suppressed: at most
once). A message is deleted only when the read reached its ``endSequenceNumber`` and every lead in it is
settled: alerted (now or before) or permanently nothing to alert (erased lead, spam, a malformed record).
Otherwise it is kept, and ``ReplayReport.kept`` says why (``KEEP_REASONS``). The CLI (``leads dlq replay``)
makes kept messages visible again at once; the scheduled ``ReplayAlertsFunction``
(``functions/replay_alerts``) spaces its retries out instead (``backoff_seconds``): a leftover lease or a
short outage is outlasted, not retried into the ground.

Stream records are kept 24 hours: a message older than that can no longer be read back (``unreadable``); it is
left on the queue and its lead ids have to be found another way (``leads list --status new``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from leads_core import aws
from leads_core.delivery import (
    DeliverySettings,
    MalformedStreamRecord,
    TimeLeft,
    deliver,
    lead_from_stream_record,
    lead_id_of,
)
from leads_core.errors import StorageUnavailable
from leads_core.observability import logger

_RECEIVE_BATCH = 10
_REPLAY_VISIBILITY_SECONDS = 120
_PEEK_VISIBILITY_SECONDS = 30
_STREAM_GONE_CODES = frozenset(
    {"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"}
)
_MAX_PAGES = 100  # GetRecords pages per message (empty pages included: an open shard may answer empty first)
_READ_ATTEMPTS = 5  # GetItem of a lead, with backoff
_MIN_SECONDS_PER_MESSAGE = 5.0  # the scheduled replay takes no new message with less time left
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 900

# Why a message stays on the queue (ReplayReport.kept values).
KEEP_REASONS = {
    "not_a_stream_record": "the message is not a DynamoDB stream invocation record",
    "stream_unreadable": "the stream records can no longer be read (older than 24 h, or the stream is gone)",
    "stream_read_incomplete": "the stream read did not reach the batch's last record yet",
    "storage_unavailable": "DynamoDB or the stream did not answer (throttled or unavailable)",
    "alerts_failed": "some alerts could not be published or are leased by another invocation",
    "out_of_time": "no time left in this run",
}


@dataclass(frozen=True)
class FailureBatch:
    """One on-failure message: which stream records a failed invocation covered. No visitor data."""

    message_id: str
    stream_arn: str = ""
    shard_id: str = ""
    start_sequence_number: str = ""
    end_sequence_number: str = ""
    batch_size: int = 0
    condition: str = ""
    failed_at: str = ""
    first_record_at: str = ""
    last_record_at: str = ""
    problem: str = ""  # set when the message is not a DynamoDB stream invocation record
    receive_count: int = 0  # ApproximateReceiveCount, this receive included
    receipt_handle: str = field(default="", repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("receipt_handle")
        return data


@dataclass
class ReplayReport:
    messages: int = 0
    messages_deleted: int = 0
    records_read: int = 0
    published: dict[str, str] = field(default_factory=dict)  # lead id -> SNS message id
    suppressed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_lead_ids: list[str] = field(default_factory=list)
    malformed_records: int = 0
    unreadable_message_ids: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # message id -> reason (a KEEP_REASONS key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_failure(
    message_id: str, body: str, receipt_handle: str = "", receive_count: int = 0
) -> FailureBatch:
    try:
        document = json.loads(body)
        info = document["DDBStreamBatchInfo"]
        return FailureBatch(
            message_id=message_id,
            stream_arn=str(info.get("streamArn", "")),
            shard_id=str(info["shardId"]),
            start_sequence_number=str(info["startSequenceNumber"]),
            end_sequence_number=str(info["endSequenceNumber"]),
            batch_size=int(info.get("batchSize", 0)),
            condition=str(document.get("requestContext", {}).get("condition", "")),
            failed_at=str(document.get("timestamp", "")),
            first_record_at=str(info.get("approximateArrivalOfFirstRecord", "")),
            last_record_at=str(info.get("approximateArrivalOfLastRecord", "")),
            receive_count=receive_count,
            receipt_handle=receipt_handle,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return FailureBatch(
            message_id=message_id,
            problem="not a DynamoDB stream invocation record",
            receive_count=receive_count,
            receipt_handle=receipt_handle,
        )


def _receive(queue_url: str, visibility: int, limit: int) -> Iterator[FailureBatch]:
    sqs = aws.client("sqs")
    seen: set[str] = set()
    while len(seen) < limit:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(_RECEIVE_BATCH, limit - len(seen)),
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0") or 0)
            yield parse_failure(
                message["MessageId"], message.get("Body", ""), message["ReceiptHandle"], count
            )


def backoff_seconds(receive_count: int) -> int:
    """How long a kept message stays hidden before the scheduled replay tries it again: 1, 2, 4, ... minutes
    by the number of times it was received, at most 15 (SQS allows 12 hours)."""
    return int(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, receive_count - 1)))


def _make_visible(queue_url: str, batches: list[FailureBatch], *, backoff: bool = False) -> None:
    sqs = aws.client("sqs")
    for start in range(0, len(batches), _RECEIVE_BATCH):
        entries = [
            {
                "Id": str(index),
                "ReceiptHandle": batch.receipt_handle,
                "VisibilityTimeout": backoff_seconds(batch.receive_count) if backoff else 0,
            }
            for index, batch in enumerate(batches[start : start + _RECEIVE_BATCH])
        ]
        if entries:
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def list_failures(queue_url: str, *, limit: int = 100) -> list[FailureBatch]:
    """The failed batches on the queue (up to ``limit``), left on the queue and visible again."""
    batches = list(_receive(queue_url, _PEEK_VISIBILITY_SECONDS, limit))
    _make_visible(queue_url, batches)
    return batches


class StreamDataUnavailable(Exception):
    """The records of a failed batch cannot be read back (trimmed after 24 h, shard or stream gone)."""


class StreamReadIncomplete(Exception):
    """The read stopped before the batch's last record (empty pages, a shard that ends early): try later.

    ``records``: what was read (its leads are alerted meanwhile; the message is kept either way).
    """

    def __init__(self, records: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(records)} record(s) read, the batch's last not reached")
        self.records = records


def read_stream_records(stream_arn: str, shard_id: str, start: str, end: str) -> list[dict[str, Any]]:
    """The stream records of one shard from ``start`` to ``end`` (sequence numbers, inclusive).

    Raises ``StreamReadIncomplete`` unless the read reached ``end``: DynamoDB Streams may answer empty pages
    before the records appear, so running out of pages proves nothing about the records.
    """
    from leads_core.store.failures import translated  # noqa: PLC0415

    streams = aws.client("dynamodbstreams")
    try:
        with translated():
            return _read_records(streams, stream_arn, shard_id, start, int(end))
    except StorageUnavailable as exc:
        if exc.code in _STREAM_GONE_CODES:
            raise StreamDataUnavailable(exc.code) from exc
        raise


def _read_records(
    streams: Any, stream_arn: str, shard_id: str, start: str, last: int
) -> list[dict[str, Any]]:
    """The records up to sequence number ``last``; raises ``StreamReadIncomplete`` short of it."""
    records: list[dict[str, Any]] = []
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn,
        ShardId=shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=start,
    ).get("ShardIterator")
    for _ in range(_MAX_PAGES):
        if not iterator:
            break
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        iterator = page.get("NextShardIterator")
        for record in page.get("Records", []):
            if int(record["dynamodb"]["SequenceNumber"]) > last:
                return records
            records.append(record)
            if int(record["dynamodb"]["SequenceNumber"]) == last:
                return records
    raise StreamReadIncomplete(records)


def _load_lead(lead_id: str, table_name: str | None, dynamodb: Any | None = None) -> dict[str, Any] | None:
    """The lead as it is now, retried with backoff and jitter: one throttled read must not keep a message."""
    from leads_core.delivery import retry_read  # noqa: PLC0415
    from leads_core.store.leads import load_lead  # noqa: PLC0415

    return retry_read(lambda: load_lead(lead_id, table_name=table_name, dynamodb=dynamodb), _READ_ATTEMPTS)


def _leads_of(records: list[dict[str, Any]], report: ReplayReport) -> tuple[list[str], int]:
    """Lead ids the records announce (in order, distinct) and how many records were malformed."""
    lead_ids: list[str] = []
    malformed = 0
    for record in records:
        try:
            lead = lead_from_stream_record(record)
        except MalformedStreamRecord:
            malformed += 1
            continue
        lead_id = lead_id_of(lead) if lead is not None else None
        if lead_id and lead_id not in lead_ids:
            lead_ids.append(lead_id)
    report.records_read += len(records)
    return lead_ids, malformed


@dataclass(frozen=True)
class _DeliveryOptions:
    """How a replay delivers (the ``deliver`` arguments it passes on)."""

    settings: DeliverySettings | None
    emit_metrics: bool
    time_left: TimeLeft | None
    dynamodb: Any | None = None


def _replay_one(
    batch: FailureBatch, stream_arn: str, report: ReplayReport, options: _DeliveryOptions
) -> bool:
    """Replay one failed batch; ``True`` when everything in it is settled and the message can go."""
    settings = options.settings
    complete = True
    try:
        records = read_stream_records(
            stream_arn, batch.shard_id, batch.start_sequence_number, batch.end_sequence_number
        )
    except StreamReadIncomplete as exc:
        records, complete = exc.records, False
    lead_ids, malformed = _leads_of(records, report)
    if malformed:
        logger.warning(
            "malformed stream records skipped", extra={"message_id": batch.message_id, "count": malformed}
        )
        report.malformed_records += malformed
    current: list[Mapping[str, Any]] = []
    for lead_id in lead_ids:
        lead = _load_lead(lead_id, settings.table_name if settings else None, options.dynamodb)
        if lead is None:
            report.skipped.append(lead_id)  # erased or expired since: nothing to alert, ever
        else:
            current.append(lead)
    settled = True
    if current:
        delivered = deliver(
            current,
            settings=settings,
            emit_metrics=options.emit_metrics,
            time_left=options.time_left,
            dynamodb=options.dynamodb,
        )
        report.published.update(delivered.published)
        report.suppressed += delivered.suppressed
        report.skipped += delivered.skipped
        report.failed_lead_ids += delivered.failed_lead_ids
        settled = not delivered.failed_lead_ids
    if not complete:
        raise StreamReadIncomplete(records)  # what was read is alerted; the message stays for the rest
    return settled


def replay_failures(  # noqa: PLR0913 - keyword-only options with defaults, one per caller (CLI, schedule)
    queue_url: str,
    stream_arn: str | None = None,
    *,
    settings: DeliverySettings | None = None,
    limit: int = 100,
    emit_metrics: bool = False,
    time_left: TimeLeft | None = None,
    backoff: bool = False,
    dynamodb: Any | None = None,
) -> ReplayReport:
    """Replay up to ``limit`` failed batches (``stream_arn``: for messages that do not name their stream).

    ``time_left`` (milliseconds, the Lambda context's clock): stop taking messages when it runs low.
    ``backoff``: kept messages stay hidden for ``backoff_seconds`` (the scheduled replay) instead of being
    made visible at once (the CLI). ``dynamodb``: the low-level client of the lead reads and the alert
    bookkeeping (default ``aws.client("dynamodb")``).
    """
    report = ReplayReport()
    options = _DeliveryOptions(
        settings=settings, emit_metrics=emit_metrics, time_left=time_left, dynamodb=dynamodb
    )
    keep: list[FailureBatch] = []
    sqs = aws.client("sqs")

    def kept(batch: FailureBatch, reason: str) -> None:
        report.kept[batch.message_id] = reason
        keep.append(batch)

    for batch in _receive(queue_url, _REPLAY_VISIBILITY_SECONDS, limit):
        report.messages += 1
        if time_left is not None and time_left() / 1000.0 < _MIN_SECONDS_PER_MESSAGE:
            kept(batch, "out_of_time")
            continue
        arn = batch.stream_arn or stream_arn or ""
        if batch.problem or not arn:
            logger.warning("on-failure message not replayable", extra={"message_id": batch.message_id})
            report.unreadable_message_ids.append(batch.message_id)
            kept(batch, "not_a_stream_record")
            continue
        try:
            settled = _replay_one(batch, arn, report, options)
        except StreamDataUnavailable as exc:
            logger.warning(
                "stream records no longer readable",
                extra={"message_id": batch.message_id, "error_code": str(exc)},
            )
            report.unreadable_message_ids.append(batch.message_id)
            kept(batch, "stream_unreadable")
            continue
        except StreamReadIncomplete:
            logger.warning("stream read incomplete, message kept", extra={"message_id": batch.message_id})
            kept(batch, "stream_read_incomplete")
            continue
        except StorageUnavailable:
            kept(batch, "storage_unavailable")
            continue
        if settled:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=batch.receipt_handle)
            report.messages_deleted += 1
        else:
            kept(batch, "alerts_failed")
    _make_visible(queue_url, keep, backoff=backoff)
    return report
