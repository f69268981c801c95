"""The renderer on its own (no AWS): subject, SMS and email rules, detail levels, hostile input."""

from __future__ import annotations

import json
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leads_core.alerts import (
    GSM7_BASIC,
    GSM7_BASIC_TABLE,
    SMS_MAX_CHARS,
    URGENT_REASON_LABELS,
    Alert,
    is_single_gsm7_segment,
    is_valid_subject,
    render_alert,
    sms_as_delivered,
    to_sms_text,
)

from tests.alerts import doc_examples
from tests.alerts.conftest import lead_item
from tests.conftest import REPO_ROOT

# The console URL the template gives a stack in us-east-1 (stage v1): every alert links to its lead there.
CONSOLE_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/"
# The longest an API's own console URL gets: 10-char API id, the longest region and domain suffix.
LONGEST_CONSOLE_URL = "https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn/v1/staff/"
LOCAL_CONSOLE_URL = "http://127.0.0.1:3000/staff/"


@dataclass(frozen=True)
class AlertConfig:
    clinic_name: str = "Naperville Wellness Clinic"
    alert_detail: str = "contact"
    console_url: str = CONSOLE_URL


@dataclass(frozen=True)
class NamedTopicConfig(AlertConfig):
    topic_display_name: str = "Clinic leads"


CONTACT = AlertConfig()

HOSTILE_NAMES = [
    "Maria\nLopez",
    "Maria\r\nLopez",
    "Carriage\rReturn",
    "Tab\tbed",
    "José",
    "Zoë",
    "Straße",
    "Ñúñez-Øster",
    "Łukasz Żółć",
    "Dvořák",
    "Ægir Þórsson",
    "O’Brien",
    "“Quoted” Name",
    "Anne–Marie — Smith",
    "😀😀😀",
    "Emoji 🙂 Person 👩‍👩‍👧",
    "محمد عبد الله",
    "שָׁלוֹם",
    "\u202eevil\u202c",
    "RTL\u200fmark\u200e",
    "Zero\u200bWidth",
    "李小龍",
    "Nguyễn Thị Minh Khai",
    "<script>alert(1)</script>",
    '<b onmouseover="x">Bold</b>',
    "&amp; &lt;tag&gt;",
    "[brackets] {braces} |pipe| ^caret^ ~tilde~ \\back\\ €euro `tick`",
    "Robert'); DROP TABLE leads;--",
    "A" * 80,
    "Wolfeschlegelsteinhausenbergerdorff" * 2 + "Jr",
    "  leading and trailing  ",
    "\x00\x01\x07control\x1b[31m",
    "ﬁnancial ｆｕｌｌｗｉｄｔｈ",
    "Ｍａｒｉａ",
    "\u0301\u0301combining",
    "Mary Ann St. John-Smythe",
    "URGENT: call 911",
    "x",
]
HOSTILE_MESSAGES = [
    "Line one\nLine two\r\nLine three\rfour\t\ttab",
    "<html><body onload=alert(1)>hi</body></html>",
    "😀" * 500,
    "A" * 2000,
    "محمد " * 300,
    "\u202e" + "reversed text",
]


def _render(lead: dict[str, Any], config: AlertConfig = CONTACT) -> Alert:
    return render_alert(lead, config)


def _assert_channel_rules(alert: Alert, console_url: str = CONSOLE_URL) -> None:
    assert is_valid_subject(alert.subject), alert.subject
    assert "\n" not in alert.subject
    assert "\r" not in alert.subject
    assert is_single_gsm7_segment(alert.sms), alert.sms
    assert alert.sms.strip() == alert.sms
    # The SMS ends with the lead's console link, whole (it carries the reference).
    link = f"{console_url}#{alert.lead_id}"
    assert alert.sms.endswith(f" {link}"), alert.sms
    assert f"Open it in the staff console: {link}\n" in alert.email
    for line in alert.email.splitlines():
        assert all(unicodedata.category(c)[0] != "C" for c in line), repr(line)


