"""The ``Submission`` model and ``parse_submission``, the only way in: the cross-field rules of the form.

``parse_submission(fields, locations=...)`` reads every field (``fields.FieldReader``), applies the rules that
involve several fields (contact method, provider referrals, consent to texts) and raises ``ValidationFailed``
whose ``errors`` map each bad field to ONE sentence (``messages``). The decisions are listed in the package
docstring (``leads_core.submission``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from pydantic import BaseModel, ConfigDict, Field

from leads_core.errors import ValidationFailed
from leads_core.keys import ATTRIBUTION_FIELDS
from leads_core.submission.fields import SINGLE_LINE_FORBIDDEN, FieldReader, reportable_field_name
from leads_core.submission.messages import (
    MSG_ATTRIBUTION,
    MSG_BEST_TIME,
    MSG_CAPTCHA,
    MSG_CONSENT_PRIVACY,
    MSG_CONSENT_SMS,
    MSG_CONSENT_SMS_INVALID,
    MSG_CONTACT_MISSING,
    MSG_EMAIL_INVALID,
    MSG_EMAIL_REQUIRED,
    MSG_HEARD_ABOUT_INVALID,
    MSG_HEARD_ABOUT_TOO_LONG,
    MSG_IN_CRISIS_INVALID,
    MSG_NOT_A_FORM,
    MSG_PHONE_INVALID,
    MSG_PHONE_REQUIRED,
    MSG_PREFERRED_CONTACT,
    MSG_PROVIDER_CONTACT_MISSING,
    MSG_PROVIDER_EMAIL_INVALID,
    MSG_PROVIDER_NAME_REQUIRED,
    MSG_PROVIDER_PHONE_INVALID,
    MSG_REFERRAL_TYPE,
    MSG_SERVICE,
    MSG_SUBMISSION_ID,
    MSG_UNKNOWN_FIELD,
    MSG_UNKNOWN_FIELDS_GENERIC,
    NAME_SENTENCES,
    location_choices_sentence,
)
from leads_core.submission.schema import (
    BEST_TIMES,
    CONTACT_ERROR_FIELD,
    FORM_ERROR_KEY,
    KNOWN_FIELDS,
    MAX_ATTRIBUTION_LENGTH,
    MAX_CAPTCHA_TOKEN_LENGTH,
    MAX_HEARD_ABOUT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PROVIDER_TEXT_LENGTH,
    MAX_UNKNOWN_FIELD_ERRORS,
    MAX_WEBSITE_LENGTH,
    PREFERRED_CONTACTS,
    REFERRAL_TYPES,
    SERVICES,
    UNKNOWN_FIELDS_ERROR_KEY,
    BestTime,
    PreferredContact,
    ReferralType,
    Service,
)

_SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_BEST_TIME_ALIASES = {"any_time": "any", "anytime": "any"}


class Submission(BaseModel):
    """A validated, normalised consultation request. Build it with ``parse_submission``."""

    # Not ``defer_build``: measured, it only moves pydantic's one-time set-up to ``Settings`` (also built at
    # import), so the import does not get shorter.
    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = Field(default=None, description="E.164")
    preferred_contact: PreferredContact
    best_time: BestTime = "any"
    service: Service = "other"
    location: str
    referral_type: ReferralType = "self"
    provider_name: str | None = None
    provider_practice: str | None = None
    provider_email: str | None = None
    provider_phone: str | None = Field(default=None, description="E.164")
    message: str | None = None
    heard_about: str | None = None
    consent_privacy: bool
    consent_sms: bool = False
    in_crisis: bool = False
    submission_id: str | None = None
    attribution: dict[str, str] = Field(default_factory=dict)
    website: str | None = Field(default=None, description="honeypot value, only for spam rules")
    captcha_token: str | None = None

    def normalised_digest(self) -> str:
        """sha256 hex of the submission's content, for key-less dedupe and idempotency-key conflicts.

        Excludes ``submission_id``, ``captcha_token`` and ``website``. Text is compared with whitespace runs
        collapsed and case folded (emails included, local part too); phones are already E.164.
        """
        return digest_of(self.model_dump())


_NOT_DIGESTED = frozenset({"submission_id", "captcha_token", "website"})


def digest_of(dumped: Mapping[str, Any]) -> str:
    """``Submission.normalised_digest`` from the submission's ``model_dump()`` (either mode: every value is
    text, a boolean, ``None`` or a dict of text): a caller that already has the dump does not dump twice."""
    canonical = {key: _digest_value(value) for key, value in dumped.items() if key not in _NOT_DIGESTED}
    payload = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(("submission-v1\n" + payload).encode("utf-8", "surrogatepass")).hexdigest()


def _digest_value(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, dict):
        return {k: _digest_value(v) for k, v in value.items()}
    return value


def _attribution(reader: FieldReader) -> dict[str, str]:
    values: dict[str, str] = {}
    for field in ATTRIBUTION_FIELDS:
        value = reader.single_line(
            field, max_length=MAX_ATTRIBUTION_LENGTH, invalid=MSG_ATTRIBUTION, too_long=MSG_ATTRIBUTION
        )
        if value is not None:
            values[field] = value
    return values


def _honeypot(raw: object) -> str | None:
    """The honeypot value, truncated; any non-empty value (of any type) counts as filled in."""
    if raw is None or raw is False:
        return None
    if isinstance(raw, str):
        value = raw.strip()
        return value[:MAX_WEBSITE_LENGTH] or None
    return "(non-text value)"


def _unknown_fields(reader: FieldReader, fields: Mapping[str, object]) -> None:
    reported = 0
    unreported = False
    for name in fields:
        if name in KNOWN_FIELDS:
            continue
        safe = reportable_field_name(name)
        if safe is not None and reported < MAX_UNKNOWN_FIELD_ERRORS:
            reader.fail(safe, MSG_UNKNOWN_FIELD.format(name=safe))
            reported += 1
        else:
            unreported = True
    if unreported:
        reader.fail(UNKNOWN_FIELDS_ERROR_KEY, MSG_UNKNOWN_FIELDS_GENERIC)


def parse_submission(fields: Mapping[str, object], *, locations: Sequence[str]) -> Submission:
    """Validate and normalise ``fields`` (decoded JSON object or form fields) into a ``Submission``.

    Raises ``ValidationFailed`` with one visitor sentence per bad field. ``locations`` are the configured
    location slugs (``Settings.locations``); the first is the default.
    """
    if not locations:
        raise ValueError("locations must list at least one slug")
    if not isinstance(fields, Mapping):
        raise ValidationFailed({FORM_ERROR_KEY: MSG_NOT_A_FORM})
    read = FieldReader(fields)

    # Fields are read in form order: the first sentence recorded for a field is the one reported.
    first_name = _required_name(read, "first_name")
    last_name = _required_name(read, "last_name")
    email = read.email("email", MSG_EMAIL_INVALID)
    phone = read.phone("phone", MSG_PHONE_INVALID)
    explicit_contact = read.choice("preferred_contact", PREFERRED_CONTACTS, MSG_PREFERRED_CONTACT)
    best_time = read.choice("best_time", BEST_TIMES, MSG_BEST_TIME, aliases=_BEST_TIME_ALIASES) or "any"
    service = read.choice("service", SERVICES, MSG_SERVICE) or "other"
    location = read.choice("location", locations, location_choices_sentence(locations), separator="-")
    referral_type = read.choice("referral_type", REFERRAL_TYPES, MSG_REFERRAL_TYPE) or "self"
    provider = _provider(read) if referral_type == "provider" else _Provider()
    message = read.message()
    heard_about = read.single_line(
        "heard_about",
        max_length=MAX_HEARD_ABOUT_LENGTH,
        invalid=MSG_HEARD_ABOUT_INVALID,
        too_long=MSG_HEARD_ABOUT_TOO_LONG,
    )
    consent_privacy = read.boolean("consent_privacy", MSG_CONSENT_PRIVACY)
    if not consent_privacy:
        read.fail("consent_privacy", MSG_CONSENT_PRIVACY)
    consent_sms = read.boolean("consent_sms", MSG_CONSENT_SMS_INVALID)
    in_crisis = read.boolean("in_crisis", MSG_IN_CRISIS_INVALID)

    _contact_rules(read, _Contact(explicit_contact, email, phone, consent_sms, referral_type))
    preferred_contact = explicit_contact or ("phone" if phone or provider.phone else "email")

    submission_id, captcha_token = _client_keys(read)
    attribution = _attribution(read)
    website = _honeypot(fields.get("website"))

    _unknown_fields(read, fields)
    if read.errors:
        raise ValidationFailed(read.errors)

    return Submission(
        first_name=_present(first_name),
        last_name=_present(last_name),
        email=email,
        phone=phone,
        preferred_contact=cast(PreferredContact, preferred_contact),
        best_time=cast(BestTime, best_time),
        service=cast(Service, service),
        location=location or locations[0],
        referral_type=cast(ReferralType, referral_type),
        provider_name=provider.name,
        provider_practice=provider.practice,
        provider_email=provider.email,
        provider_phone=provider.phone,
        message=message,
        heard_about=heard_about,
        consent_privacy=consent_privacy,
        consent_sms=consent_sms,
        in_crisis=in_crisis,
        submission_id=submission_id,
        attribution=attribution,
        website=website,
        captcha_token=captcha_token,
    )


def _required_name(read: FieldReader, field: str) -> str | None:
    value = read.name(field, max_length=MAX_NAME_LENGTH)
    if value is None:
        read.fail(field, NAME_SENTENCES[field].required)
    return value


class _Provider(NamedTuple):
    """The referring provider's details; all ``None`` for a self referral."""

    name: str | None = None
    practice: str | None = None
    email: str | None = None
    phone: str | None = None


