"""No visitor value in any log line (any level), metric or error response, over many kinds of submissions."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from leads_core.observability import logger
from leads_core.settings import load_settings

from tests.conftest import load_event
from tests.submit.conftest import (
    FaultInjector,
    Invoker,
    from_ip,
    leads_in,
    response_header,
    set_header,
    with_body,
)

SOURCE_IP = "192.0.2.201"
MARKED: dict[str, Any] = {
    "first_name": "Zyxmarkfirst",
    "last_name": "Zyxmarklast",
    "email": "zyxmarkemail@zyxmarkdomain.com",
    "phone": "(630) 555-0163",
    "preferred_contact": "phone",
    "service": "ocd",
    "location": "oak-brook",
    "message": "zyxmarkmessage: I have intrusive thoughts and would like to talk to someone.",
    "heard_about": "zyxmarkheard",
    "consent_privacy": True,
    "utm_source": "zyxmarkutmsource",
    "utm_campaign": "zyxmarkutmcampaign",
    "gclid": "zyxmarkgclid",
    "landing_page": "https://zyxmarklanding.example/page",
    "referrer": "https://zyxmarkreferrer.example/",
}
PROVIDER_MARKED: dict[str, Any] = {
    "first_name": "Zyxmarkpatient",
    "last_name": "Zyxmarkpatientlast",
    "referral_type": "provider",
    "provider_name": "Dr. Zyxmarkprovider",
    "provider_practice": "Zyxmarkpractice Clinic",
    "provider_email": "zyxmarkprovmail@example.com",
    "provider_phone": "(312) 555-0161",
    "consent_privacy": True,
}
MARKERS = (
    "zyxmark",  # every marked value contains it, case-insensitively
    "555-0163",
    "5550163",
    "555-0161",
    "5550161",
    SOURCE_IP,
)


class RecordingHandler(logging.Handler):
    """Keeps every record the Powertools logger emits, formatted exactly as it would be written."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def recorded_logs(caplog: pytest.LogCaptureFixture) -> Iterator[RecordingHandler]:
    handler = RecordingHandler()
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel(logging.DEBUG)
    caplog.set_level(
        logging.DEBUG
    )  # the root logger too: libraries (botocore, urllib3, Powertools internals)
    yield handler
    logger.setLevel(previous)
    logging.getLogger(logger.name).removeHandler(handler)  # Powertools' Logger types addHandler only


def marked_event(name: str, fields: dict[str, Any], **headers: str | None) -> dict[str, Any]:
    event = from_ip(load_event(name), SOURCE_IP)
    set_header(event, "X-Forwarded-For", f"{SOURCE_IP}, 130.176.212.11")
    if name.endswith("form"):
        form = {k: ("on" if v is True else v) for k, v in fields.items()}
        changed = with_body(event, urlencode(form), **headers)
    else:
        changed = with_body(event, json.dumps(fields), **headers)
    return changed


def as_base64(event: dict[str, Any]) -> dict[str, Any]:
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    return event


def emitted_metrics(stdout: str) -> tuple[set[str], set[str]]:
    """Metric names and ``LeadRejected`` reasons of the EMF blobs Powertools printed."""
    names: set[str] = set()
    reasons: set[str] = set()
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names.update(metric["Name"] for metric in directive["Metrics"])
        if "LeadRejected" in blob:
            reasons.add(blob["reason"])
    return names, reasons


def contains_marker(text: str) -> list[str]:
    lowered = text.lower()
    return [marker for marker in MARKERS if marker.lower() in lowered]