def test_gsm7_basic_table_is_the_128_code_points_of_gsm_03_38() -> None:
    assert len(GSM7_BASIC_TABLE) == 128
    assert len(set(GSM7_BASIC_TABLE)) == 128
    assert GSM7_BASIC_TABLE[0x00] == "@"
    assert GSM7_BASIC_TABLE[0x02] == "$"
    assert GSM7_BASIC_TABLE[0x11] == "_"
    assert GSM7_BASIC_TABLE[0x1B] == "\x1b"  # escape to the extension table: never sent
    assert GSM7_BASIC_TABLE[0x24] == "¤"
    assert GSM7_BASIC_TABLE[0x40] == "¡"
    assert GSM7_BASIC_TABLE[0x60] == "¿"
    assert GSM7_BASIC_TABLE[0x7F] == "à"
    for extension_char in "[]{}|^~\\€":
        assert extension_char not in GSM7_BASIC
    assert "`" not in GSM7_BASIC
    assert "\x1b" not in GSM7_BASIC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José", "Jose"),
        ("Zoë", "Zoe"),
        ("Straße", "Strasse"),
        ("O’Brien", "O'Brien"),
        ("“Hi”", '"Hi"'),
        ("Anne–Marie—Smith", "Anne-Marie-Smith"),
        ("Emoji 🙂 Person", "Emoji Person"),
        ("محمد", ""),
        ("\u202eevil\u202c", "evil"),
        ("Tab\tand\nnewline", "Tab and newline"),
        ("ｆｕｌｌ", "full"),
        ("{x}|[y]", "(x)/(y)"),
    ],
)
def test_sms_transliteration(raw: str, expected: str) -> None:
    assert to_sms_text(raw) == expected


def test_contact_alert_reads_well() -> None:
    lead = lead_item(
        id="7K3M9Q2XAB",
        first_name="José",
        last_name="Núñez",
        created_at="2026-11-29T13:45:12.345Z",
        service="depression",
        best_time="evening",
    )
    alert = _render(lead)

    assert alert.subject == "New consultation request 7K3M9Q2XAB - Naperville | Naperville Wellness Clinic"
    # The AWS console link leaves room for the callback, not for the name (contact detail gives way first).
    assert alert.sms == (
        f"New request: call +16305550123, evenings. Depression, Naperville. {CONSOLE_URL}#7K3M9Q2XAB"
    )
    assert "Name:             José N." in alert.email
    assert "Phone:            +16305550123" in alert.email
    assert "Received:         Sun 29 Nov 2026, 7:45 AM CST (America/Chicago)" in alert.email
    assert f"Open it in the staff console: {CONSOLE_URL}#7K3M9Q2XAB\n" in alert.email
    assert f"Full record: {CONSOLE_URL}#7K3M9Q2XAB (or: leads show 7K3M9Q2XAB)" in alert.email
    # With a short console URL (a custom domain, the local stack) the name fits too.
    short = _render(lead, AlertConfig(console_url="https://care.example.org/staff/"))
    assert short.sms == (
        "New consultation request: Jose N. - call +16305550123, evenings. Depression, Naperville. "
        "https://care.example.org/staff/#7K3M9Q2XAB"
    )
    assert "struggling" not in alert.email  # the message is `full` detail only
    assert alert.priority == "normal"
    assert alert.attributes == {
        "lead_id": "7K3M9Q2XAB",
        "location": "naperville",
        "service": "depression",
        "priority": "normal",
        "referral_type": "self",
        "alert_type": "new_lead",
        "sms": "send",
    }


def test_publish_entry_shape() -> None:
    alert = _render(lead_item(id="7K3M9Q2XAB"))
    entry = alert.to_publish_entry()
    assert entry["Id"] == "7K3M9Q2XAB"
    assert entry["MessageStructure"] == "json"
    assert entry["Subject"] == alert.subject
    assert json.loads(entry["Message"]) == {"default": alert.email, "email": alert.email, "sms": alert.sms}
    assert {
        k: v["StringValue"] for k, v in entry["MessageAttributes"].items() if not k.startswith("AWS.")
    } == (alert.attributes)
    assert all(v["DataType"] == "String" for v in entry["MessageAttributes"].values())


def test_urgent_comes_first_everywhere() -> None:
    alert = _render(lead_item(urgent=True, in_crisis=True, urgent_reasons=["self_reported", "message"]))
    assert alert.priority == "urgent"
    assert alert.attributes["priority"] == "urgent"
    assert alert.subject.startswith("URGENT: ")
    assert alert.sms.startswith("URGENT")
    first_line = alert.email.splitlines()[0]
    assert first_line.startswith("URGENT")
    assert "988" in alert.email
    assert "911" in alert.email
    assert "their message reads as a crisis" in alert.email
    assert 'they ticked "I may be thinking about harming myself"' in alert.email


