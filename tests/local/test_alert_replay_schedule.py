"""The local stack runs ``ReplayAlertsFunction`` from the template: an alert that failed every stream retry
reaches staff without anyone running ``leads dlq replay``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from leads_local.faults import parse_faults
from leads_local.stack import LocalStack

from tests.local.test_stack import _lead, _submit_json, call

pytestmark = pytest.mark.stack


@pytest.fixture
def local() -> Iterator[LocalStack]:
    stack = LocalStack(
        port=0,
        aws_port=0,
        settings={"RATE_LIMIT_PER_HOUR": "1000"},
        retry_delay_seconds=0.0,
        schedule_seconds=0,  # the timer is off: the test runs the scheduled functions itself
        log=lambda line: None,
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _health(local: LocalStack) -> dict:
    return call(f"{local.base_url}/_local/health").json()


def test_an_alert_that_failed_every_stream_retry_is_replayed_by_the_schedule(local: LocalStack) -> None:
    local.faults.set_rules(parse_faults("sns:*=1"))  # SNS down: every publish fails
    reply = _submit_json(local, _lead())
    assert reply.status == 201
    lead_id = reply.json()["id"]
    deadline = time.monotonic() + 60
    while _health(local)["stream"]["on_failure_records"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _health(local)["stream"]["on_failure_records"] == 1
    assert call(f"{local.base_url}/_local/alerts").json()["alerts"] == []

    local.faults.set_rules(())  # SNS is back; no person runs anything
    local.run_scheduled_functions()
    local.run_scheduled_functions()  # a second run finds nothing left and sends nothing

    deadline = time.monotonic() + 10
    alerts: list = []
    while not alerts and time.monotonic() < deadline:
        alerts = call(f"{local.base_url}/_local/alerts").json()["alerts"]
        time.sleep(0.2)
    time.sleep(1)
    alerts = call(f"{local.base_url}/_local/alerts").json()["alerts"]
    assert Counter(a["lead_id"] for a in alerts) == {lead_id: 1}
