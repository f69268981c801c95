"""Deliver staff alerts exactly once: claim each lead, render, publish in batches, mark sent or release.

Used by the stream function (``send_alerts``, with the stream's new images) and by ``leads dlq replay``
(``leads_core.dlq``, with each lead's current item). The claim refuses a lead that was erased, turned into
spam or already alerted, so only leads that still exist and still deserve an alert are rendered and published.

Outcomes per lead:
- ``published``: the alert went out now (metric ``AlertPublished``, ``AlertLag`` seconds since
  ``created_at``);
- ``suppressed``: it had gone out before (``AlertSuppressed``): stream retries, replays, duplicate records;
- ``skipped``: there is nothing to alert and never will be: the lead is gone (erased, expired) or is spam
  (``AlertSkipped``);
- ``failed_lead_ids``: retry later (``AlertFailed``): SNS refused or throttled, DynamoDB was unavailable, or
  another invocation holds the lease right now.

The gap exactly-once cannot close without SNS idempotency (standard topics have none): if the process dies
after SNS accepted an alert but before ``mark_sent``, or a ``PublishBatch`` call times out after SNS accepted
it, a retry alerts a second time. If ``mark_sent`` itself fails the alert counts as published (metric
``AlertMarkFailed``) and the lease keeps retries away for its 60 s.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from leads_core import alert_store, aws, keys, notifier
from leads_core.alert_store import ClaimStatus
from leads_core.alerts import Alert, AlertSettings, render_alert
from leads_core.errors import LeadsError, StorageUnavailable
from leads_core.observability import MetricUnit, logger, metrics

_LEAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass
class DeliveryReport:
    published: dict[str, str] = field(default_factory=dict)  # lead id -> SNS message id
    suppressed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_lead_ids: list[str] = field(default_factory=list)
    sns_calls: int = 0

    @property
    def settled_lead_ids(self) -> set[str]:
        """Leads that need nothing more: alerted now or before, or never to be alerted."""
        return set(self.published) | set(self.suppressed) | set(self.skipped)


class DeliverySettings(AlertSettings, Protocol):
    @property
    def topic_arn(self) -> str: ...

    @property
    def table_name(self) -> str: ...


def lead_id_of(lead: Mapping[str, Any]) -> str | None:
    """The lead's id when it is usable as a key and a PublishBatch entry id, else ``None``."""
    value = lead.get("id")
    return value if isinstance(value, str) and _LEAD_ID.match(value) else None


class MalformedStreamRecord(LeadsError):
    """A stream record that cannot be read as an item change (unknown event, unreadable image, no lead id)."""


_EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})


