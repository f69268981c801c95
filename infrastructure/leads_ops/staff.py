"""Staff accounts in the Cognito user pool (``leads staff add|list|disable|remove``).

One account per person, created by ops only (the pool refuses self sign-up), in group ``staff`` or ``admin``.
On AWS Cognito emails the invitation with a temporary password; on the local stack (no email) the temporary
password is generated here and handed back for the operator to pass on. The first sign-in asks for a new
password (and, where MFA applies, an authenticator app).

Accounts are named by their email address; Cognito's user name is the account's fixed id (a UUID), which is
what the staff console's audit entries name as the actor, so account changes are audited with it too.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from leads_core import aws
from leads_core.errors import LeadsError
from leads_core.store.failures import error_code

GROUPS = ("staff", "admin")
TEMPORARY_PASSWORD_LENGTH = 20
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
_SYMBOLS = "!#%+-=?@^_"


class InvalidStaffEmail(LeadsError):
    """Not an email address."""


class StaffNotFound(LeadsError):
    """No account with this email address."""


class StaffExists(LeadsError):
    """An account with this email address exists already."""


@dataclass(frozen=True)
class StaffAccount:
    username: str
    email: str
    groups: tuple[str, ...]
    enabled: bool
    status: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "email": self.email,
            "groups": list(self.groups),
            "enabled": self.enabled,
            "status": self.status,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class AddedAccount:
    username: str
    email: str
    group: str
    temporary_password: str | None

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"username": self.username, "email": self.email, "group": self.group}
        if self.temporary_password is not None:
            document["temporary_password"] = self.temporary_password
        return document


def check_email(email: str) -> str:
    text = email.strip()
    if not _EMAIL.match(text):
        raise InvalidStaffEmail("not an email address (staff sign in with their work email)")
    return text


def temporary_password(length: int = TEMPORARY_PASSWORD_LENGTH) -> str:
    """A random password that meets the pool's policy (lower, upper, digit and symbol, 12+ characters)."""
    alphabet = string.ascii_letters + string.digits + _SYMBOLS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(c in _SYMBOLS for c in candidate)
        ):
            return candidate


def _attribute(user: dict[str, Any], name: str) -> str:
    attributes = user.get("Attributes") or user.get("UserAttributes") or []
    return next((str(a.get("Value", "")) for a in attributes if a.get("Name") == name), "")


class StaffAccounts:
    """The staff accounts of one user pool (``client`` defaults to ``aws.client("cognito-idp")``)."""

    def __init__(self, user_pool_id: str, client: Any = None) -> None:
        self.user_pool_id = user_pool_id
        self._client_override = client

    @property
    def _client(self) -> Any:
        return self._client_override if self._client_override is not None else aws.client("cognito-idp")

    def username_of(self, email: str) -> str:
        """The account's user name (its fixed id) for an email address; ``StaffNotFound`` if none."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            user = self._client.admin_get_user(UserPoolId=self.user_pool_id, Username=check_email(email))
        except ClientError as exc:
            if error_code(exc) == "UserNotFoundException":
                raise StaffNotFound("no staff account with this email address") from None
            raise
        return str(user["Username"])

    def add(self, email: str, *, admin: bool = False, local: bool = False) -> AddedAccount:
        """Create the account and put it in its group. ``local``: no invitation email, a generated temporary
        password is returned instead."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        email = check_email(email)
        group = "admin" if admin else "staff"
        request: dict[str, Any] = {
            "UserPoolId": self.user_pool_id,
            "Username": email,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        }
        password = None
        if local:
            password = temporary_password()
            request.update(TemporaryPassword=password, MessageAction="SUPPRESS")
        else:
            request["DesiredDeliveryMediums"] = ["EMAIL"]
        try:
            created = self._client.admin_create_user(**request)
        except ClientError as exc:
            if error_code(exc) == "UsernameExistsException":
                raise StaffExists("a staff account with this email address exists already") from None
            raise
        username = str(created["User"]["Username"])
        self._client.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
        return AddedAccount(username=username, email=email, group=group, temporary_password=password)

    def _group_members(self) -> dict[str, set[str]]:
        members: dict[str, set[str]] = {}
        paginator = self._client.get_paginator("list_users_in_group")
        for group in GROUPS:
            for page in paginator.paginate(UserPoolId=self.user_pool_id, GroupName=group):
                for user in page.get("Users", []):
                    members.setdefault(str(user["Username"]), set()).add(group)
        return members

    def accounts(self) -> Iterator[StaffAccount]:
        """Every account, with its groups, enabled flag and status (e.g. ``FORCE_CHANGE_PASSWORD``)."""
        members = self._group_members()
        paginator = self._client.get_paginator("list_users")
        for page in paginator.paginate(UserPoolId=self.user_pool_id):
            for user in page.get("Users", []):
                username = str(user["Username"])
                created = user.get("UserCreateDate")
                yield StaffAccount(
                    username=username,
                    email=_attribute(user, "email"),
                    groups=tuple(g for g in GROUPS if g in members.get(username, set())),
                    enabled=bool(user.get("Enabled", True)),
                    status=str(user.get("UserStatus", "")),
                    created_at=created.isoformat() if hasattr(created, "isoformat") else str(created or ""),
                )

    def disable(self, email: str) -> str:
        """Disable the account and sign it out everywhere (its refresh tokens stop working)."""
        username = self.username_of(email)
        self._client.admin_disable_user(UserPoolId=self.user_pool_id, Username=username)
        self._client.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=username)
        return username

    def remove(self, email: str) -> str:
        username = self.username_of(email)
        self._client.admin_delete_user(UserPoolId=self.user_pool_id, Username=username)
        return username
