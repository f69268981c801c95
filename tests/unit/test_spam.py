"""spam_reasons: every rule fires on its spam shape and stays quiet for real patients."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leads_core.spam import count_links, spam_reasons
from leads_core.submission.model import Submission, parse_submission


def sub(**overrides: Any) -> Submission:
    fields: dict[str, Any] = {
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "(630) 555-0142",
        "consent_privacy": True,
    }
    fields.update(overrides)
    return parse_submission(fields, locations=("naperville",))


def test_a_plain_lead_is_not_spam() -> None:
    assert (
        spam_reasons(sub(message="I have had panic attacks for months and would like an appointment.")) == []
    )


# --- honeypot -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["http://example.com", "x", "  a  ", ["list"], 1])
def test_honeypot(value: Any) -> None:
    assert spam_reasons(sub(website=value)) == ["honeypot"]


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_honeypot_is_fine(value: Any) -> None:
    assert spam_reasons(sub(website=value)) == []


# --- links ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message",
    [
        "I found you on https://www.psychologytoday.com/us/therapists and would like to book.",
        "My doctor at nm.org suggested your clinic. Is www.example-clinic.com/tms still current?",
        "I read about TMS on your site and on psychologytoday.com.",
        "Feeling down since 2019. I'm 34 y.o. and my dr. said to call. e.g. mornings are best.",
        "My email is ann.lee@example.com if that is easier.",
    ],
)
def test_a_patient_mentioning_a_website_once_or_twice_is_not_spam(message: str) -> None:
    assert spam_reasons(sub(message=message)) == []


@pytest.mark.parametrize(
    "message",
    [
        "Visit http://a.example.com http://b.example.com http://c.example.com",
        "cheap-pills.ru best-pills.xyz top-pills.top",
        "see www.one.com, www.two.com and https://three.net/path",
    ],
)
def test_three_links_are_spam(message: str) -> None:
    assert "links" in spam_reasons(sub(message=message))


def test_links_in_message_and_heard_about_count_together() -> None:
    assert spam_reasons(sub(message="http://a.com http://b.com", heard_about="http://c.com")) == ["links"]
    assert spam_reasons(sub(message="http://a.com", heard_about="www.b.com")) == []


@pytest.mark.parametrize(
    "names",
    [
        {"first_name": "http://casino.example"},
        {"last_name": "www.cheap-seo.com"},
        {"first_name": "Visit", "last_name": "best-deals.shop"},
    ],
)
def test_a_link_in_a_name_is_spam(names: dict[str, str]) -> None:
    assert "links" in spam_reasons(sub(**names))


@pytest.mark.parametrize(
    ("first", "last"),
    [("J.R.", "Smith"), ("Mary-Kate", "O'Neil"), ("Dr. Ann", "Lee Jr."), ("St. John", "Co"), ("Ann", "Lee.")],
)
def test_ordinary_names_with_dots_are_not_links(first: str, last: str) -> None:
    assert spam_reasons(sub(first_name=first, last_name=last)) == []


def test_a_link_in_the_provider_name_is_spam_but_not_in_the_practice_name() -> None:
    referral = {"referral_type": "provider", "provider_phone": "630 555 0100"}
    assert spam_reasons(sub(**referral, provider_name="www.cheap-seo.com")) == ["links"]
    assert spam_reasons(sub(**referral, provider_name="Dr. Diaz", provider_practice="Talkspace.com")) == []


def test_count_links() -> None:
    assert count_links("see http://a.com and www.b.org and c.net.") == 3
    assert count_links("no links here, just 3.5 stars and e.g. notes") == 0
    assert count_links(None) == 0
    assert count_links("https://www.psychologytoday.com/us/therapists?x=1 and more") == 1
    assert count_links("write to ann.lee@example.com") == 0


# --- pattern --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message",
    [
        "Great clinic! [url=http://pills.example]cheap pills[/url]",
        "[URL]http://x.example[/URL]",
        'Click <a href="http://x.example">here</a>',
        "Hi, we provide high quality backlinks and guest posting to boost your domain authority.",
        "We can get your website on the first page of Google. Our SEO services are affordable: https://seo.example",
        "Hello, I noticed your website is not ranking. We are a digital marketing agency offering SEO. "
        "Reply STOP to unsubscribe.",
        "Get DA 50+ guest posts on high-traffic blogs",
        "Boost your website traffic with our backlinks packages",
        "Claim your casino bonus now: https://spins.example 200 free spins!",
        "Earn 5% daily profit with bitcoin, sign up at www.crypto-gains.example",
    ],
)
def test_known_spam_shapes(message: str) -> None:
    assert "pattern" in spam_reasons(sub(message=message))


@pytest.mark.parametrize(
    "message",
    [
        "I work in SEO and the deadlines are burning me out.",
        "I lost most of my savings in crypto and I can't sleep.",
        "My gambling at the casino is out of control, and I lost my bitcoin too.",
        "I saw your website and would like to know if you take Blue Cross.",
        "I run a small marketing agency and my anxiety is getting worse.",
        "Driving in heavy traffic gives me panic attacks.",
        "My pa is 75 and I care for him; my therapist at www.lakeside.example referred me.",
        "I cannot stop betting on sports. Please call me.",
        "Мне нужна помощь с депрессией, пожалуйста перезвоните.",
        "Я відчуваю тривогу вже кілька місяців, прошу зателефонувати.",
        "أشعر بالقلق منذ أشهر وأحتاج إلى مساعدة",
        "Necesito ayuda con la ansiedad, por favor llámenme por la tarde.",
        "我最近一直很焦虑，希望预约咨询。",
        "I found your website on Google and read about your TMS program. My psychiatrist recommended you.",
    ],
)
def test_real_patients_are_not_pattern_spam(message: str) -> None:
    assert spam_reasons(sub(message=message)) == []


@pytest.mark.parametrize("name", ["xxxxxxxx", "aaaa", "Qwrtzp", "bdfghjk", "asd123", "eRwQpZtY"])
def test_identical_random_first_and_last_name(name: str) -> None:
    assert spam_reasons(sub(first_name=name, last_name=name)) == ["pattern"]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Abdullah", "Abdullah"),
        ("Lee", "Lee"),
        ("Tran", "Tran"),
        ("Wong", "wong"),
        ("McDonald", "McDonald"),
        ("Ng", "Ng"),
        ("José", "José"),
        ("xxxxxxxx", "Smith"),
        ("محمد", "محمد"),
    ],
)
def test_real_names_are_not_pattern_spam(first: str, last: str) -> None:
    assert spam_reasons(sub(first_name=first, last_name=last)) == []


def test_reasons_are_ordered_and_unique() -> None:
    reasons = spam_reasons(
        sub(
            website="x",
            first_name="zzzzzz",
            last_name="zzzzzz",
            message="[url=http://a.com]a[/url] http://b.com http://c.com",
        )
    )
    assert reasons == ["honeypot", "links", "pattern"]


@settings(max_examples=60, deadline=None)
@given(
    message=st.text(alphabet=st.sampled_from("ab.-/:@ <>[]=wWhtps1\n"), max_size=2000),
    name=st.text(alphabet=st.sampled_from("abxX.-1 "), min_size=1, max_size=80).filter(str.strip),
)
def test_any_text_yields_only_known_codes(message: str, name: str) -> None:
    heard_about = message[:100].replace("\n", " ")
    submission = sub(message=message, heard_about=heard_about, first_name=name, last_name=name)
    reasons = spam_reasons(submission)
    assert set(reasons) <= {"links", "pattern"}
    assert len(reasons) == len(set(reasons))
