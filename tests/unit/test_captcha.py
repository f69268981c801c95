"""Captcha verification against a local fake provider (never the internet) and the SSM secret read (moto)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.exceptions import ClientError
from leads_core import captcha
from leads_core.captcha import (
    ERROR_CODES,
    VERIFY_URLS,
    CaptchaVerdict,
    VerdictCache,
    captcha_secret,
    forget_captcha_secret,
    verify_captcha,
)
from leads_core.errors import CaptchaUnavailable, ConfigurationError


@dataclass
class FakeProvider:
    """A tiny siteverify endpoint on 127.0.0.1; tests set what it answers and read what it received."""

    url: str = ""
    status: int = 200
    body: bytes = b'{"success": true}'
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Current:
    """The FakeProvider of the running test (the server outlives tests; each test gets a fresh one)."""

    fake = FakeProvider()


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake = _Current.fake
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            fake.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "form": {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()},
                }
            )
            if fake.delay:
                time.sleep(fake.delay)
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.body)))
            self.end_headers()
            self.wfile.write(fake.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def provider(provider_url: str) -> FakeProvider:
    _Current.fake = FakeProvider(url=provider_url)
    return _Current.fake


def verify(
    fake: FakeProvider, token: str | None = "tok-1", remote_ip: str | None = "203.0.113.9", **kw: Any
) -> CaptchaVerdict:
    kw.setdefault("timeout", 2.0)
    return verify_captcha("turnstile", token, remote_ip, secret="s3cret", verify_url=fake.url, **kw)


PASSED = CaptchaVerdict("passed", "success")


# --- answers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider_name", ["turnstile", "hcaptcha", "recaptcha"])
def test_success_posts_secret_response_and_remote_ip(provider: FakeProvider, provider_name: str) -> None:
    verdict = verify_captcha(provider_name, "tok-1", "203.0.113.9", secret="s3cret", verify_url=provider.url)
    assert verdict == PASSED
    assert provider.requests == [
        {
            "path": "/siteverify",
            "content_type": "application/x-www-form-urlencoded",
            "form": {"secret": "s3cret", "response": "tok-1", "remoteip": "203.0.113.9"},
        }
    ]


def test_remote_ip_is_optional(provider: FakeProvider) -> None:
    assert verify(provider, remote_ip=None) == PASSED
    assert provider.requests[0]["form"] == {"secret": "s3cret", "response": "tok-1"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Definite: the token itself is not a solved challenge (all three providers).
        (
            b'{"success": false, "error-codes": ["invalid-input-response"]}',
            ("failed", "invalid-input-response"),
        ),
        (
            b'{"success": false, "error-codes": ["missing-input-response"]}',
            ("failed", "missing-input-response"),
        ),
        (
            b'{"success": false, "error-codes": ["invalid-input-response", "missing-input-response"]}',
            ("failed", "invalid-input-response"),
        ),
        # Our secret or request is wrong, or the provider failed: never the visitor's fault.
        (
            b'{"success": false, "error-codes": ["invalid-input-secret"]}',
            ("unverified", "invalid-input-secret"),
        ),
        (
            b'{"success": false, "error-codes": ["missing-input-secret"]}',
            ("unverified", "missing-input-secret"),
        ),
        (b'{"success": false, "error-codes": ["internal-error"]}', ("unverified", "internal-error")),
        (b'{"success": false, "error-codes": ["bad-request"]}', ("unverified", "bad-request")),
        (
            b'{"success": false, "error-codes": ["sitekey-secret-mismatch"]}',
            ("unverified", "sitekey-secret-mismatch"),
        ),
        # A secret error next to a token error: the token could not be judged.
        (
            b'{"success": false, "error-codes": ["invalid-input-response", "invalid-input-secret"]}',
            ("unverified", "invalid-input-secret"),
        ),
        # The token was already used (a retry of the same submission) or expired.
        (
            b'{"success": false, "error-codes": ["timeout-or-duplicate"]}',
            ("unverified", "timeout-or-duplicate"),
        ),
        (
            b'{"success": false, "error-codes": ["invalid-or-already-seen-response"]}',
            ("unverified", "invalid-or-already-seen-response"),
        ),
        # Unknown codes (never logged verbatim), no codes, odd shapes.
        (b'{"success": false, "error-codes": ["new-code<script>"]}', ("unverified", "unknown-error-code")),
        (b'{"success": false, "error-codes": [42]}', ("unverified", "unknown-error-code")),
        (b'{"success": false, "error-codes": []}', ("unverified", "no-error-codes")),
        (b'{"success": false}', ("unverified", "no-error-codes")),
        (b'{"success": "true"}', ("unverified", "malformed-answer")),
        (b'{"success": 1}', ("unverified", "malformed-answer")),
        (b"{}", ("unverified", "malformed-answer")),
    ],
)
def test_only_a_definitely_bad_token_fails(
    provider: FakeProvider, body: bytes, expected: tuple[str, str]
) -> None:
    provider.body = body
    assert verify(provider) == CaptchaVerdict(*expected)  # type: ignore[arg-type]
    assert len(provider.requests) == 1


def test_the_error_code_table_covers_the_documented_codes_of_the_three_providers() -> None:
    token_is_bad = {"missing-input-response", "invalid-input-response"}
    documented = {
        "turnstile": {
            "missing-input-secret",
            "invalid-input-secret",
            "missing-input-response",
            "invalid-input-response",
            "bad-request",
            "timeout-or-duplicate",
            "internal-error",
        },
        "hcaptcha": {
            "missing-input-secret",
            "invalid-input-secret",
            "missing-input-response",
            "invalid-input-response",
            "bad-request",
            "invalid-or-already-seen-response",
            "not-using-dummy-passcode",
            "sitekey-secret-mismatch",
        },
        "recaptcha": {
            "missing-input-secret",
            "invalid-input-secret",
            "missing-input-response",
            "invalid-input-response",
            "bad-request",
            "timeout-or-duplicate",
        },
    }
    for codes in documented.values():
        assert codes <= set(ERROR_CODES)
    assert {code for code, outcome in ERROR_CODES.items() if outcome == "failed"} == token_is_bad


def test_turnstile_gets_the_idempotency_key_and_the_others_do_not(provider: FakeProvider) -> None:
    key = "123e4567-e89b-42d3-a456-426614174000"
    for name in ("turnstile", "hcaptcha", "recaptcha"):
        verify_captcha(name, "tok", None, secret="s", verify_url=provider.url, idempotency_key=key)
    assert [r["form"].get("idempotency_key") for r in provider.requests] == [key, None, None]


def test_turnstile_idempotency_key_is_a_stable_uuid() -> None:
    key = "ab" * 32
    first = captcha.turnstile_idempotency_key(key)
    assert first == captcha.turnstile_idempotency_key(key)
    assert first != captcha.turnstile_idempotency_key("cd" * 32)
    assert len(first) == 36
    assert first[14] == "4"


def test_verdict_cache_keeps_definite_verdicts_bounded_and_expiring() -> None:
    now = [100.0]
    cache = VerdictCache(max_entries=2, ttl_seconds=60, clock=lambda: now[0])
    passed, failed = CaptchaVerdict("passed", "success"), CaptchaVerdict("failed", "invalid-input-response")
    cache.put("a" * 64, passed)
    cache.put("b" * 64, failed)
    cache.put("c" * 64, CaptchaVerdict("unverified", "internal-error"))  # not kept: a retry asks again
    cache.put("not-a-keyed-hash", passed)  # only keyed hashes are keys
    cache.put(None, passed)
    assert (cache.get("a" * 64), cache.get("b" * 64), cache.get("c" * 64)) == (passed, failed, None)
    assert len(cache) == 2
    cache.put("d" * 64, passed)  # over the bound: the oldest goes
    assert cache.get("a" * 64) is None
    assert cache.get("d" * 64) == passed
    now[0] += 61
    assert cache.get("b" * 64) is None
    assert cache.get("d" * 64) is None
    assert len(cache) == 0


@pytest.mark.parametrize("token", [None, "", "   ", "t" * 5000])
def test_missing_or_oversized_token_fails_without_a_call(provider: FakeProvider, token: str | None) -> None:
    assert verify(provider, token=token) == CaptchaVerdict("failed", "no-token")
    assert provider.requests == []


def test_no_provider_configured_passes_without_a_call(provider: FakeProvider) -> None:
    assert verify_captcha("none", None, None, secret="", verify_url=provider.url).outcome == "passed"
    assert provider.requests == []


def test_unknown_provider_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="CAPTCHA_PROVIDER"):
        verify_captcha("friendlycaptcha", "tok", None, secret="s")


def test_default_endpoints_are_the_providers_siteverify_urls() -> None:
    assert VERIFY_URLS == {
        "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        "hcaptcha": "https://api.hcaptcha.com/siteverify",
        "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
    }


# --- no answer ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 403, 429])
def test_http_error_means_unavailable(provider: FakeProvider, status: int) -> None:
    provider.status = status
    with pytest.raises(CaptchaUnavailable):
        verify(provider)


@pytest.mark.parametrize("body", [b"<html>busy</html>", b"", b"[true]", b'"success"', b"\xff\xfe"])
def test_non_json_or_non_object_means_unavailable(provider: FakeProvider, body: bytes) -> None:
    provider.body = body
    with pytest.raises(CaptchaUnavailable):
        verify(provider)


def test_oversized_answer_means_unavailable(provider: FakeProvider) -> None:
    provider.body = b'{"success": true, "pad": "' + b"x" * (captcha.MAX_RESPONSE_BYTES + 10) + b'"}'
    with pytest.raises(CaptchaUnavailable):
        verify(provider)


def test_timeout_means_unavailable(provider: FakeProvider) -> None:
    provider.delay = 1.0
    with pytest.raises(CaptchaUnavailable):
        verify(provider, timeout=0.2)


def test_connection_refused_means_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CaptchaUnavailable):
        verify_captcha("hcaptcha", "tok", None, secret="s", verify_url=f"http://127.0.0.1:{port}/", timeout=1)


def test_unavailable_message_holds_no_secret_or_token(provider: FakeProvider) -> None:
    provider.status = 500
    with pytest.raises(CaptchaUnavailable) as caught:
        verify(provider, token="TOKEN-MARKER")
    assert "TOKEN-MARKER" not in str(caught.value)
    assert "s3cret" not in str(caught.value)


# --- secret from SSM ------------------------------------------------------------------------------
@pytest.fixture
def ssm(aws_mock: None) -> Iterator[Any]:
    forget_captcha_secret()
    yield boto3.client("ssm", region_name="us-east-1")
    forget_captcha_secret()


def test_secret_is_read_decrypted_once_per_container(ssm: Any) -> None:
    ssm.put_parameter(Name="/clinic/captcha", Value="the-secret", Type="SecureString")
    assert captcha_secret("/clinic/captcha") == "the-secret"
    ssm.put_parameter(Name="/clinic/captcha", Value="rotated", Type="SecureString", Overwrite=True)
    assert captcha_secret("/clinic/captcha") == "the-secret"
    forget_captcha_secret()
    assert captcha_secret("/clinic/captcha") == "rotated"


def test_missing_parameter_is_a_configuration_error(ssm: Any) -> None:
    with pytest.raises(ConfigurationError, match="CAPTCHA_SECRET_PARAM"):
        captcha_secret("/clinic/nope")


def test_empty_parameter_name_is_a_configuration_error(ssm: Any) -> None:
    with pytest.raises(ConfigurationError, match="CAPTCHA_SECRET_PARAM"):
        captcha_secret("")


def test_blank_parameter_value_is_a_configuration_error(ssm: Any) -> None:
    ssm.put_parameter(Name="/clinic/blank", Value=" ", Type="String")
    with pytest.raises(ConfigurationError, match="empty"):
        captcha_secret("/clinic/blank")


def test_other_ssm_failures_mean_unavailable_and_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class FlakySSM:
        def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            if len(calls) == 1:
                error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
                raise ClientError(error, "GetParameter")  # type: ignore[arg-type]
            return {"Parameter": {"Value": "later"}}

    forget_captcha_secret()
    monkeypatch.setattr(captcha.aws, "client", lambda service: FlakySSM())
    with pytest.raises(CaptchaUnavailable):
        captcha_secret("/clinic/captcha")
    assert captcha_secret("/clinic/captcha") == "later"
    assert calls == [{"Name": "/clinic/captcha", "WithDecryption": True}] * 2
    forget_captcha_secret()


def test_secret_end_to_end_with_fake_provider(ssm: Any, provider: FakeProvider) -> None:
    ssm.put_parameter(Name="/clinic/captcha", Value="from-ssm", Type="SecureString")
    secret = captcha_secret("/clinic/captcha")
    assert verify_captcha("recaptcha", "tok", None, secret=secret, verify_url=provider.url) == PASSED
    assert json.dumps(provider.requests[0]["form"]) == json.dumps({"secret": "from-ssm", "response": "tok"})
