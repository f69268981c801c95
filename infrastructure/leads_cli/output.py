"""Rendering for the ``leads`` CLI: JSON on stdout, Rich tables for people, CSV / JSON lines for exports,
progress bars on stderr."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any

from leads_core.manage import EXPORT_COLUMNS, csv_cell
from rich.console import Console
from rich.table import Table

LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("created_at", "Created (UTC)"),
    ("id", "ID"),
    ("status", "Status"),
    ("name", "Name"),
    ("service", "Service"),
    ("location", "Location"),
    ("preferred_contact", "Contact by"),
    ("best_time", "Best time"),
)


def stdout_console() -> Console:
    """Rich on stdout; piped or redirected output gets room for a whole row instead of 80 columns."""
    import sys  # noqa: PLC0415

    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, soft_wrap=False, width=width)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress(description: str, total: int | None, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr (only on a terminal and never with ``--json``); yields ``advance(n)``."""
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = stderr_console()
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled or not console.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def print_json(document: Any) -> None:
    """One JSON document on stdout (``--json``); nothing else is written to stdout then."""
    import click  # noqa: PLC0415

    click.echo(json.dumps(document, ensure_ascii=False, default=str))


def short_time(iso: object) -> str:
    text = str(iso or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def lead_table(leads: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for key, title in LIST_COLUMNS:
        table.add_column(title, no_wrap=key in {"id", "created_at", "status"}, overflow="fold")
    for lead in leads:
        name = " ".join(str(lead.get(n) or "") for n in ("first_name", "last_name")).strip()
        status = str(lead.get("status") or "")
        cells = {
            "created_at": short_time(lead.get("created_at")),
            "id": str(lead.get("id") or ""),
            "status": f"[bold red]{status} URGENT[/]" if lead.get("urgent") else status,
            "name": name,
            "service": str(lead.get("service") or ""),
            "location": str(lead.get("location") or ""),
            "preferred_contact": str(lead.get("preferred_contact") or ""),
            "best_time": str(lead.get("best_time") or ""),
        }
        # Visitor text is shown literally, never interpreted as Rich markup.
        from rich.text import Text  # noqa: PLC0415

        table.add_row(*[cells[k] if k == "status" else Text(cells[k]) for k, _ in LIST_COLUMNS])
    return table


def detail_table(record: Mapping[str, Any]) -> Table:
    from rich.text import Text  # noqa: PLC0415

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in record.items():
        if value is None or value in ("", []):
            continue
        table.add_row(name, Text(_expiry(value) if name == "expires_at" else display_value(value)))
    return table


def _expiry(value: Any) -> str:
    """The TTL as the date the table deletes the lead."""
    from datetime import UTC, datetime  # noqa: PLC0415

    if not isinstance(value, int):
        return display_value(value)
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d (deleted automatically)")


def display_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class RowWriter:
    """Streams export rows as CSV (header first, ``EXPORT_COLUMNS``) or JSON lines."""

    def __init__(self, stream: IO[str], export_format: str, columns: Sequence[str] = EXPORT_COLUMNS) -> None:
        self._stream = stream
        self._format = export_format
        self._columns = columns
        self._csv: Any = None
        if export_format == "csv":
            self._csv = csv.writer(stream)
            self._csv.writerow(columns)

    def write(self, row: Mapping[str, Any]) -> None:
        if self._csv is not None:
            self._csv.writerow([csv_cell(row.get(c)) for c in self._columns])
        else:
            record = {c: row.get(c) for c in self._columns}
            self._stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
