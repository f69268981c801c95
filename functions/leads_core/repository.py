"""The submit path's storage adapter, now ``leads_core.store.submit`` (this name stays for its importers)."""

from __future__ import annotations

from leads_core.store.submit import (
    POSSIBLE_SPAM,
    RATE_COUNTER_SECONDS,
    STORAGE_RETRY_AFTER_SECONDS,
    Channel,
    LeadRepository,
    LeadStatus,
    NewLead,
    StoredResult,
    email_hash,
    hour_bucket,
    iso_timestamp,
    phone_hash,
    seconds_to_next_hour,
    source_hash,
    submission_hash,
)

__all__ = [
    "POSSIBLE_SPAM",
    "RATE_COUNTER_SECONDS",
    "STORAGE_RETRY_AFTER_SECONDS",
    "Channel",
    "LeadRepository",
    "LeadStatus",
    "NewLead",
    "StoredResult",
    "email_hash",
    "hour_bucket",
    "iso_timestamp",
    "phone_hash",
    "seconds_to_next_hour",
    "source_hash",
    "submission_hash",
]
