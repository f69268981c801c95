"""``ReplayAlertsFunction``: the scheduled replay of the alert failure queue (moto, the real handler)."""

from __future__ import annotations

from typing import Any

import pytest
from leads_core import aws
from leads_core.errors import ConfigurationError
from leads_core.settings import load_settings
from leads_local.apigw import LambdaContext
from leads_local.scheduler import scheduled_event
from replay_alerts import app as replay_app

from tests.alerts.conftest import AlertWorld, SnsFaults, lambda_event
from tests.alerts.test_dlq import _alerted, _on_failure_message, _send_to_failure_queue


def _run() -> dict[str, Any]:
    context = LambdaContext(function_name="clinic-leads-test-replay", timeout_seconds=60.0)
    return replay_app.lambda_handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/x"), context)


def _queue_counts(world: AlertWorld) -> tuple[int, int]:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=world.resources.alert_failures_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_failed_alert_is_replayed_by_the_schedule_without_a_person(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, sns_faults: SnsFaults
) -> None:
    ok, stuck = alert_world.put_lead(), alert_world.put_lead()
    records = alert_world.new_stream_records()
    sns_faults.failing_ids = {stuck["id"]}
    handler(lambda_event(records), lambda_context)  # the stream's tries: ok alerted, stuck not
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))
    sns_faults.failing_ids = set()

    result = _run()

    assert result["published"] == [stuck["id"]]
    assert result["deleted"] == 1
    assert _alerted(alert_world) == sorted([ok["id"], stuck["id"]])
    assert _queue_counts(alert_world) == (0, 0)
    assert _run()["messages"] == 0


def test_a_replay_that_still_fails_keeps_the_message_hidden_for_its_backoff(
    alert_world: AlertWorld, sns_faults: SnsFaults
) -> None:
    stuck = alert_world.put_lead()
    records = alert_world.new_stream_records()
    _send_to_failure_queue(alert_world, _on_failure_message(alert_world, records, 6))
    sns_faults.failing_ids = {stuck["id"]}

    result = _run()

    assert list(result["kept"].values()) == ["alerts_failed"]
    assert _queue_counts(alert_world) == (0, 1)  # still there, not visible before the next try is due
    assert _run()["messages"] == 0  # the next minute's run does not hammer it
    assert alert_world.inbox() == []


def test_the_replay_function_names_a_missing_queue_setting(
    alert_world: AlertWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALERT_FAILURES_QUEUE_URL")

    with pytest.raises(ConfigurationError, match="ALERT_FAILURES_QUEUE_URL"):
        _run()


def test_the_replay_function_needs_the_console_url_its_alerts_and_digests_link_to(
    alert_world: AlertWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSOLE_URL")
    load_settings.cache_clear()

    with pytest.raises(ConfigurationError, match="CONSOLE_URL: required by the alert functions"):
        _run()
