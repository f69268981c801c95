"""Function settings: one pydantic model read from the environment, failing fast with the variable's name.

``load_settings()`` is called once per container (cached). A bad value raises ``ConfigurationError`` whose
message names the environment variable and the rule it broke, never the value itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from leads_core.errors import ConfigurationError

if TYPE_CHECKING:
    from leads_core.hours import SlaPolicy

AlertDetail = Literal["minimal", "contact", "full"]
CaptchaProvider = Literal["none", "turnstile", "hcaptcha", "recaptcha"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

# Environment variable of every field (the field name upper-cased unless listed here).
_ENV_NAMES: dict[str, str] = {}


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


def normalise_console_url(value: str) -> str:
    """The staff console's URL as alerts link to it (``<CONSOLE_URL>#<lead id>``): ``https`` (plain ``http``
    only on 127.0.0.1 or localhost), no user name, query or fragment, only characters an SMS carries as they
    are, and a path that ends with ``/``. Raises ``ValueError`` with the rule broken (never the value)."""
    from leads_core.gsm7 import SMS_SAFE  # noqa: PLC0415

    if not value or not all(c in SMS_SAFE and c != " " for c in value):
        raise ValueError(
            "must be a URL of plain ASCII characters an SMS carries as they are (no spaces, ~ [ ] { } | \\ ^)"
        )
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("must be an absolute https URL such as https://example.com/v1/staff/") from None
    loopback = parts.scheme == "http" and host in _LOOPBACK_HOSTS
    if not host or (parts.scheme != "https" and not loopback):
        raise ValueError("must be an https URL (plain http only for 127.0.0.1 or localhost)")
    if "@" in parts.netloc or parts.query or parts.fragment or "#" in value or "?" in value:
        raise ValueError("must not hold a user name, query or fragment (alerts add #<lead id> to it)")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


@lru_cache(maxsize=4)
def _sla_policy(
    business_hours: str, locations: tuple[str, ...], first_contact_minutes: float, urgent_minutes: float
) -> SlaPolicy:
    from leads_core.hours import SlaPolicy, parse_business_hours  # noqa: PLC0415

    return SlaPolicy(parse_business_hours(business_hours, locations), first_contact_minutes, urgent_minutes)


class Settings(BaseModel):
    """Every setting of contract section 2.6 plus the names of the resources the template wires in."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=3, max_length=255)
    topic_arn: str = Field(default="", description="Staff alert topic; required by the alert function")
    allowed_origins: tuple[str, ...] = ()
    thank_you_url: str = "http://127.0.0.1:3000/thank-you"
    form_url: str = "http://127.0.0.1:3000/"
    locations: tuple[str, ...] = ("naperville",)
    clinic_name: str = Field(default="Clinic", min_length=1, max_length=60)
    alert_detail: AlertDetail = "minimal"
    retention_days: int = Field(default=730, ge=1, le=3650)
    spam_retention_days: int = Field(default=30, ge=1, le=365)
    rate_limit_per_hour: int = Field(default=10, ge=1, le=10_000)
    captcha_provider: CaptchaProvider = "none"
    captcha_secret_param: str = Field(default="", description="SSM parameter holding the captcha secret")
    captcha_verify_url: str = Field(default="", description="Override of the provider's verify URL (tests)")
    hash_key_secret_id: str = Field(default="", description="Secrets Manager secret of the keyed-hash key")
    topic_display_name: str = Field(
        default="Clinic leads", max_length=40, description="The staff topic's DisplayName (SMS prefix)"
    )
    alert_storm_threshold: int = Field(default=20, ge=1, le=10_000)
    # After topic_display_name: its check needs the SMS prefix. Required by the alert functions.
    console_url: str = Field(default="", description="The staff console; alerts link to <CONSOLE_URL>#<id>")
    # Speed to lead (contract section 8, leads_core.hours): checked here, so a bad value stops any function.
    business_hours: str = Field(default="", description="Per-location business hours (leads_core.hours)")
    first_contact_sla_minutes: float = Field(default=15.0, gt=0, le=10_080)
    urgent_sla_minutes: float = Field(default=5.0, gt=0, le=10_080)

    @field_validator("allowed_origins", "locations", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin in {"*", "null"}:
                raise ValueError("must list exact origins; '*' and 'null' are refused")
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
                raise ValueError("each origin must look like https://www.example.com")
        return tuple(o.rstrip("/") for o in value)

    @field_validator("locations")
    @classmethod
    def _locations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one location slug")
        for slug in value:
            if not _SLUG.match(slug):
                raise ValueError("each location must be a lower-case slug such as 'naperville'")
        return value

    @field_validator("business_hours")
    @classmethod
    def _business_hours(cls, value: str, info: ValidationInfo) -> str:
        from leads_core.hours import parse_business_hours  # noqa: PLC0415

        if value.strip() and "locations" in info.data:  # else LOCATIONS' own error is the one to fix first
            parse_business_hours(value.strip(), info.data["locations"])
        return value.strip()

    def sla_policy(self) -> SlaPolicy:
        """Business hours and SLAs (leads_core.hours); parsed once per container, not per request."""
        return _sla_policy(
            self.business_hours, self.locations, self.first_contact_sla_minutes, self.urgent_sla_minutes
        )

    @field_validator("topic_display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        from leads_core.gsm7 import SMS_SAFE  # noqa: PLC0415

        if not all(c in SMS_SAFE for c in value):
            raise ValueError("must be ASCII letters, digits and punctuation of the GSM-7 basic alphabet")
        return value

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        url = normalise_console_url(value)
        display_name = info.data.get("topic_display_name")
        if isinstance(display_name, str):  # else TOPIC_DISPLAY_NAME itself is reported
            from leads_core.alerts import console_link_problem  # noqa: PLC0415

            problem = console_link_problem(url, display_name)
            if problem:
                raise ValueError(problem)
        return url

    @field_validator("thank_you_url", "form_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("captcha_verify_url")
    @classmethod
    def _optional_url(cls, value: str) -> str:
        return _check_url(value) if value else value

    def require_submit(self) -> Settings:
        """Extra rules for the submit function: exact CORS origins and a captcha secret when configured."""
        if not self.allowed_origins:
            raise ConfigurationError("ALLOWED_ORIGINS: must list at least one exact origin")
        if self.captcha_provider != "none" and not self.captcha_secret_param:
            raise ConfigurationError("CAPTCHA_SECRET_PARAM: required when CAPTCHA_PROVIDER is not 'none'")
        return self

    def require_alerts(self) -> Settings:
        """Extra rules for the functions that render alerts: the topic, and the console alerts link to."""
        if not self.topic_arn.startswith("arn:"):
            raise ConfigurationError("TOPIC_ARN: must be the ARN of the staff alert topic")
        if not self.console_url:
            raise ConfigurationError(
                "CONSOLE_URL: required by the alert functions: the staff console's URL (https://.../staff/),"
                " which every alert links to"
            )
        return self


def settings_from(environ: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping; raise ``ConfigurationError`` naming the bad variable."""
    values: dict[str, str] = {}
    for name in Settings.model_fields:
        env_name = _ENV_NAMES.get(name, name.upper())
        if env_name in environ and environ[env_name] != "":
            values[name] = environ[env_name]
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]) if error["loc"] else "?"
            env_name = _ENV_NAMES.get(field, field.upper())
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{env_name}: {message}")
        raise ConfigurationError("Invalid function settings: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Settings of this container (cached; tests call ``load_settings.cache_clear()``)."""
    return settings_from(os.environ)
