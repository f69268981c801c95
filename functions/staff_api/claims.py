"""The caller, from the claims the Cognito authorizer passes on (``requestContext.authorizer.claims``).

API Gateway has already checked the ID token (signature, issuer, audience, expiry). The function still refuses
a request without claims (401: a route reached without the authorizer), with another token use or app client
(401), or from a person in neither staff group (403). Groups arrive as a JSON list, ``"[a, b]"``, ``"a,b"`` or
``"a"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GROUP_STAFF = "staff"
GROUP_ADMIN = "admin"
_USERNAME = re.compile(r"^[A-Za-z0-9_.:+=@/-]{1,128}$")


class Unauthenticated(Exception):
    """No usable claims: 401."""


class Forbidden(Exception):
    """Signed in, but not allowed here: 403."""


@dataclass(frozen=True)
class Caller:
    username: str
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return GROUP_ADMIN in self.groups

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden


def parse_groups(value: Any) -> frozenset[str]:
    if isinstance(value, list | tuple):
        return frozenset(str(v).strip() for v in value if str(v).strip())
    if not isinstance(value, str):
        return frozenset()
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return parse_groups(parsed)
        text = text.strip("[]")
    return frozenset(part.strip().strip('"') for part in text.replace(",", " ").split() if part.strip())


def caller_of(event: Mapping[str, Any], client_id: str) -> Caller:
    """The signed-in staff member, or ``Unauthenticated`` / ``Forbidden``."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    if not isinstance(claims, Mapping):
        raise Unauthenticated
    # The pool signs people in by email, so ``cognito:username`` is an opaque id; the audit trail, history and
    # assignments name the person by the email they sign in with (staff data, never a visitor's).
    account = claims.get("cognito:username")
    if not isinstance(account, str) or not _USERNAME.match(account):
        raise Unauthenticated
    email = claims.get("email")
    username = email.lower() if isinstance(email, str) and _USERNAME.match(email) else account
    if claims.get("token_use", "id") != "id":
        raise Unauthenticated
    if client_id and claims.get("aud") not in (None, client_id):
        raise Unauthenticated
    groups = parse_groups(claims.get("cognito:groups")) & {GROUP_STAFF, GROUP_ADMIN}
    if not groups:
        raise Forbidden
    return Caller(username=username, groups=groups)