@pytest.mark.parametrize("page", ["web/form.html", "web/index.html"])
def test_the_self_reported_reason_quotes_the_forms_own_checkbox(page: str) -> None:
    label = re.search(r'<label for="cf-in-crisis">([^<]+)</label>', (REPO_ROOT / page).read_text())
    assert label is not None
    assert f'they ticked "{label.group(1)}"' == URGENT_REASON_LABELS["self_reported"]


def test_minimal_detail_names_nobody_and_gives_no_contact() -> None:
    lead = lead_item(
        first_name="Dana", last_name="Whitfield", email="dana@example.com", preferred_contact="email"
    )
    alert = _render(lead, AlertConfig(alert_detail="minimal"))
    for part in (alert.email, alert.sms, alert.subject):
        for value in ("Dana", "Whitfield", "dana@example.com", "+16305550123", "panic"):
            assert value not in part
    assert "prefers email" in alert.sms
    assert "Anxiety, Naperville" in alert.sms
    assert "mornings" in alert.sms
    assert "Prefers:          email" in alert.email


def test_full_detail_adds_name_message_provider_and_attribution_to_the_email_only() -> None:
    lead = lead_item(
        first_name="Dana",
        last_name="Whitfield",
        referral_type="provider",
        provider_name="Dr. Alan Grant",
        provider_practice="Grant Family Medicine",
        provider_phone="+16305559876",
        message="Referred for\nongoing anxiety.",
        heard_about="My doctor",
        attribution={"utm_source": "google", "utm_campaign": "fall"},
    )
    alert = _render(lead, AlertConfig(alert_detail="full"))
    assert "Dana Whitfield" in alert.email
    assert "  | Referred for\n  | ongoing anxiety." in alert.email
    assert "Dr. Alan Grant" in alert.email
    assert "Grant Family Medicine" in alert.email
    assert "utm_campaign:     fall" in alert.email
    assert "My doctor" in alert.email
    for value in ("Whitfield", "Referred", "Alan Grant", "google", "doctor"):
        assert value not in alert.sms
    assert "Dana W." in _render(lead, AlertConfig(alert_detail="full", console_url=LOCAL_CONSOLE_URL)).sms


@pytest.mark.parametrize(
    ("preferred", "expected", "fits_beside_the_longest_link"),
    [
        ("phone", "call +16305550123", True),
        ("text", "text +16305550123", True),
        ("email", "email maria.lopez@example.com", False),
    ],
)
def test_sms_gives_the_callback_of_the_preferred_method(
    preferred: str, expected: str, fits_beside_the_longest_link: bool
) -> None:
    lead = lead_item(preferred_contact=preferred, consent_sms=True)
    assert expected in _render(lead, AlertConfig(console_url=LOCAL_CONSOLE_URL)).sms
    longest = _render(lead, AlertConfig(console_url=LONGEST_CONSOLE_URL)).sms
    assert (expected in longest) is fits_beside_the_longest_link, longest
    assert longest.endswith(f" {LONGEST_CONSOLE_URL}#{lead['id']}")


def test_an_email_that_is_not_sms_safe_is_not_mangled_into_the_sms() -> None:
    lead = lead_item(email="o{brien}|x@example.com", preferred_contact="email")
    alert = _render(lead)
    assert "Maria L. - prefers email, mornings." in alert.sms  # staff find the address through the link
    assert "brien" not in alert.sms
    assert "o{brien}|x@example.com" in alert.email


def test_missing_and_odd_typed_fields_still_render() -> None:
    lead: dict[str, Any] = {
        "id": "7K3M9Q2XAB",
        "urgent": Decimal(1),
        "service": ["anxiety"],
        "location": None,
        "created_at": "not a date",
        "urgent_reasons": "self_reported",
        "attribution": "utm_source=x",
    }
    alert = _render(lead, AlertConfig(alert_detail="full"))
    _assert_channel_rules(alert)
    assert alert.priority == "normal"  # only a real boolean true is urgent
    assert alert.attributes["service"] == "other"
    assert "Received:         unknown" in alert.email


@pytest.mark.parametrize("detail", ["minimal", "contact", "full"])
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_keep_every_channel_valid(name: str, detail: str) -> None:
    lead = lead_item(
        first_name=name, last_name=name, message=HOSTILE_MESSAGES[len(name) % len(HOSTILE_MESSAGES)]
    )
    alert = _render(lead, AlertConfig(alert_detail=detail, clinic_name=name[:60] or "Clinic"))
    _assert_channel_rules(alert)
    # Beside a short console link the person is still named, shortened if need be.
    beside_short_link = _render(
        lead,
        AlertConfig(alert_detail=detail, clinic_name=name[:60] or "Clinic", console_url=LOCAL_CONSOLE_URL),
    )
    _assert_channel_rules(beside_short_link, LOCAL_CONSOLE_URL)
    if detail != "minimal" and to_sms_text(name):
        assert to_sms_text(name)[0] in beside_short_link.sms


