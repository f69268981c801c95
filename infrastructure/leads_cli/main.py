"""``leads``: the clinic's ops CLI (contract section 5). Thin: every operation lives in ``leads_core.admin``,
``leads_core.dlq`` and ``leads_core.alerts``; this module parses options, picks the target and renders.

Rules: ``--json`` puts exactly one JSON document on stdout (JSON lines for ``export`` to stdout) and nothing
else; prompts, progress bars and errors go to stderr; every failure maps to a documented exit code.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click
from leads_core import admin
from leads_core.errors import LeadNotFound

from leads_cli import output
from leads_cli.target import Target, TargetError, TargetOptions

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_TARGET = 4
EXIT_AWS_UNREACHABLE = 5
EXIT_INVALID_STATUS = 6
EXIT_ACCESS_DENIED = 7
EXIT_ABORTED = 8
EXIT_INVALID_CONFIRMATION = 9

EXIT_CODES_HELP = """\b
Target: --local (the local stack of `make run`, AWS_PORT, default 4566) or
--stack NAME [--region R] (a deployed stack's outputs; default $LEADS_STACK).
Both can be given before or after the command name.
\b
Exit codes:
  0  ok
  1  unexpected error (run with --debug for a traceback)
  2  usage: bad option or argument, malformed lead id, bad --since
  3  not found: no lead with that id
  4  no target, unknown stack, or a stack resource is missing
  5  no AWS credentials or region, or the endpoint cannot be reached
  6  invalid status
  7  AWS refused the call (access denied)
  8  aborted: the confirmation was declined
  9  refused: not an SNS confirmation link (or token) for this stack's topic
"""

_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)
_ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"}
)
_MISSING_RESOURCE_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NotFound",
        "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)

F = TypeVar("F", bound=Callable[..., Any])

OVERRIDE_FLAGS = {
    "--table": "table",
    "--topic-arn": "topic",
    "--queue-url": "queue",
    "--hash-key-secret": "hash_key_secret",
}


class CliError(click.ClickException):
    """A failure with a documented exit code; shown on stderr (as JSON with ``--json``)."""

    exit_code = EXIT_UNEXPECTED

    def __init__(self, message: str, exit_code: int, as_json: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]
        self.as_json = as_json

    def show(self, file: IO[Any] | None = None) -> None:
        stream = file or sys.stderr
        if self.as_json:
            click.echo(json.dumps({"error": self.message, "exit_code": self.exit_code}), file=stream)
        else:
            click.echo(f"Error: {self.message}", file=stream)


# ------------------------------------------------------------------------------------------ shared state


@dataclass
class State:
    """Options of the group and the subcommand together (the subcommand's win), and what they resolve to."""

    as_json: bool = False
    debug: bool = False
    page_size: int | None = None
    target_options: TargetOptions = field(default_factory=TargetOptions)
    _target: Target | None = None
    _actor: str | None = None

    def target(self) -> Target:
        if self._target is None:
            if self.target_options.local and self.target_options.stack:
                raise click.UsageError("pass either --local or --stack NAME, not both")
            self._target = Target(self.target_options)
            self._target.activate()
        return self._target

    def admin(self, *, with_hash_key: bool = False) -> admin.LeadAdmin:
        target = self.target()
        return admin.LeadAdmin(
            target.resource("table"),
            hash_key_secret_id=target.resource("hash_key_secret") if with_hash_key else "",
            page_size=self.page_size or admin.DEFAULT_PAGE_SIZE,
        )

    def actor(self) -> str:
        if self._actor is None:
            self.target()
            self._actor = admin.caller_arn()
        return self._actor


def _state() -> State:
    return click.get_current_context().ensure_object(State)


def _set_state(attribute: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        state = ctx.ensure_object(State)
        if value in (None, False, ()):
            return value
        if attribute in {"as_json", "debug", "page_size"}:
            setattr(state, attribute, value)
        elif attribute in {"local", "stack", "region"}:
            setattr(state.target_options, attribute, value)
        else:
            state.target_options.overrides[attribute] = value
        return value

    return callback


def common_options(func: F) -> F:
    """``--json``, the target options and the hidden overrides, on the group and on every command."""
    options = [
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            expose_value=False,
            callback=_set_state("as_json"),
            help="Machine-readable output: one JSON document on stdout, nothing else.",
        ),
        click.option(
            "--local",
            is_flag=True,
            expose_value=False,
            callback=_set_state("local"),
            help="Target the local stack (make run) on http://127.0.0.1:$AWS_PORT.",
        ),
        click.option(
            "--stack",
            metavar="NAME",
            expose_value=False,
            callback=_set_state("stack"),
            help="Target a deployed CloudFormation stack (default: $LEADS_STACK).",
        ),
        click.option(
            "--region",
            metavar="R",
            expose_value=False,
            callback=_set_state("region"),
            help="AWS region of --stack (default: your AWS configuration).",
        ),
        click.option("--debug", is_flag=True, hidden=True, expose_value=False, callback=_set_state("debug")),
        click.option(
            "--page-size",
            type=click.IntRange(1, 1000),
            envvar="LEADS_PAGE_SIZE",
            hidden=True,
            expose_value=False,
            callback=_set_state("page_size"),
        ),
    ]
    # Overrides of single resources (tests, unusual setups); also $LEADS_TABLE etc. (see target.py).
    for flag, name in OVERRIDE_FLAGS.items():
        options.append(
            click.option(
                flag, name, metavar="VALUE", hidden=True, expose_value=False, callback=_set_state(name)
            )
        )
    for option in reversed(options):
        func = option(func)
    return func


# ------------------------------------------------------------------------------------------ errors


def _fail(message: str, exit_code: int) -> NoReturn:
    raise CliError(message, exit_code, _state().as_json)


def _client_error(exc: Any, state: State) -> CliError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    operation = getattr(exc, "operation_name", "call")
    if code in _CREDENTIAL_CODES:
        return CliError(
            f"AWS rejected the credentials ({code}); log in again", EXIT_AWS_UNREACHABLE, state.as_json
        )
    if code in _ACCESS_DENIED_CODES:
        detail = str(error.get("Message", ""))[:300]
        return CliError(f"access denied for {operation}: {detail}", EXIT_ACCESS_DENIED, state.as_json)
    if code in _MISSING_RESOURCE_CODES:
        where = state._target.describe() if state._target else "the target"
        return CliError(
            f"a resource of {where} is missing ({code} on {operation}); is the stack deployed / running?",
            EXIT_TARGET,
            state.as_json,
        )
    return CliError(f"AWS error {code} on {operation}", EXIT_UNEXPECTED, state.as_json)


def translate_error(exc: Exception, state: State) -> CliError:
    """Map a domain or AWS exception to a ``CliError`` (messages never carry visitor values)."""
    from botocore import exceptions as boto  # noqa: PLC0415

    as_json = state.as_json
    if isinstance(exc, LeadNotFound):
        return CliError(f"no lead with id {exc}", EXIT_NOT_FOUND, as_json)
    if isinstance(exc, admin.InvalidStatus):
        return CliError(str(exc), EXIT_INVALID_STATUS, as_json)
    if isinstance(exc, admin.InvalidLeadId | admin.InvalidSince | admin.InvalidContact):
        return CliError(str(exc), EXIT_USAGE, as_json)
    if isinstance(exc, TargetError):
        return CliError(str(exc), EXIT_TARGET, as_json)
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        message = "no AWS credentials: configure a profile or log in (aws sso login)"
        return CliError(message, EXIT_AWS_UNREACHABLE, as_json)
    if isinstance(exc, boto.NoRegionError):
        return CliError("no AWS region: pass --region or set AWS_REGION", EXIT_AWS_UNREACHABLE, as_json)
    if isinstance(exc, boto.EndpointConnectionError | boto.ConnectTimeoutError | boto.ReadTimeoutError):
        target = state._target
        hint = " (is `make run` running?)" if target is not None and target.local else ""
        endpoint = exc.kwargs.get("endpoint_url", "?")
        return CliError(f"cannot reach AWS at {endpoint}{hint}", EXIT_AWS_UNREACHABLE, as_json)
    if isinstance(exc, boto.ClientError):
        return _client_error(exc, state)
    return CliError(
        f"unexpected error ({type(exc).__name__}); run again with --debug for details",
        EXIT_UNEXPECTED,
        as_json,
    )


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


class LeadsGroup(click.Group):
    """Turns every exception a command raises into a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`leads export | head`): not an error; silence the final flush of stdout.
            _silence_stdout()
            raise click.exceptions.Exit(0) from None
        except Exception as exc:
            state = ctx.ensure_object(State)
            if state.debug:
                import traceback  # noqa: PLC0415

                traceback.print_exc(file=sys.stderr)
            raise translate_error(exc, state) from None


# ------------------------------------------------------------------------------------------ helpers


def _lead_id(value: str) -> str:
    try:
        return admin.check_lead_id(value)
    except admin.InvalidLeadId as exc:
        raise click.BadParameter(str(exc), param_hint="ID") from None


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return admin.parse_since(value)
    except admin.InvalidSince as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


def _status_filter(value: str | None) -> str | None:
    if value is None or value == "all":
        return None
    if value not in admin.LISTABLE_STATUSES:
        allowed = ", ".join(admin.LISTABLE_STATUSES)
        _fail(f"unknown status {value!r}; use one of: {allowed}, all", EXIT_INVALID_STATUS)
    return value


@contextmanager
def _core_logs_on_stderr() -> Iterator[None]:
    """The alert path's log lines (ids and codes) go to stderr while a command runs: stdout stays the
    command's own output (``--json`` must parse)."""
    import logging  # noqa: PLC0415

    from leads_core.observability import logger  # noqa: PLC0415

    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.setStream(sys.stderr)
    try:
        yield
    finally:
        if previous is not None:
            handler.setStream(previous)


@contextmanager
def _progress(description: str, total: int | None, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr (only on a terminal and never with ``--json``); yields ``advance(n)``."""
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = output.stderr_console()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled or not console.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def _confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:
        confirmed = False
    if not confirmed:
        _fail("aborted: nothing was changed", EXIT_ABORTED)


def with_state(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(_state(), *args, **kwargs)

    return wrapper


# ------------------------------------------------------------------------------------------ commands


@click.group(cls=LeadsGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@common_options
def cli() -> None:
    """Find, export, update and erase the clinic's consultation requests; replay failed alerts.

    Status changes, exports and erasures are written to an audit trail (who, what, when, how many;
    never a visitor's details). See docs/cli.md.
    """


@cli.command("list", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--status", metavar="S", help="new, contacted, scheduled, not_a_fit, closed, spam or all.")
@click.option("--since", metavar="ISO8601", help="Only leads created at or after (2026-11-23, 7d, 24h).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="0: no limit.")
@with_state
def list_leads(state: State, status: str | None, since: str | None, limit: int) -> None:
    """Leads, newest first (every status but spam unless --status is given)."""
    status = _status_filter(status)
    since_at = _since(since)
    leads = state.admin().iter_leads(status=status, since=since_at)
    window = list(itertools.islice(leads, limit + 1)) if limit else list(leads)
    truncated = bool(limit) and len(window) > limit
    shown = window[:limit] if limit else window
    if state.as_json:
        output.print_json({"leads": shown, "count": len(shown), "truncated": truncated})
        return
    console = output.stdout_console()
    if not shown:
        console.print("No leads.")
        return
    console.print(output.lead_table(shown))
    more = " (more: raise --limit, or use --since)" if truncated else ""
    console.print(f"{len(shown)} lead{'s' if len(shown) != 1 else ''}{more}")


@cli.command("show", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("lead_id", metavar="ID")
@with_state
def show(state: State, lead_id: str) -> None:
    """One lead with every submitted field."""
    lead = state.admin().get_lead(_lead_id(lead_id))
    if state.as_json:
        output.print_json(lead)
        return
    console = output.stdout_console()
    if lead.get("urgent"):
        console.print("[bold red]URGENT[/] - may be in crisis: call first (988 / 911 if in danger)")
    console.print(output.detail_table(lead))


@cli.command("export", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--since", metavar="ISO8601", help="Only leads created at or after (2026-11-23, 7d, 24h).")
@click.option("--status", metavar="S", help="Only this status (default: every status but spam).")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="csv (header + fixed columns, default) or json (JSON lines).",
)
@click.option(
    "-o", "--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), help="File (mode 600)."
)
@with_state
def export(
    state: State, since: str | None, status: str | None, export_format: str | None, output_path: Path | None
) -> None:
    """Stream leads, newest first, as CSV or JSON lines (to stdout or -o FILE)."""
    status = _status_filter(status)
    since_at = _since(since)
    if state.as_json and output_path is None:
        if export_format == "csv":
            raise click.UsageError(
                "--json without -o writes JSON lines to stdout; drop --format csv or add -o"
            )
        export_format = "json"
    export_format = export_format or "csv"
    lead_admin = state.admin()
    actor = state.actor()
    rows = lead_admin.export_rows(
        actor=actor,
        status=status,
        since=since_at,
        export_format=export_format,
        destination="file" if output_path else "stdout",
    )
    count = 0
    with _open_output(output_path) as stream, closing(rows):
        writer = output.RowWriter(stream, export_format)
        with _progress("Exporting leads", None, enabled=not state.as_json) as advance:
            for row in rows:
                writer.write(row)
                count += 1
                advance(1)
    if output_path is not None:
        if state.as_json:
            output.print_json({"rows": count, "format": export_format, "file": str(output_path)})
        else:
            output.stdout_console().print(
                f"Exported {count} lead{'s' if count != 1 else ''} to {output_path}"
            )
    elif not state.as_json:
        output.stderr_console().print(f"Exported {count} lead{'s' if count != 1 else ''}")


@contextmanager
def _open_output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    # Exports hold personal data: the file is readable by its owner only. A new file (mkstemp: mode 600) in
    # the same directory replaces the target atomically once complete, so an existing file's wider permissions
    # are never kept (truncating it in place would keep them) and a failed export leaves no partial file.
    import tempfile  # noqa: PLC0415 - only for -o

    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@cli.command("set-status", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("lead_id", metavar="ID")
@click.argument("status", metavar="new|contacted|scheduled|not_a_fit|closed")
@click.option("--note", metavar="TEXT", help="Stored on the lead (not in the audit trail).")
@with_state
def set_status(state: State, lead_id: str, status: str, note: str | None) -> None:
    """Move a lead to a new status, optionally with a note."""
    lead_id = _lead_id(lead_id)
    admin.check_status(status)
    change = state.admin().set_status(lead_id, status, note, state.actor())
    if state.as_json:
        output.print_json(change.as_dict())
        return
    noted = " (note saved)" if change.note else ""
    output.stdout_console().print(f"{change.lead_id}: {change.previous_status} -> {change.status}{noted}")


@cli.command("erase", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("lead_id", metavar="[ID]", required=False)
@click.option("--email", metavar="E", help="Erase every lead (spam included) with this email address.")
@click.option("--phone", metavar="P", help="Erase every lead (spam included) with this phone number.")
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@with_state
def erase(state: State, lead_id: str | None, email: str | None, phone: str | None, assume_yes: bool) -> None:
    """Erase one lead by ID, or every lead of a person by --email or --phone. Prints the count."""
    given = [v for v in (lead_id, email, phone) if v]
    if len(given) != 1:
        raise click.UsageError("give exactly one of: ID, --email E, --phone P")
    if lead_id:
        lead_id = _lead_id(lead_id)
        lead_admin = state.admin()
        lead = lead_admin.get_lead(lead_id)
        _confirm(f"Erase lead {lead_id} (created {output.short_time(lead.get('created_at'))})?", assume_yes)
        with _progress("Erasing", 1, enabled=not state.as_json) as advance:
            erasure = lead_admin.erase_lead(lead_id, state.actor(), on_progress=advance)
    else:
        kind: admin.ContactKind = "email" if email else "phone"
        value = email or phone or ""
        lead_admin = state.admin(with_hash_key=True)
        found = lead_admin.find_contact_leads(kind, value)
        if found:
            _confirm(f"Erase {len(found)} lead{'s' if len(found) != 1 else ''} of this {kind}?", assume_yes)
        with _progress("Erasing", len(found), enabled=not state.as_json) as advance:
            erasure = lead_admin.erase_by_contact(kind, value, state.actor(), on_progress=advance)
    if state.as_json:
        output.print_json(
            {"erased": erasure.count, "lead_ids": list(erasure.lead_ids), "target": erasure.target}
        )
        return
    output.stdout_console().print(f"Erased {erasure.count} lead{'s' if erasure.count != 1 else ''}.")


@cli.command("audit", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--month", metavar="YYYY-MM", help="Default: this month (UTC).")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True, help="0: no limit.")
@with_state
def audit(state: State, month: str | None, limit: int) -> None:
    """The audit trail of one month, newest first: who changed, exported or erased what."""
    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise click.BadParameter("use YYYY-MM", param_hint="--month")
    entries = state.admin().iter_audit(month)
    shown = list(itertools.islice(entries, limit)) if limit else list(entries)
    if state.as_json:
        output.print_json({"entries": shown, "count": len(shown)})
        return
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    table = Table(header_style="bold")
    for title in ("At (UTC)", "Who", "Action", "Target", "Count"):
        table.add_column(title, overflow="fold")
    for entry in shown:
        table.add_row(
            output.short_time(entry.get("at")),
            Text(str(entry.get("actor", ""))),
            str(entry.get("action", "")),
            str(entry.get("target", "")),
            str(entry.get("count", "")),
        )
    output.stdout_console().print(table if shown else "No audit entries.")


@cli.command("alert-test", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--urgent", is_flag=True, help="Send it as priority=urgent (also reaches the urgent phones).")
@with_state
def alert_test(state: State, urgent: bool) -> None:
    """Publish a clearly marked TEST alert to the staff topic (checks email/SMS delivery)."""
    from leads_cli.alert_test import publish_test_alert  # noqa: PLC0415

    settings = state.target().alert_settings()
    with _core_logs_on_stderr():
        result = publish_test_alert(
            settings.topic_arn,
            urgent=urgent,
            clinic_name=settings.clinic_name,
            table_name=settings.table_name,
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


@cli.command("smoke", epilog=EXIT_CODES_HELP)
@common_options
@with_state
def smoke(state: State) -> None:
    """Check a deployed (or the local) stack end to end: submit, retry, refused origin, test alert, show,
    erase. Exits 1 when a check fails. See docs/deploy.md."""
    from leads_cli.alert_test import publish_test_alert  # noqa: PLC0415
    from leads_cli.smoke import run_smoke  # noqa: PLC0415

    target = state.target()
    topic_arn = target.resource("topic")
    clinic_name = target.alert_settings().clinic_name
    report = run_smoke(
        api_url=target.resource("api"),
        origin=target.allowed_origin(),
        admin=state.admin(),
        actor=state.actor(),
        publish_test_alert=lambda: publish_test_alert(topic_arn, clinic_name=clinic_name).message_id,
    )
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


@cli.group("dlq", cls=LeadsGroup, epilog=EXIT_CODES_HELP)
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
    with _progress("Replaying failed alerts", None, enabled=not state.as_json), _core_logs_on_stderr():
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


def main() -> None:  # pragma: no cover - the console script calls cli() directly
    cli()


from leads_cli import subscriptions as _subscriptions  # noqa: E402, F401 - registers `leads subscriptions`
