"""No client input produces a 5xx: random bodies, content types, origins, keys and methods (bounded run)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leads_core.settings import load_settings

from tests.conftest import load_event
from tests.submit.conftest import Invoker, set_header

FIELD_NAMES = ["first_name", "last_name", "email", "phone", "consent_privacy", "preferred_contact", "message"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
json_objects = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), json_values, max_size=8)
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    json_objects.map(json.dumps),
    st.builds(
        lambda fields: "&".join(f"{k}={v}" for k, v in fields.items()),
        json_objects.map(lambda obj: {k: str(v) for k, v in obj.items()}),
    ),
)
requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["POST", "POST", "POST", "OPTIONS", "GET", "DELETE"]),
        "content_type": st.sampled_from(
            [
                None,
                "",
                "application/json",
                "application/json; charset=utf-8",
                "application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded; charset=ISO-8859-1",
                "application/json; charset=bogus",
                "text/plain",
                ";;;",
                "application/json;charset",
            ]
        ),
        "body": bodies,
        "base64": st.booleans(),
        "raw_bytes": st.binary(max_size=64),
        "origin": st.sampled_from(
            [None, "https://www.example-clinic.com", "null", "https://evil.example", ""]
        ),
        "accept": st.sampled_from([None, "application/json", "text/html", "*/*", ""]),
        "key": st.none() | st.text(max_size=70),
    }
)


@pytest.fixture
def fuzz_invoke(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> Invoker:
    monkeypatch.setenv("RATE_LIMIT_PER_HOUR", "10000")
    load_settings.cache_clear()
    return invoke


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_no_client_input_gives_a_5xx(fuzz_invoke: Invoker, request: dict[str, Any]) -> None:
    event = load_event("submit_valid_json")
    event["httpMethod"] = request["method"]
    for name, value in (
        ("Content-Type", request["content_type"]),
        ("Origin", request["origin"]),
        ("Accept", request["accept"]),
        ("Idempotency-Key", request["key"]),
    ):
        set_header(event, name, value)
    body = request["body"]
    if request["base64"]:
        raw = body.encode("utf-8", "surrogatepass") if body is not None else request["raw_bytes"]
        event["body"] = base64.b64encode(raw).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
        event["isBase64Encoded"] = False

    response = fuzz_invoke(event)

    assert response["statusCode"] in {201, 204, 303, 400, 403, 404, 409, 413, 415, 422}, response["body"]
