"""Drive the alert function from the table's stream the way Lambda's event source mapping does.

Settings come from the template (``leads_local.template.stream_event_source()``): starting position, filter
patterns, batch size, batching window, ``ReportBatchItemFailures``, ``BisectBatchOnFunctionError``,
``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds`` and the on-failure queue.

Semantics implemented (AWS Lambda developer guide, DynamoDB event source mappings):

* Records that match no filter pattern are dropped (checkpointed without an invocation).
* A batch is invoked when it holds ``batch_size`` records or the batching window since its first record ends.
* Success: the batch is checkpointed. With ``ReportBatchItemFailures``, a response naming sequence numbers
  checkpoints before the lowest one and retries from it (with bisect on, "the batch is split at the returned
  sequence number and only the remaining records are retried", which is the same records); an empty, null or
  unknown ``itemIdentifier`` makes the whole batch a failure.
* Function error (the handler raised): with bisect on, a batch of two or more records is split in halves and
  each half is retried; splitting consumes no retry attempt. Otherwise the batch is retried.
* After ``maximum_retry_attempts`` retries (or once a record is older than ``maximum_record_age_seconds``) the
  failing records' batch info goes to the on-failure queue in Lambda's invocation-record shape and the shard
  moves on.
* The shard is blocked while a batch is retried (records stay in order), with a short growing delay.

The local stack hands the mapping a worker pool of the alert function (``leads_local.workers``) as its
handler: a hung worker (no answer well past the function's timeout) is a function error. Not emulated:
concurrency across shards (one thread reads every shard in turn; moto's table streams have one), tumbling
windows.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leads_local.apigw import LambdaContext
from leads_local.filters import check_pattern, matches_any
from leads_local.template import StreamEventSource

Handler = Callable[[dict[str, Any], Any], Any]


class HandlerUnavailable(RuntimeError):
    """The function could not be loaded; Lambda would fail before invoking, and retry without consuming."""


def _jsonable(value: Any) -> Any:
    """A stream record as boto3 returns it -> as it appears in the Lambda event (binary as base64 text)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _iso(epoch_seconds: float, milliseconds: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    if milliseconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StreamRecord:
    """One stream record, shaped as Lambda delivers it, with what the mapping needs to know about it."""

    record: dict[str, Any]
    shard_id: str

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])

    @property
    def arrival(self) -> float:
        return float(self.record["dynamodb"].get("ApproximateCreationDateTime", 0))

    @classmethod
    def from_stream(cls, raw: Mapping[str, Any], shard_id: str, stream_arn: str) -> StreamRecord:
        record = _jsonable(raw)
        record["eventSourceARN"] = stream_arn
        return cls(record=record, shard_id=shard_id)


@dataclass
class MappingStats:
    invocations: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    bisections: int = 0
    records_delivered: int = 0
    records_filtered_out: int = 0
    on_failure_records: int = 0


@dataclass
class _Attempt:
    records: list[StreamRecord]
    failures: int = 0  # failed invocations of these records that count against MaximumRetryAttempts
    invocations: int = 0
    function_error: bool = False
    last_request_id: str = ""


