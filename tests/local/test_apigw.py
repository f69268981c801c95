"""The API Gateway REST proxy emulation: event shape (against the recorded events/) and responses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from leads_local.apigw import HttpRequest, LambdaContext, build_event, http_response

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))


def _request(**overrides: object) -> HttpRequest:
    values: dict[str, object] = {
        "method": "POST",
        "path": "/consultations",
        "query": "",
        "headers": [
            ("Host", "127.0.0.1:3000"),
            ("Origin", "http://127.0.0.1:3000"),
            ("Content-Type", "application/json"),
            ("User-Agent", "pytest"),
        ],
        "body": b'{"first_name": "A"}',
        "source_ip": "127.0.0.1",
        "server_port": 3000,
    }
    values.update(overrides)
    return HttpRequest(**values)  # type: ignore[arg-type]


def _recorded(prefix: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in EVENTS if p.name.startswith(prefix)]


@pytest.mark.skipif(not _recorded("submit_"), reason="events/submit_*.json not written yet")
def test_event_has_the_keys_of_the_recorded_submit_events() -> None:
    event = build_event(_request())
    for recorded in _recorded("submit_") + _recorded("preflight_"):
        assert set(event) == set(recorded)
        assert set(event["requestContext"]) == set(recorded["requestContext"])
        assert set(event["requestContext"]["identity"]) == set(recorded["requestContext"]["identity"])
        assert event["resource"] == recorded["resource"]
        assert event["requestContext"]["stage"] == recorded["requestContext"]["stage"]
        assert event["requestContext"]["path"] == recorded["requestContext"]["path"]


def test_event_values() -> None:
    now = datetime(2026, 11, 29, 13, 45, 1, tzinfo=UTC)
    event = build_event(_request(source_ip="10.1.2.3"), request_id="req-1", now=now)
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/consultations"
    assert event["body"] == '{"first_name": "A"}'
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["headers"]["Origin"] == "http://127.0.0.1:3000"
    assert event["headers"]["X-Forwarded-For"] == "10.1.2.3"
    context = event["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "pytest"
    assert context["requestTime"] == "29/Nov/2026:13:45:01 +0000"
    assert context["requestTimeEpoch"] == int(now.timestamp() * 1000)
    assert context["resourcePath"] == "/consultations"
    assert context["httpMethod"] == "POST"


def test_repeated_headers_and_query_parameters() -> None:
    request = _request(
        query="a=1&a=2&b=",
        headers=[
            ("Accept", "text/html"),
            ("Accept", "application/json"),
            ("X-Forwarded-For", "198.51.100.7"),
        ],
    )
    event = build_event(request)
    assert event["headers"]["Accept"] == "application/json"  # last value wins
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.7, 127.0.0.1"


def test_empty_body_is_none_and_undecodable_body_is_base64() -> None:
    assert build_event(_request(method="OPTIONS", body=b""))["body"] is None
    raw = b"first_name=\xff\xfe"
    event = build_event(_request(body=raw, headers=[("Content-Type", "application/x-www-form-urlencoded")]))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_binary_media_types_are_base64() -> None:
    request = _request(body=b"abc", headers=[("Content-Type", "image/png")])
    event = build_event(request, binary_types=["image/*"])
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"abc"


def test_response_headers_are_merged_and_body_decoded() -> None:
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Vary": "Origin"},
            "multiValueHeaders": {"Vary": ["Origin", "Accept"], "Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b'{"id": "X"}').decode(),
            "isBase64Encoded": True,
        },
        "req-1",
    )
    assert response.status == 201
    assert response.body == b'{"id": "X"}'
    assert [v for n, v in response.headers if n == "Vary"] == ["Origin", "Accept"]
    assert [v for n, v in response.headers if n == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("x-amzn-RequestId", "req-1") in response.headers


@pytest.mark.parametrize(
    "result",
    [None, "text", {"body": "no status"}, {"statusCode": "abc"}, {"statusCode": 200, "headers": ["x"]}],
)
def test_malformed_integration_response_is_502(result: object) -> None:
    response = http_response(result, "req-2")
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_lambda_context_counts_down() -> None:
    context = LambdaContext(function_name="f", aws_request_id="r", timeout_seconds=10)
    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000
    assert context.invoked_function_arn.endswith(":function:f")