def lead_from_stream_record(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The new lead a DynamoDB stream record announces, or ``None`` when there is nothing to alert about.

    Alerts come only from ``INSERT`` of ``entity=lead`` with ``status=new`` (the template's filter, checked
    again here); ``MODIFY`` and ``REMOVE`` (TTL deletions included) never alert. ``record`` is the wire shape
    (Lambda's event record or a ``dynamodbstreams`` ``GetRecords`` record). Raises ``MalformedStreamRecord``.
    """
    event_name = record.get("eventName")
    if event_name not in _EVENT_NAMES:
        raise MalformedStreamRecord("unknown event name")
    if event_name != "INSERT":
        return None
    stream = record.get("dynamodb")
    image = stream.get("NewImage") if isinstance(stream, Mapping) else None
    if not isinstance(image, Mapping):
        raise MalformedStreamRecord("INSERT without a new image")
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415

    deserializer = TypeDeserializer()
    try:
        lead = {str(name): deserializer.deserialize(value) for name, value in image.items()}
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        raise MalformedStreamRecord(f"unreadable new image ({type(exc).__name__})") from None
    if lead.get("entity") != keys.ENTITY_LEAD or lead.get("status") != "new":
        return None
    if lead_id_of(lead) is None:
        raise MalformedStreamRecord("lead without a usable id")
    return lead


def _created_epoch(lead: Mapping[str, Any]) -> float | None:
    raw = lead.get("created_at")
    if not isinstance(raw, str):
        return None
    try:
        created = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()


class _Metrics:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def count(self, name: str, value: int) -> None:
        if self.enabled and value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def seconds(self, name: str, value: float) -> None:
        if self.enabled:
            metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=max(0.0, value))


def deliver(
    leads: Iterable[Mapping[str, Any]],
    *,
    settings: DeliverySettings | None = None,
    emit_metrics: bool = True,
) -> DeliveryReport:
    """Alert each lead (a plain item dict, e.g. a stream's new image) at most once.

    Raises ``ValueError`` for a lead without a usable id (callers check ``lead_id_of`` first).
    """
    if settings is None:
        from leads_core.settings import load_settings  # noqa: PLC0415

        settings = load_settings().require_alerts()
    report = DeliveryReport()
    meter = _Metrics(emit_metrics)
    table_name = settings.table_name

    by_id: dict[str, Mapping[str, Any]] = {}
    for lead in leads:
        lead_id = lead_id_of(lead)
        if lead_id is None:
            raise ValueError("lead without a usable id")
        by_id.setdefault(lead_id, lead)  # the same lead twice in one batch is one alert
    lead_ids = list(by_id)

    alerts: list[Alert] = []
    created: dict[str, float | None] = {}
    for lead_id in lead_ids:
        try:
            result = alert_store.claim(lead_id, table_name=table_name)
        except StorageUnavailable:
            report.failed_lead_ids.append(lead_id)
            continue
        if result.status is ClaimStatus.CLAIMED:
            try:
                alerts.append(render_alert(by_id[lead_id], settings))
            except Exception:  # a renderer bug must not lose the alert: release, retry after a fix
                logger.exception("alert rendering failed", extra={"lead_id": lead_id})
                alert_store.release(lead_id, table_name=table_name)
                report.failed_lead_ids.append(lead_id)
                continue
            created[lead_id] = _created_epoch(by_id[lead_id])
        elif result.status is ClaimStatus.ALREADY_ALERTED:
            report.suppressed.append(lead_id)
        elif result.status in {ClaimStatus.MISSING, ClaimStatus.NOT_ALERTABLE}:
            logger.info("alert skipped", extra={"lead_id": lead_id, "reason": result.status.value})
            report.skipped.append(lead_id)
        else:
            logger.info("alert leased elsewhere", extra={"lead_id": lead_id})
            report.failed_lead_ids.append(lead_id)

    if alerts:
        outcome = notifier.publish_batch(settings.topic_arn, alerts)
        report.sns_calls = outcome.calls
        published_at = time.time()
        for alert in alerts:
            message_id = outcome.succeeded.get(alert.lead_id)
            if message_id is None:
                alert_store.release(alert.lead_id, table_name=table_name)
                report.failed_lead_ids.append(alert.lead_id)
                continue
            try:
                alert_store.mark_sent(alert.lead_id, message_id, table_name=table_name)
            except StorageUnavailable:
                logger.error("alert published but not marked", extra={"lead_id": alert.lead_id})
                meter.count("AlertMarkFailed", 1)
            report.published[alert.lead_id] = message_id
            created_epoch = created.get(alert.lead_id)
            if created_epoch is not None:
                meter.seconds("AlertLag", published_at - created_epoch)
            logger.info("alert published", extra={"lead_id": alert.lead_id, "priority": alert.priority})

    meter.count("AlertPublished", len(report.published))
    meter.count("AlertSuppressed", len(report.suppressed))
    meter.count("AlertSkipped", len(report.skipped))
    meter.count("AlertFailed", len(report.failed_lead_ids))
    return report


def load_lead(lead_id: str, *, table_name: str | None = None) -> dict[str, Any] | None:
    """The lead item as it is now (strongly consistent), or ``None`` when it is gone or not a lead."""
    if table_name is None:
        from leads_core.settings import load_settings  # noqa: PLC0415

        table_name = load_settings().table_name
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415

    try:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=table_name, Key=keys.lead_key(lead_id), ConsistentRead=True)
            .get("Item")
        )
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if isinstance(exc, ClientError | BotoCoreError):
            raise StorageUnavailable() from exc
        raise
    if not item or item.get("entity", {}).get("S") != keys.ENTITY_LEAD:
        return None
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}
