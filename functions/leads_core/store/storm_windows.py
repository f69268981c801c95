"""The SMS storm guard's window items (``STORM#<window start>`` / ``STORM``; ``leads_core.storm`` decides).

Each write is one ``UpdateItem`` on the window's item, retried on AWS failures through ``backoff`` (the
caller's sleep with jitter) up to ``attempts`` times; a false condition raises ``ConditionFailed`` with the
item as the condition saw it (when asked for), any other failure the last ``StorageUnavailable``. Lead ids are
kept in string sets (``sent_ids``, ``held_ids``), so a retried write never counts a lead twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leads_core import aws
from leads_core.errors import StorageUnavailable
from leads_core.store import layout
from leads_core.store.codec import number, read_string_set, string, string_set
from leads_core.store.failures import translated

_BATCH_GET_KEYS = 100


@dataclass(frozen=True)
class WindowTable:
    """Where the window items live and how writes are retried."""

    table_name: str
    attempts: int = 1
    backoff: Callable[[int], None] = lambda attempt: None  # called with the attempt number before a retry
    dynamodb: Any | None = None

    def client(self) -> Any:
        return self.dynamodb if self.dynamodb is not None else aws.client("dynamodb")


def update(table: WindowTable, request: dict[str, Any]) -> dict[str, Any]:
    """``UpdateItem`` retried on AWS errors; raises ``ConditionFailed`` or the last ``StorageUnavailable``."""
    attempt = 0
    while True:
        try:
            with translated():
                return dict(table.client().update_item(**request))
        except StorageUnavailable:
            attempt += 1
            if attempt >= table.attempts:
                raise
            table.backoff(attempt)


def _add_request(table: WindowTable, start: int, lead_id: str, expires_at: int) -> dict[str, Any]:
    return {
        "TableName": table.table_name,
        "Key": layout.window_key(start),
        "ExpressionAttributeValues": {":id": string_set([lead_id]), ":expires": number(expires_at)},
        "ExpressionAttributeNames": {"#ttl": layout.TTL_ATTRIBUTE},
    }


def add_sent(
    table: WindowTable, start: int, lead_id: str, *, expires_at: int, limit: int | None = None
) -> None:
    """Count ``lead_id`` as texted in the window; with ``limit``, only while fewer than ``limit`` were texted
    and the lead was not held (or it is counted already). ``ConditionFailed.item``: the window as it was."""
    base = _add_request(table, start, lead_id, expires_at)
    request = {**base, "UpdateExpression": "ADD sent_ids :id SET #ttl = if_not_exists(#ttl, :expires)"}
    if limit is not None:
        request["ConditionExpression"] = (
            "contains(sent_ids, :lead) OR ((attribute_not_exists(sent_ids) OR size(sent_ids) < :max)"
            " AND NOT contains(held_ids, :lead))"
        )
        request["ExpressionAttributeValues"] = {
            **base["ExpressionAttributeValues"],
            ":lead": string(lead_id),
            ":max": number(limit),
        }
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    update(table, request)


def add_held(table: WindowTable, start: int, lead_id: str, *, expires_at: int) -> None:
    """Count ``lead_id`` as held in the window, unless the window is closed (``ConditionFailed``)."""
    base = _add_request(table, start, lead_id, expires_at)
    update(
        table,
        {
            **base,
            "UpdateExpression": "ADD held_ids :id SET #ttl = if_not_exists(#ttl, :expires)",
            "ConditionExpression": "attribute_not_exists(closed_at) OR contains(held_ids, :lead)",
            "ExpressionAttributeValues": {**base["ExpressionAttributeValues"], ":lead": string(lead_id)},
        },
    )


@dataclass(frozen=True)
class WindowState:
    """What a chunk's decision reads from a window item: texted and held lead ids, whether it is closed."""

    sent: frozenset[str] = frozenset()
    held: frozenset[str] = frozenset()
    closed: bool = False

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> WindowState:
        return cls(
            frozenset(read_string_set(item, "sent_ids")),
            frozenset(read_string_set(item, "held_ids")),
            "closed_at" in item,
        )


