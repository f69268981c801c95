"""Staff and ops reads and writes of leads: status queries, one lead, status change, erasure, the audit trail.

The table part of the ops use cases (``leads_ops.admin.LeadAdmin``, the staff API): every read goes through a
key or an index (``ByStatus``, ``ByEmail``, ``ByPhone``, the ``AUDIT#<YYYY-MM>`` partition), never a ``Scan``;
every paged read through ``pager.items``; every AWS failure through ``failures.translated``. Items come back
in the wire shape (``codec.to_plain`` makes them plain) except audit entries, which are plain values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from leads_core import aws
from leads_core.errors import ConditionFailed, LeadNotFound
from leads_core.store import layout, pager
from leads_core.store.codec import read_string, string, to_item, to_plain
from leads_core.store.failures import translated

ContactKind = Literal["email", "phone"]


@dataclass(frozen=True)
class StatusUpdate:
    """A staff status change as written on the lead item."""

    lead_id: str
    status: str
    note: str | None
    changed_at: str
    changed_by: str


class LeadsTable:
    """The lead, idempotency and audit items of one table. ``dynamodb``: the low-level client to use (e.g. a
    moto one); left out, ``aws.client("dynamodb")`` on each call."""

    def __init__(self, table_name: str, *, page_size: int = 100, dynamodb: Any | None = None) -> None:
        self.table_name = table_name
        self.page_size = page_size
        self._client = dynamodb

    @property
    def dynamodb(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    # ------------------------------------------------------------------ leads

    def query_status(self, status: str, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Lead items (wire shape) of one ``ByStatus`` partition, newest first, a page in memory at a time."""
        condition = "#status = :status"
        values: dict[str, Any] = {":status": string(status)}
        if since:
            condition += " AND created_at >= :since"
            values[":since"] = string(since)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": layout.INDEX_BY_STATUS,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": self.page_size,
        }
        for item in pager.items(self.dynamodb.query, request):
            if read_string(item, "entity") == layout.ENTITY_LEAD:
                yield item

    def get_lead(self, lead_id: str) -> dict[str, Any] | None:
        """The lead item (wire shape, strongly consistent), or ``None`` when there is no such lead."""
        with translated():
            response = self.dynamodb.get_item(
                TableName=self.table_name, Key=layout.lead_key(lead_id), ConsistentRead=True
            )
        item: dict[str, Any] | None = response.get("Item")
        if not item or read_string(item, "entity") != layout.ENTITY_LEAD:
            return None
        return item

    def update_status(self, change: StatusUpdate) -> str:
        """Write the staff status (``status_note`` set or removed, ``status_changed_at``/``_by``); the status
        before. Raises ``LeadNotFound`` when there is no such lead."""
        values: dict[str, Any] = {
            ":status": string(change.status),
            ":at": string(change.changed_at),
            ":by": string(change.changed_by),
            ":lead": string(layout.ENTITY_LEAD),
        }
        update = "SET #status = :status, status_changed_at = :at, status_changed_by = :by"
        if change.note:
            update += ", status_note = :note"
            values[":note"] = string(change.note)
        else:
            update += " REMOVE status_note"
        try:
            with translated():
                response = self.dynamodb.update_item(
                    TableName=self.table_name,
                    Key=layout.lead_key(change.lead_id),
                    UpdateExpression=update,
                    ConditionExpression="attribute_exists(pk) AND entity = :lead",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_OLD",
                )
        except ConditionFailed:
            raise LeadNotFound(change.lead_id) from None
        return read_string(response.get("Attributes") or {}, "status")

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
        """Delete the lead and every record derived from it: its keyed idempotency record (``IDEM#``) and its
        key-less dedupe record (``IDEMC#``, found through the lead's ``dedupe_hash``); ``False`` when the lead
        was already gone."""
        with translated():
            response = self.dynamodb.delete_item(
                TableName=self.table_name, Key=layout.lead_key(lead_id), ReturnValues="ALL_OLD"
            )
        old = response.get("Attributes")
        if not old:
            return False
        submission_id = read_string(old, "submission_id")
        if submission_id:
            self._delete_idempotency(layout.idempotency_key(submission_id), lead_id)
        dedupe_hash = read_string(old, "dedupe_hash")
        if dedupe_hash:
            self._delete_idempotency(layout.content_dedupe_key(dedupe_hash), lead_id)
        return True

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
