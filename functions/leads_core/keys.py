"""The table's item layout: key builders and attribute names, shared by every reader and writer.

One DynamoDB table (docs/architecture.md, "Table"):

| item         | pk                    | sk              | notes                                        |
|--------------|-----------------------|-----------------|----------------------------------------------|
| lead         | ``LEAD#<id>``         | ``LEAD``        | ``entity="lead"``, GSIs ByStatus/ByEmail/ByPhone |
| history      | ``LEAD#<id>``         | ``HIST#<ts>#<u>``| at, actor, action, status, note (per change) |
| idempotency  | ``IDEM#<key>``        | ``IDEM``        | keyed retries; TTL 24 h                      |
| dedupe       | ``IDEMC#<hmac>``      | ``IDEM``        | key-less identical submissions; TTL 10 min   |
| rate counter | ``RATE#<hmac(ip)>``   | ``<YYYYMMDDHH>``| ``hits``; TTL 2 h                            |
| audit entry  | ``AUDIT#<YYYY-MM>``   | ``<ts>#<uuid>`` | who/what/when/count, never visitor data      |
| storm window | ``STORM#<start>``     | ``STORM``       | sent/held lead id sets; TTL 2 d (``storm``)  |

Non-spam leads also carry ``inbox="lead"``, the partition of the GSI ``Inbox`` (the staff list, newest first).
"""

from __future__ import annotations

import secrets

PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_at"

LEAD_SK = "LEAD"
IDEM_SK = "IDEM"
ENTITY_LEAD = "lead"

INDEX_BY_STATUS = "ByStatus"  # status (S) + created_at (S), projection ALL
INDEX_BY_EMAIL = "ByEmail"  # email_hash (S) + created_at (S), keys only
INDEX_BY_PHONE = "ByPhone"  # phone_hash (S) + created_at (S), keys only
INDEX_INBOX = "Inbox"  # inbox (S) + created_at (S), projection ALL: every non-spam lead, newest first
INBOX_VALUE = "lead"  # the ``inbox`` attribute of every non-spam lead

HISTORY_PREFIX = "HIST#"
ENTITY_HISTORY = "history"

# Keys of the lead item's ``attribution`` map, in the order staff see them (form fields of the same names).
ATTRIBUTION_FIELDS: tuple[str, ...] = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "landing_page",
    "referrer",
)

KEYED_IDEMPOTENCY_SECONDS = 24 * 3600
CONTENT_DEDUPE_SECONDS = 10 * 60

# Lead ids: 10 characters of Crockford base32 (no I, L, O, U): easy to read out over the phone.
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LEAD_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{10}$"


def new_lead_id() -> str:
    # One read of the OS random source; 256 is a multiple of 32, so ``byte % 32`` keeps every letter equally
    # likely (``secrets.choice`` per letter read it ten times).
    return "".join(_ID_ALPHABET[byte % 32] for byte in secrets.token_bytes(10))


def lead_key(lead_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"LEAD#{lead_id}"}, SK: {"S": LEAD_SK}}


def lead_partition(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def history_sort_key(at: str, unique: str) -> str:
    """``HIST#<iso ts>#<uuid>``: history items sort oldest first within the lead's partition."""
    return f"{HISTORY_PREFIX}{at}#{unique}"


def idempotency_key(key: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"IDEM#{key}"}, SK: {"S": IDEM_SK}}


def content_dedupe_key(submission_hash: str) -> dict[str, dict[str, str]]:
    """Key of the key-less dedupe record: ``repository.submission_hash`` (keyed), never a plain digest."""
    return {PK: {"S": f"IDEMC#{submission_hash}"}, SK: {"S": IDEM_SK}}


def rate_key(source_hash: str, hour_bucket: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"RATE#{source_hash}"}, SK: {"S": hour_bucket}}


def audit_partition(month: str) -> str:
    return f"AUDIT#{month}"