def add_many(  # noqa: PLR0913 - keyword-only parts of one window write
    table: WindowTable,
    start: int,
    *,
    sent: Sequence[str],
    held: Sequence[str] = (),
    expires_at: int,
    fits_below: int | None = None,
    seen: WindowState | None = None,
) -> None:
    """Count several lead ids as texted (``sent``) and held (``held``) in the window with ONE ``UpdateItem``.

    The condition makes the write exact without a read:
    - ``fits_below``: the optimistic first write of a chunk; only while nothing is held and fewer than
      ``fits_below`` + 1 leads were texted (``size(sent_ids) <= fits_below``);
    - ``seen``: the window exactly as a failed condition returned it (same counts of texted and held leads,
      still open when it was open), so decisions made from it stay true.
    ``ConditionFailed.item``: the window as it is now (``ALL_OLD``). Nothing to add: no call.
    """
    if not sent and not held:
        return
    values: dict[str, Any] = {":expires": number(expires_at)}
    parts = []
    if sent:
        values[":sent"] = string_set(sorted(set(sent)))
        parts.append("sent_ids :sent")
    if held:
        values[":held"] = string_set(sorted(set(held)))
        parts.append("held_ids :held")
    request: dict[str, Any] = {
        "TableName": table.table_name,
        "Key": layout.window_key(start),
        "UpdateExpression": "ADD " + ", ".join(parts) + " SET #ttl = if_not_exists(#ttl, :expires)",
        "ExpressionAttributeNames": {"#ttl": layout.TTL_ATTRIBUTE},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    conditions = []
    if fits_below is not None:
        values[":fits"] = number(fits_below)
        conditions.append(
            "(attribute_not_exists(sent_ids) OR size(sent_ids) <= :fits) AND attribute_not_exists(held_ids)"
        )
    if seen is not None:
        conditions.append(_same_as(seen, values))
    if conditions:
        request["ConditionExpression"] = " AND ".join(f"({c})" for c in conditions)
    else:
        del request["ReturnValuesOnConditionCheckFailure"]
    request["ExpressionAttributeValues"] = values
    update(table, request)


def _same_as(seen: WindowState, values: dict[str, Any]) -> str:
    """A condition true while the window still has ``seen``'s counts (sets only grow) and open state."""
    terms = []
    for name, ids, placeholder in (("sent_ids", seen.sent, ":nsent"), ("held_ids", seen.held, ":nheld")):
        if ids:
            values[placeholder] = number(len(ids))
            terms.append(f"size({name}) = {placeholder}")
        else:
            terms.append(f"attribute_not_exists({name})")
    if not seen.closed:
        terms.append("attribute_not_exists(closed_at)")
    return " AND ".join(terms)


def close(table: WindowTable, start: int, now: float) -> set[str]:
    """Close the window (no lead is held in it from now on); its final held lead ids.

    ``ConditionFailed`` when the window item does not exist.
    """
    response = update(
        table,
        {
            "TableName": table.table_name,
            "Key": layout.window_key(start),
            "UpdateExpression": "SET closed_at = if_not_exists(closed_at, :now)",
            "ConditionExpression": "attribute_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": layout.PK},
            "ExpressionAttributeValues": {":now": number(int(now))},
            "ReturnValues": "ALL_NEW",
        },
    )
    return read_string_set(response.get("Attributes") or {}, "held_ids")


def held_windows(table: WindowTable, starts: Sequence[int]) -> dict[int, Mapping[str, Any]]:
    """The window items among ``starts`` that held SMS and have no digest marked yet (strongly consistent).

    Raises ``StorageUnavailable`` (no retry: the next flush reads again).
    """
    found: dict[int, Mapping[str, Any]] = {}
    by_pk = {layout.window_key(start)[layout.PK]["S"]: start for start in starts}
    client = table.client()
    name = table.table_name
    for offset in range(0, len(starts), _BATCH_GET_KEYS):
        part = [layout.window_key(start) for start in starts[offset : offset + _BATCH_GET_KEYS]]
        with translated():
            response = client.batch_get_item(RequestItems={name: {"Keys": part, "ConsistentRead": True}})
        for item in response.get("Responses", {}).get(name, []):
            if read_string_set(item, "held_ids") and "alerted_at" not in item:
                found[by_pk[item[layout.PK]["S"]]] = item
    return found
