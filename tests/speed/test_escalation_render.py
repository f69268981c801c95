"""Escalation alerts read like the other alerts: a subject that names no person (printable ASCII, 1-99
characters), one GSM-7 SMS segment once SNS adds the display-name prefix, codes-only attributes, the
console deep link when it fits, and nothing of the visitor but codes."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from leads_core.alerts import SERVICE_LABELS, console_link_problem, is_valid_subject
from leads_core.escalation import due_levels, is_answered, render_escalation
from leads_core.gsm7 import is_single_gsm7_segment
from leads_core.hours import SlaPolicy, parse_business_hours
from leads_core.sweep import iso

from tests.speed.test_hours import chicago

POLICY = SlaPolicy(parse_business_hours("", ("naperville",)), first_contact_minutes=15, urgent_minutes=5)
VISITOR = {
    "first_name": "Zoëxylia",
    "last_name": "Øverbyquist-Smith",
    "email": "zoe.overbyquist@example.com",
    "phone": "+16305550123",
    "message": "I can't sleep and I am scared",
    "attribution": {"utm_source": "secret-campaign"},
}


@dataclass(frozen=True)
class Config:
    clinic_name: str
    alert_detail: str
    topic_display_name: str
    console_url: str


CONSOLE_URLS = (
    "",
    "http://127.0.0.1:3000/staff/",
    "https://abcdefghij.execute-api.us-east-1.amazonaws.com/v1/staff/",
    "https://" + "x" * 150 + ".example/staff/",  # too long for the SMS: the email still has it
)
slug = st.from_regex(r"[a-z0-9][a-z0-9-]{0,39}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    lead_id=st.from_regex(r"[0-9A-HJKMNP-TV-Z]{10}", fullmatch=True),
    service=st.sampled_from([*SERVICE_LABELS, "unknown<b>"]),
    location=slug,
    urgent=st.booleans(),
    level=st.sampled_from([1, 2]),
    clinic=st.text(min_size=1, max_size=60),
    display=st.from_regex(r"[A-Za-z0-9 ]{1,40}", fullmatch=True),
    console=st.sampled_from(CONSOLE_URLS),
)
def test_every_escalation_fits_the_alert_rules(
    lead_id: str,
    service: str,
    location: str,
    urgent: bool,
    level: int,
    clinic: str,
    display: str,
    console: str,
) -> None:
    lead = {
        "id": lead_id,
        "status": "new",
        "created_at": iso(chicago(2026, 11, 27, 17, 59)),
        "service": service,
        "location": location,
        "urgent": urgent,
        **VISITOR,
    }
    config = Config(clinic, "full", display, console)
    alert = render_escalation(lead, level, POLICY, config)
    assert is_valid_subject(alert.subject)
    assert lead_id in alert.subject
    assert is_single_gsm7_segment(alert.sms, display)
    assert alert.attributes["alert_type"] == "escalation"
    assert alert.attributes["escalation_level"] == str(level)
    assert alert.attributes["priority"] == ("urgent" if urgent else "normal")
    assert alert.lead_id == f"{lead_id}-esc{level}"
    everything = "\n".join([alert.subject, alert.sms, alert.email, *alert.attributes.values()])
    for value in ("Zoëxylia", "Zoexylia", "verbyquist", "5550123", "scared", "secret-campaign"):
        assert value not in everything
    if console:
        assert f"{console}#{lead_id}" in alert.email
    if console and not console_link_problem(console, display):  # a URL the settings accept: always linked
        assert f"{console}#{lead_id}" in alert.sms


def test_answered_leads_are_never_due() -> None:
    created = iso(chicago(2026, 11, 30, 9, 0))
    late = chicago(2026, 12, 4, 12, 0)
    base = {"id": "7K3M9Q2XAB", "status": "new", "created_at": created, "location": "naperville"}
    assert due_levels(base, POLICY, late) == [1, 2]
    for answered in ({"status": "contacted"}, {"assigned_to": "morgan"}, {"first_answered_at": created}):
        assert is_answered({**base, **answered})
        assert due_levels({**base, **answered}, POLICY, late) == []
    assert due_levels({**base, "created_at": "yesterday"}, POLICY, late) == []
    assert due_levels(base, POLICY, chicago(2026, 11, 30, 9, 14)) == []
    assert due_levels(base, POLICY, chicago(2026, 11, 30, 9, 15)) == [1]
    assert due_levels(base, POLICY, chicago(2026, 11, 30, 9, 30)) == [1, 2]
