"""The consultation request model: turn submitted fields into a validated, normalised ``Submission``.

``parse_submission(fields, locations=...)`` is the only way in. It applies the field rules of contract
section 2.1 and raises ``ValidationFailed`` whose ``errors`` map each bad field to ONE sentence written for
the visitor. Sentences never contain a submitted value and never a type name. The only client text that can
appear in a sentence is the *name* of an unknown field, and only when it is short and made of safe
characters (``[A-Za-z0-9_.-[]]``, at most 40 characters, at most 10 such entries).

Decisions (documented here because the contract leaves them open):

* ``null`` (JSON) and an empty or all-blank string mean "not given"; zero-width spaces/joiners and a BOM
  at either end of a value are trimmed like spaces, and a name made only of invisible characters is
  missing. Any other non-text value where text is expected (number, boolean, list, object) gets the
  field's sentence. A body that is not an object gets one sentence under ``_form``.
* Names (``first_name``, ``last_name``, ``provider_name``, ``provider_practice``): trimmed, inner runs of
  spaces collapsed to one, NFC-normalised. Rejected: C0/C1 control characters (tab, newline, CR, ...),
  line/paragraph separators, bidi embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069) and
  lone surrogates. Emoji, right-to-left letters and the bidi *marks* LRM/RLM are allowed. ``<`` and ``>``
  are accepted: a name is stored as typed and every renderer escapes (a URL in a name is a spam signal
  instead, see ``leads_core.spam``).
* ``message`` may hold line breaks and tabs (CRLF and CR become LF); other control characters are rejected.
* Enum values are case-insensitive, spaces and hyphens count as underscores ("Chronic pain"), stored
  lower-case.
* Phones: digits and the usual punctuation ``+ ( ) - . /`` and spaces only; letters and extensions are
  rejected (E.164 cannot hold an extension and we do not drop data silently).
* Self referrals ignore the ``provider_*`` fields (a hidden part of the form must not block a visitor).
* Provider referrals without patient contact default ``preferred_contact`` to ``phone`` when a patient or
  provider phone is known, else ``email``.
* When neither email nor phone is given, the sentence is reported under ``phone`` (``CONTACT_ERROR_FIELD``);
  a provider referral missing both provider contacts reports under ``provider_phone``.
* ``website`` (honeypot) never fails validation; it is kept (truncated) only for ``spam.spam_reasons``.

Cold start: only stdlib and pydantic at import; ``email_validator`` and ``phonenumbers`` are imported on
first use (``warm_up()`` loads them on demand, e.g. in an init phase).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast, get_args
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field

from leads_core.errors import ValidationFailed
from leads_core.keys import ATTRIBUTION_FIELDS

# --- limits the handler can reuse ---------------------------------------------------------------------------
MAX_BODY_BYTES = 16 * 1024
MAX_FIELD_COUNT = 60
MAX_NAME_LENGTH = 80
MAX_PROVIDER_TEXT_LENGTH = 120
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 40
MAX_MESSAGE_LENGTH = 2000
MAX_HEARD_ABOUT_LENGTH = 100
MAX_ATTRIBUTION_LENGTH = 500
MAX_WEBSITE_LENGTH = 500
MAX_CAPTCHA_TOKEN_LENGTH = 4096
MAX_UNKNOWN_FIELD_ERRORS = 10
MAX_REPORTED_FIELD_NAME_LENGTH = 40

PreferredContact = Literal["phone", "email", "text"]
BestTime = Literal["morning", "afternoon", "evening", "any"]
Service = Literal["depression", "anxiety", "ptsd", "bipolar", "ocd", "chronic_pain", "other"]
ReferralType = Literal["self", "provider"]

PREFERRED_CONTACTS: tuple[str, ...] = get_args(PreferredContact)
BEST_TIMES: tuple[str, ...] = get_args(BestTime)
SERVICES: tuple[str, ...] = get_args(Service)
REFERRAL_TYPES: tuple[str, ...] = get_args(ReferralType)

FORM_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "best_time",
    "service",
    "location",
    "referral_type",
    "provider_name",
    "provider_practice",
    "provider_email",
    "provider_phone",
    "message",
    "heard_about",
    "consent_privacy",
    "consent_sms",
    "in_crisis",
    "submission_id",
    *ATTRIBUTION_FIELDS,
    "website",
    "captcha_token",
)
KNOWN_FIELDS: frozenset[str] = frozenset(FORM_FIELDS)

CONTACT_ERROR_FIELD = "phone"
PROVIDER_CONTACT_ERROR_FIELD = "provider_phone"
UNKNOWN_FIELDS_ERROR_KEY = "_unknown"
REPEATED_FIELDS_ERROR_KEY = "_repeated"
FORM_ERROR_KEY = "_form"

# --- sentences (written for a visitor; never a submitted value) --------------------------------------------
PHONE_EXAMPLE = "(630) 555-0142"
MSG_EMAIL_INVALID = "Enter a valid email address."
MSG_PHONE_INVALID = f"Enter a phone number we can call, such as {PHONE_EXAMPLE}."
MSG_CONTACT_MISSING = "Tell us how to reach you: a phone number or an email."
MSG_EMAIL_REQUIRED = "Enter your email address, or choose another way to reach you."
MSG_PHONE_REQUIRED = "Enter your phone number, or choose another way to reach you."
MSG_CONSENT_PRIVACY = "Please agree to the privacy notice so we can contact you."
MSG_CONSENT_SMS = "Please agree to receive text messages, or choose another way to reach you."
MSG_CONSENT_SMS_INVALID = "Tick the box to agree to text messages, or leave it unticked."
MSG_IN_CRISIS_INVALID = "Please answer the safety question with yes or no."
MSG_PROVIDER_NAME_REQUIRED = "Enter the name of the referring provider."
MSG_PROVIDER_CONTACT_MISSING = "Enter the provider's email address or phone number."
MSG_PROVIDER_EMAIL_INVALID = "Enter a valid email address for the provider."
MSG_PROVIDER_PHONE_INVALID = f"Enter a phone number for the provider, such as {PHONE_EXAMPLE}."
MSG_MESSAGE_INVALID = "Enter your message as plain text."
MSG_MESSAGE_TOO_LONG = f"Shorten your message to {MAX_MESSAGE_LENGTH:,} characters or fewer."
MSG_MESSAGE_CONTROL = "Remove unusual invisible characters from your message."
MSG_HEARD_ABOUT_INVALID = "Tell us in a few words how you heard about us."
MSG_HEARD_ABOUT_TOO_LONG = f"Shorten how you heard about us to {MAX_HEARD_ABOUT_LENGTH} characters or fewer."
MSG_SUBMISSION_ID = "This form's reference code is not valid. Please reload the page and try again."
MSG_ATTRIBUTION = "The page sent a tracking value we could not accept. Please reload the page and try again."
MSG_CAPTCHA = "The spam check did not complete. Please reload the page and try again."
MSG_PREFERRED_CONTACT = "Choose how we should contact you: phone call, email or text message."
MSG_BEST_TIME = "Choose the best time to reach you: morning, afternoon, evening or any time."
MSG_SERVICE = "Choose a service: depression, anxiety, PTSD, bipolar disorder, OCD, chronic pain or other."
MSG_REFERRAL_TYPE = "Choose who is making this request: yourself or a healthcare provider."
MSG_UNKNOWN_FIELD = "This field is not part of the form: {name}."
MSG_UNKNOWN_FIELDS_GENERIC = "The form sent fields it does not have. Please reload the page and try again."
MSG_REPEATED_FIELD = "This field was sent more than once."
MSG_NOT_A_FORM = "The form could not be read. Please reload the page and try again."


class _NameSentences:
    """The sentences of one name-like field."""

    def __init__(self, label: str, *, required: str, max_length: int) -> None:
        self.required = required
        self.too_long = f"Shorten {label} to {max_length} characters or fewer."
        self.control = f"Remove line breaks and invisible characters from {label}."


_NAME_SENTENCES = {
    "first_name": _NameSentences("your first name", required="Enter your first name.", max_length=80),
    "last_name": _NameSentences("your last name", required="Enter your last name.", max_length=80),
    "provider_name": _NameSentences(
        "the provider's name", required=MSG_PROVIDER_NAME_REQUIRED, max_length=MAX_PROVIDER_TEXT_LENGTH
    ),
    "provider_practice": _NameSentences(
        "the practice name", required="Enter the name of the practice.", max_length=MAX_PROVIDER_TEXT_LENGTH
    ),
}

# --- compiled once ------------------------------------------------------------------------------------------
# Single-line text: C0 and C1 controls (tab, newline, CR, NUL, ...), DEL, line/paragraph separators, bidi
# embedding/override/isolate controls and lone surrogates (which cannot be encoded as UTF-8 for storage).
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Multi-line text (message): the same minus tab, newline and CR, and bidi controls are allowed there.
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?")
_SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_PHONE_CHARACTERS = re.compile(r"\+?[0-9().\-/ \u00a0]+")
_REPORTABLE_FIELD_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,%d}" % MAX_REPORTED_FIELD_NAME_LENGTH)  # noqa: UP031
_ENUM_SEPARATORS = re.compile(r"[\s\-]+")
# Invisible characters that copy-paste leaves at the ends of a value (zero-width space/joiners, BOM).
_EDGE_INVISIBLES = "\u200b\u200c\u200d\u2060\ufeff"

_TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "0", "no", ""})
_BEST_TIME_ALIASES = {"any_time": "any", "anytime": "any"}


class Submission(BaseModel):
    """A validated, normalised consultation request. Build it with ``parse_submission``."""

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
        data = self.model_dump(exclude={"submission_id", "captcha_token", "website"})
        canonical = {key: _digest_value(value) for key, value in data.items()}
        payload = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(("submission-v1\n" + payload).encode("utf-8", "surrogatepass")).hexdigest()


def _digest_value(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, dict):
        return {k: _digest_value(v) for k, v in value.items()}
    return value


# --- parsing ------------------------------------------------------------------------------------------------
def reportable_field_name(name: object) -> str | None:
    """The field name when it is safe to show back to a visitor (short, plain ASCII), else ``None``."""
    if isinstance(name, str) and _REPORTABLE_FIELD_NAME.fullmatch(name):
        return name
    return None


class _Reader:
    """Reads fields one by one, collecting at most one sentence per field."""

    def __init__(self, fields: Mapping[str, object]) -> None:
        self.fields = fields
        self.errors: dict[str, str] = {}

    def fail(self, field: str, sentence: str) -> None:
        self.errors.setdefault(field, sentence)

    def raw_text(self, field: str, invalid: str) -> str | None:
        """The stripped string, ``None`` when absent/blank; a non-string records ``invalid``."""
        raw = self.fields.get(field)
        if raw is None:
            return None
        if not isinstance(raw, str):
            self.fail(field, invalid)
            return None
        value = raw.strip().strip(_EDGE_INVISIBLES).strip()
        return value or None

    def name(self, field: str, *, max_length: int) -> str | None:
        sentences = _NAME_SENTENCES[field]
        value = self.raw_text(field, sentences.required)
        if value is None:
            return None
        if _SINGLE_LINE_FORBIDDEN.search(value):
            self.fail(field, sentences.control)
            return None
        value = " ".join(unicodedata.normalize("NFC", value).split())
        if not any(unicodedata.category(ch)[0] not in "CMZ" for ch in value):
            return None  # only invisible or combining characters: treated as not given
        if len(value) > max_length:
            self.fail(field, sentences.too_long)
            return None
        return value

    def single_line(self, field: str, *, max_length: int, invalid: str, too_long: str) -> str | None:
        value = self.raw_text(field, invalid)
        if value is None:
            return None
        if _SINGLE_LINE_FORBIDDEN.search(value):
            self.fail(field, invalid)
            return None
        value = unicodedata.normalize("NFC", value)
        if len(value) > max_length:
            self.fail(field, too_long)
            return None
        return value

    def message(self) -> str | None:
        value = self.raw_text("message", MSG_MESSAGE_INVALID)
        if value is None:
            return None
        if _MULTI_LINE_FORBIDDEN.search(value):
            self.fail("message", MSG_MESSAGE_CONTROL)
            return None
        value = unicodedata.normalize("NFC", _LINE_BREAKS.sub("\n", value))
        if len(value) > MAX_MESSAGE_LENGTH:
            self.fail("message", MSG_MESSAGE_TOO_LONG)
            return None
        return value

    def email(self, field: str, invalid: str) -> str | None:
        value = self.raw_text(field, invalid)
        if value is None:
            return None
        normalised = normalise_email(value)
        if normalised is None:
            self.fail(field, invalid)
        return normalised

    def phone(self, field: str, invalid: str) -> str | None:
        value = self.raw_text(field, invalid)
        if value is None:
            return None
        normalised = normalise_phone(value)
        if normalised is None:
            self.fail(field, invalid)
        return normalised

    def boolean(self, field: str, invalid: str) -> bool:
        raw = self.fields.get(field)
        if raw is None:
            return False
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            word = raw.strip().lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
        self.fail(field, invalid)
        return False

    def choice(
        self,
        field: str,
        choices: Sequence[str],
        invalid: str,
        *,
        separator: str = "_",
        aliases: Mapping[str, str] | None = None,
    ) -> str | None:
        """The lower-cased choice, ``None`` when absent (caller applies the default) or invalid."""
        value = self.raw_text(field, invalid)
        if value is None:
            return None
        key = _ENUM_SEPARATORS.sub(separator, value.lower())
        if aliases:
            key = aliases.get(key, key)
        if key in choices:
            return key
        self.fail(field, invalid)
        return None


def normalise_email(value: str) -> str | None:
    """The address with its domain lower-cased, or ``None`` when it is not a valid address (no DNS)."""
    if len(value) > MAX_EMAIL_LENGTH or _SINGLE_LINE_FORBIDDEN.search(value):
        return None
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415 - cold start

    try:
        result = validate_email(value, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return None
    return str(result.normalized)


def normalise_phone(value: str, default_region: str = "US") -> str | None:
    """The number in E.164, or ``None`` when it is not a valid dialable number."""
    if len(value) > MAX_PHONE_LENGTH or not _PHONE_CHARACTERS.fullmatch(value):
        return None
    import phonenumbers  # noqa: PLC0415 - cold start

    try:
        number = phonenumbers.parse(value, default_region)
    except (phonenumbers.NumberParseException, ValueError):
        return None
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def warm_up() -> None:
    """Load the lazily imported validators (email_validator, phonenumbers) now instead of on first use.

    Optional: a Lambda init phase, SnapStart hook or the local stack may call it so the first request does not
    pay their import (email_validator compiles large Unicode regexes on import).
    """
    normalise_email("warm.up@example.com")
    normalise_phone("+16305550142")


def location_choices_sentence(locations: Sequence[str]) -> str:
    words = [slug.replace("-", " ").replace("_", " ").title() for slug in locations]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"Choose one of our locations: {listed}."


def _attribution(reader: _Reader) -> dict[str, str]:
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


def _unknown_fields(reader: _Reader, fields: Mapping[str, object]) -> None:
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
    read = _Reader(fields)

    first_name = read.name("first_name", max_length=MAX_NAME_LENGTH)
    if first_name is None:
        read.fail("first_name", _NAME_SENTENCES["first_name"].required)
    last_name = read.name("last_name", max_length=MAX_NAME_LENGTH)
    if last_name is None:
        read.fail("last_name", _NAME_SENTENCES["last_name"].required)

    email = read.email("email", MSG_EMAIL_INVALID)
    phone = read.phone("phone", MSG_PHONE_INVALID)
    explicit_contact = read.choice("preferred_contact", PREFERRED_CONTACTS, MSG_PREFERRED_CONTACT)
    best_time = read.choice("best_time", BEST_TIMES, MSG_BEST_TIME, aliases=_BEST_TIME_ALIASES) or "any"
    service = read.choice("service", SERVICES, MSG_SERVICE) or "other"
    location = read.choice("location", locations, location_choices_sentence(locations), separator="-")
    referral_type = read.choice("referral_type", REFERRAL_TYPES, MSG_REFERRAL_TYPE) or "self"

    provider_name = provider_practice = provider_email = provider_phone = None
    if referral_type == "provider":
        provider_name = read.name("provider_name", max_length=MAX_PROVIDER_TEXT_LENGTH)
        if provider_name is None:
            read.fail("provider_name", MSG_PROVIDER_NAME_REQUIRED)
        provider_practice = read.name("provider_practice", max_length=MAX_PROVIDER_TEXT_LENGTH)
        provider_email = read.email("provider_email", MSG_PROVIDER_EMAIL_INVALID)
        provider_phone = read.phone("provider_phone", MSG_PROVIDER_PHONE_INVALID)
        if provider_email is None and provider_phone is None:
            _fail_unless_reported(read, ("provider_email", "provider_phone"), MSG_PROVIDER_CONTACT_MISSING)

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

    # Contact rules: the explicit preferred method needs its field; a self referral needs one of the two.
    if explicit_contact in {"phone", "text"} and phone is None:
        _fail_unless_reported(read, ("phone",), MSG_PHONE_REQUIRED)
    elif explicit_contact == "email" and email is None:
        _fail_unless_reported(read, ("email",), MSG_EMAIL_REQUIRED)
    elif referral_type == "self" and email is None and phone is None:
        _fail_unless_reported(read, ("email", "phone"), MSG_CONTACT_MISSING, field=CONTACT_ERROR_FIELD)
    if explicit_contact == "text" and not consent_sms:
        read.fail("consent_sms", MSG_CONSENT_SMS)
    preferred_contact = explicit_contact or ("phone" if phone or provider_phone else "email")

    submission_id = read.raw_text("submission_id", MSG_SUBMISSION_ID)
    if submission_id is not None and not _SUBMISSION_ID.fullmatch(submission_id):
        read.fail("submission_id", MSG_SUBMISSION_ID)
    captcha_token = read.raw_text("captcha_token", MSG_CAPTCHA)
    if captcha_token is not None and (
        len(captcha_token) > MAX_CAPTCHA_TOKEN_LENGTH or _SINGLE_LINE_FORBIDDEN.search(captcha_token)
    ):
        read.fail("captcha_token", MSG_CAPTCHA)
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
        provider_name=provider_name,
        provider_practice=provider_practice,
        provider_email=provider_email,
        provider_phone=provider_phone,
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


def _present(value: str | None) -> str:
    if value is None:  # pragma: no cover - parse_submission raised before
        raise AssertionError("validated field is missing")
    return value


def _fail_unless_reported(
    read: _Reader, related: Sequence[str], sentence: str, *, field: str | None = None
) -> None:
    """Record ``sentence`` unless one of ``related`` already has a (more precise) sentence."""
    if any(name in read.errors for name in related):
        return
    read.fail(field or related[-1], sentence)


# --- application/x-www-form-urlencoded ----------------------------------------------------------------------
def parse_form_body(body: str) -> dict[str, str]:
    """Decode an urlencoded form body into fields.

    Raises ``ValueError`` when the body cannot be decoded (bad UTF-8 percent-escapes, more than
    ``MAX_FIELD_COUNT`` fields): the handler answers 400. A field sent twice with different values raises
    ``ValidationFailed`` naming it (the same value twice is accepted once).
    """
    try:
        pairs = parse_qsl(
            body,
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELD_COUNT,
            encoding="utf-8",
            errors="strict",
        )
    except ValueError:  # includes UnicodeDecodeError
        raise ValueError("the form body could not be decoded") from None
    fields: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name in fields and fields[name] != value:
            if name not in repeated:
                repeated.append(name)
            continue
        fields.setdefault(name, value)
    if repeated:
        raise ValidationFailed(_repeated_errors(repeated))
    return fields


def _repeated_errors(names: Sequence[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in names:
        safe = reportable_field_name(name)
        key = (
            safe if safe is not None and len(errors) < MAX_UNKNOWN_FIELD_ERRORS else REPEATED_FIELDS_ERROR_KEY
        )
        errors.setdefault(key, MSG_REPEATED_FIELD)
    return errors
