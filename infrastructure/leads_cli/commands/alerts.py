"""The commands on alerts: ``alert-test``, ``smoke`` and the ``dlq`` group (``dlq list``, ``dlq replay``).

Thin: the work is in ``leads_cli.alert_test``, ``leads_cli.smoke`` and ``leads_core.dlq`` (docs/cli.md).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from leads_cli import output
from leads_cli.app import (
    EXIT_AWS_UNREACHABLE,
    EXIT_CODES_HELP,
    EXIT_UNEXPECTED,
    LeadsGroup,
    State,
    common_options,
    fail,
    with_state,
)
from leads_cli.target import DEFAULT_PORT

if TYPE_CHECKING:
    from leads_cli.smoke import ApiUnreachable


@contextmanager
def _core_logs_on_stderr(debug: bool = False) -> Iterator[None]:
    """The alert path's log lines (ids and codes) go to stderr while a command runs: stdout stays the
    command's own output (``--json`` must parse). Only warnings and errors are shown, unless ``--debug``:
    the command prints its own summary, the function's INFO lines are noise for a person at a terminal."""
    import logging  # noqa: PLC0415

    from leads_core.observability import logger  # noqa: PLC0415

    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.setStream(sys.stderr)
    level = logger.log_level
    if not debug:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
        if previous is not None:
            handler.setStream(previous)


@click.command("alert-test", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--urgent", is_flag=True, help="Send it as priority=urgent (also reaches the urgent phones).")
@with_state
def alert_test(state: State, urgent: bool) -> None:
    """Publish a clearly marked TEST alert to the staff topic (checks email/SMS delivery)."""
    from leads_cli.alert_test import publish_test_alert  # noqa: PLC0415

    settings = state.target().alert_settings()
    with _core_logs_on_stderr(state.debug):
        result = publish_test_alert(
            settings.topic_arn,
            urgent=urgent,
            clinic_name=settings.clinic_name,
            table_name=settings.table_name,
            console_url=settings.console_url,
        )
    state.admin().record_audit(
        state.actor(),
        "alert_test",
        result.lead_id,
        1,
        {"priority": result.priority, "message_id": result.message_id},
    )
    if state.as_json:
        output.print_json(result.as_dict())
        return
    output.stdout_console().print(
        f"Published test alert {result.lead_id} ({result.priority}); message id {result.message_id}"
    )


def _unreachable_sentence(exc: ApiUnreachable, *, local: bool) -> str:
    """What to tell the operator when the API did not answer (``smoke.ApiUnreachable``)."""
    if not local:
        return f"cannot reach the consultations API at {exc.url} ({exc.reason})"
    parts = urlsplit(exc.url)
    return (
        f"cannot reach the local stack at {parts.scheme}://{parts.netloc}: `make run` must be running "
        f"(and PORT set to the port it printed, if not {DEFAULT_PORT})"
    )


@click.command("smoke", epilog=EXIT_CODES_HELP)
@common_options
@with_state
def smoke(state: State) -> None:
    """Check a deployed (or the local) stack end to end: submit, retry, refused origin, test alert, show,
    erase. Exits 1 when a check fails. See docs/deploy.md."""
    from leads_cli.alert_test import publish_test_alert  # noqa: PLC0415
    from leads_cli.smoke import ApiUnreachable, run_smoke  # noqa: PLC0415

    target = state.target()
    topic_arn = target.resource("topic")
    alert_settings = target.alert_settings()
    try:
        report = run_smoke(
            api_url=target.resource("api"),
            origin=target.allowed_origin(),
            admin=state.admin(),
            actor=state.actor(),
            publish_test_alert=lambda: (
                publish_test_alert(
                    topic_arn, clinic_name=alert_settings.clinic_name, console_url=alert_settings.console_url
                ).message_id
            ),
        )
    except ApiUnreachable as exc:
        fail(_unreachable_sentence(exc, local=target.local), EXIT_AWS_UNREACHABLE)
    if state.as_json:
        output.print_json(report.as_dict())
    else:
        console = output.stdout_console()
        console.print(f"Smoke check of {target.describe()}: {report.api_url}")
        for check in report.checks:
            mark = "[green]ok[/green]  " if check.ok else "[red]FAIL[/red]"
            console.print(f"  {mark} {check.name}: {check.detail}", highlight=False)
        console.print("All checks passed." if report.ok else "Some checks FAILED.")
    if not report.ok:
        raise click.exceptions.Exit(EXIT_UNEXPECTED)


@click.group("dlq", cls=LeadsGroup, epilog=EXIT_CODES_HELP)
@common_options
def dlq() -> None:
    """Alerts that failed after the stream's retries (the alert failures queue)."""


@dlq.command("list", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@with_state
def dlq_list(state: State, limit: int) -> None:
    """Failed alert batches waiting on the queue (they stay there)."""
    from leads_core.dlq import list_failures  # noqa: PLC0415

    target = state.target()
    failures = [batch.to_dict() for batch in list_failures(target.resource("queue"), limit=limit)]
    if state.as_json:
        output.print_json({"failures": failures, "count": len(failures)})
        return
    console = output.stdout_console()
    if not failures:
        console.print("No failed alerts.")
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(header_style="bold")
    for title in ("Message", "Failed at", "Condition", "Records", "First record", "Problem"):
        table.add_column(title, overflow="fold")
    for failure in failures:
        table.add_row(
            str(failure["message_id"]),
            output.short_time(failure["failed_at"]),
            str(failure["condition"]),
            str(failure["batch_size"]),
            output.short_time(failure["first_record_at"]),
            str(failure["problem"]),
        )
    console.print(table)
    console.print(f"{len(failures)} failed batch{'es' if len(failures) != 1 else ''}: leads dlq replay")


@dlq.command("replay", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@with_state
def dlq_replay(state: State, limit: int) -> None:
    """Re-send the failed alerts (a lead already alerted is never alerted twice).

    A message is deleted only when its records were read to the end and each lead is settled; any other
    message stays on the queue and the output says why.
    """
    from leads_core.dlq import KEEP_REASONS, replay_failures  # noqa: PLC0415

    target = state.target()
    queue_url = target.resource("queue")
    settings = target.alert_settings()
    stream_arn = target.stream_arn()
    with (
        output.progress("Replaying failed alerts", None, enabled=not state.as_json),
        _core_logs_on_stderr(state.debug),
    ):
        report = replay_failures(queue_url, stream_arn, settings=settings, limit=limit)
    state.admin().record_audit(
        state.actor(),
        "dlq_replay",
        "alert_failures_queue",
        len(report.published),
        {
            "replayed": report.messages,
            "skipped": len(report.skipped) + len(report.suppressed),
            "failed": len(report.failed_lead_ids),
            "lead_ids": sorted(report.published),
        },
    )
    if state.as_json:
        output.print_json(report.to_dict())
        return
    console = output.stdout_console()
    console.print(
        f"{report.messages} failed batch{'es' if report.messages != 1 else ''} read: "
        f"{len(report.published)} alert{'s' if len(report.published) != 1 else ''} sent, "
        f"{len(report.suppressed)} already sent before, {len(report.skipped)} not needed (erased or spam), "
        f"{len(report.failed_lead_ids)} failed again."
    )
    if report.kept:
        console.print(f"{len(report.kept)} message(s) kept on the queue:")
        for message_id, reason in report.kept.items():
            console.print(f"  {message_id}: {KEEP_REASONS.get(reason, reason)}")
    if report.unreadable_message_ids:
        console.print(
            f"{len(report.unreadable_message_ids)} message(s) could not be read back (older than 24 h?): "
            "find those leads with `leads list --status new`."
        )
