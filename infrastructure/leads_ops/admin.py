"""Ops operations behind the ``leads`` CLI: list, show, export, set-status, erase, and the audit trail.

Everything here reads the table through its key and its indexes (docs/architecture.md, "Table"), never with a
``Scan``:

- listing and export page through ``ByStatus`` (``status`` + ``created_at``), newest first; without a status
  filter each status partition is queried and the pages are merged lazily (``heapq.merge``), so memory stays
  at one page per status whatever the table size;
- erasure by email or phone normalises the value exactly as the intake does, hashes it with the same keyed
  hash (``repository.email_hash`` / ``repository.phone_hash``) and queries ``ByEmail`` / ``ByPhone``.

Status changes, exports and erasures write an audit entry (``AUDIT#<YYYY-MM>`` / ``<iso>#<uuid>``) holding who
(the caller's AWS identity ARN), what, when and how many: lead ids and codes, never a visitor's value, never a
note's text. Audit entries have no TTL and are never touched by erasure.

The table reads and writes themselves are ``leads_core.store.leads_admin.LeadsTable`` (one pagination helper,
one (de)serialiser, one AWS-error translation); this module holds the rules: what may be listed, shown,
changed, erased and audited.

No Click, no Rich: the CLI is a thin layer over this module.
"""

from __future__ import annotations

import heapq
import re
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from leads_core import aws, keys
from leads_core.errors import LeadNotFound, LeadsError
from leads_core.keys import ATTRIBUTION_FIELDS
from leads_core.store.codec import to_plain as from_item
from leads_core.store.layout import ENTITY_AUDIT
from leads_core.store.leads_admin import ContactKind, LeadsTable, StatusUpdate

STAFF_STATUSES: tuple[str, ...] = ("new", "contacted", "scheduled", "not_a_fit", "closed")
SPAM_STATUS = "spam"
LISTABLE_STATUSES: tuple[str, ...] = (*STAFF_STATUSES, SPAM_STATUS)
DEFAULT_PAGE_SIZE = 100

# Attributes that are bookkeeping, not the lead: never shown or exported.
INTERNAL_ATTRIBUTES = frozenset(
    {
        "pk",
        "sk",
        "entity",
        "email_hash",
        "phone_hash",
        "source_hash",
        "dedupe_hash",
        "alert_lease_until",
        "alert_attempt",
        "alert_attempts",
        "attribution",
    }
)

# ``leads show`` prints these first, always (``None`` when the lead has no value).
SHOW_FIELDS: tuple[str, ...] = (
    "id",
    "status",
    "created_at",
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "best_time",
    "service",
    "location",
    "referral_type",
    "message",
    "urgent",
)


# The export's columns, in this order, whatever the leads hold (stable for spreadsheets and scripts).
EXPORT_COLUMNS: tuple[str, ...] = (
    *SHOW_FIELDS,
    "in_crisis",
    "urgent_reasons",
    "provider_name",
    "provider_practice",
    "provider_email",
    "provider_phone",
    "heard_about",
    "consent_privacy",
    "consent_privacy_at",
    "consent_sms",
    "consent_sms_at",
    *ATTRIBUTION_FIELDS,
    "channel",
    "submission_id",
    "spam_reasons",
    "review_flags",
    "alerted_at",
    "status_changed_at",
    "status_changed_by",
    "status_note",
    "expires_at",
)

# The only keys an audit entry's details may hold; values are codes, counts, ISO times or lead ids.
AUDIT_DETAIL_KEYS = frozenset(
    {
        "from_status",
        "to_status",
        "has_note",
        "kind",
        "lead_ids",
        "status_filter",
        "since",
        "format",
        "destination",
        "complete",
        "replayed",
        "skipped",
        "failed",
        "priority",
        "message_id",
    }
)
_AUDIT_VALUE = re.compile(r"^[A-Za-z0-9_.:#/+-]{0,200}$")
_PHONE_LIKE = re.compile(r"^\+?\d{7,15}$")
_LEAD_ID = re.compile(keys.LEAD_ID_PATTERN)
_RELATIVE_SINCE = re.compile(r"^(\d{1,4})([dh])$")


