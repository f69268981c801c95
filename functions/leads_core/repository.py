"""The submit path's storage adapter: one ``TransactWriteItems`` per submission, nothing half-written.

The transaction holds three writes, in this order (docs/architecture.md, "Table"):

1. the idempotency record: ``IDEM#<submission_id>`` (24 h) or, without a key, ``IDEMC#<submission hash>``
   (10 min), condition ``attribute_not_exists(pk) OR expires_at < :now`` with
   ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` so a duplicate's first result comes back inside the
   cancellation reasons, without a second call;
2. the lead item (``status`` ``new`` or ``spam``), condition ``attribute_not_exists(pk)``;
3. the hourly rate counter of the source address: ``ADD hits :one`` while ``hits < limit``.

No unkeyed hash of a person's details is stored: the dedupe key and every record's ``request_digest`` are the
keyed ``submission_hash`` (HMAC) of ``Submission.normalised_digest()``, and a key-less lead carries its
``dedupe_hash`` so that erasure (``admin.LeadAdmin``) removes the dedupe record with the lead.

How a cancelled transaction is read (duplicates win over the rate limit, so the retry of an accepted lead gets
its first answer rather than a 429):

- idempotency condition failed, same request digest  -> ``StoredResult(replayed=True)`` with the first lead id
- idempotency condition failed, different digest     -> ``DuplicateConflict``
- lead condition failed (a lead-id collision)         -> one more attempt with a fresh id
- rate counter condition failed                       -> ``RateLimited`` (retry after the current hour)
- throttling, transaction conflict, 5xx, timeouts     -> ``StorageUnavailable``

Visitor values never leave this module except as the item written; logs carry codes only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from leads_core import aws, keys
from leads_core.errors import DuplicateConflict, RateLimited, StorageUnavailable
from leads_core.hashing import keyed_hash
from leads_core.observability import logger
from leads_core.submission.schema import BOOLEAN_FIELDS, TEXT_FIELDS

if TYPE_CHECKING:
    from leads_core.settings import Settings

Channel = Literal["json", "form"]
LeadStatus = Literal["new", "spam"]

RATE_COUNTER_SECONDS = 2 * 3600
STORAGE_RETRY_AFTER_SECONDS = 2
_LEAD_ID_ATTEMPTS = 2

# ``review_flags`` value of an urgent lead that a spam rule matched (stored as ``new``, alerted).
POSSIBLE_SPAM = "possible_spam"

# Submission fields stored on the lead item as strings (omitted when empty) and as booleans.
_STRING_FIELDS = TEXT_FIELDS
_BOOLEAN_FIELDS = BOOLEAN_FIELDS

# Cancellation reason codes that mean "try again shortly" rather than "your request is wrong".
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_IDEMPOTENCY_INDEX, _LEAD_INDEX, _RATE_INDEX = 0, 1, 2


@dataclass(frozen=True)
class NewLead:
    """A validated submission ready to be stored.

    ``fields`` are the normalised submission values (``Submission.model_dump(mode="json")``); only the lead
    attributes of docs/architecture.md are taken from it (never ``website`` or ``captcha_token``).
    """

    fields: Mapping[str, Any]
    digest: str
    channel: Channel
    source_ip: str
    submission_id: str | None = None
    urgent_reasons: Sequence[str] = ()
    spam_reasons: Sequence[str] = ()
    review_flags: Sequence[str] = ()

    def __post_init__(self) -> None:
        # An urgent lead that a spam rule also matched is kept for staff, flagged (see ``status``).
        if self.urgent_reasons and self.spam_reasons and POSSIBLE_SPAM not in self.review_flags:
            object.__setattr__(self, "review_flags", (*self.review_flags, POSSIBLE_SPAM))

    @property
    def status(self) -> LeadStatus:
        """``spam`` when a spam rule matched, except for an urgent lead: a person in crisis is never dropped.

        Such a lead is stored as ``new`` (so it is alerted) with ``review_flags`` ``possible_spam`` and its
        ``spam_reasons`` kept for staff. Bot floods that use crisis words are bounded by the rate limit and
        the SMS storm guard, not by dropping people.
        """
        return "spam" if self.spam_reasons and not self.urgent_reasons else "new"

    @property
    def urgent(self) -> bool:
        return bool(self.urgent_reasons)


@dataclass(frozen=True)
class StoredResult:
    """What the visitor is told: the lead id and urgency of the first acceptance of this submission."""

    lead_id: str
    urgent: bool
    created_at: str
    replayed: bool = False
    status: LeadStatus | None = field(default=None, compare=False)


def iso_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, e.g. ``2026-11-29T13:45:12.345Z``."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def hour_bucket(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y%m%d%H")


def seconds_to_next_hour(epoch_seconds: float) -> int:
    return max(1, 3600 - int(epoch_seconds) % 3600)


def email_hash(secret_id: str, email: str) -> str:
    """Index key of ``ByEmail``: the keyed hash of the whole address, trimmed and lower-cased.

    Erasure by email (``leads erase --email``) must compute it with this function.
    """
    return keyed_hash(secret_id, "email", email.strip().lower())


def phone_hash(secret_id: str, e164_phone: str) -> str:
    """Index key of ``ByPhone``: the keyed hash of the E.164 number (normalise before calling)."""
    return keyed_hash(secret_id, "phone", e164_phone.strip())


def source_hash(secret_id: str, source_ip: str) -> str:
    return keyed_hash(secret_id, "ip", source_ip.strip() or "unknown")


def submission_hash(secret_id: str, digest: str) -> str:
    """The keyed hash of a submission's content (``Submission.normalised_digest()``).

    Key of the key-less dedupe record (``IDEMC#``), ``request_digest`` of every idempotency record and the
    lead's ``dedupe_hash``: without the hash key it cannot be matched against guessed details.
    """
    return keyed_hash(secret_id, "submission", digest)


def _string(value: str) -> dict[str, str]:
    return {"S": value}


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _string_list(values: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    return {"L": [_string(v) for v in values]}


def _field_attributes(fields: Mapping[str, Any], created_at: str) -> dict[str, Any]:
    """The submission's fields as item attributes: non-empty strings, booleans, consent times, attribution."""
    item: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value:
            item[name] = _string(value)
    for name in _BOOLEAN_FIELDS:
        item[name] = {"BOOL": fields.get(name) is True}
    if item["consent_privacy"]["BOOL"]:
        item["consent_privacy_at"] = _string(created_at)
    if item["consent_sms"]["BOOL"]:
        item["consent_sms_at"] = _string(created_at)
    attribution = fields.get("attribution")
    if isinstance(attribution, Mapping):
        stored = {str(k): _string(v) for k, v in attribution.items() if isinstance(v, str) and v}
        if stored:
            item["attribution"] = {"M": stored}
    return item


def _reason_attributes(lead: NewLead) -> dict[str, Any]:
    """The non-empty reason lists of the lead (``urgent_reasons``, ``spam_reasons``, ``review_flags``)."""
    lists = {
        "urgent_reasons": lead.urgent_reasons,
        "spam_reasons": lead.spam_reasons,
        "review_flags": lead.review_flags,
    }
    return {name: _string_list(values) for name, values in lists.items() if values}


class _RequestHashes(NamedTuple):
    """The keyed hashes one transaction uses more than once."""

    source: str  # ``source_hash`` of the source address: the lead's ``source_hash`` and the rate counter key
    content: str  # ``submission_hash`` of the digest: ``request_digest``, the dedupe key and ``dedupe_hash``


class LeadRepository:
    """Writes a submission (lead + idempotency record + rate counter) in one transaction.

    ``dynamodb`` is the low-level client to use (e.g. a moto one); left out, ``aws.client("dynamodb")``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        new_lead_id: Callable[[], str] = keys.new_lead_id,
        dynamodb: Any | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._new_lead_id = new_lead_id
        self._client = dynamodb

    def _dynamodb(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    # ------------------------------------------------------------------ items

    def lead_item(
        self, lead: NewLead, lead_id: str, now: float, *, hashes: _RequestHashes | None = None
    ) -> dict[str, Any]:
        settings = self._settings
        hashes = hashes or self._request_hashes(lead)
        created_at = iso_timestamp(now)
        retention_days = settings.spam_retention_days if lead.status == "spam" else settings.retention_days
        item: dict[str, Any] = {
            **keys.lead_key(lead_id),
            "entity": _string(keys.ENTITY_LEAD),
            "id": _string(lead_id),
            "status": _string(lead.status),
            "created_at": _string(created_at),
            keys.TTL_ATTRIBUTE: _number(int(now) + retention_days * 86400),
            "channel": _string(lead.channel),
            "urgent": {"BOOL": lead.urgent},
            "source_hash": _string(hashes.source),
            **_field_attributes(lead.fields, created_at),
            **_reason_attributes(lead),
        }
        if lead.status != "spam":  # the staff inbox (GSI Inbox) lists every non-spam lead
            item["inbox"] = _string(keys.INBOX_VALUE)
        if lead.submission_id:
            item["submission_id"] = _string(lead.submission_id)
        else:  # erasure deletes the key-less dedupe record through this
            item["dedupe_hash"] = _string(hashes.content)
        if "email" in item:
            item["email_hash"] = _string(email_hash(settings.hash_key_secret_id, item["email"]["S"]))
        if "phone" in item:
            item["phone_hash"] = _string(phone_hash(settings.hash_key_secret_id, item["phone"]["S"]))
        return item

    def _request_hashes(self, lead: NewLead) -> _RequestHashes:
        secret_id = self._settings.hash_key_secret_id
        return _RequestHashes(
            source=source_hash(secret_id, lead.source_ip), content=submission_hash(secret_id, lead.digest)
        )

    def _idempotency_key(self, lead: NewLead, content_hash: str | None = None) -> dict[str, dict[str, str]]:
        if lead.submission_id:
            return keys.idempotency_key(lead.submission_id)
        if content_hash is None:
            content_hash = submission_hash(self._settings.hash_key_secret_id, lead.digest)
        return keys.content_dedupe_key(content_hash)

    def idempotency_item(
        self, lead: NewLead, lead_id: str, now: float, *, hashes: _RequestHashes | None = None
    ) -> dict[str, Any]:
        hashes = hashes or self._request_hashes(lead)
        lifetime = keys.KEYED_IDEMPOTENCY_SECONDS if lead.submission_id else keys.CONTENT_DEDUPE_SECONDS
        return {
            **self._idempotency_key(lead, hashes.content),
            "entity": _string("idempotency"),
            "lead_id": _string(lead_id),
            "request_digest": _string(hashes.content),
            "urgent": {"BOOL": lead.urgent},
            "status": _string("received"),
            "created_at": _string(iso_timestamp(now)),
            keys.TTL_ATTRIBUTE: _number(int(now) + lifetime),
        }

    def transact_items(self, lead: NewLead, lead_id: str, now: float) -> list[dict[str, Any]]:
        table = self._settings.table_name
        hashes = self._request_hashes(lead)  # each keyed hash once per transaction
        counter_key = keys.rate_key(hashes.source, hour_bucket(now))
        # Order matters: _IDEMPOTENCY_INDEX, _LEAD_INDEX, _RATE_INDEX (the cancellation reasons follow it).
        idempotency_put = {
            "Put": {
                "TableName": table,
                "Item": self.idempotency_item(lead, lead_id, now, hashes=hashes),
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                "ExpressionAttributeValues": {":now": _number(int(now))},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        lead_put = {
            "Put": {
                "TableName": table,
                "Item": self.lead_item(lead, lead_id, now, hashes=hashes),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        rate_update = {
            "Update": {
                "TableName": table,
                "Key": counter_key,
                "UpdateExpression": "ADD hits :one SET expires_at = :ttl",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": _number(1),
                    ":limit": _number(self._settings.rate_limit_per_hour),
                    ":ttl": _number(int(now) + RATE_COUNTER_SECONDS),
                },
            }
        }
        return [idempotency_put, lead_put, rate_update]

    # ------------------------------------------------------------------ the write

    def submit(self, lead: NewLead) -> StoredResult:
        """Store ``lead`` (or find its first acceptance) with one ``TransactWriteItems``.

        Raises ``DuplicateConflict``, ``RateLimited`` or ``StorageUnavailable``.
        """
        for _attempt in range(_LEAD_ID_ATTEMPTS):
            now = self._clock()
            lead_id = self._new_lead_id()
            result = self._write(lead, lead_id, now)
            if result is not None:
                return result
        logger.error("lead id collided twice", extra={"code": "LeadIdCollision"})
        raise StorageUnavailable(STORAGE_RETRY_AFTER_SECONDS)

    def _write(self, lead: NewLead, lead_id: str, now: float) -> StoredResult | None:
        """One transaction; ``None`` means the new lead id collided with an existing lead."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - light, cached by import

        try:
            self._dynamodb().transact_write_items(TransactItems=self.transact_items(lead, lead_id, now))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                return self._cancelled(lead, exc.response.get("CancellationReasons") or [], now)
            logger.warning("storage error", extra={"code": code})
            raise StorageUnavailable(STORAGE_RETRY_AFTER_SECONDS) from None
        except BotoCoreError as exc:
            logger.warning("storage unreachable", extra={"code": type(exc).__name__})
            raise StorageUnavailable(STORAGE_RETRY_AFTER_SECONDS) from None
        return StoredResult(
            lead_id=lead_id, urgent=lead.urgent, created_at=iso_timestamp(now), status=lead.status
        )

    def _cancelled(
        self, lead: NewLead, reasons: Sequence[Mapping[str, Any]], now: float
    ) -> StoredResult | None:
        codes = [str(reason.get("Code") or "None") for reason in reasons]
        codes += ["None"] * (3 - len(codes))
        if codes[_IDEMPOTENCY_INDEX] == "ConditionalCheckFailed":
            first = reasons[_IDEMPOTENCY_INDEX].get("Item") or self._read_idempotency_record(lead)
            return self._replay(lead, first)
        if codes[_LEAD_INDEX] == "ConditionalCheckFailed":
            return None
        if codes[_RATE_INDEX] == "ConditionalCheckFailed":
            raise RateLimited(seconds_to_next_hour(now))
        transient = [c for c in codes if c in _TRANSIENT_REASONS]
        logger.warning(
            "transaction cancelled",
            extra={"codes": codes, "transient": bool(transient)},
        )
        raise StorageUnavailable(STORAGE_RETRY_AFTER_SECONDS)

    def _read_idempotency_record(self, lead: NewLead) -> Mapping[str, Any] | None:
        """Fallback for a backend that does not return ALL_OLD items in cancellation reasons (second call)."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        key = self._idempotency_key(lead)
        try:
            response = self._dynamodb().get_item(
                TableName=self._settings.table_name, Key=key, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("idempotency read failed", extra={"code": type(exc).__name__})
            raise StorageUnavailable(STORAGE_RETRY_AFTER_SECONDS) from None
        item: Mapping[str, Any] | None = response.get("Item")
        return item

    def _replay(self, lead: NewLead, first: Mapping[str, Any] | None) -> StoredResult:
        if not first or "lead_id" not in first:
            # The record vanished between the write and the read (TTL): let the visitor retry.
            raise StorageUnavailable(STORAGE_RETRY_AFTER_SECONDS)
        # A record written before request digests were keyed (kept at most 24 h) holds the plain digest.
        if first.get("request_digest", {}).get("S") not in (
            submission_hash(self._settings.hash_key_secret_id, lead.digest),
            lead.digest,
        ):
            raise DuplicateConflict("idempotency key reused for a different submission")
        return StoredResult(
            lead_id=first["lead_id"]["S"],
            urgent=bool(first.get("urgent", {}).get("BOOL", False)),
            created_at=first.get("created_at", {}).get("S", ""),
            replayed=True,
        )
