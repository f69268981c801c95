"""HTTP details of ``POST /consultations`` that do not need AWS: headers, origin, body, content type, JSON.

Everything here reads the raw API Gateway REST proxy event defensively: ``headers`` or ``multiValueHeaders``
may be missing or ``null``, the body may be ``null`` or base64. A problem with the request raises
``RequestRejected`` (mapped to HTTP by the app's one exception handler), never anything else.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from leads_core.errors import ValidationFailed
from leads_core.submission.fields import reportable_field_name
from leads_core.submission.form_body import parse_form_body
from leads_core.submission.messages import MSG_REPEATED_FIELD
from leads_core.submission.schema import MAX_BODY_BYTES, REPEATED_FIELDS_ERROR_KEY

Channel = Literal["json", "form"]
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
_CHANNELS: dict[str, Channel] = {JSON_TYPE: "json", FORM_TYPE: "form"}
_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "iso-8859-1": "latin-1",
}
# Base64 of MAX_BODY_BYTES, with slack for padding and line breaks some clients add.
_MAX_BASE64_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4 + 64

MSG_KEY_MISMATCH = "The form's reference code does not match. Please reload the page and try again."


class RequestRejected(Exception):
    """The request cannot be processed as sent (no submitted value is kept in it)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status} {reason}")


def header_values(event: Mapping[str, Any], name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive) from ``multiValueHeaders``, else ``headers``."""
    wanted = name.lower()
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        for key, values in multi.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(values, list):
                found = [v for v in values if isinstance(v, str)]
                if found:
                    return found
    single = event.get("headers")
    if isinstance(single, Mapping):
        for key, value in single.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
                return [value]
    return []


def header(event: Mapping[str, Any], name: str) -> str | None:
    """The header's value; several different values count as one value joined by commas (RFC 9110)."""
    values = header_values(event, name)
    if not values:
        return None
    return ", ".join(dict.fromkeys(values))


def request_origin(event: Mapping[str, Any]) -> str | None:
    """The ``Origin`` header, or ``None`` when the request has none (server-to-server, curl)."""
    values = header_values(event, "Origin")
    if not values:
        return None
    distinct = set(values)
    return values[0] if len(distinct) == 1 else ",".join(sorted(distinct))  # several: matches no origin


def allowed_origin(event: Mapping[str, Any], allowed: Sequence[str]) -> str | None:
    origin = request_origin(event)
    return origin if origin is not None and origin in allowed else None


def source_ip(event: Mapping[str, Any]) -> str:
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, Mapping) else None
    value = identity.get("sourceIp") if isinstance(identity, Mapping) else None
    return value if isinstance(value, str) else ""


def http_method(event: Mapping[str, Any]) -> str:
    value = event.get("httpMethod")
    return value.upper() if isinstance(value, str) else ""


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``("application/json", {"charset": "utf-8"})`` from a Content-Type header value."""
    if not content_type:
        return "", {}
    kind, *parameters = content_type.split(";")
    params: dict[str, str] = {}
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def channel_of(event: Mapping[str, Any]) -> Channel | None:
    kind, _params = media_type(header(event, "Content-Type"))
    return _CHANNELS.get(kind)


def wants_json(event: Mapping[str, Any], channel: Channel | None) -> bool:
    """JSON answers for JSON bodies and for form posts whose script asked for JSON; HTML for plain forms."""
    if channel != "form":
        return True
    accept = header(event, "Accept") or ""
    return any(media_type(part)[0] == JSON_TYPE for part in accept.split(","))


def charset_of(event: Mapping[str, Any]) -> str:
    _kind, params = media_type(header(event, "Content-Type"))
    charset = params.get("charset", "utf-8")
    codec = _CHARSETS.get(charset)
    if codec is None:
        raise RequestRejected(415, "type")
    return codecs.lookup(codec).name


def body_text(event: Mapping[str, Any]) -> str:
    """The body as text: 413 over ``MAX_BODY_BYTES`` (counted in bytes, after base64), 400 if undecodable."""
    codec = charset_of(event)
    body = event.get("body")
    if body is None:
        return ""
    if not isinstance(body, str):
        raise RequestRejected(400, "encoding")
    if event.get("isBase64Encoded") is True:
        return _base64_text(body, codec)
    return _plain_text(body)


def _base64_text(body: str, codec: str) -> str:
    """A base64 body decoded with ``codec``; the size limit applies to the decoded bytes."""
    if len(body) > _MAX_BASE64_CHARS:
        raise RequestRejected(413, "size")
    try:
        raw = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestRejected(400, "encoding") from None
    if len(raw) > MAX_BODY_BYTES:
        raise RequestRejected(413, "size")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        raise RequestRejected(400, "encoding") from None


def _plain_text(body: str) -> str:
    """A text body as API Gateway passed it; the size limit applies to its UTF-8 bytes."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(413, "size")
    try:
        size = len(body.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates
        raise RequestRejected(400, "encoding") from None
    if size > MAX_BODY_BYTES:
        raise RequestRejected(413, "size")
    return body


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers keys it saw twice with different values."""

    repeated: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    obj.repeated = []
    for key, value in pairs:
        if key in obj and obj[key] != value and key not in obj.repeated:
            obj.repeated.append(key)
        obj.setdefault(key, value)
    return obj


def _reject_constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def json_fields(text: str) -> dict[str, Any]:
    """The JSON object's fields; 400 for malformed JSON or anything but an object; 422 for repeated keys."""
    try:
        value = json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, too many digits, nesting too deep
        raise RequestRejected(400, "json") from None
    if not isinstance(value, _JsonObject):
        raise RequestRejected(400, "json")
    if value.repeated:
        errors: dict[str, str] = {}
        for name in value.repeated:
            errors.setdefault(reportable_field_name(name) or REPEATED_FIELDS_ERROR_KEY, MSG_REPEATED_FIELD)
        raise ValidationFailed(errors)
    return dict(value)


def form_fields(text: str) -> dict[str, Any]:
    try:
        return dict(parse_form_body(text))
    except ValueError:  # undecodable percent-escapes, too many fields (ValidationFailed passes through)
        raise RequestRejected(400, "encoding") from None


def submitted_fields(event: Mapping[str, Any], channel: Channel) -> dict[str, Any]:
    """The submitted fields, with the ``Idempotency-Key`` header merged in as ``submission_id``."""
    text = body_text(event)
    fields = json_fields(text) if channel == "json" else form_fields(text)
    key = (header(event, "Idempotency-Key") or "").strip()
    if key:
        in_body = fields.get("submission_id")
        if isinstance(in_body, str) and in_body.strip() and in_body.strip() != key:
            raise ValidationFailed({"submission_id": MSG_KEY_MISMATCH})
        if in_body is None or isinstance(in_body, str):
            fields["submission_id"] = key
    return fields
