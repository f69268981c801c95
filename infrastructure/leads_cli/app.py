"""The ``leads`` group and what every command shares: the options accepted before or after a command name
(``--json``, the target, hidden overrides), the per-invocation ``State``, the exit codes and the
translation of domain and AWS errors into them. The commands live in ``leads_cli.commands`` and
``leads_cli.subscriptions``; ``leads_cli.main`` registers them all on ``cli``. See docs/cli.md.

Rules: ``--json`` puts exactly one JSON document on stdout (JSON lines for ``export`` to stdout) and nothing
else; prompts, progress bars and errors go to stderr; every failure maps to a documented exit code.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn, TypeVar

import click
from leads_core import manage
from leads_core.errors import LeadNotFound, StorageUnavailable
from leads_ops import staff as staff_accounts

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

    def admin(self, *, with_hash_key: bool = False) -> manage.LeadAdmin:
        target = self.target()
        return manage.LeadAdmin(
            target.resource("table"),
            hash_key_secret_id=target.resource("hash_key_secret") if with_hash_key else "",
            page_size=self.page_size or manage.DEFAULT_PAGE_SIZE,
            observer=self._lead_events(target),
        )

    @staticmethod
    def _lead_events(target: Target) -> Any:
        """``LeadStatusChanged`` events for ``set-status`` when the target has a lead events bus."""
        try:
            bus = target.resource("lead_events_bus")
        except TargetError:
            return None
        from leads_core.lead_events import SpeedObserver  # noqa: PLC0415

        return SpeedObserver(bus=bus, emit_metrics=False)

    def actor(self) -> str:
        if self._actor is None:
            self.target()
            self._actor = manage.caller_arn()
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


def fail(message: str, exit_code: int) -> NoReturn:
    """Stop the command with ``message`` on stderr and the documented ``exit_code``."""
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


# Domain errors whose message is safe to show as it is, and their exit codes.
_DOMAIN_EXIT_CODES: tuple[tuple[type[Exception] | tuple[type[Exception], ...], int], ...] = (
    (manage.InvalidStatus, EXIT_INVALID_STATUS),
    ((manage.InvalidLeadId, manage.InvalidSince, manage.InvalidContact), EXIT_USAGE),
    (staff_accounts.StaffNotFound, EXIT_NOT_FOUND),
    ((staff_accounts.InvalidStaffEmail, staff_accounts.StaffExists), EXIT_USAGE),
    (TargetError, EXIT_TARGET),
)


def translate_error(exc: Exception, state: State) -> CliError:
    """Map a domain or AWS exception to a ``CliError`` (messages never carry visitor values)."""
    as_json = state.as_json
    if isinstance(exc, LeadNotFound):
        return CliError(f"no lead with id {exc}", EXIT_NOT_FOUND, as_json)
    for types, exit_code in _DOMAIN_EXIT_CODES:
        if isinstance(exc, types):
            return CliError(str(exc), exit_code, as_json)
    # The store translates AWS failures (leads_core.store.failures) and keeps the AWS exception as the cause.
    cause = exc.__cause__ if isinstance(exc, StorageUnavailable) else None
    aws_error = _aws_error(cause if isinstance(cause, Exception) else exc, state)
    if aws_error is not None:
        return aws_error
    return CliError(
        f"unexpected error ({type(exc).__name__}); run again with --debug for details",
        EXIT_UNEXPECTED,
        as_json,
    )


def _aws_error(exc: Exception, state: State) -> CliError | None:
    """The ``CliError`` of a botocore failure (credentials, region, endpoint, service), else ``None``."""
    from botocore import exceptions as boto  # noqa: PLC0415

    as_json = state.as_json
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
    return None


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


# ------------------------------------------------------------------------------------------ command helpers


def confirm(question: str, assume_yes: bool) -> None:
    """Ask on stderr (default no); a declined or aborted prompt exits 8 and changes nothing."""
    if assume_yes:
        return
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:
        confirmed = False
    if not confirmed:
        fail("aborted: nothing was changed", EXIT_ABORTED)


def with_state(func: Callable[..., Any]) -> Callable[..., Any]:
    """Call the command with the invocation's ``State`` as its first argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(_state(), *args, **kwargs)

    return wrapper


# ------------------------------------------------------------------------------------------ the group


@click.group(cls=LeadsGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@common_options
def cli() -> None:
    """Find, export, update and erase the clinic's consultation requests; replay failed alerts.

    Status changes, exports and erasures are written to an audit trail (who, what, when, how many;
    never a visitor's details). See docs/cli.md.
    """
