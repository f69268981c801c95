"""Decoding an ``application/x-www-form-urlencoded`` body into fields (the form channel only)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl

from leads_core.errors import ValidationFailed
from leads_core.submission.fields import reportable_field_name
from leads_core.submission.messages import MSG_REPEATED_FIELD
from leads_core.submission.schema import MAX_FIELD_COUNT, MAX_UNKNOWN_FIELD_ERRORS, REPEATED_FIELDS_ERROR_KEY


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