@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_hostile_messages_stay_out_of_sms_and_are_quoted_in_the_email(message: str) -> None:
    alert = _render(lead_item(message=message), AlertConfig(alert_detail="full"))
    _assert_channel_rules(alert)
    assert "Their message" in alert.email
    quoted = [line for line in alert.email.splitlines() if line.startswith("  |")]
    assert quoted
    assert sum(len(line) for line in quoted) <= 2000 + 5 * len(quoted)


def test_longest_names_are_shortened_so_the_sms_still_reads() -> None:
    lead = lead_item(
        first_name="Bartholomew-Maximilian Alexander Christopher Jonathan Fitzgerald Wolfeschlegelstein",
        last_name="Featherstonehaugh",
        email="b" * 60 + "@example.com",
        preferred_contact="email",
        urgent=True,
        location="oak-brook-west-lakes-and-prairie-fields",
    )
    clinic = "The Very Long Name Behavioral Health and Wellness Center"
    alert = _render(lead, AlertConfig(clinic_name=clinic, console_url=LOCAL_CONSOLE_URL))
    _assert_channel_rules(alert, LOCAL_CONSOLE_URL)
    assert alert.sms.startswith("URGENT: Bartholomew F. - call +16305550123, mornings. Anxiety, Oak Brook")
    # Beside the API's own console link, contact detail gives way to minimal's parts and the link.
    aws = _render(lead, AlertConfig(clinic_name=clinic))
    _assert_channel_rules(aws)
    assert aws.sms.startswith("URGENT: prefers email, mornings. Anxiety, Oak Brook")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.text(max_size=80),
    last=st.text(max_size=80),
    message=st.text(max_size=2000),
    clinic=st.text(min_size=1, max_size=60),
    email_local=st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=64),
    preferred=st.sampled_from(["phone", "text", "email", "fax", ""]),
    detail=st.sampled_from(["minimal", "contact", "full"]),
    urgent=st.booleans(),
)
def test_property_every_alert_is_within_the_channel_rules_and_names_no_one_in_subject_or_attributes(
    first: str,
    last: str,
    message: str,
    clinic: str,
    email_local: str,
    preferred: str,
    detail: str,
    urgent: bool,
) -> None:
    config = AlertConfig(clinic_name=clinic, alert_detail=detail)
    lead = lead_item(
        id="7K3M9Q2XAB",
        first_name=first,
        last_name=last,
        message=message,
        email=f"{email_local}@example.com",
        preferred_contact=preferred,
        urgent=urgent,
    )
    alert = _render(lead, config)
    _assert_channel_rules(alert)

    # Subject and attributes do not depend on any visitor value at all.
    anonymous = lead_item(id="7K3M9Q2XAB", first_name="A", last_name="B", message="", urgent=urgent)
    anonymous.update(email="a@example.com", preferred_contact=preferred)
    reference = _render(anonymous, config)
    assert alert.subject == reference.subject
    assert alert.attributes == reference.attributes
    # The SMS never carries the message text.
    words = [w for w in to_sms_text(message).split() if len(w) >= 12]
    for word in words:
        if word not in to_sms_text(f"{first} {last} {clinic} {email_local}") and word not in reference.sms:
            assert word not in alert.sms


