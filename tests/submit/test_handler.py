"""The submit function end to end: events from events/ -> the real handler -> moto table, read back."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from leads_core import crisis, pages
from leads_core.settings import load_settings

from tests.conftest import load_event
from tests.submit.conftest import (
    FaultInjector,
    Invoker,
    from_ip,
    leads_in,
    response_header,
    response_json,
    set_header,
    with_body,
)

Items = Callable[[], list[dict[str, Any]]]
ORIGIN = "https://www.example-clinic.com"
ACCEPTED_KEYS = {"id", "status", "message", "urgent", "support"}


def body_of(event_name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event(event_name)["body"])
    return body


def assert_policy_headers(response: dict[str, Any]) -> None:
    assert response_header(response, "Cache-Control") == "no-store"
    assert response_header(response, "X-Content-Type-Options") == "nosniff"
    assert response_header(response, "Vary") == "Origin"


def test_valid_json_is_stored_once_with_normalised_values(invoke: Invoker, table_items: Items) -> None:
    response = invoke(load_event("submit_valid_json"))

    assert response["statusCode"] == 201
    body = response_json(response)
    assert set(body) == ACCEPTED_KEYS
    assert body["status"] == "received"
    assert body["urgent"] is False
    assert body["support"]["crisis_line"]["call"] == "988"
    assert body["support"]["emergency"]["call"] == "911"
    assert response_header(response, "Access-Control-Allow-Origin") == ORIGIN
    assert_policy_headers(response)

    items = table_items()
    (lead,) = leads_in(items)
    assert lead["id"] == body["id"]
    assert lead["status"] == "new"
    assert lead["email"] == "Jordan.Sample@example.com"
    assert lead["phone"] == "+16305550142"
    assert lead["best_time"] == "evening"
    assert lead["consent_privacy"] is True
    assert lead["consent_privacy_at"] == lead["created_at"]
    assert lead["attribution"] == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "tms-fall",
        "landing_page": "https://www.example-clinic.com/anxiety",
    }
    assert lead["channel"] == "json"
    assert "website" not in lead
    assert "203.0.113.10" not in json.dumps(items, default=str)
    assert lead["expires_at"] - int(lead["expires_at"]) == 0


def test_plain_form_gets_303_with_only_ref_added(
    invoke: Invoker, table_items: Items, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THANK_YOU_URL", "https://www.example-clinic.com/thank-you?lang=en&ref=old#top")
    load_settings.cache_clear()

    response = invoke(load_event("submit_valid_form"))

    assert response["statusCode"] == 303
    location = response_header(response, "Location") or ""
    (lead,) = leads_in(table_items())
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "www.example-clinic.com",
        "/thank-you",
        "top",
    )
    assert parse_qs(parts.query) == {"lang": ["en"], "ref": [lead["id"]]}
    assert lead["channel"] == "form"
    assert lead["preferred_contact"] == "text"
    assert lead["consent_sms"] is True
    assert lead["consent_sms_at"] == lead["created_at"]
    assert lead["message"] == "Looking for help with depression. Evenings after 5 work best.\nThanks!"
    assert_policy_headers(response)


def test_form_variants_script_json_and_base64(invoke: Invoker, table_items: Items) -> None:
    event = load_event("submit_valid_form")
    set_header(event, "Accept", "application/json")
    response = invoke(event)
    assert response["statusCode"] == 201
    assert set(response_json(response)) == ACCEPTED_KEYS

    encoded = invoke(load_event("submit_base64_form"))
    assert encoded["statusCode"] == 303
    lead = next(lead for lead in leads_in(table_items()) if lead["first_name"] == "Quinn")
    assert lead["preferred_contact"] == "email"
    assert "consent_sms_at" not in lead


def test_invalid_json_gets_422_with_sentences_and_nothing_is_stored(
    invoke: Invoker, table_items: Items
) -> None:
    response = invoke(load_event("submit_invalid_json"))

    assert response["statusCode"] == 422
    body = response_json(response)
    assert set(body) == {"message", "errors"}
    assert body["errors"]["email"] == "Enter a valid email address."
    assert {
        "first_name",
        "last_name",
        "phone",
        "preferred_contact",
        "consent_privacy",
        "favourite_colour",
    } <= set(body["errors"])
    submitted = body_of("submit_invalid_json")
    for value in ("Injected", "jordan.sample@", "12345", "fax", "blue"):
        assert value in json.dumps(submitted)
        assert value not in response["body"]
    assert table_items() == []


def test_invalid_plain_form_gets_an_escaped_html_page(invoke: Invoker, table_items: Items) -> None:
    event = load_event("submit_invalid_form")
    json_event = load_event("submit_invalid_form")
    set_header(json_event, "Accept", "application/json")

    page = invoke(event)
    as_json = invoke(json_event)

    assert page["statusCode"] == as_json["statusCode"] == 422
    assert response_header(page, "Content-Type") == "text/html; charset=utf-8"
    html = page["body"]
    for sentence in response_json(as_json)["errors"].values():
        assert sentence.replace("'", "&#x27;") in html
    assert 'href="https://www.example-clinic.com/consultation"' in html
    assert "988" in html
    assert "911" in html
    assert "<script>" not in html
    assert "alert(" not in html
    assert "not-an-email" not in html
    assert table_items() == []


def test_html_page_escapes_what_it_shows() -> None:
    html = pages.error_page(
        "T", "<b>summary</b>", {"x[1]": "<img src=x onerror=alert(1)>"}, "https://a/?q=\"'<"
    )
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;summary&lt;/b&gt;" in html
    assert 'href="https://a/?q=&quot;&#x27;&lt;"' in html


def test_spam_is_answered_like_a_lead_and_quarantined(invoke: Invoker, table_items: Items) -> None:
    spam_response = invoke(load_event("submit_spam_honeypot"))
    real_response = invoke(load_event("submit_valid_json"))
    replay = invoke(load_event("submit_spam_honeypot"))

    assert spam_response["statusCode"] == real_response["statusCode"] == 201
    spam_body, real_body = response_json(spam_response), response_json(real_response)
    assert set(spam_body) == set(real_body)
    assert {k: v for k, v in spam_body.items() if k != "id"} == {
        k: v for k, v in real_body.items() if k != "id"
    }
    assert spam_response["multiValueHeaders"].keys() == real_response["multiValueHeaders"].keys()
    assert response_json(replay)["id"] == spam_body["id"]

    spam_lead = next(lead for lead in leads_in(table_items()) if lead["id"] == spam_body["id"])
    assert spam_lead["status"] == "spam"
    assert spam_lead["spam_reasons"] == ["honeypot"]
    created = int(spam_lead["expires_at"]) - 30 * 86400
    real_lead = next(lead for lead in leads_in(table_items()) if lead["id"] == real_body["id"])
    assert int(real_lead["expires_at"]) - created >= 700 * 86400
    assert len(leads_in(table_items())) == 2


def test_idempotency_key_replays_and_conflicts(invoke: Invoker, table_items: Items) -> None:
    event = load_event("submit_duplicate")
    first = invoke(event)
    second = invoke(event)

    assert first["statusCode"] == second["statusCode"] == 201
    assert response_json(first) == response_json(second)

    changed = with_body(event, {**body_of("submit_duplicate"), "message": "A different request."})
    conflict = invoke(changed)
    assert conflict["statusCode"] == 409
    assert set(response_json(conflict)) == {"message", "errors"}

    header_only = with_body(
        event, {k: v for k, v in body_of("submit_duplicate").items() if k != "submission_id"}
    )
    assert response_json(invoke(header_only))["id"] == response_json(first)["id"]

    (lead,) = leads_in(table_items())
    assert lead["submission_id"] == "f3b9c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def test_idempotency_header_and_field_must_agree(invoke: Invoker, table_items: Items) -> None:
    event = with_body(
        load_event("submit_duplicate"),
        {**body_of("submit_duplicate"), "submission_id": "another-key-123"},
    )
    response = invoke(event)
    assert response["statusCode"] == 422
    assert set(response_json(response)["errors"]) == {"submission_id"}
    bad_key = with_body(
        load_event("submit_valid_json"), body_of("submit_valid_json"), Idempotency_Key="short"
    )
    assert invoke(bad_key)["statusCode"] == 422
    assert table_items() == []


def test_keyless_identical_submission_collapses(invoke: Invoker, table_items: Items) -> None:
    first = response_json(invoke(load_event("submit_valid_json")))
    reordered = dict(reversed(list(body_of("submit_valid_json").items())))
    reordered["first_name"] = "  Jordan "
    second = response_json(invoke(with_body(load_event("submit_valid_json"), reordered)))
    form_first = invoke(load_event("submit_valid_form"))
    form_again = invoke(load_event("submit_valid_form"))

    assert second["id"] == first["id"]
    assert response_header(form_first, "Location") == response_header(form_again, "Location")
    assert len(leads_in(table_items())) == 2


def test_rate_limit_answers_429_and_a_duplicate_still_replays(
    invoke: Invoker, table_items: Items, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_HOUR", "3")
    load_settings.cache_clear()
    keyed = load_event("submit_duplicate")
    first = response_json(invoke(keyed))
    base = body_of("submit_valid_json")
    statuses = []
    for n in range(3):
        event = from_ip(
            with_body(load_event("submit_valid_json"), {**base, "message": f"Request {n}"}), "203.0.113.14"
        )
        statuses.append(invoke(event))

    assert [r["statusCode"] for r in statuses] == [201, 201, 429]
    limited = statuses[-1]
    retry_after = int(response_header(limited, "Retry-After") or "0")
    assert 1 <= retry_after <= 3600
    assert response_header(limited, "Access-Control-Expose-Headers") == "Retry-After"
    assert set(response_json(limited)) == {"message", "errors"}
    assert response_json(invoke(keyed))["id"] == first["id"]
    assert len(leads_in(table_items())) == 3
    other_source = from_ip(
        with_body(load_event("submit_valid_json"), {**base, "message": "x"}), "198.51.100.77"
    )
    assert invoke(other_source)["statusCode"] == 201


def test_throttled_storage_gives_503_then_the_retry_succeeds_exactly_once(
    invoke: Invoker, faults: FaultInjector, table_items: Items
) -> None:
    event = load_event("submit_duplicate")
    faults.fail("GetSecretValue", "ThrottlingException")  # the cold start's hash key read
    no_key = invoke(event)
    faults.clear()
    faults.fail("TransactWriteItems", "ProvisionedThroughputExceededException")
    unavailable = invoke(event)
    faults.fail("TransactWriteItems", "ThrottlingException")
    throttled = invoke(event)

    for response in (no_key, unavailable, throttled):
        assert response["statusCode"] == 503
        assert int(response_header(response, "Retry-After") or "0") >= 1
        assert set(response_json(response)) == {"message", "errors"}
    assert table_items() == []
    assert faults.injected == 3

    faults.clear()
    first, again = invoke(event), invoke(event)
    assert first["statusCode"] == again["statusCode"] == 201
    assert response_json(first)["id"] == response_json(again)["id"]
    assert len(leads_in(table_items())) == 1


def test_crisis_lead_is_urgent_with_support_first(invoke: Invoker, table_items: Items) -> None:
    response = invoke(load_event("submit_crisis"))
    body = response_json(response)

    assert response["statusCode"] == 201
    assert body["urgent"] is True
    assert body["message"].index("988") < body["message"].index("received")
    assert "911" in body["message"]
    assert body["support"]["crisis_line"]["text"] == "988"
    (lead,) = leads_in(table_items())
    assert lead["urgent"] is True
    assert lead["urgent_reasons"] == ["self_reported", "message"]
    assert lead["in_crisis"] is True


def test_provider_referral_is_stored_with_provider_contact(invoke: Invoker, table_items: Items) -> None:
    response = invoke(load_event("submit_provider_referral"))
    assert response["statusCode"] == 201
    (lead,) = leads_in(table_items())
    assert lead["referral_type"] == "provider"
    assert lead["provider_name"] == "Dr. Taylor Example"
    assert lead["provider_phone"] == "+13125550175"
    assert lead["provider_email"] == "referrals@example-family-medicine.com"
    assert "email" not in lead
    assert "phone" not in lead
    assert "email_hash" not in lead


# --- origins ------------------------------------------------------------------------------------------------


def test_preflight_from_allowed_origin(invoke: Invoker) -> None:
    response = invoke(load_event("preflight_allowed"))
    assert response["statusCode"] == 204
    assert response_header(response, "Access-Control-Allow-Origin") == ORIGIN
    assert response_header(response, "Vary") == "Origin"
    assert response_header(response, "Access-Control-Allow-Methods") == "POST"
    assert response_header(response, "Access-Control-Allow-Headers") == "Content-Type, Idempotency-Key"
    assert not response["body"]

    without_origin = load_event("preflight_allowed")
    set_header(without_origin, "Origin", None)
    plain = invoke(without_origin)
    assert plain["statusCode"] == 204
    assert response_header(plain, "Access-Control-Allow-Origin") is None
    assert response_header(plain, "Allow") == "OPTIONS, POST"


def test_preflight_from_other_origins_is_403(invoke: Invoker) -> None:
    for origin in ("https://evil.example", "null", "https://www.example-clinic.com.evil.example"):
        event = load_event("preflight_disallowed")
        set_header(event, "Origin", origin)
        response = invoke(event)
        assert response["statusCode"] == 403, origin
        assert response_header(response, "Access-Control-Allow-Origin") is None
        assert_policy_headers(response)


def test_post_origins(invoke: Invoker, table_items: Items) -> None:
    for origin in (
        "https://evil.example",
        "null",
        "http://www.example-clinic.com",
        "HTTPS://WWW.EXAMPLE-CLINIC.COM",
    ):
        event = load_event("submit_valid_json")
        set_header(event, "Origin", origin)
        response = invoke(event)
        assert response["statusCode"] == 403, origin
        assert response_header(response, "Access-Control-Allow-Origin") is None
    assert table_items() == []

    no_origin = load_event("submit_valid_json")
    set_header(no_origin, "Origin", None)
    accepted = invoke(no_origin)
    assert accepted["statusCode"] == 201
    assert response_header(accepted, "Access-Control-Allow-Origin") is None
    assert len(leads_in(table_items())) == 1

    two_origins = load_event("submit_valid_json")
    two_origins["multiValueHeaders"]["Origin"] = [ORIGIN, "https://evil.example"]
    assert invoke(two_origins)["statusCode"] == 403


# --- size, type, malformed bodies ---------------------------------------------------------------------------


def test_body_size_limit(invoke: Invoker, table_items: Items) -> None:
    base = load_event("submit_valid_json")
    padding = 16 * 1024 - len(json.dumps({**body_of("submit_valid_json"), "heard_about": ""}))
    at_limit = json.dumps({**body_of("submit_valid_json"), "heard_about": "x" * padding})
    assert len(at_limit.encode()) == 16 * 1024
    over_limit = at_limit.replace('"heard_about": "x', '"heard_about": "xx')

    assert invoke(with_body(base, at_limit))["statusCode"] == 422  # read and validated (heard_about too long)
    too_big = invoke(with_body(base, over_limit))
    assert too_big["statusCode"] == 413
    assert set(response_json(too_big)) == {"message", "errors"}
    multibyte = json.dumps({"message": "é" * 9000}, ensure_ascii=False)
    assert len(multibyte) < 16 * 1024 < len(multibyte.encode())
    assert invoke(with_body(base, multibyte))["statusCode"] == 413

    encoded = load_event("submit_base64_form")
    encoded["body"] = base64.b64encode(b"first_name=" + b"a" * (16 * 1024)).decode()
    assert invoke(encoded)["statusCode"] == 413
    huge_form = load_event("submit_valid_form")
    huge_form["body"] = "message=" + "a" * 1_000_000
    huge = invoke(huge_form)
    assert huge["statusCode"] == 413
    assert response_header(huge, "Content-Type") == "text/html; charset=utf-8"
    assert table_items() == []


def test_unsupported_content_type_is_415(invoke: Invoker, table_items: Items) -> None:
    unsupported = (
        None,
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=utf-16",
    )
    for content_type in unsupported:
        event = load_event("submit_valid_json")
        set_header(event, "Content-Type", content_type)
        response = invoke(event)
        assert response["statusCode"] == 415, content_type
        assert set(response_json(response)) == {"message", "errors"}
    assert table_items() == []

    odd_but_fine = load_event("submit_valid_json")
    set_header(odd_but_fine, "Content-Type", 'Application/JSON; charset="UTF-8"')
    assert invoke(odd_but_fine)["statusCode"] == 201


MALFORMED_JSON = {
    "truncated": '{"first_name": "Jordan",',
    "array": "[1, 2, 3]",
    "string": '"just a string"',
    "null": "null",
    "empty": "",
    "nan": '{"first_name": NaN}',
    "deep": "[" * 5000 + "]" * 5000,
    "huge-int": '{"n": 1' + "0" * 5000 + "}",
    "lone-surrogate": "\ud800",
}


def test_malformed_json_and_undecodable_bodies_are_400(invoke: Invoker, table_items: Items) -> None:
    for label, body in MALFORMED_JSON.items():
        response = invoke(with_body(load_event("submit_valid_json"), body))
        assert response["statusCode"] == 400, label
        assert set(response_json(response)) == {"message", "errors"}
    assert table_items() == []

    not_base64 = load_event("submit_base64_form")
    not_base64["body"] = "%%% not base64 %%%"
    bad_utf8 = load_event("submit_base64_form")
    bad_utf8["body"] = base64.b64encode(b"first_name=\xff\xfe").decode()
    bad_escape = load_event("submit_valid_form")
    bad_escape["body"] = "first_name=%FF%FE&last_name=x"
    json_bytes = load_event("submit_valid_json")
    json_bytes["body"] = base64.b64encode(b'{"first_name": "\xc3"}').decode()
    json_bytes["isBase64Encoded"] = True
    for event in (not_base64, bad_utf8, bad_escape, json_bytes):
        assert invoke(event)["statusCode"] == 400


def test_missing_or_odd_event_parts_never_give_5xx(invoke: Invoker) -> None:
    valid = load_event("submit_valid_json")
    only_multi = load_event("submit_valid_json")
    only_multi["headers"] = None
    only_single = load_event("submit_valid_json")
    only_single["multiValueHeaders"] = None
    no_headers = load_event("submit_valid_json")
    no_headers["headers"] = no_headers["multiValueHeaders"] = None
    no_body = load_event("submit_valid_json")
    no_body["body"] = None
    no_body_form = load_event("submit_valid_form")
    no_body_form["body"] = None
    no_context = from_ip(load_event("submit_valid_json"), "198.51.100.3")
    del no_context["requestContext"]
    not_text = load_event("submit_valid_json")
    not_text["body"] = {"first_name": "x"}
    no_method = load_event("submit_valid_json")
    del no_method["httpMethod"]
    other_method = load_event("submit_valid_json")
    other_method["httpMethod"] = "GET"

    results = {
        "valid": invoke(valid)["statusCode"],
        "only_multi": invoke(only_multi)["statusCode"],
        "only_single": invoke(only_single)["statusCode"],
        "no_headers": invoke(no_headers)["statusCode"],
        "no_body": invoke(no_body)["statusCode"],
        "no_body_form": invoke(no_body_form)["statusCode"],
        "no_context": invoke(no_context)["statusCode"],
        "not_text": invoke(not_text)["statusCode"],
        "no_method": invoke(no_method)["statusCode"],
        "other_method": invoke(other_method)["statusCode"],
    }
    assert results == {
        "valid": 201,
        "only_multi": 201,  # same lead again: replayed
        "only_single": 201,
        "no_headers": 415,
        "no_body": 400,
        "no_body_form": 422,
        "no_context": 201,
        "not_text": 400,
        "no_method": 400,
        "other_method": 404,
    }


def test_routing_of_paths_and_methods(invoke: Invoker, table_items: Items) -> None:
    """One path, trailing slashes allowed, exact case; POST and OPTIONS only; a refused origin is 403 on
    every path, before the route is looked up; a 404 is JSON with the policy headers."""

    def status(path: str, method: str = "POST", origin: str | None = None) -> int:
        event = from_ip(load_event("submit_valid_json"), "198.51.100.77")
        event["path"] = path
        event["httpMethod"] = method
        if origin is not None:
            set_header(event, "Origin", origin)
        return int(invoke(event)["statusCode"])

    statuses = {
        "trailing slash": status("/consultations/"),
        "two trailing slashes": status("/consultations//"),
        "upper case": status("/Consultations"),
        "below": status("/consultations/x"),
        "double leading slash": status("//consultations"),
        "stage prefix": status("/prod/consultations"),
        "root": status("/"),
        "lower-case method": status("/consultations", "post"),
        "options below": status("/consultations/x", "OPTIONS"),
        "put": status("/consultations", "PUT"),
        "refused origin, unknown path": status("/elsewhere", "GET", "https://evil.example"),
    }
    assert statuses == {
        "trailing slash": 201,
        "two trailing slashes": 201,  # the same lead again: replayed
        "upper case": 404,
        "below": 404,
        "double leading slash": 404,
        "stage prefix": 404,
        "root": 404,
        "lower-case method": 201,
        "options below": 404,
        "put": 404,
        "refused origin, unknown path": 403,
    }
    assert len(leads_in(table_items())) == 1
    event = load_event("submit_valid_json")
    event["path"] = "/elsewhere"
    not_found = invoke(event)
    assert response_json(not_found) == {"message": "There is nothing here.", "errors": {}}
    assert response_header(not_found, "Content-Type") == "application/json"
    assert_policy_headers(not_found)


# --- the bad-input classes of the issue ---------------------------------------------------------------------


def submit_json(invoke: Invoker, changes: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    fields = {k: v for k, v in {**body_of("submit_valid_json"), **changes}.items() if k not in drop}
    return invoke(with_body(load_event("submit_valid_json"), fields))


def test_field_level_bad_input(invoke: Invoker, table_items: Items) -> None:
    cases: dict[str, tuple[dict[str, Any], tuple[str, ...], set[str]]] = {
        "huge first name": ({"first_name": "A" * 81}, (), {"first_name"}),
        "huge message": ({"message": "m" * 2001}, (), {"message"}),
        "huge attribution": ({"utm_source": "u" * 501}, (), {"utm_source"}),
        "newline in name": ({"first_name": "Jordan\nBCC: x"}, (), {"first_name"}),
        "control char in name": ({"last_name": "Sam\x00ple"}, (), {"last_name"}),
        "tab in name": ({"last_name": "Sam\tple"}, (), {"last_name"}),
        "bidi override in name": ({"first_name": "Jo\u202erdan"}, (), {"first_name"}),
        "phone too short": ({"phone": "12345"}, (), {"phone"}),
        "phone letters": ({"phone": "555-CALL-NOW"}, (), {"phone"}),
        "phone too long": ({"phone": "555-555-5555555555"}, (), {"phone"}),
        "phone as number": ({"phone": 6305550142}, (), {"phone"}),
        "email without domain": ({"email": "jordan.sample@"}, (), {"email"}),
        "email two ats": ({"email": "a@b@example.com"}, (), {"email"}),
        "email spaces": ({"email": "jordan sample@example.com"}, (), {"email"}),
        "email header injection": ({"email": "a@example.com\r\nBcc: b@example.com"}, (), {"email"}),
        "consent missing": ({}, ("consent_privacy",), {"consent_privacy"}),
        "consent false word": ({"consent_privacy": "no"}, (), {"consent_privacy"}),
        "consent odd word": ({"consent_privacy": "ja"}, (), {"consent_privacy"}),
        "consent number 2": ({"consent_privacy": 2}, (), {"consent_privacy"}),
        "unknown field": ({"favourite_colour": "blue"}, (), {"favourite_colour"}),
        "name as object": ({"first_name": {"$ne": ""}}, (), {"first_name"}),
        "name as list": ({"last_name": ["a", "b"]}, (), {"last_name"}),
        "unknown location": ({"location": "atlantis"}, (), {"location"}),
        "sms without consent": ({"preferred_contact": "text", "consent_sms": False}, (), {"consent_sms"}),
    }
    for label, (changes, drop, fields) in cases.items():
        response = submit_json(invoke, changes, drop=drop)
        assert response["statusCode"] == 422, label
        assert set(response_json(response)["errors"]) == fields, label
    assert table_items() == []


def test_booleans_in_odd_spellings_are_accepted(invoke: Invoker, table_items: Items) -> None:
    spellings: tuple[object, ...] = (True, "true", "TRUE", "on", "On", "yes", "YES", "1", 1, " yes ")
    for n, spelling in enumerate(spellings):
        response = submit_json(invoke, {"consent_privacy": spelling, "message": f"Spelling {n}"})
        assert response["statusCode"] == 201, spelling
    leads = leads_in(table_items())
    assert len(leads) == len(spellings)
    assert all(lead["consent_privacy"] is True for lead in leads)


def test_html_and_script_in_every_field(invoke: Invoker, table_items: Items) -> None:
    script = "<script>alert(document.cookie)</script>"
    every_field = dict.fromkeys(body_of("submit_valid_json"), script)
    rejected = invoke(with_body(load_event("submit_valid_json"), every_field))
    assert rejected["statusCode"] == 422
    assert "<script" not in rejected["body"]
    assert "alert(" not in rejected["body"]
    html_page = load_event("submit_invalid_form")
    html_page["body"] = urlencode(every_field)
    page = invoke(html_page)
    assert page["statusCode"] == 422
    assert "<script" not in page["body"]

    text_fields = ("first_name", "last_name", "message", "heard_about", "utm_campaign", "landing_page")
    accepted = submit_json(invoke, {name: f"<b>{name}</b>{script}" for name in text_fields})
    assert accepted["statusCode"] == 201
    assert "<script" not in accepted["body"]
    (lead,) = leads_in(table_items())
    assert lead["first_name"] == f"<b>first_name</b>{script}"  # stored as typed; every renderer escapes
    assert lead["attribution"]["utm_campaign"] == f"<b>utm_campaign</b>{script}"


def test_emoji_and_right_to_left_text_are_stored_as_typed(invoke: Invoker, table_items: Items) -> None:
    names = {
        "first_name": "محمد",
        "last_name": "Ng 🌻",
        "message": "שלום, I would like help 🙏 with anxiety.",
    }
    form = load_event("submit_valid_form")
    form["body"] = urlencode({**dict(parse_qs_single(form["body"])), **names})
    assert invoke(form)["statusCode"] == 303
    (lead,) = leads_in(table_items())
    assert (lead["first_name"], lead["last_name"], lead["message"]) == (
        names["first_name"],
        names["last_name"],
        names["message"],
    )


def parse_qs_single(body: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def test_repeated_keys_with_changed_payload(invoke: Invoker, table_items: Items) -> None:
    form = load_event("submit_valid_form")
    form["body"] += "&first_name=Mallory"
    form_response = invoke(form)
    assert form_response["statusCode"] == 422
    assert "First name:</strong> This field was sent more than once." in form_response["body"]

    json_event = load_event("submit_valid_json")
    json_event["body"] = json_event["body"][:-1] + ', "email": "mallory@example.com"}'
    json_response = invoke(json_event)
    assert json_response["statusCode"] == 422
    assert set(response_json(json_response)["errors"]) == {"email"}
    assert "mallory" not in json_response["body"]

    same_twice = load_event("submit_valid_form")
    same_twice["body"] += "&first_name=Riley"
    assert invoke(same_twice)["statusCode"] == 303
    assert len(leads_in(table_items())) == 1


def test_a_bug_answers_500_without_echoing_anything(
    invoke: Invoker, table_items: Items, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("Jordan.Sample@Example.COM")  # a bug whose message quotes input

    monkeypatch.setattr(crisis, "crisis_reasons", broken)
    response = invoke(load_event("submit_valid_json"))
    assert response["statusCode"] == 500
    assert "Jordan" not in response["body"]
    assert set(response_json(response)) == {"message", "errors"}
    assert_policy_headers(response)
    assert table_items() == []
