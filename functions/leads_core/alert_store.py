"""Exactly-once alert bookkeeping, now in ``leads_core.store.alert_state`` (this name stays for importers)."""

from __future__ import annotations

from leads_core.store.alert_state import (
    LEAD_CLAIM_CONDITION,
    LEASE_SECONDS,
    ClaimCondition,
    ClaimResult,
    ClaimStatus,
    ItemKey,
    claim,
    claim_item,
    mark_item,
    mark_sent,
    new_token,
    release,
    release_item,
)

__all__ = [
    "LEAD_CLAIM_CONDITION",
    "LEASE_SECONDS",
    "ClaimCondition",
    "ClaimResult",
    "ClaimStatus",
    "ItemKey",
    "claim",
    "claim_item",
    "mark_item",
    "mark_sent",
    "new_token",
    "release",
    "release_item",
]
