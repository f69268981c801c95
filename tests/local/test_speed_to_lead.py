"""Speed to lead on the local stack: with a short SLA, the sweep (every ``LOCAL_SWEEP_SECONDS``) escalates a
lead nobody answers into ``/_local/inbox``, and none goes out for a lead staff mark contacted with
``leads --local set-status``."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from typing import Any

import pytest
from leads_local.stack import LocalStack

from tests.conftest import local_cli_json
from tests.local.test_stack import _lead, _submit_json, _wait_for_alert, call

pytestmark = pytest.mark.stack

SHORT_SLA = {
    "BUSINESS_HOURS": "naperville=America/Chicago;mon-sun 00:00-24:00",
    "FIRST_CONTACT_SLA_MINUTES": "0.05",  # 3 seconds
    "URGENT_SLA_MINUTES": "0.05",
    "RATE_LIMIT_PER_HOUR": "1000",
}


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    stack = LocalStack(
        port=0, aws_port=0, settings=SHORT_SLA, schedule_seconds=0, sweep_seconds=0.5, log=lambda line: None
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _cli(local: LocalStack, *args: str) -> Any:
    return local_cli_json(local.aws_port, *args)


def _escalations(local: LocalStack) -> list[dict[str, Any]]:
    alerts = call(f"{local.base_url}/_local/alerts").json()["alerts"]
    return [a for a in alerts if a["attributes"].get("alert_type") == "escalation"]


def test_an_unanswered_lead_is_escalated_and_a_contacted_one_is_not(local: LocalStack) -> None:
    contacted = _submit_json(local, _lead()).json()["id"]
    changed = _cli(local, "set-status", contacted, "contacted")  # well within its 3-second SLA
    assert changed["status"] == "contacted"
    waiting = _submit_json(local, _lead(location="naperville")).json()["id"]
    _wait_for_alert(local, waiting)  # the new-lead alert first

    deadline = time.monotonic() + 30
    levels: list[str] = []
    while time.monotonic() < deadline and levels != ["1", "2"]:
        time.sleep(0.5)
        found = [a for a in _escalations(local) if a["lead_id"] == waiting]
        levels = sorted(a["attributes"]["escalation_level"] for a in found)
    assert levels == ["1", "2"]  # at the SLA, then at twice the SLA

    time.sleep(2)  # several more sweeps: nothing is sent again, nothing for the contacted lead
    escalations = _escalations(local)
    assert sorted(a["attributes"]["escalation_level"] for a in escalations) == ["1", "2"]
    assert {a["lead_id"] for a in escalations} == {waiting}
    inbox = html.unescape(call(f"{local.base_url}/_local/inbox").body.decode())
    assert f"{waiting} not answered yet" in inbox
    assert f"{waiting} still not answered (2x SLA)" in inbox
    assert f"{local.base_url}/staff/#{waiting}" in inbox  # the deep link, in the email and the SMS
    assert all(f"/staff/#{waiting}" in (a["sms"] or "") for a in escalations)
    assert local.health()["scheduled"]["SweepLeadsFunction"]["errors"] == 0
