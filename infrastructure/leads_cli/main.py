"""``leads``: the clinic's ops CLI (docs/cli.md). The entry point (``leads_cli.main:cli``, also
``python -m leads_cli``) and the one place that registers every command on the group of ``leads_cli.app``.

Where each part lives: ``app`` (the group, shared options and state, exit codes, error translation),
``commands.leads`` (list, show, export, set-status, erase, audit), ``commands.alerts`` (alert-test, smoke,
dlq list/replay), ``subscriptions`` (subscriptions, subscriptions confirm), ``commands.staff`` (staff add,
list, disable, remove), ``commands.report`` (report).
"""

from __future__ import annotations

import click

from leads_cli import subscriptions
from leads_cli.app import cli
from leads_cli.commands import alerts, leads, report, staff

COMMANDS: tuple[click.Command, ...] = (
    leads.list_leads,
    leads.show,
    leads.export,
    leads.set_status,
    leads.erase,
    leads.audit,
    report.report,
    alerts.alert_test,
    alerts.smoke,
    alerts.dlq,
    subscriptions.subscriptions,
    staff.staff,
)

for _command in COMMANDS:
    cli.add_command(_command)

__all__ = ["COMMANDS", "cli", "main"]


def main() -> None:  # pragma: no cover - the console script calls cli() directly
    cli()
