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
from leads_core.captcha import VERIFY_URLS, captcha_secret, forget_captcha_secret, verify_captcha
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
) -> bool:
    kw.setdefault("timeout", 2.0)
    return verify_captcha("turnstile", token, remote_ip, secret="s3cret", verify_url=fake.url, **kw)


# --- answers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider_name", ["turnstile", "hcaptcha", "recaptcha"])
def test_success_posts_secret_response_and_remote_ip(provider: FakeProvider, provider_name: str) -> None:
    assert verify_captcha(provider_name, "tok-1", "203.0.113.9", secret="s3cret", verify_url=provider.url)
    assert provider.requests == [
        {
            "path": "/siteverify",
            "content_type": "application/x-www-form-urlencoded",
            "form": {"secret": "s3cret", "response": "tok-1", "remoteip": "203.0.113.9"},
        }
    ]


def test_remote_ip_is_optional(provider: FakeProvider) -> None:
    assert verify(provider, remote_ip=None)
    assert provider.requests[0]["form"] == {"secret": "s3cret", "response": "tok-1"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"success": false, "error-codes": ["invalid-input-response"]}',
        b'{"success": "true"}',
        b'{"success": 1}',
        b"{}",
    ],
)
def test_anything_but_success_true_is_a_failed_captcha(provider: FakeProvider, body: bytes) -> None:
    provider.body = body
    assert verify(provider) is False
    assert len(provider.requests) == 1


@pytest.mark.parametrize("token", [None, "", "   ", "t" * 5000])
def test_missing_or_oversized_token_fails_without_a_call(provider: FakeProvider, token: str | None) -> None:
    assert verify(provider, token=token) is False
    assert provider.requests == []


def test_no_provider_configured_passes_without_a_call(provider: FakeProvider) -> None:
    assert verify_captcha("none", None, None, secret="", verify_url=provider.url) is True
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
    assert verify_captcha("recaptcha", "tok", None, secret=secret, verify_url=provider.url)
    assert json.dumps(provider.requests[0]["form"]) == json.dumps({"secret": "from-ssm", "response": "tok"})
