"""``leads subscriptions`` and ``leads subscriptions confirm URL`` (docs/cli.md).

The comparison lives in ``leads_core.subscriptions`` (the scheduled check function runs the same code);
this module finds the configured endpoints and renders. Where they come from:

- ``--stack``: the deployed stack's parameters (``StaffEmails``, ``StaffPhones``, ``UrgentPhones``,
  ``EscalationEmails``, ``EscalationPhones``: ``leads_core.subscriptions.ENDPOINT_LISTS``);
- otherwise the environment (``STAFF_EMAILS`` ... ``ESCALATION_PHONES``), and for ``--local`` the
  local stack's demo recipients where a variable is not set (the same rule ``make run`` uses).

Endpoints are always shown masked.
"""

from __future__ import annotations

import os
from typing import Any

import click
from leads_core import aws
from leads_core import subscriptions as subs

from leads_cli import output
from leads_cli.app import (
    EXIT_CODES_HELP,
    EXIT_INVALID_CONFIRMATION,
    CliError,
    LeadsGroup,
    State,
    common_options,
    with_state,
)

HINTS = {
    subs.CONFIRMED: "",
    subs.PENDING: "confirm: leads subscriptions confirm URL (the link in the confirmation email)",
    subs.MISSING: "re-subscribe it (docs/deploy.md); emails: then leads subscriptions confirm URL",
    subs.UNAUTHENTICATED: "anyone with the unsubscribe link can remove it: re-subscribe, confirm by CLI",
}
# ConfirmSubscription answers for a token SNS does not accept (expired, used, for another topic).
_REFUSED_TOKEN_CODES = frozenset({"InvalidParameter", "InvalidParameterException", "InvalidParameterValue"})


def configured_endpoints(state: State) -> list[subs.ConfiguredEndpoint]:
    target = state.target()
    parameters = target.stack_parameters() if target.stack and not target.local else {}
    if parameters:
        return subs.configured_endpoints(parameters, by="parameter")
    values: dict[str, str] = {}
    if target.local:
        from leads_local.stack import local_endpoints  # noqa: PLC0415

        values = local_endpoints(os.environ)
    else:
        values = {entry.variable: os.environ.get(entry.variable, "") for entry in subs.ENDPOINT_LISTS}
    return subs.configured_endpoints(values)


@click.group("subscriptions", cls=LeadsGroup, invoke_without_command=True, epilog=EXIT_CODES_HELP)
@common_options
@click.pass_context
def subscriptions(ctx: click.Context) -> None:
    """Each configured alert recipient (masked) with its subscription state: confirmed, pending, missing,
    or unauthenticated-unsubscribe (anyone with the email's unsubscribe link can remove it)."""
    if ctx.invoked_subcommand is not None:
        return
    _list()


@with_state
def _list(state: State) -> None:
    target = state.target()
    topic_arn = target.resource("topic")
    report = subs.check(aws.client("sns"), topic_arn, configured_endpoints(state))
    if state.as_json:
        output.print_json({"topic_arn": topic_arn, **report.as_dict()})
        return
    console = output.stdout_console()
    if not report.statuses:
        lists = ", ".join(entry.parameter for entry in subs.ENDPOINT_LISTS)
        console.print(f"No alert recipients are configured ({lists}).")
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(header_style="bold")
    for title in ("List", "Protocol", "Endpoint", "State", "What to do"):
        table.add_column(title, overflow="fold")
    styles = {subs.CONFIRMED: "green", subs.PENDING: "yellow"}
    for status in report.statuses:
        style = styles.get(status.state, "bold red")
        table.add_row(
            status.source,
            status.protocol,
            subs.mask_endpoint(status.endpoint),
            f"[{style}]{status.state}[/]",
            HINTS[status.state],
        )
    console.print(table)
    unhealthy = len(report.unhealthy)
    console.print(
        f"{len(report.statuses)} configured, {unhealthy} need{'s' if unhealthy == 1 else ''} attention."
        if unhealthy
        else f"All {len(report.statuses)} configured recipients are confirmed."
    )


@subscriptions.command("confirm", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("url", metavar="URL")
@with_state
def confirm(state: State, url: str) -> None:
    """Confirm a subscription from the link in SNS's confirmation email (or its token), so that unsubscribing
    it requires AWS credentials (AuthenticateOnUnsubscribe). Do not click the link itself."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    target = state.target()
    topic_arn = target.resource("topic")
    try:
        confirmation = subs.parse_confirmation(url, topic_arn)
    except subs.InvalidConfirmation as exc:
        raise CliError(f"refused: {exc}", EXIT_INVALID_CONFIRMATION, state.as_json) from None
    try:
        arn = subs.confirm(aws.client("sns"), confirmation)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _REFUSED_TOKEN_CODES:
            raise CliError(
                f"refused by SNS ({code}): the token is expired (3 days), used or not for this topic; "
                "re-subscribe to get a new confirmation email",
                EXIT_INVALID_CONFIRMATION,
                state.as_json,
            ) from None
        raise
    state.admin().record_audit(state.actor(), "subscription_confirm", arn or "subscription", 1)
    result: dict[str, Any] = {
        "subscription_arn": arn,
        "topic_arn": topic_arn,
        "authenticate_on_unsubscribe": True,
    }
    if state.as_json:
        output.print_json(result)
        return
    output.stdout_console().print(
        f"Confirmed {arn}: unsubscribing it now requires AWS credentials. Check with `leads subscriptions`."
    )
