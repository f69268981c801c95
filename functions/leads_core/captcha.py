"""Server-side captcha verification (Cloudflare Turnstile, hCaptcha, Google reCAPTCHA).

All three providers take the same request: an urlencoded POST of ``secret``, ``response`` (the token the
widget put in the form) and optionally ``remoteip``, answering JSON with a boolean ``success``.

``verify_captcha`` returns ``True``/``False`` for a definite answer and raises ``CaptchaUnavailable`` when no
answer could be had (network error, timeout, HTTP error, a body that is not the expected JSON); the handler
decides what that means. The secret comes from SSM Parameter Store via ``captcha_secret`` (read once per
container). ``urllib.request`` is imported on first use only (cold start).
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlencode

from leads_core import aws
from leads_core.errors import CaptchaUnavailable, ConfigurationError

VERIFY_URLS: dict[str, str] = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
    "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
}
NO_CAPTCHA = "none"
MAX_TOKEN_LENGTH = 4096
MAX_RESPONSE_BYTES = 64 * 1024

_secret_lock = threading.Lock()
_secrets: dict[str, str] = {}


def verify_captcha(
    provider: str,
    token: str | None,
    remote_ip: str | None,
    *,
    secret: str,
    verify_url: str | None = None,
    timeout: float = 3.0,
) -> bool:
    """Ask the provider whether ``token`` is a solved challenge.

    ``provider`` ``"none"`` means no captcha is configured: always ``True`` without a call. A missing, blank
    or oversized token is ``False`` without a call. ``verify_url`` overrides the provider's endpoint (tests,
    ``CAPTCHA_VERIFY_URL``).
    """
    if provider == NO_CAPTCHA:
        return True
    if provider not in VERIFY_URLS:
        raise ConfigurationError("CAPTCHA_PROVIDER: must be one of none, turnstile, hcaptcha, recaptcha")
    if not token or not token.strip() or len(token) > MAX_TOKEN_LENGTH:
        return False
    form = {"secret": secret, "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    answer = _post_form(verify_url or VERIFY_URLS[provider], form, timeout)
    return answer.get("success") is True


def _post_form(url: str, form: dict[str, str], timeout: float) -> dict[str, Any]:
    import urllib.error  # noqa: PLC0415 - cold start
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(  # noqa: S310 - the URL is a constant or an https/http setting
        url,
        data=urlencode(form).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:  # HTTPError is a URLError; timeouts OSError
        raise CaptchaUnavailable(f"captcha provider unreachable: {type(exc).__name__}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise CaptchaUnavailable("captcha provider answered with an oversized body")
    try:
        answer = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise CaptchaUnavailable("captcha provider answered with something that is not JSON") from None
    if not isinstance(answer, dict):
        raise CaptchaUnavailable("captcha provider answered with JSON that is not an object")
    return answer


def captcha_secret(parameter_name: str) -> str:
    """The captcha secret from SSM Parameter Store (``WithDecryption``), read once per container.

    A missing parameter or an empty value raises ``ConfigurationError`` (naming the setting, not the value);
    any other AWS failure raises ``CaptchaUnavailable`` and is retried on the next call.
    """
    cached = _secrets.get(parameter_name)
    if cached is not None:
        return cached
    if not parameter_name:
        raise ConfigurationError("CAPTCHA_SECRET_PARAM: required when CAPTCHA_PROVIDER is not 'none'")
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - cold start

    with _secret_lock:
        cached = _secrets.get(parameter_name)
        if cached is not None:
            return cached
        try:
            answer = aws.client("ssm").get_parameter(Name=parameter_name, WithDecryption=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise ConfigurationError("CAPTCHA_SECRET_PARAM: the SSM parameter does not exist") from None
            raise CaptchaUnavailable("captcha secret could not be read from SSM") from None
        except BotoCoreError:
            raise CaptchaUnavailable("captcha secret could not be read from SSM") from None
        value = str(answer.get("Parameter", {}).get("Value", ""))
        if not value.strip():
            raise ConfigurationError("CAPTCHA_SECRET_PARAM: the SSM parameter is empty")
        _secrets[parameter_name] = value
        return value


def forget_captcha_secret() -> None:
    """Drop the cached secret(s) (tests, secret rotation)."""
    with _secret_lock:
        _secrets.clear()
