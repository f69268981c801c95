"""Exactly-once alert bookkeeping on the lead item (docs/architecture.md, "Exactly-once alerts").

``claim`` takes a 60 s lease with one conditional ``UpdateItem``: the lead must exist, must not be spam, must
not have been alerted (``alerted_at``) and must not hold a live lease. ``mark_sent`` records ``alerted_at``
and the SNS message id and drops the lease; ``release`` drops the lease after a failed publish so a retry can
claim again. A crash between claim and publish leaves a lease that simply expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from leads_core import aws, keys
from leads_core.errors import StorageUnavailable
from leads_core.observability import logger

LEASE_SECONDS = 60

_CLAIM_CONDITION = (
    "attribute_exists(#pk) AND #entity = :lead AND #status <> :spam AND attribute_not_exists(alerted_at) "
    "AND (attribute_not_exists(alert_lease_until) OR alert_lease_until < :now)"
)


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"
    ALREADY_ALERTED = "already_alerted"
    LEASED_ELSEWHERE = "leased_elsewhere"
    MISSING = "missing"
    NOT_ALERTABLE = "not_alertable"  # the item is spam (or not a lead): never alert


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus

    @property
    def claimed(self) -> bool:
        return self.status is ClaimStatus.CLAIMED


def _now() -> int:
    return int(time.time())


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _is_client_error(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    return isinstance(exc, ClientError | BotoCoreError)


def _why_not_claimed(old: dict[str, Any] | None, now: int) -> ClaimStatus:
    if not old:
        return ClaimStatus.MISSING
    if "alerted_at" in old:
        return ClaimStatus.ALREADY_ALERTED
    if old.get("entity", {}).get("S") != keys.ENTITY_LEAD or old.get("status", {}).get("S") == "spam":
        return ClaimStatus.NOT_ALERTABLE
    lease = old.get("alert_lease_until", {}).get("N")
    if lease is not None and int(lease) >= now:
        return ClaimStatus.LEASED_ELSEWHERE
    # The condition failed for a reason the old image no longer shows (a concurrent writer): try later.
    return ClaimStatus.LEASED_ELSEWHERE


def _table(table_name: str | None) -> str:
    if table_name:
        return table_name
    from leads_core.settings import load_settings  # noqa: PLC0415

    return load_settings().table_name


def claim(lead_id: str, *, table_name: str | None = None, now: int | None = None) -> ClaimResult:
    """Take the alert lease on ``lead_id``; raise ``StorageUnavailable`` when DynamoDB fails or throttles."""
    now = _now() if now is None else now
    try:
        aws.client("dynamodb").update_item(
            TableName=_table(table_name),
            Key=keys.lead_key(lead_id),
            UpdateExpression="SET alert_lease_until = :until",
            ConditionExpression=_CLAIM_CONDITION,
            ExpressionAttributeNames={"#pk": keys.PK, "#entity": "entity", "#status": "status"},
            ExpressionAttributeValues={
                ":until": {"N": str(now + LEASE_SECONDS)},
                ":now": {"N": str(now)},
                ":lead": {"S": keys.ENTITY_LEAD},
                ":spam": {"S": "spam"},
            },
            ReturnValues="NONE",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except Exception as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            old = getattr(exc, "response", {}).get("Item")
            return ClaimResult(_why_not_claimed(old, now))
        if _is_client_error(exc):
            logger.warning("alert claim failed", extra={"lead_id": lead_id, "error_code": _error_code(exc)})
            raise StorageUnavailable() from exc
        raise
    return ClaimResult(ClaimStatus.CLAIMED)


def mark_sent(
    lead_id: str, message_id: str, *, table_name: str | None = None, now: datetime | None = None
) -> None:
    """Record the published alert (``alerted_at``, ``alert_message_id``) and drop the lease."""
    sent_at = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        aws.client("dynamodb").update_item(
            TableName=_table(table_name),
            Key=keys.lead_key(lead_id),
            UpdateExpression="SET alerted_at = :sent, alert_message_id = :message REMOVE alert_lease_until",
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#pk": keys.PK},
            ExpressionAttributeValues={":sent": {"S": sent_at}, ":message": {"S": message_id}},
        )
    except Exception as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            return  # erased while the alert was in flight: nothing left to mark
        if _is_client_error(exc):
            raise StorageUnavailable() from exc
        raise


def release(lead_id: str, *, table_name: str | None = None) -> None:
    """Drop the lease after a failed publish (best effort: an unreleased lease expires by itself)."""
    try:
        aws.client("dynamodb").update_item(
            TableName=_table(table_name),
            Key=keys.lead_key(lead_id),
            UpdateExpression="REMOVE alert_lease_until",
            ConditionExpression="attribute_exists(#pk) AND attribute_not_exists(alerted_at)",
            ExpressionAttributeNames={"#pk": keys.PK},
        )
    except Exception as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            return
        if _is_client_error(exc):
            logger.warning(
                "alert lease release failed", extra={"lead_id": lead_id, "error_code": _error_code(exc)}
            )
            return
        raise
