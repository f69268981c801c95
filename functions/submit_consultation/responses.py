"""Responses of ``/consultations``: accepted (201 JSON / 303), errors (JSON or HTML), and the header policy.

No function here ever puts a submitted value into a body, a header or a URL: the accepted answer carries the
lead id and fixed texts, error answers carry fixed texts and the model's sentences (which hold no values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import Response
from leads_core import crisis, pages
from leads_core.store.submit import StoredResult

JSON_CONTENT = "application/json"
HTML_CONTENT = "text/html; charset=utf-8"

ALLOWED_METHODS = "POST"
ALLOWED_HEADERS = "Content-Type, Idempotency-Key"
PREFLIGHT_MAX_AGE = "600"

# Headers every response carries (the response_headers policy).
POLICY_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Origin",
}
HTML_POLICY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

# Visitor-facing texts of each error status (fixed; no submitted value).
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: (
        "We could not read your request",
        "We could not read your request. Please reload the page and try again.",
    ),
    403: ("Request not allowed", "This form cannot be sent from this website."),
    404: ("Not found", "There is nothing here."),
    409: (
        "Already sent",
        "This form was already sent with different details. Please reload the page to send a new request.",
    ),
    413: ("Request too large", "Your request is too large. Please shorten your message and try again."),
    415: ("Unsupported request", "Please send the form as a regular web form or as JSON."),
    422: ("Please check the form", "Please check the highlighted fields."),
    429: (
        "Too many requests",
        "We have received many requests from your network. Please try again later, or call us.",
    ),
    500: ("Something went wrong", "Something went wrong on our side. Please try again, or call us."),
    503: ("Please try again", "We could not save your request just now. Please try again in a moment."),
}


def thank_you_location(thank_you_url: str, lead_id: str) -> str:
    """``THANK_YOU_URL`` with ``ref=<lead id>`` added to its existing query (any earlier ``ref`` replaced)."""
    parts = urlsplit(thank_you_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ref"]
    query.append(("ref", lead_id))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def accepted(result: StoredResult, *, as_json: bool, clinic_name: str, thank_you_url: str) -> Response:
    """201 JSON for scripts, 303 to the thank-you page for plain forms (same for spam and replays)."""
    if as_json:
        body = {
            "id": result.lead_id,
            "status": "received",
            "message": crisis.visitor_message(result.urgent, clinic_name),
            "urgent": result.urgent,
            "support": crisis.SUPPORT,
        }
        return Response(status_code=201, content_type=JSON_CONTENT, body=json.dumps(body))
    location = thank_you_location(thank_you_url, result.lead_id)
    return Response(
        status_code=303,
        content_type=HTML_CONTENT,
        body=pages.redirect_page(location),
        headers={"Location": location},
    )


def error(  # noqa: PLR0913 - keyword-only parts of one error answer (JSON or page)
    status: int,
    *,
    as_json: bool,
    form_url: str,
    summary: str | None = None,
    errors: Mapping[str, str] | None = None,
    retry_after: int | None = None,
) -> Response:
    title, default_summary = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    message = summary or default_summary
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    field_errors = dict(errors or {})
    if as_json:
        body = json.dumps({"message": message, "errors": field_errors})
        return Response(status_code=status, content_type=JSON_CONTENT, body=body, headers=headers)
    page = pages.error_page(title, message, field_errors, form_url)
    return Response(status_code=status, content_type=HTML_CONTENT, body=page, headers=headers)


def preflight(origin: str | None) -> Response:
    """204 for ``OPTIONS``: CORS grants for an allowed origin (the caller rejected any other origin)."""
    headers = {"Allow": "OPTIONS, POST"}
    if origin is not None:
        headers.update(
            {
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
        )
    return Response(status_code=204, content_type=None, body="", headers=headers)


def apply_policy(response: dict[str, Any], *, allowed_origin: str | None) -> dict[str, Any]:
    """Add the policy headers, and the CORS grant when the request came from an allowed origin.

    Works on the final proxy response (``multiValueHeaders`` for REST APIs), so it covers every response,
    including the ones built by exception handlers and Powertools itself.
    """
    multi: dict[str, list[str]] = {}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        multi[name] = list(values) if isinstance(values, list) else [str(values)]
    for name, value in (response.get("headers") or {}).items():
        multi.setdefault(name, [str(value)])
    response.pop("headers", None)

    def put(name: str, value: str) -> None:
        for existing in [k for k in multi if k.lower() == name.lower()]:
            del multi[existing]
        multi[name] = [value]

    for name, value in POLICY_HEADERS.items():
        put(name, value)
    content_type = next((v[0] for k, v in multi.items() if k.lower() == "content-type" and v), "")
    if content_type.startswith("text/html"):
        for name, value in HTML_POLICY_HEADERS.items():
            put(name, value)
    if allowed_origin is not None:
        put("Access-Control-Allow-Origin", allowed_origin)
        put("Access-Control-Expose-Headers", "Retry-After")
    response["multiValueHeaders"] = multi
    return response
