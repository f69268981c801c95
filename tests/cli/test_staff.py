"""``leads staff add|list|disable|remove`` against a moto user pool made from template.yaml's StaffUserPool
and its groups, each change audited with the account's user name (never a visitor value)."""

from __future__ import annotations

from typing import Any

import pytest
from leads_core import aws
from leads_local.template import resource
from leads_ops.staff import InvalidStaffEmail, StaffAccounts, temporary_password

from tests.cli.conftest import Cli, audit_items

# CreateUserPool arguments whose template values are plain (the intrinsic ones are resolved below).
_PLAIN = (
    "UsernameAttributes",
    "UsernameConfiguration",
    "AutoVerifiedAttributes",
    "AdminCreateUserConfig",
    "Policies",
    "AccountRecoverySetting",
    "Schema",
)


def create_staff_pool(stack_name: str = "cli") -> str:
    """The template's staff pool and groups in moto (the dev deployment: no deletion protection)."""
    props = resource("StaffUserPool")["Properties"]
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(
        PoolName=f"{stack_name}-staff",
        MfaConfiguration="OFF",  # the local emulation's choice; TOTP set-up cannot run in a test
        **{name: props[name] for name in _PLAIN},
    )["UserPool"]
    for logical_id in ("StaffGroup", "AdminGroup"):
        group = resource(logical_id)["Properties"]
        cognito.create_group(
            UserPoolId=pool["Id"], GroupName=group["GroupName"], Precedence=group["Precedence"]
        )
    return str(pool["Id"])


@pytest.fixture
def pool_id(stack: Any) -> Any:
    created = create_staff_pool()
    yield created
    aws.client("cognito-idp").delete_user_pool(UserPoolId=created)


@pytest.fixture
def staff_cli(leads: Cli, pool_id: str, cli_env: dict[str, str | None]) -> Cli:
    leads.runner.env = {**cli_env, "LEADS_USER_POOL_ID": pool_id}
    return leads


def test_add_creates_an_invited_account_in_its_group_and_audits_it(
    staff_cli: Cli, pool_id: str, table_items: Any
) -> None:
    added = staff_cli.json("staff", "add", "front.desk@example-clinic.com")
    boss = staff_cli.json("staff", "add", "manager@example-clinic.com", "--admin")

    assert added["group"] == "staff"
    assert boss["group"] == "admin"
    assert "temporary_password" not in added  # on AWS, Cognito emails the invitation
    cognito = aws.client("cognito-idp")
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="front.desk@example-clinic.com")
    assert user["Username"] == added["username"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=boss["username"])["Groups"]
    assert [g["GroupName"] for g in groups] == ["admin"]
    entries = audit_items(table_items())
    assert sorted((e["action"], e["target"], e["details"].get("group")) for e in entries) == sorted(
        [
            ("staff_add", f"staff:{added['email']}", "staff"),
            ("staff_add", f"staff:{boss['email']}", "admin"),
        ]
    )


def test_list_disable_and_remove(staff_cli: Cli, pool_id: str, table_items: Any) -> None:
    added = staff_cli.json("staff", "add", "nurse@example-clinic.com")
    staff_cli.json("staff", "add", "owner@example-clinic.com", "--admin")

    listed = staff_cli.json("staff", "list")["staff"]
    assert sorted((a["email"], tuple(a["groups"]), a["enabled"]) for a in listed) == [
        ("nurse@example-clinic.com", ("staff",), True),
        ("owner@example-clinic.com", ("admin",), True),
    ]
    table = staff_cli("staff", "list")
    assert table.exit_code == 0
    assert "nurse@example-clinic.com" in table.stdout

    assert staff_cli.json("staff", "disable", "nurse@example-clinic.com") == {
        "username": added["username"],
        "enabled": False,
    }
    listed = {a["email"]: a for a in staff_cli.json("staff", "list")["staff"]}
    assert listed["nurse@example-clinic.com"]["enabled"] is False

    assert staff_cli("staff", "remove", "nurse@example-clinic.com", input="n\n").exit_code == 8
    removed = staff_cli.json("staff", "remove", "nurse@example-clinic.com", "--yes")
    assert removed == {"username": added["username"], "removed": True}
    assert [a["email"] for a in staff_cli.json("staff", "list")["staff"]] == ["owner@example-clinic.com"]

    actions = [(e["action"], e["target"]) for e in audit_items(table_items())]
    assert ("staff_disable", f"staff:{added['email']}") in actions
    assert ("staff_remove", f"staff:{added['email']}") in actions
    shown = staff_cli("audit")
    assert shown.exit_code == 0
    for action in ("staff_add", "staff_disable", "staff_remove"):
        assert action in shown.stdout


def test_unknown_and_invalid_accounts_have_their_exit_codes(staff_cli: Cli) -> None:
    assert staff_cli("staff", "disable", "nobody@example-clinic.com").exit_code == 3
    assert staff_cli("staff", "remove", "nobody@example-clinic.com", "--yes").exit_code == 3
    assert staff_cli("staff", "add", "not-an-email").exit_code == 2
    staff_cli.json("staff", "add", "twice@example-clinic.com")
    assert staff_cli("staff", "add", "twice@example-clinic.com").exit_code == 2


def test_without_a_pool_the_target_error_names_the_output(leads: Cli) -> None:
    result = leads("staff", "list")

    assert result.exit_code == 4
    assert "StaffUserPoolId" in result.stderr


def test_a_local_account_gets_a_temporary_password_that_meets_the_policy(stack: Any) -> None:
    pool = create_staff_pool("local")
    accounts = StaffAccounts(pool)

    added = accounts.add("demo@example-clinic.com", local=True)

    password = added.temporary_password
    assert password is not None
    policy = resource("StaffUserPool")["Properties"]["Policies"]["PasswordPolicy"]
    assert len(password) >= policy["MinimumLength"]
    assert any(c.islower() for c in password)
    assert any(c.isupper() for c in password)
    assert any(c.isdigit() for c in password)
    assert any(not c.isalnum() for c in password)
    user = aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username=added.username)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert len({temporary_password() for _ in range(20)}) == 20
    with pytest.raises(InvalidStaffEmail):
        accounts.add("<script>@")
