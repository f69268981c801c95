"""A bad setting stops the function at start; captcha outcomes (verified, failed, unreachable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from leads_core import captcha
from leads_core.errors import CaptchaUnavailable
from leads_core.settings import load_settings

from tests.conftest import REPO_ROOT, load_event
from tests.submit.conftest import Invoker, leads_in, response_json, with_body

_START_PROBE = """
import importlib, os, sys
from leads_core.errors import ConfigurationError
from leads_core.settings import load_settings
cases = [
    {"ALLOWED_ORIGINS": "*"},
    {"ALLOWED_ORIGINS": ""},
    {"ALLOWED_ORIGINS": "https://www.example-clinic.com", "RATE_LIMIT_PER_HOUR": "lots"},
    {"ALLOWED_ORIGINS": "https://www.example-clinic.com", "THANK_YOU_URL": "javascript:alert(1)"},
    {"ALLOWED_ORIGINS": "https://www.example-clinic.com", "CAPTCHA_PROVIDER": "turnstile"},
]
for case in cases:
    os.environ.update(case)
    load_settings.cache_clear()
    sys.modules.pop("submit_consultation.app", None)
    try:
        importlib.import_module("submit_consultation.app")
        print("STARTED")
    except ConfigurationError as exc:
        print("REFUSED", exc)
    for name in case:
        os.environ.pop(name)
"""


def test_bad_settings_stop_the_function_at_start_naming_the_variable() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("functions", "infrastructure")),
        "TABLE_NAME": "clinic-leads-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", _START_PROBE], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 5
    expected = [
        "ALLOWED_ORIGINS",
        "ALLOWED_ORIGINS",
        "RATE_LIMIT_PER_HOUR",
        "THANK_YOU_URL",
        "CAPTCHA_SECRET_PARAM",
    ]
    for line, variable in zip(lines, expected, strict=True):
        assert line.startswith("REFUSED"), line
        assert variable in line
    assert "lots" not in result.stdout
    assert "javascript" not in result.stdout


class FakeProvider:
    """Stands in for the provider's HTTPS endpoint (``captcha._post_form``)."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] | None = {"success": True}
        self.requests: list[dict[str, str]] = []

    def __call__(self, url: str, form: dict[str, str], timeout: float) -> dict[str, Any]:
        self.requests.append({"url": url, **form})
        if self.answer is None:
            raise CaptchaUnavailable("captcha provider unreachable: TimeoutError")
        return self.answer


@pytest.fixture
def provider(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/clinic-leads/captcha-secret", Value="captcha-secret-value", Type="SecureString"
    )
    monkeypatch.setenv("CAPTCHA_PROVIDER", "turnstile")
    monkeypatch.setenv("CAPTCHA_SECRET_PARAM", "/clinic-leads/captcha-secret")
    load_settings.cache_clear()
    fake = FakeProvider()
    monkeypatch.setattr(captcha, "_post_form", fake)
    captcha.forget_captcha_secret()
    captcha.forget_verdicts()
    yield fake
    captcha.forget_captcha_secret()
    captcha.forget_verdicts()


def submit_with_token(invoke: Invoker, token: str | None, message: str) -> dict[str, Any]:
    fields = {**json.loads(load_event("submit_valid_json")["body"]), "message": message}
    if token is not None:
        fields["captcha_token"] = token
    return invoke(with_body(load_event("submit_valid_json"), fields))


def test_captcha_outcomes(invoke: Invoker, provider: FakeProvider, table_items: Any) -> None:
    verified = submit_with_token(invoke, "token-ok", "verified")
    provider.answer = {"success": False, "error-codes": ["invalid-input-response"]}
    failed = submit_with_token(invoke, "token-bad", "failed")
    missing = submit_with_token(invoke, None, "missing")
    provider.answer = None
    unreachable = submit_with_token(invoke, "token-unchecked", "unreachable")

    for response in (verified, failed, missing, unreachable):
        assert response["statusCode"] == 201
        assert set(response_json(response)) == {"id", "status", "message", "urgent", "support"}
    assert [r["response"] for r in provider.requests] == ["token-ok", "token-bad", "token-unchecked"]
    assert provider.requests[0]["secret"] == "captcha-secret-value"
    assert provider.requests[0]["remoteip"] == "203.0.113.10"

    by_message = {lead["message"]: lead for lead in leads_in(table_items())}
    assert by_message["verified"]["status"] == "new"
    assert "review_flags" not in by_message["verified"]
    assert by_message["failed"]["status"] == "spam"
    assert by_message["failed"]["spam_reasons"] == ["captcha"]
    assert by_message["missing"]["status"] == "spam"
    assert by_message["unreachable"]["status"] == "new"
    assert by_message["unreachable"]["review_flags"] == ["captcha_unverified"]
    assert all("captcha_token" not in lead for lead in by_message.values())