def _provider(read: FieldReader) -> _Provider:
    """A provider referral's fields: the provider's name is required, and one way to reach them."""
    name = read.name("provider_name", max_length=MAX_PROVIDER_TEXT_LENGTH)
    if name is None:
        read.fail("provider_name", MSG_PROVIDER_NAME_REQUIRED)
    provider = _Provider(
        name=name,
        practice=read.name("provider_practice", max_length=MAX_PROVIDER_TEXT_LENGTH),
        email=read.email("provider_email", MSG_PROVIDER_EMAIL_INVALID),
        phone=read.phone("provider_phone", MSG_PROVIDER_PHONE_INVALID),
    )
    if provider.email is None and provider.phone is None:
        _fail_unless_reported(read, ("provider_email", "provider_phone"), MSG_PROVIDER_CONTACT_MISSING)
    return provider


class _Contact(NamedTuple):
    """How the visitor can be reached, as read: the input of the contact rules."""

    explicit: str | None  # ``preferred_contact`` as sent; ``None`` when not chosen
    email: str | None
    phone: str | None
    consent_sms: bool
    referral_type: str


def _contact_rules(read: FieldReader, contact: _Contact) -> None:
    """The chosen contact method needs its field, a self referral one of the two, texts the SMS consent."""
    if contact.explicit in {"phone", "text"} and contact.phone is None:
        _fail_unless_reported(read, ("phone",), MSG_PHONE_REQUIRED)
    elif contact.explicit == "email" and contact.email is None:
        _fail_unless_reported(read, ("email",), MSG_EMAIL_REQUIRED)
    elif contact.referral_type == "self" and contact.email is None and contact.phone is None:
        _fail_unless_reported(read, ("email", "phone"), MSG_CONTACT_MISSING, field=CONTACT_ERROR_FIELD)
    if contact.explicit == "text" and not contact.consent_sms:
        read.fail("consent_sms", MSG_CONSENT_SMS)


def _client_keys(read: FieldReader) -> tuple[str | None, str | None]:
    """``submission_id`` (the idempotency key) and ``captcha_token``, each checked for its shape."""
    submission_id = read.raw_text("submission_id", MSG_SUBMISSION_ID)
    if submission_id is not None and not _SUBMISSION_ID.fullmatch(submission_id):
        read.fail("submission_id", MSG_SUBMISSION_ID)
    captcha_token = read.raw_text("captcha_token", MSG_CAPTCHA)
    if captcha_token is not None and (
        len(captcha_token) > MAX_CAPTCHA_TOKEN_LENGTH or SINGLE_LINE_FORBIDDEN.search(captcha_token)
    ):
        read.fail("captcha_token", MSG_CAPTCHA)
    return submission_id, captcha_token


def _present(value: str | None) -> str:
    if value is None:  # pragma: no cover - parse_submission raised before
        raise AssertionError("validated field is missing")
    return value


def _fail_unless_reported(
    read: FieldReader, related: Sequence[str], sentence: str, *, field: str | None = None
) -> None:
    """Record ``sentence`` unless one of ``related`` already has a (more precise) sentence."""
    if any(name in read.errors for name in related):
        return
    read.fail(field or related[-1], sentence)
