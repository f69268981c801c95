"""Staff and ops reads and writes of leads: lists (``Inbox``, ``ByStatus``), one lead and its history, status
changes and assignments (with their history item and the first answer), contact lookups, erasure, the audit
trail.

The table part of the staff and ops use cases (``leads_core.manage.LeadAdmin``, used by the staff API and the
``leads`` CLI): every read goes through a key or an index (``Inbox``, ``ByStatus``, ``ByEmail``, ``ByPhone``,
the lead's partition, the ``AUDIT#<YYYY-MM>`` partition), never a ``Scan``; every paged read through
``pager.items`` (the staff list, which stops after a bounded number of reads, hands out an opaque cursor:
``leads_core.cursor``); every AWS failure through ``failures.translated``. Lead and history items come back in
the wire shape (``codec.to_plain`` makes them plain); audit entries are plain values.

A change of a lead (status, assignment) writes the lead and a new history item (``HIST#<iso>#<uuid>``) in one
``TransactWriteItems``, so two concurrent changes never lose an entry; a transaction cancelled by a conflict
with another one on the same lead is tried again with a new history key.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from leads_core import aws
from leads_core import cursor as lead_cursor
from leads_core.errors import (
    ConditionFailed,
    LeadNotFound,
    LeadsError,
    StorageUnavailable,
    TransactionCancelled,
)
from leads_core.store import layout, pager
from leads_core.store.codec import boolean, read_string, string, to_item, to_plain
from leads_core.store.failures import TRANSACTION_CANCELLED, translated

ContactKind = Literal["email", "phone"]

# A transaction that conflicts with another one on the same lead is tried again this many times.
TRANSACTION_ATTEMPTS = 5
BATCH_WRITE_LIMIT = 25
# A list page reads at most this many index pages before it hands back a cursor (it may then be short).
MAX_READS_PER_PAGE = 10
FILTERED_READ_AHEAD = 4  # a filtered staff-list page reads this many items per lead it still needs
MAX_FILTERED_READ = 400

_LEAD_EXISTS = "attribute_exists(pk) AND entity = :lead"
_FIRST_ANSWERED = (
    ", first_answered_at = if_not_exists(first_answered_at, :at),"
    " first_answered_by = if_not_exists(first_answered_by, :by)"
)


@dataclass(frozen=True)
class StatusUpdate:
    """A staff status change as written on the lead item. ``answers``: the change answers the lead (sets
    ``first_answered_at`` / ``first_answered_by`` unless they are set already)."""

    lead_id: str
    status: str
    note: str | None
    changed_at: str
    changed_by: str
    answers: bool = False


@dataclass(frozen=True)
class Changed:
    """What a change found on the lead just before it: its status, whether this change is the lead's first
    answer (it had no ``first_answered_at``), and the lead item as it was (wire shape)."""

    previous_status: str
    first_answer: bool
    lead: dict[str, Any] = field(default_factory=dict)


def list_partition(status: str | None) -> tuple[str, str, str]:
    """Index, partition attribute and value of the staff list: ``ByStatus`` for a status, else ``Inbox``."""
    if status is None:
        return layout.INDEX_INBOX, "inbox", layout.INBOX_VALUE
    return layout.INDEX_BY_STATUS, "status", status


def _index_key(item: Mapping[str, Any], partition_attribute: str) -> dict[str, Any]:
    """The index position of a lead item (the ``ExclusiveStartKey`` that continues after it)."""
    names = (layout.PK, layout.SK, partition_attribute, "created_at")
    return {name: item[name] for name in names}


def _lead_filters(request: dict[str, Any], location: str | None, urgent: bool | None) -> None:
    """Location and urgency as a ``FilterExpression`` on an index query."""
    conditions: list[str] = []
    if location is not None:
        conditions.append("#location = :location")
        request["ExpressionAttributeNames"]["#location"] = "location"
        request["ExpressionAttributeValues"][":location"] = string(location)
    if urgent is not None:
        conditions.append("urgent = :urgent")
        request["ExpressionAttributeValues"][":urgent"] = boolean(urgent)
    if conditions:
        request["FilterExpression"] = " AND ".join(conditions)


def _is_lead(item: Mapping[str, Any]) -> bool:
    return read_string(item, "entity") == layout.ENTITY_LEAD


class LeadsTable:
    """The lead, history, idempotency and audit items of one table. ``dynamodb``: the low-level client to use
    (e.g. a moto one); left out, ``aws.client("dynamodb")`` on each call."""

    def __init__(self, table_name: str, *, page_size: int = 100, dynamodb: Any | None = None) -> None:
        self.table_name = table_name
        self.page_size = page_size
        self._client = dynamodb

    @property
    def dynamodb(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    # ------------------------------------------------------------------ lists

    def query_leads(self, status: str | None = None, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Lead items (wire shape), newest first, a page in memory at a time: one ``ByStatus`` partition, or
        with no status the ``Inbox`` (every non-spam lead). ``since``: lower bound of ``created_at``."""
        index, attribute, value = list_partition(status)
        condition = "#part = :part"
        values: dict[str, Any] = {":part": string(value)}
        if since:
            condition += " AND created_at >= :since"
            values[":since"] = string(since)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#part": attribute},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": self.page_size,
        }
        for item in pager.items(self.dynamodb.query, request):
            if _is_lead(item):
                yield item

    def query_status(self, status: str, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Lead items (wire shape) of one ``ByStatus`` partition, newest first."""
        return self.query_leads(status, since)

    def list_page(  # noqa: PLR0913 - the staff list's filters, all keyword-only
        self,
        status: str | None,
        *,
        limit: int,
        cursor: str | None = None,
        location: str | None = None,
        urgent: bool | None = None,
        max_reads: int = MAX_READS_PER_PAGE,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of lead items (wire shape), newest first, of ``ByStatus`` (a status) or ``Inbox`` (none),
        filtered by location and urgency, and the opaque cursor of the next page (``None`` at the end).

        Stops at ``limit`` items or after ``max_reads`` index reads (the page may then be short). A cursor of
        another list, or one this table did not hand out, raises ``leads_core.cursor.InvalidCursor``."""
        index, attribute, value = list_partition(status)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#part = :part",
            "ExpressionAttributeNames": {"#part": attribute},
            "ExpressionAttributeValues": {":part": string(value)},
            "ScanIndexForward": False,
        }
        _lead_filters(request, location, urgent)
        if cursor:
            request["ExclusiveStartKey"] = lead_cursor.decode(cursor, attribute, value)
        filtered = "FilterExpression" in request
        leads: list[dict[str, Any]] = []
        last_key: Mapping[str, Any] | None = None
        for _ in range(max_reads):
            # ``Limit`` counts items read before the filter: a filtered page reads ahead (FILTERED_READ_AHEAD
            # times what it still needs) so that one or two reads fill it, and ends at its last lead.
            wanted = limit - len(leads)
            request["Limit"] = min(wanted * FILTERED_READ_AHEAD, MAX_FILTERED_READ) if filtered else wanted
            with translated():
                page = self.dynamodb.query(**request)
            leads.extend(item for item in page.get("Items", []) if _is_lead(item))
            last_key = page.get("LastEvaluatedKey")
            if len(leads) > limit:  # read ahead past the page: the next page starts after its last lead
                leads = leads[:limit]
                last_key = _index_key(leads[-1], attribute)
                break
            if len(leads) == limit or not last_key:
                break
            request["ExclusiveStartKey"] = last_key
        return leads, lead_cursor.encode(last_key)

    # ------------------------------------------------------------------ one lead

    def get_lead(self, lead_id: str) -> dict[str, Any] | None:
        """The lead item (wire shape, strongly consistent), or ``None`` when there is no such lead."""
        with translated():
            response = self.dynamodb.get_item(
                TableName=self.table_name, Key=layout.lead_key(lead_id), ConsistentRead=True
            )
        item: dict[str, Any] | None = response.get("Item")
        if not item or not _is_lead(item):
            return None
        return item

    def history(self, lead_id: str) -> Iterator[dict[str, Any]]:
        """The lead's history items (wire shape), oldest first, strongly consistent."""
        return self._partition_items(lead_id, layout.HISTORY_PREFIX)

    def _partition_items(self, lead_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        """The items of the lead's partition whose sort key starts with ``prefix``, in key order."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": string(layout.lead_partition(lead_id)),
                ":prefix": string(prefix),
            },
            "ConsistentRead": True,
            "Limit": self.page_size,
        }
        yield from pager.items(self.dynamodb.query, request)

    # ------------------------------------------------------------------ changes

    def change_status(self, change: StatusUpdate) -> Changed:
        """Write the staff status (``status_note`` set or removed, ``status_changed_at``/``_by``, ``inbox``,
        the first answer when ``change.answers``) and a history item, in one transaction. Raises
        ``LeadNotFound`` when there is no such lead."""
        values: dict[str, Any] = {
            ":status": string(change.status),
            ":at": string(change.changed_at),
            ":by": string(change.changed_by),
            ":inbox": string(layout.INBOX_VALUE),
        }
        update = "SET #status = :status, status_changed_at = :at, status_changed_by = :by, inbox = :inbox"
        if change.answers:
            update += _FIRST_ANSWERED
        if change.note:
            update += ", status_note = :note"
            values[":note"] = string(change.note)
        else:
            update += " REMOVE status_note"
        history = {"action": "status", "status": change.status, "note": change.note}
        return self._change(change.lead_id, update, values, history, answers=change.answers)

    def update_status(self, change: StatusUpdate) -> str:
        """``change_status``, returning the status before."""
        return self.change_status(change).previous_status

    def assign(self, lead_id: str, assignee: str, at: str) -> Changed:
        """Assign the lead to ``assignee`` (``assigned_to``); the first assignment answers the lead. A history
        item records it, in the same transaction. Raises ``LeadNotFound`` when there is no such lead."""
        values = {":by": string(assignee), ":at": string(at)}
        update = "SET assigned_to = :by" + _FIRST_ANSWERED
        return self._change(lead_id, update, values, {"action": "assign"}, answers=True, keep_status=True)

    def _change(  # noqa: PLR0913 - the parts of one transaction
        self,
        lead_id: str,
        update: str,
        values: Mapping[str, Any],
        history: Mapping[str, str | None],
        *,
        answers: bool,
        keep_status: bool = False,
    ) -> Changed:
        """Read the lead (its status before), then its update and a history item in one transaction; a
        conflict with another change of the same lead is tried again (a new history key each time)."""
        current = self.get_lead(lead_id)
        if current is None:
            raise LeadNotFound(lead_id)
        before = Changed(
            previous_status=read_string(current, "status"),
            first_answer=answers and not read_string(current, "first_answered_at"),
            lead=current,
        )
        at = str(values[":at"]["S"])
        actor = str(values[":by"]["S"])
        entry = {**history, "status": before.previous_status} if keep_status else dict(history)
        lead_update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": layout.lead_key(lead_id),
            "UpdateExpression": update,
            "ConditionExpression": _LEAD_EXISTS,
            "ExpressionAttributeValues": {**values, ":lead": string(layout.ENTITY_LEAD)},
        }
        if "#status" in update:
            lead_update["ExpressionAttributeNames"] = {"#status": "status"}
        for attempt in range(TRANSACTION_ATTEMPTS):
            history_item = {
                layout.PK: string(layout.lead_partition(lead_id)),
                layout.SK: string(layout.history_sort_key(at, str(uuid.uuid4()))),
                "entity": string(layout.ENTITY_HISTORY),
                "at": string(at),
                "actor": string(actor),
                **{name: string(str(value)) for name, value in entry.items() if value},
            }
            try:
                self._transact(lead_update, history_item)
                return before
            except TransactionCancelled as cancelled:
                codes = [reason.get("Code") for reason in cancelled.reasons]
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise LeadNotFound(lead_id) from None
                if "TransactionConflict" not in codes or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise StorageUnavailable(code=TRANSACTION_CANCELLED) from cancelled
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _transact(self, lead_update: Mapping[str, Any], history_item: Mapping[str, Any]) -> None:
        put = {
            "TableName": self.table_name,
            "Item": dict(history_item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        with translated():
            self.dynamodb.transact_write_items(TransactItems=[{"Update": dict(lead_update)}, {"Put": put}])

    # ------------------------------------------------------------------ erasure

    def contact_lead_ids(self, kind: ContactKind, digest: str) -> list[str]:
        """Ids of every lead (spam included) whose ``email_hash`` / ``phone_hash`` is ``digest``, distinct."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": layout.INDEX_BY_EMAIL if kind == "email" else layout.INDEX_BY_PHONE,
            "KeyConditionExpression": "#hash = :hash",
            "ExpressionAttributeNames": {"#hash": f"{kind}_hash"},
            "ExpressionAttributeValues": {":hash": string(digest)},
            "Limit": self.page_size,
        }
        found = (layout.lead_id_of_key(item) for item in pager.items(self.dynamodb.query, request))
        return list(dict.fromkeys(lead_id for lead_id in found if lead_id))

    def delete_lead(self, lead_id: str) -> bool:
        """Delete the lead and every record derived from it: its history and escalation ledger (``HIST#`` and
        ``ESC#`` items of its partition, deleted even when the lead is already gone), its keyed idempotency
        record (``IDEM#``) and its key-less dedupe record (``IDEMC#``, found through the lead's
        ``dedupe_hash``); ``False`` when the lead was already gone."""
        with translated():
            response = self.dynamodb.delete_item(
                TableName=self.table_name, Key=layout.lead_key(lead_id), ReturnValues="ALL_OLD"
            )
        old = response.get("Attributes")
        self._delete_history(lead_id)
        if not old:
            return False
        submission_id = read_string(old, "submission_id")
        if submission_id:
            self._delete_idempotency(layout.idempotency_key(submission_id), lead_id)
        dedupe_hash = read_string(old, "dedupe_hash")
        if dedupe_hash:
            self._delete_idempotency(layout.content_dedupe_key(dedupe_hash), lead_id)
        return True

    def _delete_history(self, lead_id: str) -> None:
        """Every ``HIST#`` and ``ESC#`` (``leads_core.sweep``) item of the lead's partition, 25 per
        ``BatchWriteItem``."""
        batch: list[dict[str, Any]] = []
        derived = itertools.chain(
            self._partition_items(lead_id, layout.HISTORY_PREFIX),
            self._partition_items(lead_id, layout.ESCALATION_PREFIX),
        )
        for item in derived:
            batch.append({"DeleteRequest": {"Key": {layout.PK: item[layout.PK], layout.SK: item[layout.SK]}}})
            if len(batch) == BATCH_WRITE_LIMIT:
                self._batch_delete(batch)
                batch = []
        if batch:
            self._batch_delete(batch)

    def _batch_delete(self, requests: list[dict[str, Any]]) -> None:
        """One ``BatchWriteItem``; its unprocessed items are sent again (with a pause) a few times."""
        pending: Mapping[str, Any] = {self.table_name: requests}
        for attempt in range(TRANSACTION_ATTEMPTS * 2):
            with translated():
                response = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(0.05 * (attempt + 1))
        raise LeadsError("the lead's history could not be deleted; run the erasure again")

    def _delete_idempotency(self, key: Mapping[str, Any], lead_id: str) -> None:
        """An idempotency or dedupe record holds a keyed digest of this person's submission (it would expire
        within 24 h / 10 min anyway, but would answer an identical resubmission with the erased id); delete it
        when it still points at the erased lead."""
        try:
            with translated():
                self.dynamodb.delete_item(
                    TableName=self.table_name,
                    Key=dict(key),
                    ConditionExpression="lead_id = :lead_id",
                    ExpressionAttributeValues={":lead_id": string(lead_id)},
                )
        except ConditionFailed:
            return

    # ------------------------------------------------------------------ audit

    def put_audit(self, entry: Mapping[str, Any]) -> None:
        """Write one audit entry (plain values with ``pk`` and ``sk``); never overwrites another."""
        with translated():
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(entry),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def query_audit(self, month: str) -> Iterator[dict[str, Any]]:
        """Audit entries of one month (``YYYY-MM``) as plain values, newest first."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": string(layout.audit_partition(month))},
            "ScanIndexForward": False,
            "Limit": self.page_size,
        }
        for item in pager.items(self.dynamodb.query, request):
            yield to_plain(item)
