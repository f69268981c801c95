"""Staff API and console files (``/staff/...``, API Gateway REST proxy -> this function).

HTTP only: each route checks the caller (``claims``) and its input, then hands over to ``leads_core.manage``.
Every error becomes HTTP in one place, ``handle_error``: unknown lead 404, malformed id or input 400, a status
outside the staff list 422, a ``staff`` member on an admin route 403, no claims 401. No answer and no log line
carries a visitor's value or echoes what the client sent.

Every read of one lead is audited (``view``), as are status changes, assignments, exports, erasures and
sign-ins (``POST /staff/session``).
"""

from __future__ import annotations

import itertools
import json
import logging
import traceback
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from leads_core import deadline
from leads_core.cursor import InvalidCursor
from leads_core.errors import LeadNotFound, StorageUnavailable
from leads_core.hours import SlaPolicy, parse_iso
from leads_core.lead_events import SpeedObserver, bus_name
from leads_core.manage import (
    STAFF_STATUSES,
    InvalidLeadId,
    InvalidLimit,
    InvalidSince,
    InvalidStatus,
    LeadAdmin,
    check_lead_id,
    csv_text,
    parse_since,
)
from leads_core.observability import MetricUnit, logger, metrics, tracer
from leads_core.report import STATUSES as REPORT_STATUSES
from leads_core.report import build_report
from leads_core.settings import load_settings

from staff_api import config
from staff_api.claims import Caller, Forbidden, Unauthenticated, caller_of

MAX_NOTE_CHARS = 2000
MAX_BODY_BYTES = 8192
JSON_TYPE = "application/json"

# Fail the function start (Lambda INIT) on a bad setting, with a message naming the variable.
config.staff_settings()

for _library in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_library).setLevel(logging.WARNING)

app = APIGatewayRestResolver()


class BadRequest(Exception):
    """400 with a fixed message (never the client's value)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@lru_cache(maxsize=1)
def _observer() -> SpeedObserver:
    """Speed to lead: ``MinutesToFirstAnswer`` on a lead's first answer, ``LeadStatusChanged`` events."""
    return SpeedObserver(policy=load_settings().sla_policy(), bus=bus_name())


_observer()  # a bad BUSINESS_HOURS or SLA setting fails the start too


def _admin() -> LeadAdmin:
    return LeadAdmin(config.staff_settings().table_name, observer=_observer())


def _caller() -> Caller:
    return caller_of(app.current_event.raw_event, config.staff_settings().client_id)


