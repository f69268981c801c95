"""Reading one submitted value: trimming, normalising and refusing with the field's sentence.

``FieldReader`` reads fields one by one and keeps at most one sentence per field; ``normalise_email`` and
``normalise_phone`` are also used by the CLI (erasure by email or phone). Cold start: ``email_validator`` and
``phonenumbers`` are imported on first use (``warm_up()`` loads them on demand).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from leads_core.submission.messages import (
    MSG_MESSAGE_CONTROL,
    MSG_MESSAGE_INVALID,
    MSG_MESSAGE_TOO_LONG,
    NAME_SENTENCES,
)
from leads_core.submission.schema import (
    MAX_EMAIL_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_PHONE_LENGTH,
    MAX_REPORTED_FIELD_NAME_LENGTH,
)

# --- compiled once ------------------------------------------------------------------------------------------
# Single-line text: C0 and C1 controls (tab, newline, CR, NUL, ...), DEL, line/paragraph separators, bidi
# embedding/override/isolate controls and lone surrogates (which cannot be encoded as UTF-8 for storage).
SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Multi-line text (message): the same minus tab, newline and CR, and bidi controls are allowed there.
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?")
_PHONE_CHARACTERS = re.compile(r"\+?[0-9().\-/ \u00a0]+")
_REPORTABLE_FIELD_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,%d}" % MAX_REPORTED_FIELD_NAME_LENGTH)  # noqa: UP031
_ENUM_SEPARATORS = re.compile(r"[\s\-]+")
# Invisible characters that copy-paste leaves at the ends of a value (zero-width space/joiners, BOM).
_EDGE_INVISIBLES = "\u200b\u200c\u200d\u2060\ufeff"

_TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "0", "no", ""})


def reportable_field_name(name: object) -> str | None:
    """The field name when it is safe to show back to a visitor (short, plain ASCII), else ``None``."""
    if isinstance(name, str) and _REPORTABLE_FIELD_NAME.fullmatch(name):
        return name
    return None


class FieldReader:
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
        sentences = NAME_SENTENCES[field]
        value = self.raw_text(field, sentences.required)
        if value is None:
            return None
        if SINGLE_LINE_FORBIDDEN.search(value):
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
        if SINGLE_LINE_FORBIDDEN.search(value):
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
    if len(value) > MAX_EMAIL_LENGTH or SINGLE_LINE_FORBIDDEN.search(value):
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