@dataclass
class EventSourceMapping:
    """Invokes the function for a batch with Lambda's partial-failure, retry, bisect and on-failure rules."""

    settings: StreamEventSource
    load_handler: Callable[[], Handler]
    stream_arn: str
    function_name: str
    send_on_failure: Callable[[dict[str, Any]], None]
    retry_delay_seconds: float = 0.2
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 512
    stop_event: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time
    stats: MappingStats = field(default_factory=MappingStats)
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def deliver(self, records: list[StreamRecord]) -> None:
        """Process one batch to the end: every record is either handled or reported to the on-failure queue.

        Raises ``HandlerUnavailable`` (before any invocation of the batch) when the function cannot be loaded;
        the caller keeps the records and tries again later, as Lambda does for errors before invocation.
        """
        handler = self.load_handler()
        work = [_Attempt(list(records))]
        while work and not self.stop_event.is_set():
            attempt = work.pop(0)
            attempt.records = self._drop_expired(attempt)
            if not attempt.records:
                continue
            retry = self._invoke_once(handler, attempt)
            if retry is None:
                continue
            if self._exhausted(retry):
                self._report(retry, "RetryAttemptsExhausted")
                continue
            if retry.function_error and self.settings.bisect_on_error and len(retry.records) > 1:
                self.stats.bisections += 1
                middle = (len(retry.records) + 1) // 2
                halves = [retry.records[:middle], retry.records[middle:]]
                # Splitting consumes no retry attempt; both halves carry the count so far.
                work[:0] = [_Attempt(h, retry.failures - 1, retry.invocations) for h in halves]
                continue
            self.stop_event.wait(min(2.0, self.retry_delay_seconds * retry.failures))
            work.insert(0, retry)

    def _exhausted(self, attempt: _Attempt) -> bool:
        limit = self.settings.maximum_retry_attempts
        return limit >= 0 and attempt.failures > limit

    def _drop_expired(self, attempt: _Attempt) -> list[StreamRecord]:
        max_age = self.settings.maximum_record_age_seconds
        if max_age < 0:
            return attempt.records
        now = self.clock()
        expired = [r for r in attempt.records if now - r.arrival > max_age]
        if expired:
            self._report(_Attempt(expired, attempt.failures, attempt.invocations), "RecordAgeExceeded")
        return [r for r in attempt.records if now - r.arrival <= max_age]

    def _invoke_once(self, handler: Handler, attempt: _Attempt) -> _Attempt | None:
        """Invoke with ``attempt.records``; return what must be retried (``None`` when all succeeded)."""
        context = LambdaContext(
            function_name=self.function_name,
            memory_limit_in_mb=self.memory_limit_in_mb,
            timeout_seconds=self.timeout_seconds,
        )
        event = {"Records": [copy.deepcopy(r.record) for r in attempt.records]}
        self.stats.invocations += 1
        invocations = attempt.invocations + 1
        try:
            response = handler(event, context)
        except Exception as exc:
            self.stats.function_errors += 1
            if self.stop_event.is_set():  # the stack is stopping: its workers were ended
                return _Attempt(attempt.records, attempt.failures, invocations, True, context.aws_request_id)
            self.log(
                f"alert function error: {type(exc).__name__} on a batch of {len(attempt.records)} "
                f"(request {context.aws_request_id}); retrying as Lambda would"
            )
            return _Attempt(attempt.records, attempt.failures + 1, invocations, True, context.aws_request_id)
        if not self.settings.report_batch_item_failures:
            self.stats.records_delivered += len(attempt.records)
            return None
        failed_index = self._first_failed_index(response, attempt.records)
        if failed_index is None:
            self.stats.records_delivered += len(attempt.records)
            return None
        self.stats.partial_failures += 1
        if failed_index < 0:  # an invalid response: the whole batch failed
            return _Attempt(attempt.records, attempt.failures + 1, invocations, True, context.aws_request_id)
        self.stats.records_delivered += failed_index
        remaining = attempt.records[failed_index:]
        return _Attempt(remaining, attempt.failures + 1, invocations, False, context.aws_request_id)

    @staticmethod
    def _first_failed_index(response: Any, records: list[StreamRecord]) -> int | None:
        """Index of the lowest reported sequence number; ``None`` on success, -1 for an invalid response."""
        if not isinstance(response, Mapping):
            return None
        failures = response.get("batchItemFailures")
        if not failures:
            return None
        positions = {r.sequence_number: i for i, r in enumerate(records)}
        indexes = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
            if not identifier or str(identifier) not in positions:
                return -1
            indexes.append(positions[str(identifier)])
        return min(indexes)

    def _report(self, attempt: _Attempt, condition: str) -> None:
        """Send Lambda's on-failure invocation record for ``attempt.records`` (stream batch info only)."""
        records = attempt.records
        self.stats.on_failure_records += len(records)
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if attempt.function_error:
            response_context["functionError"] = "Unhandled"
        message = {
            "requestContext": {
                "requestId": attempt.last_request_id or str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempt.invocations,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso(self.clock(), milliseconds=True),
            "DDBStreamBatchInfo": {
                "shardId": records[0].shard_id,
                "startSequenceNumber": records[0].sequence_number,
                "endSequenceNumber": records[-1].sequence_number,
                "approximateArrivalOfFirstRecord": _iso(records[0].arrival),
                "approximateArrivalOfLastRecord": _iso(records[-1].arrival),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.log(
            f"alert batch sent to the on-failure queue: {len(records)} record(s), {condition}, "
            f"sequence {records[0].sequence_number}..{records[-1].sequence_number}"
        )
        self.send_on_failure(message)


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    pending: list[StreamRecord] = field(default_factory=list)
    first_pending_at: float = 0.0


class StreamPoller:
    """A thread that reads every shard of the stream and hands batches to an ``EventSourceMapping``."""

    def __init__(
        self,
        streams_client: Any,
        mapping: EventSourceMapping,
        poll_interval_seconds: float = 0.2,
        forget_iterator: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        for pattern in mapping.settings.filter_patterns:
            check_pattern(pattern)
        self.client = streams_client
        self.mapping = mapping
        self.settings = mapping.settings
        self.poll_interval = poll_interval_seconds
        self.forget_iterator = forget_iterator
        self.monotonic = monotonic
        self.stop_event = mapping.stop_event
        self._shards: dict[str, _Shard] = {}
        self._thread: threading.Thread | None = None
        self._handler_warned = False
        self._handler_retry_at = 0.0

    @property
    def shard_count(self) -> int:
        return len(self._shards)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.discover_shards()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        last_discovery = self.monotonic()
        while not self.stop_event.is_set():
            try:
                if self.monotonic() - last_discovery > 10:
                    self.discover_shards()
                    last_discovery = self.monotonic()
                self.poll_once()
            except Exception as exc:
                self.mapping.log(f"stream poller: {type(exc).__name__} while polling; retrying")
                self.stop_event.wait(1.0)
                continue
            self.stop_event.wait(self._sleep_seconds())

    def _sleep_seconds(self) -> float:
        deadlines = [
            s.first_pending_at + self.settings.batching_window_seconds - self.monotonic()
            for s in self._shards.values()
            if s.pending
        ]
        return max(0.0, min([self.poll_interval, *deadlines]))

    # -- reading --------------------------------------------------------------------------------------------
    def discover_shards(self) -> None:
        stream_arn = self.mapping.stream_arn
        description = self.client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._shards:
                continue
            iterator = self.client.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=self.settings.starting_position
            )["ShardIterator"]
            self._shards[shard_id] = _Shard(shard_id, iterator)

    def _read(self, shard: _Shard) -> None:
        while shard.iterator and not self.stop_event.is_set():
            used = shard.iterator
            response = self.client.get_records(ShardIterator=used, Limit=1000)
            shard.iterator = response.get("NextShardIterator")
            if self.forget_iterator is not None:
                self.forget_iterator(used)
            records = response.get("Records", [])
            for raw in records:
                record = StreamRecord.from_stream(raw, shard.shard_id, self.mapping.stream_arn)
                if not matches_any(self.settings.filter_patterns, record.record):
                    self.mapping.stats.records_filtered_out += 1
                    continue
                if not shard.pending:
                    shard.first_pending_at = self.monotonic()
                shard.pending.append(record)
            if len(records) < 1000:
                return

    def poll_once(self) -> int:
        """Read every shard, then invoke each batch that is full or whose window ended; return batches run."""
        batches = 0
        for shard in list(self._shards.values()):
            self._read(shard)
            while shard.pending and not self.stop_event.is_set():
                if self.monotonic() < self._handler_retry_at:
                    break
                full = len(shard.pending) >= self.settings.batch_size
                window_over = (
                    self.monotonic() - shard.first_pending_at >= self.settings.batching_window_seconds
                )
                if not (full or window_over):
                    break
                batch = shard.pending[: self.settings.batch_size]
                try:
                    self.mapping.deliver(batch)
                except HandlerUnavailable as exc:
                    if not self._handler_warned:
                        self.mapping.log(f"alert function not available yet ({exc}); holding the stream")
                        self._handler_warned = True
                    self._handler_retry_at = self.monotonic() + 1.0
                    return batches
                self._handler_warned = False
                del shard.pending[: len(batch)]
                batches += 1
                if shard.pending:
                    shard.first_pending_at = self.monotonic()
        return batches


def sqs_on_failure_sender(sqs_client: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """Send on-failure invocation records to an SQS queue (the template's ``AlertFailuresQueue``)."""

    def send(message: dict[str, Any]) -> None:
        sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))

    return send
