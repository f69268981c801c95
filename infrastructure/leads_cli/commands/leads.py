"""The commands on leads: ``list``, ``show``, ``export``, ``set-status``, ``erase`` and ``audit``.

Thin: every operation lives in ``leads_core.manage``; these parse options and render (docs/cli.md).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO

import click
from leads_core import manage

from leads_cli import output
from leads_cli.app import (
    EXIT_CODES_HELP,
    EXIT_INVALID_STATUS,
    State,
    common_options,
    confirm,
    fail,
    with_state,
)


def _lead_id(value: str) -> str:
    try:
        return manage.check_lead_id(value)
    except manage.InvalidLeadId as exc:
        raise click.BadParameter(str(exc), param_hint="ID") from None


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return manage.parse_since(value)
    except manage.InvalidSince as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


def _status_filter(value: str | None) -> str | None:
    if value is None or value == "all":
        return None
    if value not in manage.LISTABLE_STATUSES:
        allowed = ", ".join(manage.LISTABLE_STATUSES)
        fail(f"unknown status {value!r}; use one of: {allowed}, all", EXIT_INVALID_STATUS)
    return value


@click.command("list", epilog=EXIT_CODES_HELP)
@common_options
@click.option("--status", metavar="S", help="new, contacted, scheduled, not_a_fit, closed, spam or all.")
@click.option("--since", metavar="ISO8601", help="Only leads created at or after (2026-11-23, 7d, 24h).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="0: no limit.")
@with_state
def list_leads(state: State, status: str | None, since: str | None, limit: int) -> None:
    """Leads, newest first (every status but spam unless --status is given)."""
    status = _status_filter(status)
    since_at = _since(since)
    lead_admin = state.admin()
    leads = lead_admin.iter_leads(status=status, since=since_at)
    window = list(itertools.islice(leads, limit + 1)) if limit else list(leads)
    truncated = bool(limit) and len(window) > limit
    shown = window[:limit] if limit else window
    lead_admin.record_listing(state.actor(), len(shown), {"status": status, "since": since_at})
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


@click.command("show", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("lead_id", metavar="ID")
@with_state
def show(state: State, lead_id: str) -> None:
    """One lead with every submitted field (audited as a view)."""
    lead_admin = state.admin()
    lead = lead_admin.get_lead(_lead_id(lead_id))
    lead_admin.record_view(state.actor(), lead["id"])
    if state.as_json:
        output.print_json(lead)
        return
    console = output.stdout_console()
    if lead.get("urgent"):
        console.print("[bold red]URGENT[/] - may be in crisis: call first (988 / 911 if in danger)")
    console.print(output.detail_table(lead))


@click.command("export", epilog=EXIT_CODES_HELP)
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
        with output.progress("Exporting leads", None, enabled=not state.as_json) as advance:
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


@click.command("set-status", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("lead_id", metavar="ID")
@click.argument("status", metavar="new|contacted|scheduled|not_a_fit|closed")
@click.option("--note", metavar="TEXT", help="Stored on the lead (not in the audit trail).")
@with_state
def set_status(state: State, lead_id: str, status: str, note: str | None) -> None:
    """Move a lead to a new status, optionally with a note."""
    lead_id = _lead_id(lead_id)
    manage.check_status(status)
    change = state.admin().set_status(lead_id, status, note, state.actor())
    if state.as_json:
        output.print_json(change.as_dict())
        return
    noted = " (note saved)" if change.note else ""
    output.stdout_console().print(f"{change.lead_id}: {change.previous_status} -> {change.status}{noted}")


@click.command("erase", epilog=EXIT_CODES_HELP)
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
        confirm(f"Erase lead {lead_id} (created {output.short_time(lead.get('created_at'))})?", assume_yes)
        with output.progress("Erasing", 1, enabled=not state.as_json) as advance:
            erasure = lead_admin.erase_lead(lead_id, state.actor(), on_progress=advance)
    else:
        kind: manage.ContactKind = "email" if email else "phone"
        value = email or phone or ""
        lead_admin = state.admin(with_hash_key=True)
        found = lead_admin.find_contact_leads(kind, value)
        if found:
            confirm(f"Erase {len(found)} lead{'s' if len(found) != 1 else ''} of this {kind}?", assume_yes)
        with output.progress("Erasing", len(found), enabled=not state.as_json) as advance:
            erasure = lead_admin.erase_by_contact(kind, value, state.actor(), on_progress=advance)
    if state.as_json:
        output.print_json(
            {"erased": erasure.count, "lead_ids": list(erasure.lead_ids), "target": erasure.target}
        )
        return
    output.stdout_console().print(f"Erased {erasure.count} lead{'s' if erasure.count != 1 else ''}.")


@click.command("audit", epilog=EXIT_CODES_HELP)
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
