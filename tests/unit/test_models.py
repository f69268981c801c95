"""parse_submission: every field rule both ways, visitor sentences, normalisation and the content digest."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leads_core.errors import ValidationFailed
from leads_core.keys import ATTRIBUTION_FIELDS
from leads_core.submission.model import Submission, parse_submission
from leads_core.submission.schema import FORM_FIELDS, MAX_WEBSITE_LENGTH
from pydantic import ValidationError

LOCATIONS = ("naperville", "oak-brook")
REMOVE = object()

VALID: dict[str, Any] = {
    "first_name": "Ann",
    "last_name": "Lee",
    "email": "ann.lee@example.com",
    "phone": "(630) 555-0142",
    "consent_privacy": True,
}


def fields(**overrides: Any) -> dict[str, Any]:
    data = dict(VALID)
    for name, value in overrides.items():
        if value is REMOVE:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def parse(**overrides: Any) -> Submission:
    return parse_submission(fields(**overrides), locations=LOCATIONS)


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_submission(data, locations=LOCATIONS)
    errors = caught.value.errors
    assert errors, "ValidationFailed without errors"
    return errors


def validation_failure(data: dict[str, Any]) -> ValidationFailed | None:
    """The ``ValidationFailed`` raised for ``data``, or ``None`` when it parsed."""
    try:
        parse_submission(data, locations=LOCATIONS)
    except ValidationFailed as failed:
        return failed
    return None


def error(field: str, **overrides: Any) -> str:
    errors = errors_of(fields(**overrides))
    assert field in errors, errors
    return errors[field]


# --- a valid submission and its defaults ----------------------------------------------------------
def test_minimal_valid_submission_gets_contract_defaults() -> None:
    sub = parse()
    assert (sub.first_name, sub.last_name) == ("Ann", "Lee")
    assert sub.email == "ann.lee@example.com"
    assert sub.phone == "+16305550142"
    assert sub.preferred_contact == "phone"
    assert sub.best_time == "any"
    assert sub.service == "other"
    assert sub.location == "naperville"
    assert sub.referral_type == "self"
    assert sub.consent_privacy is True
    assert sub.consent_sms is False
    assert sub.in_crisis is False
    assert sub.attribution == {}
    assert sub.message is None
    assert sub.website is None
    assert sub.submission_id is None


def test_preferred_contact_defaults_to_email_without_phone() -> None:
    assert parse(phone=REMOVE).preferred_contact == "email"


def test_submission_is_frozen() -> None:
    sub = parse()
    with pytest.raises(ValidationError):
        sub.first_name = "Bob"  # type: ignore[misc]


def test_null_and_blank_mean_not_given() -> None:
    sub = parse(email=None, message="   ", heard_about=None, best_time="", submission_id=None)
    assert sub.email is None
    assert sub.message is None
    assert sub.heard_about is None
    assert sub.best_time == "any"


# --- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_names_are_trimmed_and_inner_spaces_collapsed(field: str) -> None:
    sub = parse(**{field: "  Mary \u00a0  Ann  "})
    assert getattr(sub, field) == "Mary Ann"


@pytest.mark.parametrize(
    ("field", "sentence"), [("first_name", "Enter your first name."), ("last_name", "Enter your last name.")]
)
@pytest.mark.parametrize("value", [REMOVE, None, "", "   ", 42, 4.2, True, ["Ann"], {"a": "b"}])
def test_missing_or_non_text_names(field: str, sentence: str, value: Any) -> None:
    assert error(field, **{field: value}) == sentence


def test_name_length_limit_is_80_after_trimming() -> None:
    assert parse(first_name="  " + "a" * 80 + "  ").first_name == "a" * 80
    assert error("first_name", first_name="a" * 81) == "Shorten your first name to 80 characters or fewer."
    assert error("last_name", last_name="b" * 5000) == "Shorten your last name to 80 characters or fewer."


@pytest.mark.parametrize(
    "bad",
    [
        "Ann\nSmith",
        "Ann\rSmith",
        "Ann\tSmith",
        "Ann\x00",
        "An\x1bn",
        "An\x7fn",
        "An\x85n",
        "An\x9fn",
        "Ann\u2028Lee",
        "\u202eAnn",
        "Ann\u202a",
        "\u2066Ann\u2069",
        "Ann\ud800",
    ],
)
def test_control_and_bidi_control_characters_in_names_are_rejected(bad: str) -> None:
    sentence = "Remove line breaks and invisible characters from your first name."
    assert error("first_name", first_name=bad) == sentence


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u200b\u200d", "\u0301", "\u200e"])
def test_a_name_of_only_invisible_characters_is_missing(invisible: str) -> None:
    assert error("first_name", first_name=invisible) == "Enter your first name."


def test_copy_paste_invisibles_at_the_ends_are_trimmed() -> None:
    sub = parse(first_name="\ufeffAnn\u200b", email="\u200bann@example.com\ufeff", phone="\u2060630 555 0142")
    assert (sub.first_name, sub.email, sub.phone) == ("Ann", "ann@example.com", "+16305550142")


@pytest.mark.parametrize("name", ["-", ".", "O'", "Ng"])
def test_short_or_punctuation_only_names_are_accepted(name: str) -> None:
    # People with a single name often type "-" or "." as their last name.
    assert parse(last_name=name).last_name == name


def test_trailing_newline_is_trimmed_not_rejected() -> None:
    assert parse(first_name="Ann\n").first_name == "Ann"


@pytest.mark.parametrize(
    "name",
    ["Zoë", "José-María", "O'Brien", "山田", "محمد", "דוד", "Ann 🌻", "👩🏽‍⚕️", "\u200fمحمد", "Nguyễn Thị"],
)
def test_emoji_accents_and_right_to_left_names_are_accepted(name: str) -> None:
    assert parse(first_name=name).first_name == name


def test_html_in_a_name_is_stored_as_typed() -> None:
    sub = parse(first_name="<script>alert(1)</script>", last_name="<b>Lee</b>")
    assert sub.first_name == "<script>alert(1)</script>"
    assert sub.last_name == "<b>Lee</b>"


# --- email ----------------------------------------------------------------------------------------
def test_email_domain_is_lower_cased_local_part_kept() -> None:
    assert parse(email="  Ann.Lee@Example.COM ").email == "Ann.Lee@example.com"


def test_internationalised_email_is_accepted() -> None:
    assert parse(email="zoë@exämple.com").email == "zoë@exämple.com"


@pytest.mark.parametrize(
    "bad",
    [
        "ann",
        "ann@",
        "@example.com",
        "ann@localhost",
        "ann@@example.com",
        "ann lee@example.com",
        "Ann <ann@example.com>",
        "ann@example..com",
        "<script>@example.com",
        "ann@example.com\n",  # trimmed: valid, see below
        "ann@exa\nmple.com",
        "a" * 250 + "@example.com",
        "ann@" + "b" * 64 + ".com",
        "6305550142",
    ],
)
def test_addresses_that_are_not_emails(bad: str) -> None:
    if bad == "ann@example.com\n":
        assert parse(email=bad).email == "ann@example.com"
        return
    assert error("email", email=bad) == "Enter a valid email address."


@pytest.mark.parametrize("value", [42, True, ["ann@example.com"], {"email": "ann@example.com"}])
def test_non_text_email(value: Any) -> None:
    assert error("email", email=value) == "Enter a valid email address."


# --- phone ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(630) 555-0142", "+16305550142"),
        ("630-555-0142", "+16305550142"),
        ("630.555.0142", "+16305550142"),
        ("6305550142", "+16305550142"),
        ("1 (630) 555-0142", "+16305550142"),
        ("+1 630 555 0142", "+16305550142"),
        ("+16305550142", "+16305550142"),
        ("630/555-0142", "+16305550142"),
        ("(212) 555-0100", "+12125550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+52 55 1234 5678", "+525512345678"),
        ("011 44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_stored_in_e164(typed: str, e164: str) -> None:
    assert parse(phone=typed).phone == e164


@pytest.mark.parametrize(
    "bad",
    [
        "12345",
        "911",
        "988",
        "555-5555",
        "+1 000 000 0000",
        "(111) 555-0142",
        "630-555-0142 ext 12",
        "1-800-FLOWERS",
        "call me",
        "ann@example.com",
        "+",
        "0",
        "9" * 41,
        "630\n555\n0142",
        "<script>alert(1)</script>",
    ],
)
def test_numbers_that_are_not_phones(bad: str) -> None:
    assert error("phone", phone=bad) == "Enter a phone number we can call, such as (630) 555-0142."


@pytest.mark.parametrize("value", [6305550142, 6.3, True, ["6305550142"], {"n": 1}])
def test_non_text_phone(value: Any) -> None:
    assert error("phone", phone=value) == "Enter a phone number we can call, such as (630) 555-0142."


# --- contact rules --------------------------------------------------------------------------------
def test_at_least_one_contact_is_required() -> None:
    errors = errors_of(fields(email=REMOVE, phone=REMOVE))
    assert errors == {"phone": "Tell us how to reach you: a phone number or an email."}


def test_an_invalid_contact_is_reported_instead_of_missing_contact() -> None:
    errors = errors_of(fields(email="not-an-email", phone=REMOVE))
    assert errors == {"email": "Enter a valid email address."}


@pytest.mark.parametrize(
    ("preferred", "missing", "sentence"),
    [
        ("email", "email", "Enter your email address, or choose another way to reach you."),
        ("phone", "phone", "Enter your phone number, or choose another way to reach you."),
        ("text", "phone", "Enter your phone number, or choose another way to reach you."),
    ],
)
def test_preferred_contact_needs_its_field(preferred: str, missing: str, sentence: str) -> None:
    errors = errors_of(fields(preferred_contact=preferred, consent_sms=True, **{missing: REMOVE}))
    assert errors == {missing: sentence}


def test_text_needs_sms_consent() -> None:
    errors = errors_of(fields(preferred_contact="text"))
    assert errors == {
        "consent_sms": "Please agree to receive text messages, or choose another way to reach you."
    }
    assert parse(preferred_contact="TEXT", consent_sms="on").preferred_contact == "text"


def test_email_preferred_with_only_email() -> None:
    sub = parse(phone=REMOVE, preferred_contact="Email")
    assert (sub.preferred_contact, sub.phone) == ("email", None)


# --- enums ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("preferred_contact", " PHONE ", "phone"),
        ("best_time", "Morning", "morning"),
        ("best_time", "any time", "any"),
        ("service", "PTSD", "ptsd"),
        ("service", "Chronic Pain", "chronic_pain"),
        ("service", "chronic-pain", "chronic_pain"),
        ("service", "OCD", "ocd"),
        ("location", "Oak Brook", "oak-brook"),
        ("location", "OAK-BROOK", "oak-brook"),
        ("referral_type", "Self", "self"),
    ],
)
def test_enums_are_case_insensitive_and_stored_lower_case(field: str, typed: str, stored: str) -> None:
    assert getattr(parse(**{field: typed}), field) == stored


@pytest.mark.parametrize(
    ("field", "sentence"),
    [
        ("preferred_contact", "Choose how we should contact you: phone call, email or text message."),
        ("best_time", "Choose the best time to reach you: morning, afternoon, evening or any time."),
        (
            "service",
            "Choose a service: depression, anxiety, PTSD, bipolar disorder, OCD, chronic pain or other.",
        ),
        ("location", "Choose one of our locations: Naperville or Oak Brook."),
        ("referral_type", "Choose who is making this request: yourself or a healthcare provider."),
    ],
)
@pytest.mark.parametrize("value", ["fax", "<script>x</script>", 3, True, ["phone"], {"v": 1}])
def test_unknown_enum_values_list_the_choices_in_words(field: str, sentence: str, value: Any) -> None:
    assert error(field, **{field: value}) == sentence


def test_location_sentence_with_three_locations() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_submission(fields(location="x"), locations=("naperville", "oak-brook", "lisle"))
    assert caught.value.errors["location"] == "Choose one of our locations: Naperville, Oak Brook or Lisle."


def test_default_location_is_the_first_configured() -> None:
    assert parse_submission(fields(), locations=("oak-brook", "naperville")).location == "oak-brook"


@pytest.mark.parametrize("body", [["first_name", "Ann"], "first_name=Ann", 42, None])
def test_a_body_that_is_not_an_object(body: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_submission(body, locations=LOCATIONS)
    assert caught.value.errors == {
        "_form": "The form could not be read. Please reload the page and try again."
    }


def test_locations_must_be_configured() -> None:
    with pytest.raises(ValueError, match="locations"):
        parse_submission(fields(), locations=())


# --- provider referrals ---------------------------------------------------------------------------
PROVIDER = {"referral_type": "provider", "provider_name": "Dr. Rosa Diaz", "provider_phone": "630 555 0100"}


def test_provider_referral_makes_patient_contact_optional() -> None:
    sub = parse(email=REMOVE, phone=REMOVE, **PROVIDER)
    assert sub.referral_type == "provider"
    assert sub.provider_name == "Dr. Rosa Diaz"
    assert sub.provider_phone == "+16305550100"
    assert (sub.email, sub.phone) == (None, None)
    assert sub.preferred_contact == "phone"


def test_provider_referral_with_provider_email_only() -> None:
    sub = parse(
        email=REMOVE,
        phone=REMOVE,
        referral_type="provider",
        provider_name="Dr. Diaz",
        provider_email="Referrals@Clinic.Example.org",
        provider_practice="  Lakeside   Family Medicine ",
    )
    assert sub.provider_email == "Referrals@clinic.example.org"
    assert sub.provider_practice == "Lakeside Family Medicine"
    assert sub.preferred_contact == "email"


def test_provider_referral_needs_name_and_a_provider_contact() -> None:
    errors = errors_of(fields(referral_type="provider"))
    assert errors == {
        "provider_name": "Enter the name of the referring provider.",
        "provider_phone": "Enter the provider's email address or phone number.",
    }


def test_provider_contacts_are_validated() -> None:
    errors = errors_of(fields(**{**PROVIDER, "provider_phone": "12", "provider_email": "nope"}))
    assert errors == {
        "provider_email": "Enter a valid email address for the provider.",
        "provider_phone": "Enter a phone number for the provider, such as (630) 555-0142.",
    }


def test_provider_referral_still_requires_an_explicit_preferred_contact() -> None:
    errors = errors_of(fields(email=REMOVE, preferred_contact="email", **PROVIDER))
    assert errors == {"email": "Enter your email address, or choose another way to reach you."}


def test_self_referral_ignores_provider_fields() -> None:
    sub = parse(provider_name="Dr. X", provider_email="broken", provider_phone="1")
    assert (sub.provider_name, sub.provider_email, sub.provider_phone) == (None, None, None)


# --- free text ------------------------------------------------------------------------------------
def test_message_keeps_line_breaks_and_normalises_crlf() -> None:
    sub = parse(message="  Hello,\r\nI need help.\rThanks\n\tAnn  ")
    assert sub.message == "Hello,\nI need help.\nThanks\n\tAnn"


def test_message_limit_is_2000() -> None:
    assert parse(message="m" * 2000).message == "m" * 2000
    assert error("message", message="m" * 2001) == "Shorten your message to 2,000 characters or fewer."
    assert error("message", message="m" * 200_000) == "Shorten your message to 2,000 characters or fewer."


@pytest.mark.parametrize("bad", ["hi\x00", "hi\x1b[31m", "a\x7fb", "a\x9bb", "a\ud83db"])
def test_message_control_characters(bad: str) -> None:
    assert error("message", message=bad) == "Remove unusual invisible characters from your message."


@pytest.mark.parametrize("value", [1, True, ["hi"], {"text": "hi"}])
def test_non_text_message(value: Any) -> None:
    assert error("message", message=value) == "Enter your message as plain text."


def test_message_with_emoji_rtl_and_html_is_kept_as_typed() -> None:
    text = "<img src=x onerror=alert(1)> مرحبا 🌧️ \u202bשלום\u202c"
    assert parse(message=text).message == text


def test_heard_about_limit_is_100() -> None:
    assert parse(heard_about="A friend").heard_about == "A friend"
    assert parse(heard_about="h" * 100).heard_about == "h" * 100
    assert (
        error("heard_about", heard_about="h" * 101)
        == "Shorten how you heard about us to 100 characters or fewer."
    )
    assert error("heard_about", heard_about="a\nb") == "Tell us in a few words how you heard about us."
    assert error("heard_about", heard_about=7) == "Tell us in a few words how you heard about us."


# --- booleans and consent -------------------------------------------------------------------------
@pytest.mark.parametrize("truthy", [True, 1, "on", "ON", "true", "True", "1", "yes", " Yes "])
def test_true_spellings(truthy: Any) -> None:
    sub = parse(consent_privacy=truthy, consent_sms=truthy, in_crisis=truthy)
    assert (sub.consent_privacy, sub.consent_sms, sub.in_crisis) == (True, True, True)


@pytest.mark.parametrize("falsy", [False, 0, "off", "false", "FALSE", "0", "no", "", None])
def test_false_spellings(falsy: Any) -> None:
    sub = parse(consent_sms=falsy, in_crisis=falsy)
    assert (sub.consent_sms, sub.in_crisis) == (False, False)


@pytest.mark.parametrize("odd", ["maybe", "y", "2", 2, -1, 1.0, ["on"], {"on": True}, "checked"])
def test_odd_boolean_spellings_get_a_sentence(odd: Any) -> None:
    errors = errors_of(fields(consent_privacy=odd, consent_sms=odd, in_crisis=odd))
    assert errors == {
        "consent_privacy": "Please agree to the privacy notice so we can contact you.",
        "consent_sms": "Tick the box to agree to text messages, or leave it unticked.",
        "in_crisis": "Please answer the safety question with yes or no.",
    }


@pytest.mark.parametrize("value", [REMOVE, False, "off", "", None, "no"])
def test_missing_privacy_consent(value: Any) -> None:
    assert errors_of(fields(consent_privacy=value)) == {
        "consent_privacy": "Please agree to the privacy notice so we can contact you."
    }


# --- submission id, attribution, honeypot, captcha ------------------------------------------------
@pytest.mark.parametrize("good", ["abcd1234", "A" * 64, "0f8c6d1e-7b1a-4f3c-9c51-2f0d4c8e9a11", "a_b-c_d-"])
def test_valid_submission_ids(good: str) -> None:
    assert parse(submission_id=good).submission_id == good


@pytest.mark.parametrize(
    "bad", ["short", "a" * 65, "abc def gh", "abcd/1234", "abcdé1234", 12345678, ["x" * 8]]
)
def test_invalid_submission_ids(bad: Any) -> None:
    assert (
        error("submission_id", submission_id=bad)
        == "This form's reference code is not valid. Please reload the page and try again."
    )


def test_attribution_is_collected_and_absent_ones_omitted() -> None:
    sub = parse(utm_source="google", utm_campaign=" fall ", gclid="abc", referrer="", landing_page=None)
    assert sub.attribution == {"utm_source": "google", "utm_campaign": "fall", "gclid": "abc"}


@pytest.mark.parametrize("field", ATTRIBUTION_FIELDS)
def test_attribution_limits(field: str) -> None:
    assert parse(**{field: "x" * 500}).attribution[field] == "x" * 500
    sentence = "The page sent a tracking value we could not accept. Please reload the page and try again."
    assert error(field, **{field: "x" * 501}) == sentence
    assert error(field, **{field: "a\nb"}) == sentence
    assert error(field, **{field: 5}) == sentence


@pytest.mark.parametrize("value", ["http://spam.example", "x", ["a"], 1, {"a": 1}])
def test_honeypot_is_kept_for_spam_rules_and_never_fails(value: Any) -> None:
    assert parse(website=value).website


@pytest.mark.parametrize("value", ["", "   ", None, False])
def test_empty_honeypot(value: Any) -> None:
    assert parse(website=value).website is None


def test_honeypot_is_truncated() -> None:
    website = parse(website="w" * 10_000).website
    assert website is not None
    assert len(website) == MAX_WEBSITE_LENGTH


def test_captcha_token() -> None:
    assert parse(captcha_token=" tok-123 ").captcha_token == "tok-123"
    sentence = "The spam check did not complete. Please reload the page and try again."
    assert error("captcha_token", captcha_token=["t"]) == sentence
    assert error("captcha_token", captcha_token="t" * 5000) == sentence


# --- unknown fields -------------------------------------------------------------------------------
def test_unknown_fields_are_named() -> None:
    errors = errors_of(fields(favourite_color="blue", **{"items[0]": "x"}))
    assert errors == {
        "favourite_color": "This field is not part of the form: favourite_color.",
        "items[0]": "This field is not part of the form: items[0].",
    }


@pytest.mark.parametrize("name", ["x" * 41, "<script>", "naïve", "a b", "", "name\n", "\u202eevil"])
def test_unsafe_unknown_field_names_are_not_repeated(name: str) -> None:
    errors = errors_of(fields(**{name: "v"}))
    assert errors == {
        "_unknown": "The form sent fields it does not have. Please reload the page and try again."
    }


def test_at_most_ten_unknown_fields_are_named() -> None:
    data = fields(**{f"extra{i}": "v" for i in range(50)})
    errors = errors_of(data)
    named = [key for key in errors if key.startswith("extra")]
    assert len(named) == 10
    assert errors["_unknown"].startswith("The form sent fields it does not have.")
    assert len(errors) == 11


def test_known_field_errors_come_before_unknown_ones() -> None:
    errors = errors_of(fields(zzz="1", email="bad"))
    assert list(errors) == ["email", "zzz"]


# --- sentences never echo input, never name a type ------------------------------------------------
MARKER = "Qz9MarkerXq"
HOSTILE = f"<script>alert('{MARKER}')</script>"


@pytest.mark.parametrize("field", [f for f in FORM_FIELDS if f != "website"])
@pytest.mark.parametrize("value", [HOSTILE, MARKER * 300, f"{MARKER}\n{MARKER}", [MARKER], {MARKER: MARKER}])
def test_no_sentence_contains_the_submitted_value(field: str, value: Any) -> None:
    data = fields(referral_type="provider", provider_name="Dr. Diaz", provider_phone="6305550100")
    data[field] = value
    failed = validation_failure(data)
    if failed is None:
        return
    for sentence in failed.errors.values():
        assert MARKER not in sentence
        assert "<script" not in sentence
        assert not {"str", "list", "dict", "int", "NoneType"} & set(sentence.rstrip(".").split())
    assert MARKER not in failed.summary


@pytest.mark.parametrize(
    "field", ["first_name", "last_name", "message", "heard_about", "utm_source", "referrer"]
)
def test_html_and_script_text_is_accepted_as_text_in_free_text_fields(field: str) -> None:
    sub = parse(**{field: HOSTILE})
    stored = sub.attribution.get(field) if field in ATTRIBUTION_FIELDS else getattr(sub, field)
    assert stored == HOSTILE


# --- digest ---------------------------------------------------------------------------------------
def test_digest_is_stable_across_spacing_case_and_phone_format() -> None:
    one = parse(first_name="Ann", email="ann.lee@example.com", phone="(630) 555-0142", message="Need help")
    two = parse(
        first_name="  ann ",
        email="Ann.Lee@EXAMPLE.com",
        phone="+1 630-555-0142",
        message=" Need   help\n",
        service="OTHER",
        submission_id="different-key-123",
        captcha_token="tok",
        website="",
    )
    assert one.normalised_digest() == two.normalised_digest()
    assert len(one.normalised_digest()) == 64
    int(one.normalised_digest(), 16)


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": "Anna"},
        {"phone": "630 555 0143"},
        {"message": "Need help soon"},
        {"service": "anxiety"},
        {"in_crisis": True},
        {"utm_source": "google"},
        {"location": "oak-brook"},
    ],
)
def test_digest_changes_with_content(change: dict[str, Any]) -> None:
    assert parse().normalised_digest() != parse(**change).normalised_digest()


def test_digest_ignores_key_token_and_honeypot() -> None:
    base = parse().normalised_digest()
    assert parse(submission_id="abcdefgh12", captcha_token="x", website="y").normalised_digest() == base


# --- properties -----------------------------------------------------------------------------------
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True),
    st.text(max_size=120),
    st.text(alphabet=st.characters(categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Lo", "So", "Nd")), max_size=40),
    st.sampled_from(["on", "off", "yes", "1", "", "text", "email", "phone", "provider", "+16305550142"]),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_names = st.one_of(st.sampled_from(FORM_FIELDS), st.text(max_size=50))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_names, _values, max_size=25))
def test_parse_never_raises_anything_but_validation_failed(data: dict[str, Any]) -> None:
    failed = validation_failure(data)
    if failed is None:
        sub = parse_submission(data, locations=LOCATIONS)
        json.dumps(sub.model_dump(mode="json"))
        assert len(sub.normalised_digest()) == 64
        return
    assert failed.errors
    for key, sentence in failed.errors.items():
        assert isinstance(key, str)
        assert key
        assert isinstance(sentence, str)
        assert sentence[0].isupper()
        assert sentence.endswith(".")


_marker_values = st.builds(
    lambda prefix, wrap: wrap.format(prefix + MARKER),
    st.text(alphabet="abc<>\n\t\x00 ", max_size=5),
    st.sampled_from(["{}", "<b>{}</b>", "{}@", "+1{}", "{}\u202e", " {} "]),
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(FORM_FIELDS), _marker_values, min_size=1, max_size=12))
def test_sentences_never_contain_the_input(data: dict[str, Any]) -> None:
    failed = validation_failure(data)
    for sentence in failed.errors.values() if failed else ():
        assert MARKER not in sentence


@settings(max_examples=100, deadline=None)
@given(
    first=st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and s.isprintable()),
    spaces=st.sampled_from(["", " ", "  ", "\u00a0"]),
)
def test_digest_is_stable_under_surrounding_whitespace(first: str, spaces: str) -> None:
    try:
        plain = parse(first_name=first)
    except ValidationFailed:
        return
    padded = parse(first_name=spaces + first + spaces)
    assert plain.normalised_digest() == padded.normalised_digest()


# --- cold start -----------------------------------------------------------------------------------
def test_import_does_not_load_email_validator_or_phonenumbers_until_needed() -> None:
    code = (
        "import sys, leads_core.spam, leads_core.crisis, leads_core.captcha\n"
        "import leads_core.submission.schema, leads_core.submission.messages, leads_core.submission.fields\n"
        "import leads_core.submission.model, leads_core.submission.form_body\n"
        "heavy = ('email_validator', 'phonenumbers', 'urllib.request', 'boto3')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "leads_core.submission.fields.warm_up()\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.splitlines() == ["[]", "['email_validator', 'phonenumbers']"]
