"""``leads staff add|list|disable|remove``: staff accounts of the console's user pool (docs/cli.md).

Thin: the work is in ``leads_ops.staff``. Every change is audited (``staff_add``, ``staff_disable``,
``staff_remove``; the target is the account's user name, never a visitor's data).
"""

from __future__ import annotations

import click

from leads_cli import output
from leads_cli.app import EXIT_CODES_HELP, LeadsGroup, State, common_options, confirm, with_state


@click.group("staff", cls=LeadsGroup, epilog=EXIT_CODES_HELP)
@common_options
def staff() -> None:
    """Staff accounts of the console: add, list, disable, remove."""


@staff.command("add", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("email")
@click.option("--admin", "make_admin", is_flag=True, help="Group admin (erase and export) instead of staff.")
@with_state
def staff_add(state: State, email: str, make_admin: bool) -> None:
    """Create an account for EMAIL. On AWS Cognito emails the invitation; with --local the temporary
    password is printed (the first sign-in asks for a new one)."""
    from leads_ops.staff import StaffAccounts  # noqa: PLC0415

    target = state.target()
    accounts = StaffAccounts(target.resource("user_pool"))
    added = accounts.add(email, admin=make_admin, local=target.local)
    target_name = f"staff:{added.email.lower()}"
    state.admin().record_audit(state.actor(), "staff_add", target_name, 1, {"group": added.group})
    if state.as_json:
        output.print_json(added.as_dict())
        return
    console = output.stdout_console()
    console.print(f"Added {added.email} to {added.group} (user name {added.username}).", highlight=False)
    if added.temporary_password is not None:
        console.print(f"Temporary password: {added.temporary_password}", highlight=False, markup=False)
    else:
        console.print("Cognito emails the invitation with a temporary password (valid 3 days).")


@staff.command("list", epilog=EXIT_CODES_HELP)
@common_options
@with_state
def staff_list(state: State) -> None:
    """Every staff account: email, groups, enabled, status."""
    from leads_ops.staff import StaffAccounts  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    accounts = list(StaffAccounts(state.target().resource("user_pool")).accounts())
    if state.as_json:
        output.print_json({"staff": [a.as_dict() for a in accounts]})
        return
    table = Table("Email", "Groups", "Enabled", "Status", "Created", "User name")
    for account in sorted(accounts, key=lambda a: a.email.lower()):
        table.add_row(
            account.email,
            ", ".join(account.groups) or "-",
            "yes" if account.enabled else "no",
            account.status,
            output.short_time(account.created_at),
            account.username,
        )
    output.stdout_console().print(table)


@staff.command("disable", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("email")
@with_state
def staff_disable(state: State, email: str) -> None:
    """Disable the account of EMAIL and sign it out everywhere (it can be removed later)."""
    from leads_ops.staff import StaffAccounts  # noqa: PLC0415

    username = StaffAccounts(state.target().resource("user_pool")).disable(email)
    state.admin().record_audit(state.actor(), "staff_disable", f"staff:{email.strip().lower()}", 1)
    if state.as_json:
        output.print_json({"username": username, "enabled": False})
        return
    output.stdout_console().print(f"Disabled {email.strip().lower()} and signed it out.", highlight=False)


@staff.command("remove", epilog=EXIT_CODES_HELP)
@common_options
@click.argument("email")
@click.option("--yes", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@with_state
def staff_remove(state: State, email: str, assume_yes: bool) -> None:
    """Delete the account of EMAIL (its audit entries stay)."""
    from leads_ops.staff import StaffAccounts  # noqa: PLC0415

    accounts = StaffAccounts(state.target().resource("user_pool"))
    username = accounts.username_of(email)
    confirm(f"Delete the staff account {email.strip().lower()}?", assume_yes)
    accounts.remove(email)
    state.admin().record_audit(state.actor(), "staff_remove", f"staff:{email.strip().lower()}", 1)
    if state.as_json:
        output.print_json({"username": username, "removed": True})
        return
    output.stdout_console().print(f"Removed {email.strip().lower()}.", highlight=False)