def _json(status: int, document: Any) -> Response:
    return Response(
        status_code=status,
        content_type=JSON_TYPE,
        body=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _lead_id(raw: str) -> str:
    lead_id = check_lead_id(raw)
    app.append_context(lead_id=lead_id)
    logger.append_keys(lead_id=lead_id)
    return lead_id


def _query(name: str) -> str | None:
    value = app.current_event.get_query_string_value(name)
    return value if value not in (None, "") else None


def _body() -> dict[str, Any]:
    raw = app.current_event.decoded_body or ""
    if len(raw.encode("utf-8", "replace")) > MAX_BODY_BYTES:
        raise BadRequest("The request body is too large.")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _urgent_filter(value: str | None) -> bool | None:
    if value is None:
        return None
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise BadRequest("urgent is true or false.")


def _limit(value: str | None) -> int:
    if value is None:
        return 25
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise BadRequest("limit is a whole number from 1 to 100.")
    return int(value)


# ---------------------------------------------------------------------------------------------- data routes


@app.get("/staff/leads")
def list_leads() -> Response:
    caller = _caller()
    status = _query("status")
    location = _query("location")
    if location is not None and location not in _locations():
        raise BadRequest("Unknown location.")
    urgent = _urgent_filter(_query("urgent"))
    admin = _admin()
    leads, next_cursor = admin.list_page(
        status=status,
        location=location,
        urgent=urgent,
        cursor=_query("cursor"),
        limit=_limit(_query("limit")),
    )
    admin.record_listing(
        caller.username, len(leads), {"status": status, "location": location, "urgent": urgent}
    )
    policy = load_settings().sla_policy()
    for lead in leads:
        lead["sla_due_at"] = _sla_due_at(lead, policy)
    return _json(200, {"leads": leads, "next": next_cursor})


def _sla_due_at(lead: dict[str, Any], policy: SlaPolicy) -> str | None:
    """Speed to lead: when an unanswered lead's SLA runs out (the console shows the time left or overdue);
    ``None`` once it is assigned or out of ``new``."""
    created = parse_iso(lead.get("created_at"))
    if created is None or lead.get("status") != "new" or lead.get("assigned_to"):
        return None
    due = policy.due_at(created, str(lead.get("location") or ""), lead.get("urgent") is True)
    return due.isoformat(timespec="seconds").replace("+00:00", "Z")


@app.get("/staff/leads/<lead_id>")
def show_lead(lead_id: str) -> Response:
    caller = _caller()
    lead_id = _lead_id(lead_id)
    admin = _admin()
    lead = admin.lead_with_history(lead_id)
    admin.record_view(caller.username, lead_id)
    return _json(200, lead)


@app.post("/staff/leads/<lead_id>/status")
def set_status(lead_id: str) -> Response:
    caller = _caller()
    lead_id = _lead_id(lead_id)
    body = _body()
    status = body.get("status")
    if not isinstance(status, str) or status not in STAFF_STATUSES:
        raise InvalidStatus("status")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise BadRequest("note is text.")
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise BadRequest(f"A note is at most {MAX_NOTE_CHARS} characters.")
    admin = _admin()
    admin.set_status(lead_id, status, note, caller.username)
    return _json(200, admin.lead_with_history(lead_id))


@app.post("/staff/leads/<lead_id>/assign")
def assign(lead_id: str) -> Response:
    caller = _caller()
    lead_id = _lead_id(lead_id)
    return _json(200, _admin().assign(lead_id, caller.username))


@app.delete("/staff/leads/<lead_id>")
def erase(lead_id: str) -> Response:
    caller = _caller()
    caller.require_admin()
    lead_id = _lead_id(lead_id)
    _admin().erase_lead(lead_id, caller.username)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@app.get("/staff/export")
def export() -> Response:
    caller = _caller()
    caller.require_admin()
    since_text = _query("since")
    since = parse_since(since_text) if since_text else None
    rows = _admin().export_rows(actor=caller.username, since=since, destination="console")
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=csv_text(rows),
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="leads.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@app.get("/staff/report")
def speed_report() -> Response:
    """The speed-to-lead report (as ``leads report``) for admins; ``?since=30d`` (default) or a date."""
    caller = _caller()
    caller.require_admin()
    since = parse_since(_query("since") or "30d")
    lead_admin = _admin()
    leads = itertools.chain.from_iterable(
        lead_admin.iter_leads(status=status, since=since) for status in REPORT_STATUSES
    )
    policy = load_settings().sla_policy()
    figures = build_report(leads, policy, now=datetime.now(UTC), since=parse_iso(since))
    return Response(
        status_code=200,
        content_type=JSON_TYPE,
        body=json.dumps(figures),
        headers={"Cache-Control": "no-store"},
    )


@app.post("/staff/session")
def session() -> Response:
    caller = _caller()
    _admin().record_audit(caller.username, "sign_in", "console", 1)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


def _locations() -> tuple[str, ...]:
    import os  # noqa: PLC0415

    return tuple(part.strip() for part in os.environ.get("LOCATIONS", "").split(",") if part.strip())


# ---------------------------------------------------------------------------------------------- console files


def _static_headers(content_type: str) -> dict[str, str]:
    settings = config.staff_settings()
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            f"connect-src 'self' {settings.auth_origin}; img-src 'self' data:; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def _console_file(name: str) -> Response:
    headers = _static_headers(config.CONSOLE_FILES[name])
    headers["Cache-Control"] = "no-cache"
    return Response(status_code=200, body=config.console_file(name), headers=headers)


@app.get("/staff")
def console_page() -> Response:
    path = str(app.current_event.raw_event.get("path") or "")
    if not path.endswith("/"):  # relative links of the page need the trailing slash
        return Response(status_code=301, headers={"Location": "staff/", "Cache-Control": "no-store"})
    return _console_file("index.html")


@app.get("/staff/console.js")
def console_script() -> Response:
    return _console_file("console.js")


@app.get("/staff/console.css")
def console_style() -> Response:
    return _console_file("console.css")


@app.get("/staff/config.json")
def console_config() -> Response:
    settings = config.staff_settings()
    headers = _static_headers(JSON_TYPE)
    headers["Cache-Control"] = "no-store"
    document = {
        "region": settings.region,
        "userPoolId": settings.user_pool_id,
        "clientId": settings.client_id,
        "authEndpoint": settings.auth_endpoint,
        "idleMinutes": int(settings.idle_minutes)
        if settings.idle_minutes.is_integer()
        else settings.idle_minutes,
        "apiBase": "",
        "locations": list(_locations()),  # the clinic's locations (LOCATIONS), offered in the inbox filter
    }
    return Response(status_code=200, body=json.dumps(document), headers=headers)


# ---------------------------------------------------------------------------------------------- errors

_STATUS_MESSAGE = "Choose a status: " + ", ".join(STAFF_STATUSES) + "."


def _error(status: int, message: str, **extra: Any) -> Response:
    logger.info("staff request refused", extra={"status": status, **extra})
    return _json(status, {"message": message})


@app.exception_handler(Exception)
def handle_error(exc: Exception) -> Response:  # noqa: PLR0911 - one branch per outcome
    """The one place where errors become HTTP responses (fixed messages: nothing the client sent)."""
    if isinstance(exc, Unauthenticated):
        return _error(401, "Sign in again.")
    if isinstance(exc, Forbidden):
        return _error(403, "Your account may not do this.")
    if isinstance(exc, InvalidLeadId):
        return _error(400, "That is not a lead reference.")
    if isinstance(exc, LeadNotFound):
        return _error(404, "No lead has this reference (it may have been erased).")
    if isinstance(exc, InvalidStatus):
        return _error(422, _STATUS_MESSAGE)
    if isinstance(exc, BadRequest):
        return _error(400, exc.message)
    if isinstance(exc, InvalidCursor | InvalidLimit | InvalidSince):
        return _error(400, _INPUT_MESSAGES[type(exc)])
    return _unexpected(exc)


_INPUT_MESSAGES: dict[type[Exception], str] = {
    InvalidCursor: "That page link is not valid; start from the first page.",
    InvalidLimit: "limit is a whole number from 1 to 100.",
    InvalidSince: "since is an ISO 8601 date or time, or 7d / 24h.",
}


# AWS answers that mean "try again shortly" (after botocore's own retries), not a bug of ours.
_UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionCanceledException",
        "TransactionInProgressException",
    }
)


def _unavailable(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    if isinstance(exc, StorageUnavailable | BotoCoreError):
        return True
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _UNAVAILABLE_CODES


def _unexpected(exc: Exception) -> Response:
    if _unavailable(exc):
        logger.warning("storage unavailable", extra={"error_type": type(exc).__name__})
        metrics.add_metric(name="StorageUnavailable", unit=MetricUnit.Count, value=1)
        return Response(
            status_code=503,
            content_type=JSON_TYPE,
            body=json.dumps({"message": "Try again in a moment."}),
            headers={"Retry-After": "2", "Cache-Control": "no-store"},
        )
    # A bug: frames only (an exception's message may quote data).
    logger.error(
        "unexpected error",
        extra={"error_type": type(exc).__name__, "frames": traceback.format_tb(exc.__traceback__)[-5:]},
    )
    metrics.add_metric(name="UnexpectedError", unit=MetricUnit.Count, value=1)
    return _json(500, {"message": "Something went wrong; try again."})


@app.not_found
def not_found(_exc: Exception) -> Response:
    return _json(404, {"message": "Not found."})


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with deadline.budget(context):
        return app.resolve(event, context)
