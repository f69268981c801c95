"""End-to-end properties across modules (A1 and B test their own modules; these cross the boundaries).

Arbitrary, mostly hostile submissions go through the real submit handler (in-process, moto) as JSON and as
urlencoded forms. Whatever comes in: the answer is 201/303 or a clean 4xx, never a 5xx; it never echoes a
submitted value; a rejection stores nothing; and every lead that was stored renders, at every
``ALERT_DETAIL``, an alert whose subject is 1-99 printable ASCII characters without line breaks, whose SMS is
one GSM-7 basic segment (checked here with an independent alphabet table), and whose message attributes carry
no visitor value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leads_core.submission.schema import KNOWN_FIELDS
from submit_consultation.responses import ALLOWED_HEADERS, HTML_POLICY_HEADERS, POLICY_HEADERS

from benchmarks.events import rest_proxy_event
from tests.reliability.conftest import InProcessSubmit, echoed, response_texts

# GSM 03.38 basic character set (no escape to the extension table), from the standard.
GSM7_BASIC = set(
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5\u0394_\u03a6\u0393\u039b\u03a9"
    "\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9 !\"#\u00a4%&'()*+,-./0123456789:;<=>?\u00a1"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)
PRINTABLE_ASCII = {chr(code) for code in range(0x20, 0x7F)}
SERVICES = {"depression", "anxiety", "ptsd", "bipolar", "ocd", "chronic_pain", "other"}
LOCATIONS = {"naperville", "oak-brook"}  # benchmarks.inprocess.SUBMIT_ENV

VALID = {
    "first_name": "Jordan",
    "last_name": "Rivera",
    "email": "jordan.rivera@example.org",
    "phone": "(630) 555-0177",
    "preferred_contact": "phone",
    "service": "anxiety",
    "message": "I would like to talk to someone.",
    "consent_privacy": True,
}
FIELDS = [
    *VALID,
    "best_time",
    "location",
    "referral_type",
    "provider_name",
    "provider_phone",
    "provider_email",
    "heard_about",
    "consent_sms",
    "in_crisis",
    "submission_id",
    "utm_source",
    "landing_page",
    "website",
]

hostile_text = st.one_of(
    st.text(max_size=120),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x3000), min_size=1, max_size=90),
    st.sampled_from(
        [
            "\ud800",
            "Ava\udfff",
            "\u202eevil",
            "a\u0000b",
            "=cmd|' /C calc'!A0",
            "{{7*7}}",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\r\nBcc: x@example.org",
            "x" * 2001,
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "Zo\u00eb \u0639\u0644\u064a",
            "  ",
        ]
    ),
)
json_value = st.one_of(
    hostile_text,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
changes = st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=4)
unknown = st.dictionaries(
    st.text(min_size=1, max_size=20).filter(lambda k: k not in FIELDS), hostile_text, max_size=1
)


@dataclass(frozen=True)
class _AlertSettings:
    clinic_name: str
    alert_detail: str
    console_url: str = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/"


# What the API says whatever the input: field names and the fixed header values. A drawn string that is
# part of it ("referrer", "no-store") is not an echo of the visitor.
_VOCABULARY = "\n".join(
    [*sorted(KNOWN_FIELDS), *POLICY_HEADERS.values(), *HTML_POLICY_HEADERS.values(), ALLOWED_HEADERS]
)


def _visitor_strings(submission: dict[str, Any]) -> list[str]:
    values = [value for value in submission.values() if isinstance(value, str)]
    return [value for value in values if len(value.strip()) >= 8 and value not in _VOCABULARY]


def _submit(harness: InProcessSubmit, body: str, content_type: str, ip: str) -> dict[str, Any]:
    event = rest_proxy_event(
        body, headers={"Content-Type": content_type, "Accept": "application/json"}, source_ip=ip
    )
    return harness.call(event)


def _check_answer(
    harness: InProcessSubmit, submission: dict[str, Any], response: dict[str, Any], before: int
) -> None:
    status = response["statusCode"]
    assert status in {201, 303} or 400 <= status < 500, status
    assert echoed(_visitor_strings(submission), response_texts(response)) == []
    if status >= 400:
        assert harness.stored_items() == before
        return
    lead_id = json.loads(response["body"])["id"]
    _check_alerts(lead_id, submission)


def _check_alerts(lead_id: str, submission: dict[str, Any]) -> None:
    from leads_core.alerts import render_alert
    from leads_core.delivery import load_lead

    lead = load_lead(lead_id)
    assert lead is not None
    for detail in ("minimal", "contact", "full"):
        alert = render_alert(
            lead, _AlertSettings(clinic_name="Naperville Wellness Clinic", alert_detail=detail)
        )
        assert 1 <= len(alert.subject) <= 99
        assert set(alert.subject) <= PRINTABLE_ASCII, "subject is not printable ASCII (line breaks included)"
        assert len(alert.sms) <= 160
        assert alert.sms.endswith(
            f" https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/#{lead_id}"
        )
        assert set(alert.sms) <= GSM7_BASIC, f"non-GSM-7 characters {sorted(set(alert.sms) - GSM7_BASIC)!r}"
        # Attributes are codes only: never a name, email, phone or message.
        assert alert.attributes["lead_id"] == lead_id
        assert alert.attributes["service"] in SERVICES
        assert alert.attributes["location"] in LOCATIONS
        assert alert.attributes["priority"] in {"urgent", "normal"}
        assert alert.attributes["referral_type"] in {"self", "provider"}
        message = str(lead.get("message") or "")
        assert len(message) < 12 or message not in alert.sms, "the SMS carries the message text"


PROPERTY_SETTINGS = settings(max_examples=70, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def harness(inprocess_submit: InProcessSubmit) -> InProcessSubmit:
    return inprocess_submit


@PROPERTY_SETTINGS
@given(changes=changes, extra=unknown, index=st.integers(0, 10_000_000))
def test_any_json_submission_is_answered_cleanly_and_stored_leads_render_valid_alerts(
    harness: InProcessSubmit, changes: dict[str, Any], extra: dict[str, Any], index: int
) -> None:
    submission = {**VALID, **changes, **extra}
    before = harness.stored_items()
    response = _submit(
        harness, json.dumps(submission), "application/json", f"10.{index % 250}.{index // 250 % 250}.9"
    )
    _check_answer(harness, submission, response, before)


@PROPERTY_SETTINGS
@given(
    changes=st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=4),
    index=st.integers(0, 10_000_000),
)
def test_any_form_submission_is_answered_cleanly(
    harness: InProcessSubmit, changes: dict[str, str], index: int
) -> None:
    submission = {**{k: str(v) for k, v in VALID.items()}, "consent_privacy": "on", **changes}
    try:
        body = urlencode(submission, encoding="utf-8", errors="surrogatepass")
    except UnicodeEncodeError:
        body = urlencode(submission, encoding="utf-8", errors="replace")
    before = harness.stored_items()
    response = _submit(
        harness, body, "application/x-www-form-urlencoded", f"172.16.{index % 250}.{index // 250 % 250}"
    )
    _check_answer(harness, submission, response, before)
