"""SNS adapter: publish rendered alerts with ``PublishBatch`` (10 entries, at most 240 KiB, a call).

AWS failures never escape as botocore exceptions: an entry SNS refused, and every entry of a call that failed
as a whole (throttling after the client's own retries, an outage, a timeout), comes back in
``PublishOutcome.failed`` with its error code, so the caller can release those leads and report exactly their
stream records. A missing topic or a denied publish is a configuration problem; it is reported the same way
(the alert must be retried once the configuration is fixed) and logged with its code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from leads_core import aws
from leads_core.alerts import Alert
from leads_core.errors import NotificationFailed
from leads_core.observability import logger
from leads_core.store.failures import code_of

BATCH_LIMIT = 10
# PublishBatch accepts 256 KiB for all entries together; stay clearly below it.
BATCH_MAX_BYTES = 240 * 1024


@dataclass
class PublishOutcome:
    """``succeeded``: alert id (the lead id) -> SNS message id; ``failed``: alert id -> error code."""

    succeeded: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    # Failed ids SNS surely did not publish and that may succeed on a retry (throttling, an internal error):
    # the caller may publish them again at once. A timeout or a lost connection is NOT here: SNS may have
    # accepted the call, so only the normal retry path (release, retry later) handles those.
    retryable: set[str] = field(default_factory=set)

    def raise_for_failures(self) -> None:
        if self.failed:
            raise NotificationFailed(f"{len(self.failed)} alert(s) not published")


def entry_bytes(entry: dict[str, Any]) -> int:
    """What SNS counts against the batch payload limit: message, subject and message attributes."""
    size = len(entry["Message"].encode()) + len(entry.get("Subject", "").encode())
    for name, value in entry.get("MessageAttributes", {}).items():
        size += (
            len(name.encode()) + len(value["DataType"].encode()) + len(value.get("StringValue", "").encode())
        )
    return size


def chunks(
    entries: Sequence[dict[str, Any]], size: int = BATCH_LIMIT, max_bytes: int = BATCH_MAX_BYTES
) -> Iterable[list[dict[str, Any]]]:
    """Entries in order, at most ``size`` and ``max_bytes`` a call (a full-detail email can be tens of KB)."""
    chunk: list[dict[str, Any]] = []
    chunk_bytes = 0
    for entry in entries:
        entry_size = entry_bytes(entry)
        if chunk and (len(chunk) == size or chunk_bytes + entry_size > max_bytes):
            yield chunk
            chunk, chunk_bytes = [], 0
        chunk.append(entry)
        chunk_bytes += entry_size
    if chunk:
        yield chunk


_RETRYABLE_CODES = frozenset(
    {
        "Throttled",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "InternalError",
        "InternalErrorException",
        "ServiceUnavailable",
        "KMSThrottlingException",
    }
)


def publish_chunk(topic_arn: str, alerts: Sequence[Alert]) -> PublishOutcome:
    """One ``PublishBatch`` call for ``alerts`` (at most ``BATCH_LIMIT``, distinct ids); never raises for AWS
    errors."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto3 is imported lazily

    outcome = PublishOutcome()
    entries = [alert.to_publish_entry() for alert in alerts]
    ids = [entry["Id"] for entry in entries]
    if not entries:
        return outcome
    outcome.calls = 1
    try:
        response = aws.client("sns").publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
    except ClientError as exc:
        code = code_of(exc)
        logger.warning("alert publish call failed", extra={"error_code": code, "alerts": len(ids)})
        outcome.failed.update(dict.fromkeys(ids, code))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _RETRYABLE_CODES or status == 429 or status >= 500:
            outcome.retryable.update(ids)
        return outcome
    except BotoCoreError as exc:  # timeout, connection lost: SNS may or may not have accepted the call
        code = code_of(exc)
        logger.warning("alert publish call failed", extra={"error_code": code, "alerts": len(ids)})
        outcome.failed.update(dict.fromkeys(ids, code))
        return outcome
    for entry in response.get("Successful", []):
        outcome.succeeded[entry["Id"]] = entry["MessageId"]
    for entry in response.get("Failed", []):
        code = str(entry.get("Code", "Failed"))
        logger.warning(
            "alert publish entry failed",
            extra={"lead_id": entry["Id"], "error_code": code, "sender_fault": entry.get("SenderFault")},
        )
        outcome.failed[entry["Id"]] = code
        if not entry.get("SenderFault"):
            outcome.retryable.add(entry["Id"])
    for lead_id in ids:  # SNS answers for every entry; anything unanswered did not go out
        if lead_id not in outcome.succeeded and lead_id not in outcome.failed:
            outcome.failed[lead_id] = "NoResult"
    return outcome


def publish_batch(topic_arn: str, alerts: Sequence[Alert]) -> PublishOutcome:
    """Publish ``alerts`` (distinct lead ids) to ``topic_arn`` in chunks; never raises for AWS errors."""
    outcome = PublishOutcome()
    by_id = {alert.lead_id: alert for alert in alerts}
    for chunk in chunks([alert.to_publish_entry() for alert in alerts]):
        part = publish_chunk(topic_arn, [by_id[entry["Id"]] for entry in chunk])
        outcome.calls += part.calls
        outcome.succeeded.update(part.succeeded)
        outcome.failed.update(part.failed)
        outcome.retryable |= part.retryable
    return outcome