class InvalidStatus(LeadsError):
    """A status outside the allowed set; the message lists the allowed ones."""


class InvalidContact(LeadsError):
    """An email or phone number that cannot be normalised (so it cannot match any lead)."""


class InvalidLeadId(LeadsError):
    """Not a lead id (10 characters of Crockford base32)."""


class InvalidSince(LeadsError):
    """A ``since`` value that is neither ISO 8601 nor a relative ``7d`` / ``24h``."""


# ---------------------------------------------------------------------------------------------- values


def iso_now(now: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (the table's time format)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_lead_id(lead_id: str) -> str:
    """Return the id upper-cased if it looks like a lead id; raise ``InvalidLeadId`` otherwise."""
    candidate = lead_id.strip().upper()
    if not _LEAD_ID.match(candidate):
        raise InvalidLeadId("a lead id is 10 characters of 0-9 and A-Z without I, L, O, U (e.g. 7K3M9Q2XAB)")
    return candidate


def check_status(status: str, allowed: Sequence[str] = STAFF_STATUSES) -> str:
    if status not in allowed:
        raise InvalidStatus(f"unknown status {status!r}; use one of: {', '.join(allowed)}")
    return status


def parse_since(value: str, now: datetime | None = None) -> str:
    """Lower bound for ``created_at`` in the table's format.

    Accepts ISO 8601 (``2026-11-23``, ``2026-11-23T08:00``, ``2026-11-23T08:00:00-06:00``; no offset means
    UTC) or a relative ``7d`` / ``24h`` back from now.
    """
    text = value.strip()
    relative = _RELATIVE_SINCE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        delta = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        return iso_now((now or datetime.now(UTC)) - delta)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidSince(
            "--since takes an ISO 8601 date or time (2026-11-23, 2026-11-23T08:00:00-06:00) or 7d / 24h"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso_now(moment)


def normalise_contact(kind: ContactKind, value: str) -> str:
    """An email or phone typed by an operator, normalised exactly as the intake model stores it
    (``leads_core.models``: email domain lower-cased; phone in E.164, national numbers read as US)."""
    from leads_core import models  # noqa: PLC0415 - CLI-only path

    text = value.strip()
    if kind == "email":
        email = models.normalise_email(text)
        if email is None:
            raise InvalidContact("not a valid email address")
        return email
    if kind == "phone":
        phone = models.normalise_phone(text)
        if phone is None:
            raise InvalidContact("not a valid phone number (national numbers are read as US numbers)")
        return phone
    raise InvalidContact("kind must be email or phone")


def contact_hash(secret_id: str, kind: ContactKind, value: str) -> str:
    """The ``ByEmail`` / ``ByPhone`` key of a contact typed by an operator (same hash as the intake's)."""
    from leads_core.store.submit import email_hash, phone_hash  # noqa: PLC0415

    normalised = normalise_contact(kind, value)
    return email_hash(secret_id, normalised) if kind == "email" else phone_hash(secret_id, normalised)


def public_lead(item: Mapping[str, Any]) -> dict[str, Any]:
    """The lead as staff see it: ``SHOW_FIELDS`` first (always present), then every other submitted or
    status field; attribution flattened to its submitted names (``utm_source``, ...); no keys or hashes."""
    lead = from_item(item)
    view: dict[str, Any] = {name: lead.get(name) for name in SHOW_FIELDS}
    attribution = lead.get("attribution")
    extras: dict[str, Any] = {
        name: value for name, value in lead.items() if name not in INTERNAL_ATTRIBUTES and name not in view
    }
    if isinstance(attribution, Mapping):
        extras.update({str(k): v for k, v in attribution.items()})
    order = {name: index for index, name in enumerate(EXPORT_COLUMNS)}
    for name in sorted(extras, key=lambda n: (order.get(n, len(order)), n)):
        view[name] = extras[name]
    return view


def export_row(lead: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly ``EXPORT_COLUMNS`` of a public lead (``None`` where the lead has no value)."""
    return {column: lead.get(column) for column in EXPORT_COLUMNS}


def _check_audit_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if not _AUDIT_VALUE.match(value) or _PHONE_LIKE.match(value):
            raise ValueError("audit values are codes, counts, ISO times or lead ids")
        return value
    if isinstance(value, list | tuple):
        return [_check_audit_value(v) for v in value]
    raise ValueError("audit values are codes, counts, ISO times or lead ids")


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StatusChange:
    lead_id: str
    previous_status: str
    status: str
    changed_at: str
    changed_by: str
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.lead_id,
            "previous_status": self.previous_status,
            "status": self.status,
            "status_changed_at": self.changed_at,
            "status_changed_by": self.changed_by,
            "status_note": self.note,
        }


@dataclass(frozen=True)
class Erasure:
    target: str
    lead_ids: tuple[str, ...]
    audit_sk: str

    @property
    def count(self) -> int:
        return len(self.lead_ids)


def caller_arn() -> str:
    """The ARN of the AWS identity running the command (the audit trail's "who")."""
    return str(aws.client("sts").get_caller_identity()["Arn"])


# ---------------------------------------------------------------------------------------------- operations


class LeadAdmin:
    """Operations on one table. ``hash_key_secret_id`` is needed only for erasure by email or phone.

    ``dynamodb``: the low-level client to use (e.g. a moto one); left out, ``aws.client("dynamodb")``.
    """

    def __init__(
        self,
        table_name: str,
        *,
        hash_key_secret_id: str = "",
        page_size: int = DEFAULT_PAGE_SIZE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        dynamodb: Any | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.table_name = table_name
        self.hash_key_secret_id = hash_key_secret_id
        self.page_size = page_size
        self._clock = clock
        self._table = LeadsTable(table_name, page_size=page_size, dynamodb=dynamodb)

    # ------------------------------------------------------------------ reading

    def _query_status(self, status: str, since: str | None) -> Iterator[dict[str, Any]]:
        """One ``ByStatus`` partition, newest first, one page in memory at a time."""
        for item in self._table.query_status(status, since):
            yield public_lead(item)

    def iter_leads(self, status: str | None = None, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Leads newest first. ``status=None`` means every staff status (not spam: ask for it by name)."""
        if status is not None:
            return self._query_status(check_status(status, LISTABLE_STATUSES), since)
        partitions = [self._query_status(name, since) for name in STAFF_STATUSES]
        return heapq.merge(*partitions, key=lambda lead: str(lead["created_at"]), reverse=True)

    def get_lead(self, lead_id: str) -> dict[str, Any]:
        lead_id = check_lead_id(lead_id)
        item = self._table.get_lead(lead_id)
        if item is None:
            raise LeadNotFound(lead_id)
        return public_lead(item)

    def export_rows(
        self,
        *,
        actor: str,
        status: str | None = None,
        since: str | None = None,
        export_format: str = "csv",
        destination: str = "stdout",
    ) -> Generator[dict[str, Any], None, None]:
        """Stream ``EXPORT_COLUMNS`` rows, newest first; the audit entry (how many rows, complete or not) is
        written when the stream ends, is closed, or fails. Filters are checked before anything is read."""
        if status is not None:
            check_status(status, LISTABLE_STATUSES)
        return self._export(actor, status, since, export_format, destination)

    def _export(
        self, actor: str, status: str | None, since: str | None, export_format: str, destination: str
    ) -> Generator[dict[str, Any], None, None]:
        rows = 0
        complete = False
        try:
            for lead in self.iter_leads(status=status, since=since):
                rows += 1  # counted when handed out: a consumer that stops early still had this row
                yield export_row(lead)
            complete = True
        finally:
            self.record_audit(
                actor,
                "export",
                "leads",
                rows,
                {
                    "status_filter": status or "all",
                    "since": since,
                    "format": export_format,
                    "destination": destination,
                    "complete": complete,
                },
            )

    # ------------------------------------------------------------------ status

    def set_status(self, lead_id: str, status: str, note: str | None, actor: str) -> StatusChange:
        """Move a lead to a staff status; writes ``status_note`` (or removes an older note),
        ``status_changed_at`` and ``status_changed_by``; raises ``LeadNotFound`` for an unknown id."""
        lead_id = check_lead_id(lead_id)
        check_status(status)
        note = note.strip() if note else None
        changed_at = iso_now(self._clock())
        previous = self._table.update_status(StatusUpdate(lead_id, status, note, changed_at, actor))
        self.record_audit(
            actor,
            "set_status",
            f"lead:{lead_id}",
            1,
            {"from_status": previous, "to_status": status, "has_note": bool(note)},
        )
        return StatusChange(lead_id, previous, status, changed_at, actor, note)

    # ------------------------------------------------------------------ erasure

    def find_contact_leads(self, kind: ContactKind, value: str) -> list[str]:
        """Ids of every lead (spam included) with this email / phone, via ``ByEmail`` / ``ByPhone``."""
        if kind not in ("email", "phone"):
            raise InvalidContact("kind must be email or phone")
        if not self.hash_key_secret_id:
            raise LeadsError("the hash key secret is needed to look up a contact")
        digest = contact_hash(self.hash_key_secret_id, kind, value)
        return self._table.contact_lead_ids(kind, digest)

    def _delete_lead(self, lead_id: str) -> bool:
        """Delete the lead and every record derived from it (``LeadsTable.delete_lead``); ``False`` when the
        lead was already gone."""
        return self._table.delete_lead(lead_id)

    def _erase(
        self,
        lead_ids: Iterable[str],
        actor: str,
        target: str,
        details: Mapping[str, Any],
        on_progress: Callable[[int], None] | None,
    ) -> Erasure:
        erased: list[str] = []
        try:
            for lead_id in lead_ids:
                if self._delete_lead(lead_id):
                    erased.append(lead_id)
                if on_progress:
                    on_progress(1)
        finally:
            audit = self.record_audit(actor, "erase", target, len(erased), {**details, "lead_ids": erased})
        return Erasure(target=target, lead_ids=tuple(erased), audit_sk=str(audit["sk"]))

    def erase_lead(
        self, lead_id: str, actor: str, on_progress: Callable[[int], None] | None = None
    ) -> Erasure:
        """Delete one lead; raises ``LeadNotFound`` when there is no such lead (nothing is audited then)."""
        lead_id = check_lead_id(lead_id)
        self.get_lead(lead_id)
        return self._erase([lead_id], actor, f"lead:{lead_id}", {"kind": "id"}, on_progress)

    def erase_by_contact(
        self,
        kind: ContactKind,
        value: str,
        actor: str,
        on_progress: Callable[[int], None] | None = None,
    ) -> Erasure:
        """Delete every lead (spam included) of the person with this email or phone; the audit entry names
        the kind and the erased lead ids, never the value."""
        lead_ids = self.find_contact_leads(kind, value)
        return self._erase(lead_ids, actor, f"contact:{kind}", {"kind": kind}, on_progress)

    # ------------------------------------------------------------------ audit

    def record_audit(
        self,
        actor: str,
        action: str,
        target: str,
        count: int,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write one audit entry and return it (plain values). ``details`` keys must be in
        ``AUDIT_DETAIL_KEYS`` and values codes/counts/ids: visitor data cannot get in by accident."""
        clean_details: dict[str, Any] = {}
        for key, value in (details or {}).items():
            if key not in AUDIT_DETAIL_KEYS:
                raise ValueError(f"audit detail {key!r} is not an allowed key")
            if value is not None:
                clean_details[key] = _check_audit_value(value)
        _check_audit_value(action)
        _check_audit_value(target)
        moment = self._clock().astimezone(UTC)
        at = iso_now(moment)
        entry: dict[str, Any] = {
            keys.PK: keys.audit_partition(moment.strftime("%Y-%m")),
            keys.SK: f"{at}#{uuid.uuid4()}",
            "entity": ENTITY_AUDIT,
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "count": int(count),
            "details": clean_details,
        }
        self._table.put_audit(entry)
        return entry

    def iter_audit(self, month: str | None = None) -> Iterator[dict[str, Any]]:
        """Audit entries of one month (``YYYY-MM``, default this month), newest first."""
        month = month or self._clock().astimezone(UTC).strftime("%Y-%m")
        if not re.match(r"^\d{4}-\d{2}$", month):
            raise ValueError("month is YYYY-MM")
        for entry in self._table.query_audit(month):
            yield {name: value for name, value in entry.items() if name not in {"pk", "entity"}}
