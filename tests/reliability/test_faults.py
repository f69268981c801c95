"""Faults through the local stack: EVERY DynamoDB and SNS call of the handlers throttled at 30 %
(``LOCAL_FAULTS=dynamodb:*=0.3,sns:*=0.3``: claims, marks, releases, reads, publishes, the submit path's
writes and reads).

Clients retry a 503 with their key (bounded, exponential backoff). In the end every submission has exactly
one lead and exactly one alert: the stream's retries redo failed publishes, the scheduled replay
(``ReplayAlertsFunction``, run by the local stack's timer) and at most one ``replay_failures`` settle what
ended on the alert function's on-failure queue, at most once per lead. ``RELIABILITY_FAULT_COUNT`` (default
100) sets the number of distinct submissions; the issue's 200-lead run is the manual check in docs/alerts.md.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from leads_local.stack import DEMO_CLINIC_NAME

from benchmarks.inprocess import patched_environ
from benchmarks.local_stack import FAKE_AWS_ENV, LocalStackProcess, http_request
from benchmarks.payloads import run_token
from tests.reliability.traffic import Traffic, ids_by_submission, leads_by_key, privacy_hits, status_counts

pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(900)]

DISTINCT = int(os.environ.get("RELIABILITY_FAULT_COUNT", "100"))
FAULTS = "dynamodb:*=0.3,sns:*=0.3"
MAX_ATTEMPTS = 12  # P(12 throttled writes in a row) = 0.3**12 ~ 5e-7 per submission


@dataclass(frozen=True)
class _DeliverySettings:
    topic_arn: str
    table_name: str
    clinic_name: str = DEMO_CLINIC_NAME
    alert_detail: str = "contact"
    alert_storm_threshold: int = 20  # the template's AlertStormThreshold default
    console_url: str = "http://127.0.0.1:3000/staff/"  # the local stack's CONSOLE_URL shape


@contextmanager
def leads_core_against(stack: LocalStackProcess) -> Iterator[None]:
    """Point this process's ``leads_core.aws`` clients at the stack's AWS endpoint (no faults here)."""
    from leads_core import aws

    with patched_environ({**FAKE_AWS_ENV, "AWS_ENDPOINT_URL": stack.aws_endpoint}):
        aws.reset()
        try:
            yield
        finally:
            aws.reset()


def replay_dead_letters(stack: LocalStackProcess) -> dict[str, Any]:
    from leads_core.dlq import replay_failures
    from leads_local.template import local_outputs

    outputs = local_outputs(port=stack.port, aws_port=stack.aws_port)
    table = stack.table_name()
    stream_arn = stack.aws_client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    settings = _DeliverySettings(topic_arn=outputs["StaffAlertsTopicArn"], table_name=table)
    with leads_core_against(stack):
        report = replay_failures(outputs["AlertFailuresQueueUrl"], stream_arn, settings=settings)
    return report.to_dict()


def _lines_about(log_text: str, lead_ids: set[str], limit: int = 40) -> str:
    lines = [line[:400] for line in log_text.splitlines() if any(lead_id in line for lead_id in lead_ids)]
    return "\n".join(lines[:limit])


def test_every_dynamodb_and_sns_call_throttled_still_gives_one_lead_and_one_alert_each() -> None:
    traffic = Traffic(visitor_token=run_token(), key_token=run_token(), count=DISTINCT)
    env = {"RATE_LIMIT_PER_HOUR": "10000", "LOCAL_FAULTS": FAULTS, "LOCAL_FAULTS_SEED": "20261129"}
    replays: list[dict[str, Any]] = []
    with LocalStackProcess(extra_env=env) as stack:
        outcomes = traffic.run(stack, sends_per_submission=2, clients=8, max_attempts=MAX_ATTEMPTS)
        ids = ids_by_submission(outcomes)
        accepted_ids = {lead_id for group in ids.values() for lead_id in group if lead_id}
        alerts = stack.wait_for_alerts(accepted_ids, timeout=120)
        if not accepted_ids <= {alert["lead_id"] for alert in alerts}:
            replays.append(replay_dead_letters(stack))
            alerts = stack.wait_for_alerts(accepted_ids, timeout=30)
        items = stack.lead_items()
        health = http_request(stack.port, "GET", "/_local/health").json()
    log_text = stack.log_text

    statuses = status_counts(outcomes)
    assert statuses[503] > 0, "the fault injection did not bite: the test proves nothing"
    assert not [code for code in statuses if code >= 500 and code != 503], f"statuses: {statuses}"
    assert all(outcome.final == 201 for outcome in outcomes), f"statuses: {statuses}"
    assert all(len(group) == 1 for group in ids.values()), "a key answered with two different ids"
    assert len(accepted_ids) == DISTINCT

    keys = {traffic.key(i) for i in range(DISTINCT)}
    by_key = leads_by_key(items, keys)
    assert set(by_key) == keys
    assert all(len(group) == 1 for group in by_key.values()), "a retried submission was stored twice"
    assert len(items) == DISTINCT

    # Per-lead alerts only: a storm digest (alert_type=digest) appears when a 10-minute window ends mid-run.
    alert_counts = Counter(a["lead_id"] for a in alerts if a["attributes"].get("alert_type") == "new_lead")
    missing = accepted_ids - set(alert_counts)
    assert not missing, (
        f"{len(missing)} leads without alert after replays {replays}; stream stats {health['stream']}; "
        f"log lines of those leads (ids and codes only):\n{_lines_about(log_text, missing)}"
    )
    assert set(alert_counts) == accepted_ids
    assert max(alert_counts.values()) == 1, "a lead was alerted twice"
    injected = health["faults_injected"]
    assert any(name.startswith("sns:") and count > 0 for name, count in injected.items()), injected
    for operation in ("dynamodb:UpdateItem", "dynamodb:TransactWriteItems", "sns:PublishBatch"):
        assert injected.get(operation, 0) > 0, injected  # the alert bookkeeping was faulted too
    assert len(replays) <= 1

    assert privacy_hits(log_text, traffic) == []
