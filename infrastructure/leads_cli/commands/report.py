"""``leads report [--since 30d] [--json]``: the speed-to-lead report (docs/speed-to-lead.md, docs/cli.md).

The figures come from ``leads_core.report.build_report`` over the leads of every status created since then,
read with one ``ByStatus`` query per status (no Scan). Minutes are counted with the target's business hours
and SLAs: a deployed stack's ``BusinessHours`` / ``FirstContactSlaMinutes`` / ``UrgentSlaMinutes`` /
``Locations`` parameters, else ``BUSINESS_HOURS`` / ``FIRST_CONTACT_SLA_MINUTES`` / ``URGENT_SLA_MINUTES`` /
``LOCATIONS`` from the environment (the local stack's rule), else the defaults.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from typing import Any

import click
from leads_core import manage
from leads_core.errors import ConfigurationError
from leads_core.hours import SlaPolicy, parse_iso
from leads_core.report import STATUSES, build_report
from leads_core.settings import settings_from

from leads_cli import output
from leads_cli.app import EXIT_CODES_HELP, State, common_options, with_state

# Template parameter -> the setting it feeds.
_PARAMETERS = {
    "Locations": "LOCATIONS",
    "BusinessHours": "BUSINESS_HOURS",
    "FirstContactSlaMinutes": "FIRST_CONTACT_SLA_MINUTES",
    "UrgentSlaMinutes": "URGENT_SLA_MINUTES",
}


def sla_policy(state: State) -> SlaPolicy:
    target = state.target()
    parameters = target.stack_parameters() if target.stack and not target.local else {}
    if parameters:
        values = {variable: str(parameters.get(name, "")) for name, variable in _PARAMETERS.items()}
    else:
        values = {variable: os.environ.get(variable, "") for variable in _PARAMETERS.values()}
    try:
        return settings_from({"TABLE_NAME": "report", **values}).sla_policy()
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from None


@click.command("report", epilog=EXIT_CODES_HELP)
@common_options
@click.option(
    "--since", metavar="AGE|ISO8601", default="30d", show_default=True, help="Leads created since then."
)
@with_state
def report(state: State, since: str) -> None:
    """Speed to lead: leads by status, service, location and source, weekly counts, minutes to first
    answer (median, p90), answered within the SLA, still unanswered, conversions to scheduled."""
    try:
        since_at = manage.parse_since(since)
    except manage.InvalidSince as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    policy = sla_policy(state)
    lead_admin = state.admin()
    leads = itertools.chain.from_iterable(lead_admin.iter_leads(status=s, since=since_at) for s in STATUSES)
    figures = build_report(leads, policy, now=datetime.now(UTC), since=parse_iso(since_at))
    if state.as_json:
        output.print_json(figures)
        return
    _print(figures)


def _counts_table(title: str, column: str, counts: dict[str, int]) -> Any:
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    table = Table(title=title, header_style="bold", title_justify="left")
    table.add_column(title.rsplit(" ", maxsplit=1)[-1].capitalize())
    table.add_column("Leads", justify="right")
    for name, count in counts.items():
        table.add_row(Text(name), str(count))
    return table


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g} min"


def _print(figures: dict[str, Any]) -> None:
    console = output.stdout_console()
    sla = figures["sla_minutes"]
    first = figures["first_answer"]
    share = first["within_sla_share"]
    conversions = figures["conversions"]
    console.print(
        f"Leads since {output.short_time(figures['since'])}: {figures['total']} "
        f"(SLA {sla['first_contact']:g} business minutes, urgent {sla['urgent']:g} minutes)"
    )
    console.print(
        f"First answer: {first['answered']} answered, median {_minutes(first['median_minutes'])}, "
        f"p90 {_minutes(first['p90_minutes'])}, within the SLA {first['within_sla']}"
        + (f" ({share:.0%})" if share is not None else "")
    )
    unanswered = figures["unanswered"]
    console.print(
        f"Still unanswered: {unanswered['count']} ({unanswered['past_sla']} past the SLA)"
        f"; scheduled: {conversions['scheduled']}"
        + (f" ({conversions['share']:.0%})" if conversions["share"] is not None else "")
    )
    for title, column, key in (
        ("By status", "Status", "by_status"),
        ("By service", "Service", "by_service"),
        ("By location", "Location", "by_location"),
        ("By source", "Source", "by_source"),
        ("Per week", "Week of (Monday, UTC)", "weekly"),
    ):
        console.print(_counts_table(title, column, figures[key]))
