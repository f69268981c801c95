"""Thin scheduled handler: replay the alert failure queue every minute, each lead at most once.

EventBridge invokes it every minute (``ReplayAlertsFunction``, ``rate(1 minute)``; the local stack every
``LOCAL_SCHEDULE_SECONDS``). It runs ``leads_core.dlq.replay_failures`` with the invocation's remaining time
and ``backoff=True``: a message that cannot be settled yet stays on the queue, hidden for 1, 2, 4, ... up to
15 minutes by how often it was tried (``dlq.backoff_seconds``), so a leftover lease or a short SNS or DynamoDB
outage is outlasted instead of retried into the ground. When a failed alert still waits after
``AlertReplayGiveUpSeconds``, the ``AlertReplayGaveUpAlarm`` (age of the queue's oldest message) tells ops.

Each run then sends the storm digests that are due (``leads_core.storm.flush_digests``: one SMS digest per
ended 10-minute window whose texts were held; metric ``AlertStormDigests``).

Settings: ``TOPIC_ARN``, ``TABLE_NAME``, ``ALERT_DETAIL``, ``ALERT_STORM_THRESHOLD``, ``TOPIC_DISPLAY_NAME``
and ``CONSOLE_URL`` (replayed alerts and digests link to the staff console) as the alert function, plus
``ALERT_FAILURES_QUEUE_URL`` and ``ALERT_STREAM_ARN`` (for messages that do not name their stream).
Metrics: ``AlertReplayMessages``, ``AlertReplayDeleted``, ``AlertReplayKept`` (and the delivery metrics).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from leads_core import aws
from leads_core.errors import ConfigurationError
from leads_core.observability import MetricUnit, logger, metrics, tracer
from leads_core.settings import load_settings

MESSAGES_PER_RUN = 50


def _queue_url() -> str:
    value = os.environ.get("ALERT_FAILURES_QUEUE_URL", "")
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError("ALERT_FAILURES_QUEUE_URL: must be the URL of the alert failure queue")
    return value


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings().require_alerts()  # a bad setting fails here, naming the variable
    queue_url = _queue_url()
    from leads_core.dlq import replay_failures  # noqa: PLC0415 - keeps the module import light

    dynamodb = aws.client("dynamodb")
    report = replay_failures(
        queue_url,
        os.environ.get("ALERT_STREAM_ARN") or None,
        settings=settings,
        limit=MESSAGES_PER_RUN,
        emit_metrics=True,
        time_left=context.get_remaining_time_in_millis,
        backoff=True,
        dynamodb=dynamodb,
    )
    from leads_core.storm import flush_digests  # noqa: PLC0415

    digests = flush_digests(
        settings=settings, time_left=context.get_remaining_time_in_millis, dynamodb=dynamodb
    )
    if digests.published:
        metrics.add_metric(name="AlertStormDigests", unit=MetricUnit.Count, value=len(digests.published))
    kept = Counter(report.kept.values())
    # Every run reports how many messages it saw (0 too): a heartbeat of the replay, and never an empty flush.
    metrics.add_metric(name="AlertReplayMessages", unit=MetricUnit.Count, value=report.messages)
    for name, value in (
        ("AlertReplayDeleted", report.messages_deleted),
        ("AlertReplayKept", len(report.kept)),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if report.messages:
        logger.info(
            "alert failure queue replayed",
            extra={
                "messages": report.messages,
                "deleted": report.messages_deleted,
                "published": len(report.published),
                "suppressed": len(report.suppressed),
                "skipped": len(report.skipped),
                "failed": len(report.failed_lead_ids),
                "kept": dict(kept),
            },
        )
    return {
        "messages": report.messages,
        "deleted": report.messages_deleted,
        "published": sorted(report.published),
        "kept": dict(report.kept),
        "storm_digests": digests.published,
    }
