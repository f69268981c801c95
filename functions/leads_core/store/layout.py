"""The table's item layout, in one place for the store (docs/architecture.md, "Table").

The lead, idempotency, dedupe, rate and audit keys live in ``leads_core.keys`` (imported by the submission
model too, which has no business with the store) and are re-exported here; the escalation ledger and storm
window keys are defined here. Store modules build every key through this module.
"""

from __future__ import annotations

from datetime import UTC, datetime

from leads_core.keys import (
    ATTRIBUTION_FIELDS,
    CONTENT_DEDUPE_SECONDS,
    ENTITY_HISTORY,
    ENTITY_LEAD,
    HISTORY_PREFIX,
    IDEM_SK,
    INBOX_VALUE,
    INDEX_BY_EMAIL,
    INDEX_BY_PHONE,
    INDEX_BY_STATUS,
    INDEX_INBOX,
    KEYED_IDEMPOTENCY_SECONDS,
    LEAD_ID_PATTERN,
    LEAD_SK,
    PK,
    SK,
    TTL_ATTRIBUTE,
    audit_partition,
    content_dedupe_key,
    history_sort_key,
    idempotency_key,
    lead_key,
    lead_partition,
    new_lead_id,
    rate_key,
)

__all__ = [
    "ATTRIBUTION_FIELDS",
    "CONTENT_DEDUPE_SECONDS",
    "ENTITY_AUDIT",
    "ENTITY_ESCALATION",
    "ENTITY_HISTORY",
    "ENTITY_IDEMPOTENCY",
    "ENTITY_LEAD",
    "ESCALATION_PREFIX",
    "HISTORY_PREFIX",
    "IDEM_SK",
    "INBOX_VALUE",
    "INDEX_BY_EMAIL",
    "INDEX_BY_PHONE",
    "INDEX_BY_STATUS",
    "INDEX_INBOX",
    "KEYED_IDEMPOTENCY_SECONDS",
    "LEAD_ID_PATTERN",
    "LEAD_PREFIX",
    "LEAD_SK",
    "PK",
    "SK",
    "STORM_PREFIX",
    "STORM_SK",
    "TTL_ATTRIBUTE",
    "audit_partition",
    "content_dedupe_key",
    "escalation_key",
    "history_sort_key",
    "idempotency_key",
    "lead_id_of_key",
    "lead_key",
    "lead_partition",
    "new_lead_id",
    "rate_key",
    "window_key",
    "window_label",
]

LEAD_PREFIX = "LEAD#"
ESCALATION_PREFIX = "ESC#"  # sk prefix of a lead's escalation ledger items (leads_core.sweep), erased with it
ENTITY_ESCALATION = "escalation"
ENTITY_IDEMPOTENCY = "idempotency"
ENTITY_AUDIT = "audit"

STORM_PREFIX = "STORM#"  # pk prefix of the window items (the alert role's dynamodb:LeadingKeys)
STORM_SK = "STORM"


def lead_id_of_key(item: dict[str, dict[str, str]]) -> str | None:
    """The lead id of a lead item's key (``pk=LEAD#<id>``, ``sk=LEAD``), else ``None``."""
    pk = item.get(PK, {}).get("S", "")
    if pk.startswith(LEAD_PREFIX) and item.get(SK, {}).get("S") == LEAD_SK:
        return pk.removeprefix(LEAD_PREFIX)
    return None


def escalation_key(lead_id: str, level: int) -> dict[str, dict[str, str]]:
    """Key of the escalation ledger item of (lead, level): ``pk=LEAD#<id>``, ``sk=ESC#<level>``."""
    return {PK: {"S": f"{LEAD_PREFIX}{lead_id}"}, SK: {"S": f"{ESCALATION_PREFIX}{level}"}}


def window_label(start: int) -> str:
    """The storm window's name: its start, UTC, e.g. ``2026-12-02T06:10Z``."""
    return datetime.fromtimestamp(start, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


def window_key(start: int) -> dict[str, dict[str, str]]:
    """Key of the storm window item starting at ``start`` (epoch seconds)."""
    return {PK: {"S": f"{STORM_PREFIX}{window_label(start)}"}, SK: {"S": STORM_SK}}
