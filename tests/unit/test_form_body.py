"""parse_form_body: application/x-www-form-urlencoded decoding, repeated keys, limits."""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leads_core.errors import ValidationFailed
from leads_core.submission.form_body import parse_form_body
from leads_core.submission.model import parse_submission
from leads_core.submission.schema import MAX_FIELD_COUNT

REPEATED = "This field was sent more than once."


def test_browser_form_body_decodes_to_fields() -> None:
    body = (
        "first_name=Jos%C3%A9&last_name=O%27Brien+Smith&email=jose%40example.com"
        "&phone=%28630%29+555-0142&consent_privacy=on&message=Line+1%0D%0ALine+2&website="
    )
    assert parse_form_body(body) == {
        "first_name": "José",
        "last_name": "O'Brien Smith",
        "email": "jose@example.com",
        "phone": "(630) 555-0142",
        "consent_privacy": "on",
        "message": "Line 1\r\nLine 2",
        "website": "",
    }


def test_form_fields_parse_into_a_submission() -> None:
    body = urlencode(
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "phone": "630.555.0142",
            "preferred_contact": "text",
            "consent_sms": "on",
            "consent_privacy": "on",
            "in_crisis": "",
            "service": "anxiety",
            "utm_source": "google",
        }
    )
    sub = parse_submission(parse_form_body(body), locations=("naperville",))
    assert sub.phone == "+16305550142"
    assert sub.preferred_contact == "text"
    assert (sub.consent_sms, sub.in_crisis) == (True, False)
    assert sub.attribution == {"utm_source": "google"}


def test_empty_body_is_no_fields() -> None:
    assert parse_form_body("") == {}


def test_blank_values_and_bare_keys_are_kept() -> None:
    assert parse_form_body("a=&b") == {"a": "", "b": ""}


def test_same_value_twice_is_accepted_once() -> None:
    assert parse_form_body("consent_privacy=on&consent_privacy=on") == {"consent_privacy": "on"}


def test_repeated_key_with_different_values_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_form_body("first_name=Ann&email=a%40b.co&first_name=Bob&email=c%40d.co&phone=1")
    assert caught.value.errors == {"first_name": REPEATED, "email": REPEATED}
    assert "Ann" not in str(caught.value.errors)
    assert "Bob" not in str(caught.value.errors)


def test_repeated_unsafe_key_is_reported_generically() -> None:
    name = "%3Cscript%3E"
    with pytest.raises(ValidationFailed) as caught:
        parse_form_body(f"{name}=1&{name}=2")
    assert caught.value.errors == {"_repeated": REPEATED}


def test_repeated_keys_are_capped() -> None:
    body = "&".join(f"f{i}=1&f{i}=2" for i in range(25))
    with pytest.raises(ValidationFailed) as caught:
        parse_form_body(body)
    assert len(caught.value.errors) == 11
    assert caught.value.errors["_repeated"] == REPEATED


@pytest.mark.parametrize("body", ["first_name=%FF%FE", "message=%C3%28", "a=%ED%A0%80"])
def test_undecodable_body_raises_value_error(body: str) -> None:
    with pytest.raises(ValueError, match="could not be decoded"):
        parse_form_body(body)


def test_too_many_fields_raise_value_error() -> None:
    assert len(parse_form_body("&".join(f"f{i}=x" for i in range(MAX_FIELD_COUNT)))) == MAX_FIELD_COUNT
    with pytest.raises(ValueError, match="could not be decoded"):
        parse_form_body("&".join(f"f{i}=x" for i in range(MAX_FIELD_COUNT + 1)))


def test_plus_and_percent_escapes() -> None:
    assert parse_form_body("message=a+b%2Bc%26d%3De") == {"message": "a b+c&d=e"}


def test_semicolon_is_not_a_separator() -> None:
    assert parse_form_body("first_name=Ann;last_name=Lee") == {"first_name": "Ann;last_name=Lee"}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_body_decodes_or_raises_only_value_error_or_validation_failed(body: str) -> None:
    outcome = _decode(body)
    if isinstance(outcome, ValidationFailed):
        assert set(outcome.errors.values()) == {REPEATED}
        return
    if outcome is None:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in outcome.items())
    with contextlib.suppress(ValidationFailed):
        parse_submission(outcome, locations=("naperville",))


def _decode(body: str) -> dict[str, str] | ValidationFailed | None:
    """The fields, the ValidationFailed raised, or None for a ValueError (400)."""
    try:
        return parse_form_body(body)
    except ValidationFailed as failed:
        return failed
    except ValueError:
        return None
