"""``leads smoke``: the main paths of a deployed (or local) stack, checked end to end in one command.

Run after a deploy (``make smoke STACK=NAME``) to know the first real request will work. Each check talks to
the real endpoints the way their users do: the website (HTTP), staff alerts (the topic) and ops (the table):

1. ``POST /consultations`` from an allowed origin with an idempotency key: ``201`` with an id and the
   origin's CORS grant;
2. the same request again (a visitor's retry): the same id, no second lead;
3. ``OPTIONS`` and ``POST`` from an origin that is not allowed: ``403`` without CORS headers;
4. ``leads alert-test``: one clearly marked test alert published to the staff topic;
5. ``leads show`` of the smoke lead: stored as sent;
6. erasure of the smoke lead, and it is gone.

The smoke submission fills the form's hidden honeypot field, so it is stored as quarantined spam: the check
goes through validation, CORS, idempotency and storage without paging the front desk with a made-up person
(the alert path is checked by step 4 instead). It holds no real person's data and is erased at the end (the
erasure is in the audit trail like any other).
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from leads_core.errors import LeadNotFound
from leads_core.manage import LeadAdmin

REFUSED_ORIGIN = "https://smoke-check.invalid"
SMOKE_FIRST_NAME = "Smoke"
SMOKE_LAST_NAME = "Check"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: str


Http = Callable[[str, str, dict[str, str], bytes | None], HttpAnswer]


class ApiUnreachable(Exception):
    """The API gave no answer at all (connection refused, unknown host, timeout): there is no status to check.

    ``url``: the URL asked for; ``reason``: what the network said (for the operator, never visitor data)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def http_call(method: str, url: str, headers: dict[str, str], body: bytes | None) -> HttpAnswer:
    """One HTTP request with urllib; an error status is an answer, not an exception. No answer at all
    raises ``ApiUnreachable``."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310  # nosec B310: http(s) API URL from the stack outputs
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310: see above
            return HttpAnswer(
                response.status, {k.lower(): v for k, v in response.headers.items()}, _read(response)
            )
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, {k.lower(): v for k, v in error.headers.items()}, _read(error))
    except OSError as error:  # URLError (refused, unknown host), a timeout, a reset: no answer at all
        raise ApiUnreachable(url, str(getattr(error, "reason", error))) from error


def _read(response: Any) -> str:
    return str(response.read(64 * 1024).decode("utf-8", "replace"))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class SmokeReport:
    api_url: str
    origin: str
    lead_id: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def smoke_submission(key: str) -> dict[str, Any]:
    return {
        "first_name": SMOKE_FIRST_NAME,
        "last_name": SMOKE_LAST_NAME,
        "email": "smoke-check@example.com",
        "preferred_contact": "email",
        "service": "other",
        "message": "Automated smoke check after a deploy. No one is waiting.",
        "consent_privacy": True,
        "submission_id": key,
        "website": "smoke-check",  # the honeypot: quarantined, never alerted
    }


def run_smoke(  # noqa: PLR0913 - keyword-only collaborators, passed in so tests hand in fakes
    *,
    api_url: str,
    origin: str,
    admin: LeadAdmin,
    actor: str,
    publish_test_alert: Callable[[], str],
    http: Http = http_call,
) -> SmokeReport:
    """Run every check in order; a failed step that later steps depend on stops the run."""
    report = SmokeReport(api_url=api_url, origin=origin)
    key = f"smoke-{secrets.token_hex(8)}"
    body = json.dumps(smoke_submission(key)).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Origin": origin,
        "Idempotency-Key": key,
    }

    first = http("POST", api_url, headers, body)
    lead_id = _lead_id(first)
    granted = first.headers.get("access-control-allow-origin") == origin
    if not report.add(
        "submit from an allowed origin",
        first.status == 201 and lead_id is not None and granted,
        f"{first.status}, id {lead_id}, CORS grant {'yes' if granted else 'no'}",
    ):
        return report
    report.lead_id = lead_id = str(lead_id)

    again = http("POST", api_url, headers, body)
    report.add(
        "retry with the same key answers the first id",
        again.status == 201 and _lead_id(again) == lead_id,
        f"{again.status}, id {_lead_id(again)}",
    )

    refused_headers = {**headers, "Origin": REFUSED_ORIGIN, "Idempotency-Key": f"{key}-refused"}
    preflight = http("OPTIONS", api_url, {"Origin": REFUSED_ORIGIN}, None)
    refused = http("POST", api_url, refused_headers, body)
    leaked = [a.status for a in (preflight, refused) if "access-control-allow-origin" in a.headers]
    report.add(
        "another origin is refused",
        preflight.status == 403 and refused.status == 403 and not leaked,
        f"OPTIONS {preflight.status}, POST {refused.status}, CORS headers on {leaked or 'none'}",
    )

    try:
        message_id = publish_test_alert()
        report.add("test alert published to the staff topic", bool(message_id), f"message {message_id}")
    except Exception as exc:  # reported, and the lead is still cleaned up below
        report.add("test alert published to the staff topic", False, type(exc).__name__)

    try:
        lead = admin.get_lead(lead_id)
        stored = lead.get("first_name") == SMOKE_FIRST_NAME and lead.get("status") == "spam"
        report.add("the lead is stored as sent", stored, f"status {lead.get('status')}")
    except LeadNotFound:
        report.add("the lead is stored as sent", False, "not found")

    erasure = admin.erase_lead(lead_id, actor)
    try:
        admin.get_lead(lead_id)
        gone = False
    except LeadNotFound:
        gone = True
    report.add("the smoke lead is erased", erasure.count == 1 and gone, f"erased {erasure.count}")
    return report


def _lead_id(answer: HttpAnswer) -> str | None:
    try:
        value = json.loads(answer.body).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