def test_no_visitor_value_in_logs_metrics_or_error_bodies(
    invoke: Invoker,
    faults: FaultInjector,
    recorded_logs: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    table_items: Any,
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_HOUR", "9")  # 7 leads stored before "rate limited", plus 2 fillers
    load_settings.cache_clear()
    key = {"Idempotency_Key": "privacy-key-0001"}
    runs: list[tuple[str, dict[str, Any]]] = [
        ("valid json", marked_event("submit_valid_json", MARKED)),
        ("valid form", marked_event("submit_valid_form", {**MARKED, "message": "zyxmarkform message"})),
        ("base64 form", as_base64(marked_event("submit_base64_form", {**MARKED, "message": "zyxmarkb64"}))),
        ("provider", marked_event("submit_provider_referral", PROVIDER_MARKED)),
        (
            "crisis",
            marked_event("submit_crisis", {**MARKED, "in_crisis": True, "message": "zyxmark I want to die"}),
        ),
        (
            "spam",
            marked_event(
                "submit_spam_honeypot",
                {**MARKED, "message": "zyxmarkspam", "website": "https://zyxmarkspam.example"},
            ),
        ),
        ("keyed", marked_event("submit_duplicate", {**MARKED, "message": "zyxmarkkeyed"}, **key)),
        ("keyed replay", marked_event("submit_duplicate", {**MARKED, "message": "zyxmarkkeyed"}, **key)),
        ("keyless replay", marked_event("submit_valid_json", MARKED)),
        ("conflict", marked_event("submit_duplicate", {**MARKED, "message": "zyxmarkchanged"}, **key)),
        ("rate limited", marked_event("submit_valid_json", {**MARKED, "message": "zyxmarkrate"})),
        (
            "invalid json",
            marked_event("submit_invalid_json", {**MARKED, "email": "zyxmark@", "phone": "zyxmark"}),
        ),
        ("invalid form", marked_event("submit_invalid_form", {**MARKED, "email": "zyxmark-not-an-email"})),
        ("bad name", marked_event("submit_valid_json", {**MARKED, "first_name": "Zyxmark\nline"})),
        ("long message", marked_event("submit_valid_json", {**MARKED, "message": "zyxmark " * 300})),
        ("unknown field", marked_event("submit_valid_json", {**MARKED, "favourite": "zyxmarkunknown"})),
        (
            "malformed json",
            with_body(from_ip(load_event("submit_valid_json"), SOURCE_IP), '{"zyxmark": "zyxmark"'),
        ),
        ("too big", marked_event("submit_valid_json", {**MARKED, "message": "zyxmark" * 3000})),
        ("wrong type", marked_event("submit_valid_json", MARKED, Content_Type="text/plain")),
        ("bad origin", marked_event("submit_valid_json", MARKED, Origin="https://zyxmark.example")),
    ]
    responses: dict[str, dict[str, Any]] = {}
    for label, event in runs:
        if label == "rate limited":
            for n in range(2):
                invoke(marked_event("submit_valid_json", {**MARKED, "message": f"zyxmark filler {n}"}))
        responses[label] = invoke(event)
    faults.fail("TransactWriteItems", "ThrottlingException")
    responses["throttled"] = invoke(
        marked_event("submit_valid_json", {**MARKED, "message": "zyxmarkthrottled"})
    )

    statuses = {label: response["statusCode"] for label, response in responses.items()}
    assert statuses == {
        "valid json": 201,
        "valid form": 303,
        "base64 form": 303,
        "provider": 201,
        "crisis": 201,
        "spam": 201,
        "keyed": 201,
        "keyed replay": 201,
        "keyless replay": 201,
        "conflict": 409,
        "rate limited": 429,
        "invalid json": 422,
        "invalid form": 422,
        "bad name": 422,
        "long message": 422,
        "unknown field": 422,
        "malformed json": 400,
        "too big": 413,
        "wrong type": 415,
        "bad origin": 403,
        "throttled": 503,
    }
    # The marked values did reach the table (so the test would see them if they leaked).
    assert any("zyxmark" in json.dumps(lead, default=str).lower() for lead in leads_in(table_items()))

    captured = capsys.readouterr()
    everything = {
        "powertools logger": "\n".join(recorded_logs.lines),
        "standard logging": caplog.text,
        "stdout (logs and EMF metrics)": captured.out,
        "stderr": captured.err,
    }
    assert recorded_logs.lines, "the logger must have been captured"
    assert any('"lead_id"' in line for line in recorded_logs.lines)
    metric_names, rejection_reasons = emitted_metrics(captured.out)
    assert {
        "LeadAccepted",
        "LeadRejected",
        "SpamQuarantined",
        "DuplicateSubmission",
        "UrgentLead",
        "StorageUnavailable",
    } <= metric_names
    assert rejection_reasons == {"validation", "origin", "size", "type", "json", "rate", "conflict"}
    for where, text in everything.items():
        assert contains_marker(text) == [], where
    for label, response in responses.items():
        assert contains_marker(response.get("body") or "") == [], label
        for name in ("Location", "Retry-After", "Content-Type"):
            assert contains_marker(response_header(response, name) or "") == [], (label, name)
