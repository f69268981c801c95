"""The CLI's layout: each command group lives in its own module and ``leads_cli.main`` registers them all,
so a command defined but not registered (or registered twice) fails here, not in front of a user."""

from __future__ import annotations

import click
from leads_cli import app, main, subscriptions
from leads_cli.commands import alerts, leads, report, staff

COMMAND_MODULES = (leads, alerts, subscriptions, staff, report)


def _defined_top_level_commands() -> set[click.Command]:
    defined = {
        value
        for module in COMMAND_MODULES
        for value in vars(module).values()
        if isinstance(value, click.Command)
        and value.callback is not None
        and value.callback.__module__ == module.__name__
    }
    nested = {sub for group in defined if isinstance(group, click.Group) for sub in group.commands.values()}
    return defined - nested


def test_main_registers_every_command_the_group_modules_define() -> None:
    defined = _defined_top_level_commands()
    assert set(main.cli.commands.values()) == defined
    assert len(main.COMMANDS) == len(defined)


def test_the_entry_point_group_is_the_one_of_app() -> None:
    assert main.cli is app.cli
    assert sorted(main.cli.commands) == [
        "alert-test",
        "audit",
        "dlq",
        "erase",
        "export",
        "list",
        "report",
        "set-status",
        "show",
        "smoke",
        "staff",
        "subscriptions",
    ]
    assert sorted(main.cli.commands["dlq"].commands) == ["list", "replay"]  # type: ignore[attr-defined]
    assert sorted(main.cli.commands["subscriptions"].commands) == ["confirm"]  # type: ignore[attr-defined]
    assert sorted(main.cli.commands["staff"].commands) == ["add", "disable", "list", "remove"]  # type: ignore[attr-defined]
