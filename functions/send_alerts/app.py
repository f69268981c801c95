"""Thin handler: DynamoDB stream batch -> staff alerts, with partial batch responses.

Powertools' ``BatchProcessor`` decides per record (``alert_candidate``), but the alerts of the whole batch are
published together (``PublishBatch``, 10 a call, through ``leads_core.delivery.deliver``, which gets the
invocation's remaining time to mark each chunk at once and to stop before a chunk it has no time for):
``AlertBatchProcessor`` first collects the candidates, delivers them once, then reports each record as success
or failure. The response's ``batchItemFailures`` name exactly the records whose lead was not alerted, by
``SequenceNumber``. Each lead alerted now or before also goes to the lead events bus as ``LeadReceived``
(``LEAD_EVENTS_BUS``; ids and codes only, ``leads_core.lead_events``).

Which records alert: ``INSERT`` of an item with ``entity=lead`` and ``status=new`` (the template's filter
already drops the rest; this is checked again here). ``MODIFY``, ``REMOVE`` (including TTL deletions), spam
and other items are successes with nothing to do.

Malformed records: a record whose event name is unknown, whose new image cannot be read, or whose lead has no
usable id is *reported as failed* (metric ``AlertRecordMalformed``), never dropped silently: a new lead must
never go unannounced, so after the stream's retries it lands in the on-failure queue where ``leads dlq list``
shows it and ``leads dlq replay`` settles it. The one exception is a record without a ``SequenceNumber``: it
cannot be named in ``batchItemFailures`` (Lambda would then retry the whole batch forever), so it is logged
and counted (``AlertRecordUnreportable``) and skipped. Lambda always sets sequence numbers; only a hand-made
event lacks one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from leads_core import aws
from leads_core.delivery import deliver, lead_from_stream_record, lead_id_of
from leads_core.errors import LeadsError
from leads_core.lead_events import send_lead_received
from leads_core.observability import MetricUnit, logger, metrics, tracer
from leads_core.settings import load_settings


class AlertNotDelivered(LeadsError):
    """The record's lead was not alerted this time (SNS or DynamoDB failed, or a lease held elsewhere)."""


def alert_candidate(record: DynamoDBRecord) -> dict[str, Any] | None:
    """The new lead this record announces, or ``None``; raises ``MalformedStreamRecord``."""
    return lead_from_stream_record(record.raw_event)


def _sequence_number(record: DynamoDBRecord) -> str | None:
    stream = record.get("dynamodb")
    value = stream.get("SequenceNumber") if isinstance(stream, dict) else None
    return value if isinstance(value, str) and value else None


def _time_left(context: Any) -> Callable[[], float] | None:
    """The invocation's clock (milliseconds left), when the context has one."""
    clock = getattr(context, "get_remaining_time_in_millis", None)
    return clock if callable(clock) else None


class AlertBatchProcessor(BatchProcessor):
    """``BatchProcessor`` that publishes the whole batch's alerts together instead of one record at a time."""

    def __init__(self) -> None:
        # Even when every record failed (SNS down), answer with the exact list instead of raising: a function
        # error would make Lambda bisect the batch, which only helps against poison records.
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

    def process(self) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...] | None] = [None] * len(self.records)
        waiting: list[tuple[int, DynamoDBRecord, str]] = []  # (position, record, lead id)
        candidates: list[dict[str, Any]] = []
        ignored = 0
        for position, raw in enumerate(self.records):
            record = DynamoDBRecord(raw)
            if _sequence_number(record) is None:
                logger.error("stream record without a sequence number skipped", extra={"position": position})
                metrics.add_metric(name="AlertRecordUnreportable", unit=MetricUnit.Count, value=1)
                results[position] = self.success_handler(record=raw, result=None)
                continue
            try:
                lead = self.handler(record=record)
            except Exception:
                logger.warning(
                    "malformed stream record",
                    extra={
                        "sequence_number": _sequence_number(record),
                        "error": type(sys.exc_info()[1]).__name__,
                    },
                )
                metrics.add_metric(name="AlertRecordMalformed", unit=MetricUnit.Count, value=1)
                results[position] = self.failure_handler(record=record, exception=sys.exc_info())
                continue
            if lead is None:  # MODIFY, REMOVE, spam, other items: the template's filter should keep them away
                ignored += 1
                results[position] = self.success_handler(record=raw, result=None)
                continue
            lead_id = lead_id_of(lead)
            assert lead_id is not None  # alert_candidate guarantees it
            waiting.append((position, record, lead_id))
            candidates.append(lead)

        if ignored:
            metrics.add_metric(name="AlertRecordIgnored", unit=MetricUnit.Count, value=ignored)
        if candidates:
            report = deliver(
                candidates,
                settings=load_settings().require_alerts(),
                time_left=_time_left(getattr(self, "lambda_context", None)),
                dynamodb=aws.client("dynamodb"),
            )
            failed = set(report.failed_lead_ids)
            # LeadReceived for each lead alerted now or before (a retried record's lead again: at least
            # once); a failed send is counted and logged, never held against the alert (lead_events).
            send_lead_received([lead for lead in candidates if lead_id_of(lead) not in failed])
            for position, record, lead_id in waiting:
                if lead_id in failed:
                    error = AlertNotDelivered(lead_id)
                    results[position] = self.failure_handler(
                        record=record, exception=(AlertNotDelivered, error, None)
                    )
                else:
                    results[position] = self.success_handler(record=record.raw_event, result=lead_id)
        return [result for result in results if result is not None]


processor = AlertBatchProcessor()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    load_settings().require_alerts()  # a bad setting fails here, naming the variable
    return process_partial_response(
        event=event, record_handler=alert_candidate, processor=processor, context=context
    )
