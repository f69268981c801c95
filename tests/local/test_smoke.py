"""``leads smoke`` (``make smoke``): the deployed-stack check, run here against the local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from leads_cli.smoke import HttpAnswer, run_smoke
from leads_local.stack import LocalStack

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    stack = LocalStack(port=0, aws_port=0, schedule_seconds=0, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _leads(local: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORT": str(local.port), "AWS_PORT": str(local.aws_port)}
    return subprocess.run(
        [sys.executable, "-m", "leads_cli", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_smoke_passes_against_the_local_stack_and_leaves_no_lead(local: LocalStack) -> None:
    result = _leads(local, "smoke", "--local", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert report["ok"] is True
    assert [check["name"] for check in report["checks"]] == [
        "submit from an allowed origin",
        "retry with the same key answers the first id",
        "another origin is refused",
        "test alert published to the staff topic",
        "the lead is stored as sent",
        "the smoke lead is erased",
    ]
    shown = _leads(local, "show", report["lead_id"], "--local", "--json")
    assert shown.returncode == 3  # erased
    deadline = time.monotonic() + 20
    while not any(a.subject.startswith("TEST:") for a in local.alerts()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(a.subject.startswith("TEST:") for a in local.alerts())  # the test alert went through the topic
    assert not any(a.lead_id == report["lead_id"] for a in local.alerts())  # the smoke lead paged no one


def test_smoke_reports_failure_and_stops_when_the_api_does_not_accept() -> None:
    calls: list[str] = []

    def http(method: str, url: str, headers: dict[str, str], body: bytes | None) -> HttpAnswer:
        calls.append(method)
        return HttpAnswer(503, {"retry-after": "2"}, '{"message": "busy"}')

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("nothing after a failed submission")

    report = run_smoke(
        api_url="https://api.example/v1/consultations",
        origin="https://www.example-clinic.com",
        admin=never,  # type: ignore[arg-type]
        actor="tester",
        publish_test_alert=never,
        http=http,
    )
    assert not report.ok
    assert calls == ["POST"]
    assert report.checks[0].detail.startswith("503")