def test_times_fall_back_to_utc_without_a_tz_database(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(_: str) -> Any:
        raise zoneinfo.ZoneInfoNotFoundError("no tzdata")

    monkeypatch.setattr(zoneinfo, "ZoneInfo", missing)
    alert = _render(lead_item(created_at="2026-11-29T13:45:12.345Z"))
    assert "Received:         Sun 29 Nov 2026, 1:45 PM UTC (UTC)" in alert.email


def test_docs_examples_are_current() -> None:
    documented = doc_examples.documented()
    assert set(documented) == set(doc_examples.examples())
    assert documented == doc_examples.examples(), "run: .venv/bin/python -m tests.alerts.doc_examples"


def test_someone_who_may_be_in_crisis_is_called_whatever_they_preferred() -> None:
    texted = _render(lead_item(urgent=True, preferred_contact="text", consent_sms=True))
    assert "call +16305550123" in texted.sms
    assert "Phone:            +16305550123" in texted.email
    email_only = _render(lead_item(urgent=True, preferred_contact="email", phone=None))
    assert "email maria.lopez@example.com" in email_only.sms


def test_urgency_from_the_message_alone_is_worded_as_such() -> None:
    alert = _render(lead_item(urgent=True, in_crisis=False, urgent_reasons=["message"]))
    assert alert.email.startswith("URGENT: their message reads as a crisis. Call them now.")


# ------------------------------------------------------------------------------------------- SMS as delivered


LONG_TYPICAL_LEAD = {
    "id": "7K3M9Q2XAB",
    "first_name": "Alexandra",
    "last_name": "Lopez",
    "email": "alexandra.lopez@example.com",
    "preferred_contact": "email",
    "service": "chronic_pain",
    "best_time": "afternoon",
    "location": "oak-brook",
}


def test_the_display_name_prefix_sns_adds_counts_against_the_segment() -> None:
    """This alert's own text is 155 characters: with "Clinic leads> " in front it would be two segments."""
    lead = lead_item(**LONG_TYPICAL_LEAD)
    custom_domain = "https://care.example.org/staff/"
    config = NamedTopicConfig(topic_display_name="", console_url=custom_domain)
    assert len(render_alert(lead, config).sms) == 155
    alert = render_alert(lead, NamedTopicConfig(console_url=custom_domain))
    delivered = sms_as_delivered(alert.sms)
    assert delivered == (
        "Clinic leads> New request: Alexandra L. - email alexandra.lopez@example.com, "
        "afternoons. Chronic pain, Oak Brook. https://care.example.org/staff/#7K3M9Q2XAB"
    )  # the clinic's name, the reference and the long head went first; the callback and the link stay
    assert len(delivered) <= SMS_MAX_CHARS


@pytest.mark.parametrize("console_url", [LOCAL_CONSOLE_URL, LONGEST_CONSOLE_URL])
@pytest.mark.parametrize("display_name", ["", "Clinic leads", "Naperville Wellness Clinic - new leads"])
@pytest.mark.parametrize("detail", ["minimal", "contact"])
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_fit_one_segment_with_the_topic_prefix(
    name: str, detail: str, display_name: str, console_url: str
) -> None:
    lead = lead_item(
        first_name=name, last_name=name, urgent=len(name) % 2 == 0, email=f"{'x' * 40}@example.com"
    )
    config = NamedTopicConfig(
        alert_detail=detail,
        clinic_name=name[:60] or "Clinic",
        topic_display_name=display_name,
        console_url=console_url,
    )
    alert = render_alert(lead, config)
    delivered = sms_as_delivered(alert.sms, display_name)
    assert delivered == (f"{display_name}> " if display_name else "") + alert.sms
    assert len(delivered) <= SMS_MAX_CHARS, delivered
    assert all(c in GSM7_BASIC for c in delivered), delivered
    assert is_single_gsm7_segment(alert.sms, display_name)
    assert alert.sms.endswith(f" {console_url}#{alert.lead_id}")


def test_without_a_display_name_the_whole_segment_is_ours() -> None:
    config = NamedTopicConfig(topic_display_name="", console_url=LOCAL_CONSOLE_URL)
    unprefixed = render_alert(lead_item(**LONG_TYPICAL_LEAD), config).sms
    assert len(unprefixed) > SMS_MAX_CHARS - len("Clinic leads> ")
    assert unprefixed.startswith("New consultation request: ")  # room for the long head again


def test_alert_type_and_sms_attributes_on_every_new_lead_alert() -> None:
    for lead in (lead_item(), lead_item(urgent=True)):
        alert = _render(lead)
        assert alert.attributes["alert_type"] == "new_lead"
        assert alert.attributes["sms"] == "send"


def test_an_alert_without_an_sms_attribute_is_published_to_phones() -> None:
    alert = _render(lead_item())
    bare = Alert(
        lead_id=alert.lead_id,
        subject=alert.subject,
        email=alert.email,
        sms=alert.sms,
        default=alert.default,
        attributes={"lead_id": alert.lead_id, "alert_type": "escalation"},
    )
    sms_attribute = bare.to_publish_entry()["MessageAttributes"]["sms"]
    assert sms_attribute == {"DataType": "String", "StringValue": "send"}
