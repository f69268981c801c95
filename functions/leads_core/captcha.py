"""Server-side captcha verification (Cloudflare Turnstile, hCaptcha, Google reCAPTCHA).

All three providers take the same request: an urlencoded POST of ``secret``, ``response`` (the token the
widget put in the form) and optionally ``remoteip``, answering JSON with a boolean ``success`` and, when it is
false, a list ``error-codes``.

``verify_captcha`` returns a ``CaptchaVerdict``: ``passed``, ``failed`` or ``unverified``, with the code that
decided it. Only a definite "this token is not a solved challenge" is ``failed`` (the lead becomes spam): a
missing or blank token (no call), or ``success: false`` whose error codes all say the token itself is bad
(``ERROR_CODES``, one table for the three providers). Everything else that is not ``success: true`` is
``unverified`` (``intake.accept`` accepts the lead, flagged ``captcha_unverified``): the provider's own
errors, our secret or request being wrong (``invalid-input-secret`` after a rotated or mistyped secret,
``sitekey-secret-mismatch``, ``bad-request``, Turnstile's retryable ``internal-error``), codes we do not know,
``success: false`` without codes, an answer that is not the documented shape, and a token already verified
(``timeout-or-duplicate``, hCaptcha's ``invalid-or-already-seen-response``). One misconfigured secret must not
turn every lead, crisis ones included, into silent spam; the ``CaptchaUnverified`` metric and its alarm tell
ops instead. ``CaptchaUnavailable`` is raised when no answer could be had (network error, timeout, HTTP error,
a body that is not JSON); ``intake.accept`` treats it as ``unverified`` too.

Retries. Tokens are single-use and are checked before the write, so the retry the contract promises after a
``503`` re-sends a used token. Two things keep that retry from becoming spam:

* ``VerdictCache``: this container remembers each definite verdict (``passed``/``failed``) for
  ``VERDICT_TTL_SECONDS`` under a key derived from the submission (``intake.ProviderCaptcha``): the keyed
  hash (HMAC, purpose ``captcha``) of its idempotency key and content digest, so a retry of the *same*
  submission needs no token and another submission cannot borrow a verdict. It is bounded
  (``VERDICT_CACHE_SIZE`` entries, oldest dropped first) and holds no visitor value. With Turnstile the same
  key also goes to the provider as ``idempotency_key`` (a UUID), so a retry on another container gets the
  first answer again.
* A retry that lands on another container without that answer sees "token already used", which is
  ``unverified``, not spam: the lead is stored once (the idempotency record) and alerted, flagged for review.
  The price: a bot that replays one solved token is flagged rather than quarantined; the honeypot, the spam
  rules, the rate limit and the alarm still apply.

The secret comes from SSM Parameter Store via ``captcha_secret`` (read once per container). ``urllib.request``
is imported on first use only (cold start).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from leads_core import aws
from leads_core.errors import CaptchaUnavailable, ConfigurationError
from leads_core.memory import BoundedMemory

VERIFY_URLS: dict[str, str] = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
    "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
}
NO_CAPTCHA = "none"
MAX_TOKEN_LENGTH = 4096
MAX_RESPONSE_BYTES = 64 * 1024

Outcome = Literal["passed", "failed", "unverified"]
PASSED: Outcome = "passed"
FAILED: Outcome = "failed"
UNVERIFIED: Outcome = "unverified"

# What each documented siteverify error code means for the lead (T = Turnstile, H = hCaptcha, R = reCAPTCHA).
# Only FAILED codes make a lead spam, and only when every code of the answer is one; any other code, known
# or not, leaves the lead unverified.
ERROR_CODES: dict[str, Outcome] = {
    # The token itself is bad: not a solved challenge.
    "missing-input-response": FAILED,  # T H R: no token reached the provider
    "invalid-input-response": FAILED,  # T H R: invalid, malformed or (T) expired token
    # The token was already verified (a retry of this submission) or has expired: not proof of a bot.
    "timeout-or-duplicate": UNVERIFIED,  # T R
    "invalid-or-already-seen-response": UNVERIFIED,  # H
    "already-seen-response": UNVERIFIED,  # H
    "expired-input-response": UNVERIFIED,  # H
    # Our secret, site key or request is wrong: a configuration problem, never the visitor's.
    "missing-input-secret": UNVERIFIED,  # T H R
    "invalid-input-secret": UNVERIFIED,  # T H R
    "invalid-parsed-secret": UNVERIFIED,  # T
    "sitekey-secret-mismatch": UNVERIFIED,  # H
    "invalid-sitekey": UNVERIFIED,  # H
    "not-using-dummy-passcode": UNVERIFIED,  # H: test site key with a real token
    "not-using-dummy-secret": UNVERIFIED,  # H
    "missing-remoteip": UNVERIFIED,  # H
    "invalid-remoteip": UNVERIFIED,  # H
    "bad-request": UNVERIFIED,  # T H R
    "invalid-widget-id": UNVERIFIED,  # T
    # The provider failed.
    "internal-error": UNVERIFIED,  # T: retryable
}
# Logged instead of a code the table does not know (a provider's answer is not ours to log verbatim).
UNKNOWN_CODE = "unknown-error-code"

VERDICT_TTL_SECONDS = 15 * 60  # longer than any provider's token lifetime (T 300 s, R 120 s)
VERDICT_CACHE_SIZE = 1024

_secret_lock = threading.Lock()
_secrets: dict[str, str] = {}
_VERDICT_KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CaptchaVerdict:
    """``outcome`` and the code that decided it: ``success``, ``no-token``, ``no-captcha``, a siteverify
    error code from ``ERROR_CODES``, ``unknown-error-code``, ``no-error-codes`` or ``malformed-answer``."""

    outcome: Outcome
    code: str

    @property
    def definite(self) -> bool:
        return self.outcome != UNVERIFIED


def classify(answer: dict[str, Any]) -> CaptchaVerdict:
    """The verdict of a siteverify JSON answer (see ``ERROR_CODES``)."""
    success = answer.get("success")
    if success is True:
        return CaptchaVerdict(PASSED, "success")
    if success is not False:
        return CaptchaVerdict(UNVERIFIED, "malformed-answer")
    raw = answer.get("error-codes")
    if not isinstance(raw, list) or not raw:
        return CaptchaVerdict(UNVERIFIED, "no-error-codes")
    codes = [code if isinstance(code, str) and code in ERROR_CODES else UNKNOWN_CODE for code in raw]
    undecided = [code for code in codes if ERROR_CODES.get(code) != FAILED]
    if undecided:
        return CaptchaVerdict(UNVERIFIED, undecided[0])
    return CaptchaVerdict(FAILED, codes[0])


def verify_captcha(  # noqa: PLR0913 - the provider request's fields, keyword-only after token and address
    provider: str,
    token: str | None,
    remote_ip: str | None,
    *,
    secret: str,
    verify_url: str | None = None,
    timeout: float = 3.0,
    idempotency_key: str | None = None,
) -> CaptchaVerdict:
    """Ask the provider whether ``token`` is a solved challenge.

    ``provider`` ``"none"`` means no captcha is configured: ``passed`` without a call. A missing, blank or
    oversized token is ``failed`` without a call. ``verify_url`` overrides the provider's endpoint (tests,
    ``CAPTCHA_VERIFY_URL``). ``idempotency_key`` (a UUID) is sent to Turnstile only, which answers a retry
    carrying the same key and token with the first result. Raises ``CaptchaUnavailable`` when no answer
    could be had.
    """
    if provider == NO_CAPTCHA:
        return CaptchaVerdict(PASSED, "no-captcha")
    if provider not in VERIFY_URLS:
        raise ConfigurationError("CAPTCHA_PROVIDER: must be one of none, turnstile, hcaptcha, recaptcha")
    if not token or not token.strip() or len(token) > MAX_TOKEN_LENGTH:
        return CaptchaVerdict(FAILED, "no-token")
    form = {"secret": secret, "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    if idempotency_key and provider == "turnstile":
        form["idempotency_key"] = idempotency_key
    return classify(_post_form(verify_url or VERIFY_URLS[provider], form, timeout))


def turnstile_idempotency_key(verdict_key: str) -> str:
    """A UUID (version 4 layout) derived from a ``VerdictCache`` key: stable for retries of one submission."""
    import uuid  # noqa: PLC0415 - cold start

    return str(uuid.UUID(hex=verdict_key[:32], version=4))


class VerdictCache:
    """Definite verdicts of this container by submission key (a 64-hex keyed hash), bounded and expiring."""

    def __init__(
        self,
        max_entries: int = VERDICT_CACHE_SIZE,
        ttl_seconds: float = VERDICT_TTL_SECONDS,
        clock: Any = time.monotonic,
    ) -> None:
        self._memory: BoundedMemory[str, CaptchaVerdict] = BoundedMemory(max_entries, ttl_seconds, clock)

    def get(self, key: str | None) -> CaptchaVerdict | None:
        return None if key is None else self._memory.get(key)

    def put(self, key: str | None, verdict: CaptchaVerdict) -> None:
        """Remember a definite verdict (``unverified`` ones are not kept: the retry asks again)."""
        if key is None or not verdict.definite or not _VERDICT_KEY.match(key):
            return
        self._memory.put(key, verdict)

    def clear(self) -> None:
        self._memory.clear()

    def __len__(self) -> int:
        return len(self._memory)


verdicts = VerdictCache()


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


def captcha_secret(parameter_name: str, ssm: Any | None = None) -> str:
    """The captcha secret from SSM Parameter Store (``WithDecryption``), read once per container.

    ``ssm`` is the client to read it with (default ``aws.client("ssm")``). A missing parameter or an empty
    value raises ``ConfigurationError`` (naming the setting, not the value); any other AWS failure raises
    ``CaptchaUnavailable`` and is retried on the next call.
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
            client = ssm if ssm is not None else aws.client("ssm")
            answer = client.get_parameter(Name=parameter_name, WithDecryption=True)
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


def forget_verdicts() -> None:
    """Drop the remembered verdicts (tests: a retry reaching another container)."""
    verdicts.clear()
