"""Opaque paging cursors of the staff list: the URL-safe base64 of the query's ``LastEvaluatedKey``.

A cursor comes back from a browser, so it is checked before it reaches DynamoDB: exactly the key attributes
of the index being paged (``pk``, ``sk``, the index's partition attribute, ``created_at``), each a string of
the shape the table holds, and the index partition equal to the filter of the request (a cursor of the
``new`` list cannot page the ``closed`` one). Anything else is ``InvalidCursor`` (a 400 that echoes nothing).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from leads_core import keys
from leads_core.errors import LeadsError

MAX_CURSOR_CHARS = 1024
_CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_LEAD_PK = re.compile(r"^LEAD#[0-9A-HJKMNP-TV-Z]{10}$")


class InvalidCursor(LeadsError):
    """A cursor this service did not hand out (or one of another filter)."""


def encode(last_key: Mapping[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, partition_attribute: str, partition_value: str) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` of ``cursor`` for the index keyed by ``partition_attribute`` (``inbox`` or
    ``status``) at ``partition_value``; ``InvalidCursor`` for anything else."""
    if not cursor or len(cursor) > MAX_CURSOR_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise InvalidCursor("invalid cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor("invalid cursor") from None
    expected = {keys.PK, keys.SK, partition_attribute, "created_at"}
    if not isinstance(value, dict) or set(value) != expected:
        raise InvalidCursor("invalid cursor")
    strings: dict[str, str] = {}
    for name, typed in value.items():
        if not isinstance(typed, dict) or set(typed) != {"S"} or not isinstance(typed["S"], str):
            raise InvalidCursor("invalid cursor")
        strings[name] = typed["S"]
    if (
        not _LEAD_PK.match(strings[keys.PK])
        or strings[keys.SK] != keys.LEAD_SK
        or strings[partition_attribute] != partition_value
        or not _CREATED_AT.match(strings["created_at"])
    ):
        raise InvalidCursor("invalid cursor")
    return {name: {"S": text} for name, text in strings.items()}
