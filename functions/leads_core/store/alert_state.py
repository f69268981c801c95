"""Exactly-once alert bookkeeping on a table item (docs/alerts.md, "Exactly once: how and what can still go
wrong").

Works on ANY item key (a lead ``LEAD#<id>``, a digest window, a test alert): the item is the alert's ledger.

- ``claim_item`` takes the alert lease with one conditional ``UpdateItem``: not alerted yet (``alerted_at``),
  no live lease of another attempt, plus the caller's own condition (a lead: it exists, is a lead, not spam).
  It records the attempt: ``alert_attempt`` (a random token of this attempt) and ``alert_attempts`` (a count).
  The lease runs until the claiming invocation is surely over (its remaining time plus a margin), so a lease
  expires only after the attempt that took it can no longer write anything. A claim that finds the expired
  lease of an earlier attempt still claims (the earlier attempt may have died before publishing: a lost alert
  is worse than a double one) and says so (``ClaimResult.reopened``).
- ``mark_item`` records ``alerted_at`` and the SNS message id and drops the lease and the attempt;
  ``mark_items`` does the same for a published chunk in one ``TransactWriteItems`` (all or nothing).
- ``release_item`` drops the lease and the attempt after a failed publish, only while the lease is still this
  attempt's, so a retry can claim at once.

Errors: every AWS failure (throttling included) raises ``StorageUnavailable`` (``store.failures``);
``leads_core.delivery`` retries with backoff within the invocation's time. A retried call that had in fact
been applied is harmless: the claim accepts this attempt's own token, the mark and the release are no-ops the
second time.

``claim`` / ``mark_sent`` / ``release`` are the lead-key forms used by tests and older callers.

Every function takes the low-level client as ``dynamodb`` (default ``aws.client("dynamodb")``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from leads_core import aws
from leads_core.errors import ConditionFailed, StorageUnavailable, TransactionCancelled
from leads_core.observability import logger
from leads_core.store import layout as keys
from leads_core.store.codec import read_string
from leads_core.store.failures import translated

LEASE_SECONDS = 60  # the lease of a claim that names no time budget (the lead-key helpers below)

ItemKey = Mapping[
    str, Mapping[str, str]
]  # a table key in DynamoDB's wire shape: {"pk": {"S": ...}, "sk": ...}

_BASE_CONDITION = (
    "attribute_not_exists(alerted_at) AND "
    "(attribute_not_exists(alert_lease_until) OR alert_lease_until < :now OR alert_attempt = :token)"
)


@dataclass(frozen=True)
class ClaimCondition:
    """An extra condition the item must meet to be alerted (ANDed to the claim's own).

    ``expression`` uses its own ``#name`` / ``:value`` placeholders (avoid ``:now``, ``:token``, ``:until``,
    ``:one``, ``:expires``); ``values`` are in DynamoDB's wire shape (``{":lead": {"S": "lead"}}``). When the
    condition is false the claim answers ``NOT_ALERTABLE`` (or ``MISSING`` when the item does not exist).
    """

    expression: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# A lead is alerted only while it exists, is a lead and is not spam.
LEAD_CLAIM_CONDITION = ClaimCondition(
    expression="attribute_exists(#pk) AND #entity = :lead AND #status <> :spam",
    names={"#pk": keys.PK, "#entity": "entity", "#status": "status"},
    values={":lead": {"S": keys.ENTITY_LEAD}, ":spam": {"S": "spam"}},
)


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"
    ALREADY_ALERTED = "already_alerted"
    LEASED_ELSEWHERE = "leased_elsewhere"
    MISSING = "missing"
    NOT_ALERTABLE = "not_alertable"  # the claim condition is false (a lead: spam or not a lead): never alert


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    token: str = ""
    # CLAIMED over the expired lease of an earlier attempt that neither marked nor released: its outcome is
    # unknown (it may have died before publishing, or between SNS accepting and the mark).
    reopened: bool = False

    @property
    def claimed(self) -> bool:
        return self.status is ClaimStatus.CLAIMED


def new_token() -> str:
    return secrets.token_hex(8)


def _now() -> int:
    return int(time.time())


def _why_not_claimed(
    old: Mapping[str, Any] | None, now: int, token: str, condition: ClaimCondition | None
) -> ClaimStatus:
    """Why the claim's condition failed, from the item as the condition saw it."""
    if not old:
        return ClaimStatus.MISSING
    if "alerted_at" in old:
        return ClaimStatus.ALREADY_ALERTED
    lease = old.get("alert_lease_until", {}).get("N")
    mine = read_string(old, "alert_attempt") == token
    if lease is not None and int(lease) >= now and not mine:
        return ClaimStatus.LEASED_ELSEWHERE
    if condition is not None:
        return ClaimStatus.NOT_ALERTABLE
    return ClaimStatus.LEASED_ELSEWHERE  # cannot happen without an extra condition: retry later, never drop


