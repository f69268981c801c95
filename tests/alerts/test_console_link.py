"""Alerts link to the staff console (contract 2.5, 2.6): ``CONSOLE_URL`` is checked at start, every alert's
email and SMS carry ``<CONSOLE_URL>#<lead id>``, the SMS stays one GSM-7 segment with the topic's display-name
prefix for every lead and every URL the settings accept, and each ``ALERT_DETAIL`` level carries exactly its
contents."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leads_cli.alert_test import build_test_alert
from leads_core import storm
from leads_core.alerts import (
    SMS_MAX_CHARS,
    console_link_problem,
    is_single_gsm7_segment,
    render_alert,
    sms_as_delivered,
)
from leads_core.errors import ConfigurationError
from leads_core.keys import LEAD_ID_PATTERN
from leads_core.settings import Settings, settings_from

from tests.alerts.conftest import lead_item
from tests.alerts.doc_examples import DOC

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:clinic-leads-StaffAlertsTopic"
AWS_CONSOLE_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/"
# The longest console URL the template's default gives: 10-char API id, the longest region and domain suffix.
LONGEST_AWS_CONSOLE_URL = "https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn/v1/staff/"
GOV_CONSOLE_URL = "https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/v1/staff/"
SHORT_CONSOLE_URL = "https://care.example.org/staff/"
LOCAL_CONSOLE_URL = "http://127.0.0.1:3000/staff/"
TEMPLATE_DISPLAY_NAME = "Clinic leads"
LONG_DISPLAY_NAME = "Naperville Wellness Clinic - new leads"  # 38 of the 40 characters allowed
WINDOW = int(datetime(2026, 12, 2, 14, 20, tzinfo=UTC).timestamp())  # 08:20 on the clinic's clock


def _settings(console_url: str, **env: str) -> Settings:
    return settings_from({"TABLE_NAME": "leads", "TOPIC_ARN": TOPIC_ARN, "CONSOLE_URL": console_url, **env})


def _refusal(console_url: str, **env: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        _settings(console_url, **env)
    return str(caught.value)


# ------------------------------------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        (AWS_CONSOLE_URL, AWS_CONSOLE_URL),
        ("https://care.example.org/staff", "https://care.example.org/staff/"),
        ("https://care.example.org", "https://care.example.org/"),
        ("HTTPS://care.example.org:8443/v1/staff/", "https://care.example.org:8443/v1/staff/"),
        (LOCAL_CONSOLE_URL, LOCAL_CONSOLE_URL),
        ("http://localhost:3600/staff", "http://localhost:3600/staff/"),
    ],
)
def test_console_url_is_normalised_to_end_with_a_slash(raw: str, normalised: str) -> None:
    assert _settings(raw).console_url == normalised
    assert _settings(raw).require_alerts().console_url == normalised


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("http://care.example.org/staff/", "https URL (plain http only for 127.0.0.1 or localhost)"),
        ("http://127.0.0.2/staff/", "https URL"),
        ("ftp://care.example.org/staff/", "https URL"),
        ("care.example.org/staff/", "https URL"),
        ("https:///staff/", "https URL"),
        ("https://care.example.org:99999/staff/", "absolute https URL"),
        ("https://user:secret@care.example.org/staff/", "user name, query or fragment"),
        ("https://care.example.org/staff/?tab=new", "user name, query or fragment"),
        ("https://care.example.org/staff/?", "user name, query or fragment"),
        ("https://care.example.org/staff/#inbox", "user name, query or fragment"),
        ("https://care.example.org/~staff/", "characters an SMS carries"),
        ("https://care.example.org/{staff}/", "characters an SMS carries"),
        ("https://care.example.org/st aff/", "characters an SMS carries"),
        ("https://care.example.org/équipe/", "characters an SMS carries"),
        ("https://care.example.org/staff/\n", "characters an SMS carries"),
        ("https://" + "a" * 120 + ".example.org/staff/", "too long for a one-segment SMS"),
    ],
)
def test_a_bad_console_url_stops_the_function_naming_console_url(raw: str, rule: str) -> None:
    message = _refusal(raw)
    assert message.startswith("Invalid function settings: CONSOLE_URL: "), message
    assert rule in message
    assert "care.example.org" not in message  # the rule, never the value
    assert "secret" not in message


def test_the_alert_functions_require_a_console_url_and_the_submit_function_does_not() -> None:
    bare = settings_from(
        {"TABLE_NAME": "leads", "TOPIC_ARN": TOPIC_ARN, "ALLOWED_ORIGINS": "https://www.example.org"}
    )
    assert bare.console_url == ""
    assert bare.require_submit() is bare
    with pytest.raises(ConfigurationError, match=r"^CONSOLE_URL: required by the alert functions"):
        bare.require_alerts()


def _longest_accepted(display_name: str) -> int:
    """The longest console URL length the settings accept with ``display_name`` (searched, not assumed)."""
    accepted = [
        length
        for length in range(20, SMS_MAX_CHARS)
        if not console_link_problem("https://" + "a" * (length - 15) + "/staff/", display_name)
    ]
    assert accepted == list(range(20, max(accepted) + 1))  # one boundary, no holes
    return max(accepted)


def test_the_length_budget_counts_the_display_name_prefix() -> None:
    # The tightest SMS: "New request. " + URL + "#" + 10-char id, after "<display name>> ".
    assert _longest_accepted(TEMPLATE_DISPLAY_NAME) == 160 - len("Clinic leads> ") - len("New request. ") - 11
    assert _longest_accepted("") == 160 - len("New request. ") - 11
    assert _longest_accepted(LONG_DISPLAY_NAME) == _longest_accepted(TEMPLATE_DISPLAY_NAME) - 26

    fits = "https://" + "a" * (_longest_accepted(LONG_DISPLAY_NAME) - 15) + "/staff/"
    too_long = "https://" + "a" * (_longest_accepted(LONG_DISPLAY_NAME) - 14) + "/staff/"
    assert _settings(fits, TOPIC_DISPLAY_NAME=LONG_DISPLAY_NAME).console_url == fits
    assert _settings(too_long).console_url == too_long  # fine with the template's display name
    message = _refusal(too_long, TOPIC_DISPLAY_NAME=LONG_DISPLAY_NAME)
    assert "CONSOLE_URL: too long for a one-segment SMS" in message
    assert f"it has {len(too_long)} characters" in message
    assert f"TOPIC_DISPLAY_NAME, {len(LONG_DISPLAY_NAME)} characters) at most {len(fits)} fit" in message


def test_every_realistic_api_console_url_is_accepted_even_with_the_longest_display_name() -> None:
    for url in (AWS_CONSOLE_URL, GOV_CONSOLE_URL, LONGEST_AWS_CONSOLE_URL):
        assert _settings(url, TOPIC_DISPLAY_NAME="W" * 40).console_url == url


# ---------------------------------------------------------------------------------- one segment, whole link

SERVICES = ["depression", "anxiety", "ptsd", "bipolar", "ocd", "chronic_pain", "other", "astrology"]
EMAILS = ["a@b.co", "o{brien}|x@example.com", "x" * 64 + "@example-clinic.com", ""]
LEAD_ID = st.from_regex(LEAD_ID_PATTERN, fullmatch=True)
SLUG = st.from_regex(r"[a-z0-9][a-z0-9-]{0,39}", fullmatch=True)
HOST_CHARS = string.ascii_lowercase + string.digits + "-."
PATH_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=30)


@st.composite
def console_urls(draw: st.DrawFn) -> str:
    """https URLs of every length from 20 to 140 characters (around and past every SMS budget)."""
    length = draw(st.integers(min_value=20, max_value=140))
    port = draw(st.sampled_from(["", ":8443"]))
    path = "/".join(draw(st.lists(PATH_SEGMENT, max_size=3)))
    trailing = draw(st.sampled_from(["", "/"]))
    host_length = max(1, length - len(f"https://.org{port}/{path}{trailing}"))
    host = draw(st.text(alphabet=HOST_CHARS, min_size=host_length, max_size=host_length))
    return f"https://{host}.org{port}/{path}{trailing}"


@st.composite
def leads(draw: st.DrawFn) -> dict[str, Any]:
    phone = draw(st.sampled_from(["+16305550123", "+442071838750", "", "(630) 555-0123 ext. 4"]))
    return lead_item(
        id=draw(LEAD_ID),
        first_name=draw(st.text(max_size=80)),
        last_name=draw(st.text(max_size=80)),
        email=draw(st.sampled_from(EMAILS)),
        phone=phone or None,
        preferred_contact=draw(st.sampled_from(["phone", "text", "email", "fax", ""])),
        best_time=draw(st.sampled_from(["morning", "afternoon", "evening", "any", "midnight"])),
        service=draw(st.sampled_from(SERVICES)),
        location=draw(SLUG),
        referral_type=draw(st.sampled_from(["self", "provider"])),
        message=draw(st.text(max_size=300)),
        urgent=draw(st.booleans()),
        urgent_reasons=["self_reported"],
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lead=leads(),
    url=st.one_of(
        console_urls(),
        st.sampled_from([AWS_CONSOLE_URL, GOV_CONSOLE_URL, LONGEST_AWS_CONSOLE_URL, LOCAL_CONSOLE_URL]),
    ),
    display_name=st.one_of(
        st.sampled_from([TEMPLATE_DISPLAY_NAME, "", LONG_DISPLAY_NAME]),
        st.text(alphabet=string.ascii_letters + string.digits + " -.", max_size=40),
    ),
    detail=st.sampled_from(["minimal", "contact", "full"]),
    clinic=st.text(min_size=1, max_size=60),
)
def test_property_every_sms_is_one_segment_with_the_prefix_and_ends_with_the_whole_deep_link(
    lead: dict[str, Any], url: str, display_name: str, detail: str, clinic: str
) -> None:
    env = {"TOPIC_DISPLAY_NAME": display_name, "ALERT_DETAIL": detail, "CLINIC_NAME": clinic}
    display_name = display_name or TEMPLATE_DISPLAY_NAME  # an empty setting is an unset one: the default
    # The oracle, independent of the renderer: the tightest SMS is the short head and the link.
    normalised = url if url.endswith("/") else url + "/"
    tightest = f"New request. {normalised}#{lead['id']}"
    if len(sms_as_delivered(tightest, display_name)) > SMS_MAX_CHARS:
        # Refused at start, for the SMS budget alone (these URLs are otherwise valid).
        with pytest.raises(ConfigurationError, match="CONSOLE_URL: too long for a one-segment SMS"):
            _settings(url, **env)
        return
    config = _settings(url, **env).require_alerts()
    assert config.console_url == normalised
    assert config.topic_display_name == display_name
    alert = render_alert(lead, config)
    link = f"{config.console_url}#{lead['id']}"
    assert is_single_gsm7_segment(alert.sms, display_name), sms_as_delivered(alert.sms, display_name)
    assert alert.sms.endswith(f" {link}")  # the link, whole, last
    assert alert.sms.count(config.console_url) == 1
    assert f"Open it in the staff console: {link}\n" in alert.email
    assert alert.sms.startswith("URGENT" if lead["urgent"] else "New ")


@pytest.mark.parametrize("url", [AWS_CONSOLE_URL, GOV_CONSOLE_URL, LONGEST_AWS_CONSOLE_URL])
@pytest.mark.parametrize("urgent", [False, True])
def test_the_longest_api_console_url_still_leaves_minimal_content_in_the_sms(url: str, urgent: bool) -> None:
    lead = lead_item(
        id="7K3M9Q2XAB", service="chronic_pain", location="naperville", best_time="afternoon", urgent=urgent
    )
    for detail in ("minimal", "contact", "full"):
        alert = render_alert(lead, _settings(url, ALERT_DETAIL=detail))
        delivered = sms_as_delivered(alert.sms, TEMPLATE_DISPLAY_NAME)
        assert len(delivered) <= SMS_MAX_CHARS
        assert delivered.endswith(f" {url}#7K3M9Q2XAB")
        for part in ("Chronic pain", "Naperville", "afternoons", "URGENT" if urgent else "New request"):
            assert part in alert.sms, (part, delivered)


# ------------------------------------------------------------------------------------------- detail levels

DANA = lead_item(
    id="7K3M9Q2XAB",
    first_name="Dana",
    last_name="Whitfield",
    email="dana.whitfield@example.com",
    phone="+16305550142",
    preferred_contact="phone",
    best_time="evening",
    service="anxiety",
    location="naperville",
    referral_type="provider",
    provider_name="Dr. Alan Grant",
    provider_practice="Grant Family Medicine",
    message="Panic attacks at work, mostly mornings.",
    heard_about="a podcast",
    attribution={"utm_source": "newsletter-fall"},
)
PERSONAL = ("Dana", "Whitfield", "dana.whitfield", "6305550142", "Panic", "Alan Grant", "Grant Family")
ATTRIBUTION = ("newsletter-fall", "podcast")


def _alert(detail: str, url: str = AWS_CONSOLE_URL) -> Any:
    return render_alert(DANA, _settings(url, ALERT_DETAIL=detail, CLINIC_NAME="Naperville Wellness Clinic"))


def test_the_default_detail_is_minimal_and_it_carries_no_name_phone_or_email() -> None:
    assert _settings(AWS_CONSOLE_URL).alert_detail == "minimal"
    alert = render_alert(DANA, _settings(SHORT_CONSOLE_URL))  # room for everything: nothing personal anyway
    link = f"{SHORT_CONSOLE_URL}#7K3M9Q2XAB"
    for text in (alert.email, alert.sms, alert.subject):
        for value in PERSONAL + ATTRIBUTION:
            assert value not in text, (value, text)
    # reference, service, location, priority, preferred method and time, console link
    assert alert.sms == (
        "New consultation request: prefers a call, evenings. Anxiety, Naperville. Ref 7K3M9Q2XAB. "
        f"Clinic {link}"
    )
    for row in ("Reference: 7K3M9Q2XAB", "Service:          Anxiety", "Location:         Naperville"):
        assert row in alert.email
    for row in ("Priority:         normal", "Prefers:          phone call", "Best time:        evenings"):
        assert row in alert.email
    assert f"Open it in the staff console: {link}\n" in alert.email
    assert "Contact details:  in the staff console (link above)" in alert.email


def test_contact_adds_first_name_last_initial_and_the_callback_only() -> None:
    alert = _alert("contact", SHORT_CONSOLE_URL)
    for text in (alert.email, alert.sms):
        assert "Dana W." in text
        assert "+16305550142" in text
        for value in ("Whitfield", "Panic", "Alan Grant", "dana.whitfield", *ATTRIBUTION):
            assert value not in text, value
    assert "Dana" not in alert.subject
    # Beside the API's own (long) link the SMS keeps the callback; the name gives way first.
    aws = _alert("contact")
    assert "call +16305550142" in aws.sms
    assert aws.sms.endswith(f" {AWS_CONSOLE_URL}#7K3M9Q2XAB")


def test_full_adds_name_message_provider_and_attribution_to_the_email_and_nothing_to_the_sms() -> None:
    for url in (SHORT_CONSOLE_URL, AWS_CONSOLE_URL):
        full, contact = _alert("full", url), _alert("contact", url)
        for value in ("Dana Whitfield", "Panic attacks at work", "Dr. Alan Grant", "Grant Family Medicine"):
            assert value in full.email
        for value in ATTRIBUTION:
            assert value in full.email
        assert full.sms == contact.sms  # the SMS never carries more than contact
        assert "Panic" not in full.sms
        assert full.subject == contact.subject == _alert("minimal", url).subject
        assert "Dana" not in full.subject


# ------------------------------------------------------------------------------- digest, test alert, docs


def test_the_digest_sms_and_the_test_alert_carry_the_console_link() -> None:
    for url in (LOCAL_CONSOLE_URL, LONGEST_AWS_CONSOLE_URL):
        digest = storm.render_digest(
            WINDOW,
            [f"LEAD{n:06d}" for n in range(12_345)],
            threshold=20,
            clinic_name="Naperville Wellness Clinic",
            display_name=LONG_DISPLAY_NAME,
            console_url=url,
        )
        assert digest.sms.endswith(f" {url}")
        assert is_single_gsm7_segment(digest.sms, LONG_DISPLAY_NAME)
        test_alert = build_test_alert(lead_id="TEST-0123ABCD", console_url=url)
        assert test_alert.sms == f"TEST alert, no action needed. Ref TEST-0123ABCD. {url}"
        assert is_single_gsm7_segment(test_alert.sms, TEMPLATE_DISPLAY_NAME)
        assert f"Staff console (real alerts open their lead there): {url}\n" in test_alert.email
        assert "#TEST-" not in test_alert.email  # a test alert has no lead in the console


def test_the_documented_digest_is_what_the_renderer_sends() -> None:
    [documented] = re.findall(
        r"```text\nClinic leads> (\d+ new requests since 08:20[^\n]*)\n```", DOC.read_text()
    )
    digest = storm.render_digest(
        WINDOW,
        [f"LEAD{n:06d}" for n in range(5)],
        threshold=20,
        clinic_name="Naperville Wellness Clinic",
        display_name=TEMPLATE_DISPLAY_NAME,
        console_url=AWS_CONSOLE_URL,
    )
    assert digest.sms == documented
