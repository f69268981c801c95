"""The local EventBridge schedule emulation: which functions it finds and how it invokes them."""

from __future__ import annotations

import threading
from typing import Any

from leads_local.scheduler import ScheduledJob, Scheduler, scheduled_event
from leads_local.template import scheduled_functions


def _template(*functions: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "Resources": {
            logical_id: {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Handler": f"{logical_id.lower()}.app.lambda_handler", "Events": events},
            }
            for logical_id, events in functions
        }
    }


def test_scheduled_functions_are_the_ones_with_a_schedule_event() -> None:
    template = _template(
        ("Api", {"Post": {"Type": "Api", "Properties": {"Path": "/x", "Method": "POST"}}}),
        ("Sweep", {"Every": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}}),
        ("Check", {"Daily": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(1 day)"}}}),
    )
    found = scheduled_functions(template)
    assert [(f.logical_id, f.handler_module, f.schedule) for f in found] == [
        ("Sweep", "sweep.app", "rate(1 minute)"),
        ("Check", "check.app", "rate(1 day)"),
    ]


def test_a_job_is_invoked_with_an_eventbridge_scheduled_event_and_a_context() -> None:
    seen: list[tuple[dict[str, Any], Any]] = []
    job = ScheduledJob("Sweep", "local-Sweep", lambda: lambda event, context: seen.append((event, context)))
    job.run_once(log=lambda _line: None)
    event, context = seen[0]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [job.rule_arn]
    assert context.function_name == "local-Sweep"
    assert 0 < context.get_remaining_time_in_millis() <= 10_000
    assert scheduled_event(job.rule_arn)["id"] != event["id"]


def test_a_failing_run_is_logged_by_type_and_counted_and_the_next_run_still_happens() -> None:
    calls = []
    message = "secret " + "visitor text"

    def handler(_event: dict[str, Any], _context: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(message)
        return "ok"

    lines: list[str] = []
    job = ScheduledJob("Sweep", "local-Sweep", lambda: handler)
    assert job.run_once(lines.append) is None
    assert job.run_once(lines.append) == "ok"
    assert (job.runs, job.errors) == (2, 1)
    assert "RuntimeError" in lines[0]
    assert "secret visitor text" not in "\n".join(lines)


def test_the_timer_runs_every_job_until_stopped_and_zero_seconds_turns_it_off() -> None:
    ran = threading.Event()
    job = ScheduledJob("Sweep", "local-Sweep", lambda: lambda _e, _c: ran.set())
    scheduler = Scheduler([job], every_seconds=0.05, log=lambda _line: None)
    scheduler.start()
    try:
        assert ran.wait(5)
    finally:
        scheduler.stop()
    runs = job.runs
    assert runs >= 1
    off = Scheduler([job], every_seconds=0, log=lambda _line: None)
    off.start()
    assert not off.enabled
    off.stop()
    assert job.runs == runs


def test_a_job_with_its_own_period_runs_at_that_period_and_zero_turns_only_it_off() -> None:
    fast = ScheduledJob("SweepLeadsFunction", "local-Sweep", lambda: lambda _e, _c: None, every_seconds=0.05)
    slow = ScheduledJob("Check", "local-Check", lambda: lambda _e, _c: None)
    scheduler = Scheduler([fast, slow], every_seconds=0.5, log=lambda _line: None)
    scheduler.start()
    try:
        threading.Event().wait(1.3)
    finally:
        scheduler.stop()
    assert 1 <= slow.runs <= 3
    assert fast.runs >= 2 * slow.runs + 2
    sweep_off = ScheduledJob(
        "SweepLeadsFunction", "local-Sweep", lambda: lambda _e, _c: None, every_seconds=0
    )
    only_sweep_off = Scheduler([sweep_off], every_seconds=0.05, log=lambda _line: None)
    assert not only_sweep_off.enabled
    sweep_on = ScheduledJob("SweepLeadsFunction", "local-Sweep", lambda: lambda _e, _c: None, every_seconds=1)
    assert Scheduler([sweep_on], every_seconds=0, log=lambda _line: None).enabled