def _table(table_name: str | None) -> str:
    if table_name:
        return table_name
    from leads_core.settings import load_settings  # noqa: PLC0415

    return load_settings().table_name


def _update(dynamodb: Any | None, request: dict[str, Any]) -> dict[str, Any]:
    """One ``UpdateItem`` through the store's error translation."""
    with translated():
        return dict((dynamodb or aws.client("dynamodb")).update_item(**request))


def claim_item(  # noqa: PLR0913 - keyword-only claim options with defaults; each caller sets the few it needs
    key: ItemKey,
    *,
    dynamodb: Any | None = None,
    table_name: str | None = None,
    token: str | None = None,
    lease_seconds: int = LEASE_SECONDS,
    condition: ClaimCondition | None = None,
    now: int | None = None,
    expires_at: int | None = None,
) -> ClaimResult:
    """Take the alert lease on the item at ``key`` for ``lease_seconds`` as attempt ``token``.

    Without ``condition`` the claim creates the item when it does not exist (e.g. a digest window's item);
    ``expires_at`` (epoch seconds, the table's TTL attribute) is then set unless the item has one already.
    Raises ``StorageUnavailable`` when DynamoDB fails or throttles.
    """
    now = _now() if now is None else now
    token = token or new_token()
    expression = _BASE_CONDITION + (f" AND ({condition.expression})" if condition else "")
    values: dict[str, Any] = {
        ":until": {"N": str(now + max(1, lease_seconds))},
        ":now": {"N": str(now)},
        ":token": {"S": token},
        ":one": {"N": "1"},
    }
    names: dict[str, str] = {}
    update = "SET alert_lease_until = :until, alert_attempt = :token"
    if expires_at is not None:
        update += ", expires_at = if_not_exists(expires_at, :expires)"
        values[":expires"] = {"N": str(expires_at)}
    if condition is not None:
        values.update(condition.values)
        names.update(condition.names)
    request: dict[str, Any] = {
        "TableName": _table(table_name),
        "Key": dict(key),
        "UpdateExpression": update + " ADD alert_attempts :one",
        "ConditionExpression": expression,
        "ExpressionAttributeValues": values,
        "ReturnValues": "UPDATED_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if names:
        request["ExpressionAttributeNames"] = names
    try:
        response = _update(dynamodb, request)
    except ConditionFailed as failed:
        return ClaimResult(_why_not_claimed(failed.item, now, token, condition), token)
    except StorageUnavailable as exc:
        logger.warning("alert claim failed", extra={"error_code": exc.code})
        raise
    old_values = response.get("Attributes") or {}
    earlier = read_string(old_values, "alert_attempt")
    reopened = bool(earlier) and earlier != token and "alert_lease_until" in old_values
    return ClaimResult(ClaimStatus.CLAIMED, token, reopened)


def _mark_request(key: ItemKey, message_id: str, sent_at: str, table_name: str) -> dict[str, Any]:
    """The ``Update`` that marks one published alert, only on an existing item not marked yet."""
    return {
        "TableName": table_name,
        "Key": dict(key),
        "UpdateExpression": (
            "SET alerted_at = :sent, alert_message_id = :message REMOVE alert_lease_until, alert_attempt"
        ),
        "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(alerted_at)",
        "ExpressionAttributeNames": {"#pk": keys.PK},
        "ExpressionAttributeValues": {":sent": {"S": sent_at}, ":message": {"S": message_id}},
    }


def _sent_at(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mark_item(
    key: ItemKey,
    message_id: str,
    *,
    dynamodb: Any | None = None,
    table_name: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record the published alert (``alerted_at``, ``alert_message_id``) and drop the lease and the attempt.

    A no-op when the item is gone (erased while the alert was in flight) or was marked already.
    """
    try:
        _update(dynamodb, _mark_request(key, message_id, _sent_at(now), _table(table_name)))
    except ConditionFailed:
        return


MARKS_PER_TRANSACTION = 100  # DynamoDB's limit of items in one TransactWriteItems


def mark_items(
    marks: Sequence[tuple[ItemKey, str]],
    *,
    dynamodb: Any | None = None,
    table_name: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Mark several published alerts ``(key, SNS message id)`` (distinct keys) in ONE ``TransactWriteItems``,
    each with ``mark_item``'s update and condition.

    ``True``: every item is marked. ``False``: the transaction was cancelled (an item gone or marked already,
    or another write to one of them at the same moment) and wrote nothing: mark each with ``mark_item``.
    Raises ``StorageUnavailable`` when DynamoDB fails or throttles the call; then too, mark each with
    ``mark_item``, which is a no-op on an item the transaction did mark after all.
    """
    if not 1 <= len(marks) <= MARKS_PER_TRANSACTION:
        raise ValueError(f"1 to {MARKS_PER_TRANSACTION} marks in one transaction")
    if len({json.dumps(dict(key), sort_keys=True) for key, _ in marks}) != len(marks):
        raise ValueError("each item at most once in one transaction")
    sent_at = _sent_at(now)
    name = _table(table_name)
    items = [{"Update": _mark_request(key, message_id, sent_at, name)} for key, message_id in marks]
    try:
        with translated():
            (dynamodb or aws.client("dynamodb")).transact_write_items(TransactItems=items)
    except TransactionCancelled:
        return False
    return True


def release_item(
    key: ItemKey, token: str, *, dynamodb: Any | None = None, table_name: str | None = None
) -> None:
    """Drop this attempt's lease after a failed publish; raise ``StorageUnavailable`` (the caller retries)."""
    try:
        _update(
            dynamodb,
            {
                "TableName": _table(table_name),
                "Key": dict(key),
                "UpdateExpression": "REMOVE alert_lease_until, alert_attempt",
                "ConditionExpression": (
                    "attribute_exists(#pk) AND attribute_not_exists(alerted_at) AND alert_attempt = :token"
                ),
                "ExpressionAttributeNames": {"#pk": keys.PK},
                "ExpressionAttributeValues": {":token": {"S": token}},
            },
        )
    except ConditionFailed:
        return  # marked, erased, or another attempt holds it now
    except StorageUnavailable as exc:
        logger.warning("alert lease release failed", extra={"error_code": exc.code})
        raise


# ---------------------------------------------------------------------------------------- lead-key helpers


def claim(
    lead_id: str,
    *,
    dynamodb: Any | None = None,
    table_name: str | None = None,
    now: int | None = None,
    token: str | None = None,
) -> ClaimResult:
    """Take a ``LEASE_SECONDS`` lease on lead ``lead_id``; raise ``StorageUnavailable`` on AWS errors."""
    return claim_item(
        keys.lead_key(lead_id),
        dynamodb=dynamodb,
        table_name=table_name,
        token=token,
        condition=LEAD_CLAIM_CONDITION,
        now=now,
    )


def mark_sent(
    lead_id: str,
    message_id: str,
    *,
    dynamodb: Any | None = None,
    table_name: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record the lead's published alert; raise ``StorageUnavailable`` on AWS errors."""
    mark_item(keys.lead_key(lead_id), message_id, dynamodb=dynamodb, table_name=table_name, now=now)


def release(lead_id: str, *, dynamodb: Any | None = None, table_name: str | None = None) -> None:
    """Drop any lease the lead holds (best effort; for tools and tests, the alert path uses release_item)."""
    try:
        _update(
            dynamodb,
            {
                "TableName": _table(table_name),
                "Key": keys.lead_key(lead_id),
                "UpdateExpression": "REMOVE alert_lease_until, alert_attempt",
                "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(alerted_at)",
                "ExpressionAttributeNames": {"#pk": keys.PK},
            },
        )
    except ConditionFailed:
        return
    except StorageUnavailable as exc:
        logger.warning("alert lease release failed", extra={"error_code": exc.code})
