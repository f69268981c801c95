"""Deliver staff alerts exactly once: claim, publish in batches, mark each chunk, retry the bookkeeping.

``publish_once(jobs, settings=..., time_left=...)`` is the one exactly-once path for every alert kind: new
leads (``deliver``, used by the stream function and ``leads dlq replay``), storm digests, test alerts and
escalations. A job is a rendered ``Alert`` plus the table item that is its ledger (``AlertJob.key``) and an
optional extra claim condition. docs/alerts.md, "Exactly once: how and what can still go wrong", explains the
design and the one case it cannot close.

Outcomes per job (by ``alert.lead_id``, the job's id):
- ``published``: the alert went out now (metric ``AlertPublished``, ``AlertLag`` for leads);
- ``suppressed``: it had gone out before (``AlertSuppressed``): stream retries, replays, duplicate records, or
  an earlier attempt in this container that published but could not mark yet;
- ``skipped``: there is nothing to alert and never will be: the item is gone (erased, expired) or its claim
  condition is false (a lead: spam) (``AlertSkipped``);
- ``failed_lead_ids``: retry later (``AlertFailed``): SNS refused or throttled after the retries, DynamoDB
  was unavailable, another invocation holds the lease, or no time was left for its chunk.
- ``unmarked``: published (so also in ``published`` or ``suppressed``) but ``alerted_at`` could not be
  written even after the retries (``AlertMarkFailed``); this container remembers it and marks it instead of
  publishing again.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from leads_core import keys, notifier, storm
from leads_core.alerts import Alert, AlertSettings, render_alert
from leads_core.errors import LeadsError, StorageUnavailable
from leads_core.memory import BoundedMemory
from leads_core.observability import MetricUnit, logger, metrics
from leads_core.store import alert_state
from leads_core.store.alert_state import LEAD_CLAIM_CONDITION, ClaimCondition, ClaimStatus, ItemKey

_LEAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass
class DeliveryReport:
    published: dict[str, str] = field(default_factory=dict)  # lead id -> SNS message id
    suppressed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_lead_ids: list[str] = field(default_factory=list)
    unmarked: list[str] = field(default_factory=list)  # published, alerted_at not written yet (remembered)
    sns_calls: int = 0

    @property
    def settled_lead_ids(self) -> set[str]:
        """Leads that need nothing more: alerted now or before, or never to be alerted."""
        return set(self.published) | set(self.suppressed) | set(self.skipped)


class DeliverySettings(AlertSettings, Protocol):
    """What ``deliver`` needs: rendering settings plus the topic and the table (and the storm threshold)."""

    @property
    def topic_arn(self) -> str: ...

    @property
    def table_name(self) -> str: ...

    @property
    def alert_storm_threshold(self) -> int: ...


def lead_id_of(lead: Mapping[str, Any]) -> str | None:
    """The lead's id when it is usable as a key and a PublishBatch entry id, else ``None``."""
    value = lead.get("id")
    return value if isinstance(value, str) and _LEAD_ID.match(value) else None


class MalformedStreamRecord(LeadsError):
    """A stream record that cannot be read as an item change (unknown event, unreadable image, no lead id)."""


_EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})


def lead_from_stream_record(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The new lead a DynamoDB stream record announces, or ``None`` when there is nothing to alert about.

    Alerts come only from ``INSERT`` of ``entity=lead`` with ``status=new`` (the template's filter, checked
    again here); ``MODIFY`` and ``REMOVE`` (TTL deletions included) never alert. ``record`` is the wire shape
    (Lambda's event record or a ``dynamodbstreams`` ``GetRecords`` record). Raises ``MalformedStreamRecord``.
    """
    event_name = record.get("eventName")
    if event_name not in _EVENT_NAMES:
        raise MalformedStreamRecord("unknown event name")
    if event_name != "INSERT":
        return None
    stream = record.get("dynamodb")
    image = stream.get("NewImage") if isinstance(stream, Mapping) else None
    if not isinstance(image, Mapping):
        raise MalformedStreamRecord("INSERT without a new image")
    from leads_core.store.codec import from_item  # noqa: PLC0415 - the store's one deserialiser

    try:
        lead = from_item(image)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        raise MalformedStreamRecord(f"unreadable new image ({type(exc).__name__})") from None
    if lead.get("entity") != keys.ENTITY_LEAD or lead.get("status") != "new":
        return None
    if lead_id_of(lead) is None:
        raise MalformedStreamRecord("lead without a usable id")
    return lead


def _created_epoch(lead: Mapping[str, Any]) -> float | None:
    raw = lead.get("created_at")
    if not isinstance(raw, str):
        return None
    try:
        created = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()


class _Metrics:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def count(self, name: str, value: int) -> None:
        if self.enabled and value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def seconds(self, name: str, value: float) -> None:
        if self.enabled:
            metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=max(0.0, value))


# ------------------------------------------------------------------------------------------ the generic path


class PublishSettings(Protocol):
    @property
    def topic_arn(self) -> str: ...

    @property
    def table_name(self) -> str: ...


@dataclass(frozen=True)
class AlertJob:
    """One alert to publish at most once.

    ``key``: the table item that records it (DynamoDB wire shape, e.g. ``keys.lead_key(id)``; without
    ``claim_condition`` the claim creates the item if needed). ``alert``: the rendered alert; its ``lead_id``
    is the job's id (unique in one call, ``[A-Za-z0-9_-]{1,80}``: it is the PublishBatch entry id).
    ``claim_condition``: what else the item must satisfy to be alerted (``alert_state.LEAD_CLAIM_CONDITION``).
    ``created_epoch``: when the thing alerted about happened (for ``AlertLag``), if known.
    ``expires_at``: TTL (epoch seconds) for an item the claim creates (a digest window, a test alert); an
    existing item's ``expires_at`` is kept.
    """

    key: ItemKey
    alert: Alert
    claim_condition: ClaimCondition | None = None
    created_epoch: float | None = None
    expires_at: int | None = None

    @property
    def job_id(self) -> str:
        return self.alert.lead_id


TimeLeft = Callable[[], float]  # milliseconds left in this invocation (Lambda's get_remaining_time_in_millis)

DEFAULT_BUDGET_SECONDS = 30.0  # without a Lambda context (CLI replay, tests)
LEASE_MARGIN_SECONDS = 30  # a lease outlives the claiming invocation by this much
CHUNK_RESERVE_SECONDS = 3.0  # start a chunk only with this much time left (publish + marks + releases)
FINAL_RESERVE_SECONDS = 0.5  # bookkeeping retries stop this close to the end
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 1.0
CLAIM_ATTEMPTS = 4  # a claim that keeps failing is safe to leave: the record is retried later
BOOKKEEPING_ATTEMPTS = 12  # mark / release: 0.3**12 ~ 5e-7 at a 30 % fault rate
MARK_TRANSACTION_ATTEMPTS = 2  # a published chunk's marks in one transaction; then one by one
PUBLISH_ATTEMPTS = 3  # re-publish entries SNS surely refused (throttled), then release them
_MEMORY_LIMIT = 10_000

_sleep = time.sleep  # tests may replace it
_random = random.Random()  # noqa: S311  # nosec B311: retry jitter, not cryptography


class _Budget:
    def __init__(self, time_left: TimeLeft | None) -> None:
        self._time_left = time_left
        self._deadline = time.monotonic() + DEFAULT_BUDGET_SECONDS

    def remaining(self) -> float:
        if self._time_left is not None:
            try:
                return float(self._time_left()) / 1000.0
            except Exception:  # a context without a clock: fall back to the default budget
                self._time_left = None
        return self._deadline - time.monotonic()

    def lease_seconds(self) -> int:
        return math.ceil(max(0.0, self.remaining())) + LEASE_MARGIN_SECONDS


T = TypeVar("T")


def _retrying(operation: Callable[[], T], budget: _Budget, attempts: int) -> T:
    """Run ``operation``; on ``StorageUnavailable`` retry with capped exponential backoff and full jitter
    while attempts and time remain, then re-raise."""
    attempt = 0
    while True:
        try:
            return operation()
        except StorageUnavailable:
            attempt += 1
            delay = _random.uniform(0, min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**attempt))
            if attempt >= attempts or budget.remaining() - delay < FINAL_RESERVE_SECONDS:
                raise
            _sleep(delay)


def retry_read(operation: Callable[[], T], attempts: int, time_left: TimeLeft | None = None) -> T:
    """A read (e.g. ``load_lead``) retried with backoff and jitter on ``StorageUnavailable``."""
    return _retrying(operation, _Budget(time_left), attempts)


class _PendingState(StrEnum):
    PUBLISHED_UNMARKED = "published_unmarked"  # SNS accepted it; alerted_at not written yet
    LEASE_KEPT = "lease_kept"  # not published; the release failed, so the item still holds our lease


@dataclass(frozen=True)
class _Pending:
    state: _PendingState
    token: str
    message_id: str = ""


class _ContainerMemory:
    """What this container published but could not mark, and leases it could not release (bounded, LRU)."""

    def __init__(self, limit: int = _MEMORY_LIMIT) -> None:
        self._memory: BoundedMemory[str, _Pending] = BoundedMemory(limit)

    @staticmethod
    def _name(key: ItemKey) -> str:
        return json.dumps(key, sort_keys=True)

    def get(self, key: ItemKey) -> _Pending | None:
        return self._memory.get(self._name(key))

    def remember(self, key: ItemKey, pending: _Pending) -> None:
        self._memory.put(self._name(key), pending)

    def forget(self, key: ItemKey) -> None:
        self._memory.forget(self._name(key))

    def clear(self) -> None:
        self._memory.clear()

    def __len__(self) -> int:
        return len(self._memory)


container_memory = _ContainerMemory()


@dataclass
class _Claimed:
    job: AlertJob
    token: str


@dataclass(frozen=True)
class _Store:
    """Where the bookkeeping is written: the table and the low-level client (``None``: ``aws.client``)."""

    table_name: str
    dynamodb: Any | None = None


def _mark(job: AlertJob, token: str, message_id: str, store: _Store, budget: _Budget) -> bool:
    """Mark with retries; ``False`` (and remembered) when it still failed."""
    try:
        _retrying(
            lambda: alert_state.mark_item(
                job.key, message_id, table_name=store.table_name, dynamodb=store.dynamodb
            ),
            budget,
            BOOKKEEPING_ATTEMPTS,
        )
    except StorageUnavailable:
        logger.error("alert published but not marked", extra={"lead_id": job.job_id})
        container_memory.remember(job.key, _Pending(_PendingState.PUBLISHED_UNMARKED, token, message_id))
        return False
    container_memory.forget(job.key)
    return True


def _mark_together(
    published: list[_Claimed], message_ids: Mapping[str, str], store: _Store, budget: _Budget
) -> bool:
    """Mark a published chunk in one transaction (``alert_state.mark_items``); ``False`` when it was not
    (cancelled, failing, fewer than two jobs, or a key twice, which ``mark_items`` refuses): then each job is
    marked on its own (``_mark``), which is a no-op on an item the transaction did mark after all."""
    marks = [(item.job.key, message_ids[item.job.job_id]) for item in published]
    if len(marks) < 2:
        return False
    try:
        return _retrying(
            lambda: alert_state.mark_items(marks, table_name=store.table_name, dynamodb=store.dynamodb),
            budget,
            MARK_TRANSACTION_ATTEMPTS,
        )
    except (StorageUnavailable, ValueError):
        return False


def _release(job: AlertJob, token: str, store: _Store, budget: _Budget) -> None:
    try:
        _retrying(
            lambda: alert_state.release_item(
                job.key, token, table_name=store.table_name, dynamodb=store.dynamodb
            ),
            budget,
            BOOKKEEPING_ATTEMPTS,
        )
    except StorageUnavailable:
        # Not published: keep the token so this container's next attempt can take its own lease over at once.
        container_memory.remember(job.key, _Pending(_PendingState.LEASE_KEPT, token))
        return
    container_memory.forget(job.key)


def _claim(
    job: AlertJob, store: _Store, budget: _Budget, report: DeliveryReport, meter: _Metrics
) -> str | None:
    """Claim ``job``; its token when claimed, else ``None`` with the outcome recorded in ``report``."""
    pending = container_memory.get(job.key)
    if pending is not None and pending.state is _PendingState.PUBLISHED_UNMARKED:
        # Published by this container before: finish the bookkeeping, never publish again.
        if not _mark(job, pending.token, pending.message_id, store, budget):
            report.unmarked.append(job.job_id)
            meter.count("AlertMarkFailed", 1)
        report.suppressed.append(job.job_id)
        return None
    token = pending.token if pending is not None else alert_state.new_token()
    lease = budget.lease_seconds()
    try:
        result = _retrying(
            lambda: alert_state.claim_item(
                job.key,
                table_name=store.table_name,
                dynamodb=store.dynamodb,
                token=token,
                lease_seconds=lease,
                condition=job.claim_condition,
                expires_at=job.expires_at,
            ),
            budget,
            CLAIM_ATTEMPTS,
        )
    except StorageUnavailable:
        report.failed_lead_ids.append(job.job_id)
        return None
    if result.status is ClaimStatus.CLAIMED:
        if result.reopened:
            # An earlier attempt's lease ran out without a mark or a release: it died before publishing, or
            # between SNS accepting and the mark (then this is the one double alert the design allows).
            logger.warning(
                "alert claimed after an earlier attempt of unknown outcome", extra={"lead_id": job.job_id}
            )
            meter.count("AlertAttemptReopened", 1)
        return result.token
    if pending is not None:
        container_memory.forget(job.key)
    if result.status is ClaimStatus.ALREADY_ALERTED:
        report.suppressed.append(job.job_id)
    elif result.status in {ClaimStatus.MISSING, ClaimStatus.NOT_ALERTABLE}:
        logger.info("alert skipped", extra={"lead_id": job.job_id, "reason": result.status.value})
        report.skipped.append(job.job_id)
    else:
        logger.info("alert leased elsewhere", extra={"lead_id": job.job_id})
        report.failed_lead_ids.append(job.job_id)
    return None


def _publish(
    topic_arn: str, claimed: list[_Claimed], budget: _Budget, report: DeliveryReport
) -> notifier.PublishOutcome:
    """Publish one chunk; entries SNS surely refused are published again (backoff) while time allows."""
    outcome = notifier.PublishOutcome()
    waiting = [item.job.alert for item in claimed]
    for attempt in range(PUBLISH_ATTEMPTS):
        part = notifier.publish_chunk(topic_arn, waiting)
        report.sns_calls += part.calls
        outcome.succeeded.update(part.succeeded)
        outcome.failed = {
            k: v for k, v in {**outcome.failed, **part.failed}.items() if k not in outcome.succeeded
        }
        waiting = [alert for alert in waiting if alert.lead_id in part.retryable]
        if not waiting:
            break
        delay = _random.uniform(0, min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempt + 1)))
        if budget.remaining() - delay < CHUNK_RESERVE_SECONDS:
            break
        _sleep(delay)
    return outcome


def _settle(  # noqa: PLR0913 - the chunk, what SNS answered, and the invocation's bookkeeping
    claimed: list[_Claimed],
    message_ids: Mapping[str, str],
    *,
    store: _Store,
    budget: _Budget,
    report: DeliveryReport,
    meter: _Metrics,
) -> None:
    """After a chunk's publish: release the jobs SNS did not take, mark the published ones, report both."""
    published_at = time.time()
    published = [item for item in claimed if item.job.job_id in message_ids]
    for item in claimed:
        if item.job.job_id not in message_ids:
            _release(item.job, item.token, store, budget)
            report.failed_lead_ids.append(item.job.job_id)
    marked_together = _mark_together(published, message_ids, store, budget)
    for item in published:
        job = item.job
        message_id = message_ids[job.job_id]
        if marked_together:
            container_memory.forget(job.key)
        elif not _mark(job, item.token, message_id, store, budget):
            report.unmarked.append(job.job_id)
            meter.count("AlertMarkFailed", 1)
        report.published[job.job_id] = message_id
        if job.created_epoch is not None:
            meter.seconds("AlertLag", published_at - job.created_epoch)
        logger.info("alert published", extra={"lead_id": job.job_id, "priority": job.alert.priority})


def _chunks_of(jobs: Sequence[AlertJob]) -> Iterator[list[AlertJob]]:
    by_id = {job.job_id: job for job in jobs}
    for chunk in notifier.chunks([job.alert.to_publish_entry() for job in jobs]):
        yield [by_id[entry["Id"]] for entry in chunk]


def publish_once(  # noqa: PLR0913 - keyword-only options with defaults; callers set the few they need
    jobs: Sequence[AlertJob],
    *,
    settings: PublishSettings,
    time_left: TimeLeft | None = None,
    emit_metrics: bool = True,
    decide_sms: Callable[[list[Alert]], list[Alert]] | None = None,
    dynamodb: Any | None = None,
) -> DeliveryReport:
    """Publish each job's alert to ``settings.topic_arn`` at most once, bookkept on its item in
    ``settings.table_name``; never raises for AWS errors (failed jobs are in ``failed_lead_ids``).

    Chunk by chunk (``PublishBatch``, 10 alerts a call): claim the chunk's jobs (a lease that outlives this
    invocation, as attempt ``token``), publish, release the jobs not published, then mark the published ones
    at once (one transaction for the chunk, or each on its own when that fails);
    the bookkeeping writes are retried with backoff and jitter within the time left. Before each chunk the
    time left is checked: below ``CHUNK_RESERVE_SECONDS`` the remaining jobs are reported failed, unclaimed.
    ``time_left``: milliseconds left in the invocation (pass the Lambda context's
    ``get_remaining_time_in_millis``); without it the call has ``DEFAULT_BUDGET_SECONDS``. Job ids must be
    distinct (the first of a repeated id wins). ``decide_sms``: called with each chunk's claimed alerts right
    before they are published, returns them with their ``sms`` attribute decided (the storm guard).
    ``dynamodb``: the low-level client of the bookkeeping writes (default ``aws.client("dynamodb")``).
    """
    report = DeliveryReport()
    meter = _Metrics(emit_metrics)
    budget = _Budget(time_left)
    store = _Store(settings.table_name, dynamodb)
    distinct: dict[str, AlertJob] = {}
    for job in jobs:
        distinct.setdefault(job.job_id, job)

    chunks = list(_chunks_of(list(distinct.values())))
    for position, chunk in enumerate(chunks):
        if budget.remaining() < CHUNK_RESERVE_SECONDS:
            left = [job.job_id for later in chunks[position:] for job in later]
            logger.warning("alert time budget spent", extra={"alerts": len(left)})
            meter.count("AlertOutOfTime", len(left))
            report.failed_lead_ids += left
            break
        claimed = [
            _Claimed(job, token)
            for job in chunk
            if (token := _claim(job, store, budget, report, meter)) is not None
        ]
        if not claimed:
            continue
        if decide_sms is not None:  # storm guard (leads_core.storm): sms=send|hold per claimed alert
            decided = decide_sms([item.job.alert for item in claimed])
            claimed = [
                _Claimed(replace(item.job, alert=alert), item.token)
                for item, alert in zip(claimed, decided, strict=True)
            ]
        outcome = _publish(settings.topic_arn, claimed, budget, report)
        _settle(claimed, outcome.succeeded, store=store, budget=budget, report=report, meter=meter)

    meter.count("AlertPublished", len(report.published))
    meter.count("AlertSuppressed", len(report.suppressed))
    meter.count("AlertSkipped", len(report.skipped))
    meter.count("AlertFailed", len(report.failed_lead_ids))
    return report


# -------------------------------------------------------------------------------------------- new leads


def deliver(
    leads: Iterable[Mapping[str, Any]],
    *,
    settings: DeliverySettings | None = None,
    emit_metrics: bool = True,
    time_left: TimeLeft | None = None,
    dynamodb: Any | None = None,
) -> DeliveryReport:
    """Alert each lead (a plain item dict, e.g. a stream's new image) at most once, through ``publish_once``.

    ``dynamodb``: the low-level client of the bookkeeping and the storm guard (default
    ``aws.client("dynamodb")``).

    Raises ``ValueError`` for a lead without a usable id (callers check ``lead_id_of`` first). A lead whose
    alert cannot be rendered (a renderer bug) is failed, so it is retried after a fix.
    """
    if settings is None:
        from leads_core.settings import load_settings  # noqa: PLC0415

        settings = load_settings().require_alerts()
    by_id: dict[str, Mapping[str, Any]] = {}
    for lead in leads:
        lead_id = lead_id_of(lead)
        if lead_id is None:
            raise ValueError("lead without a usable id")
        by_id.setdefault(lead_id, lead)  # the same lead twice in one batch is one alert

    jobs: list[AlertJob] = []
    unrendered: list[str] = []
    for lead_id, lead in by_id.items():
        try:
            alert = render_alert(lead, settings)
        except Exception:  # a renderer bug must not lose the alert: fail it, retry after a fix
            logger.exception("alert rendering failed", extra={"lead_id": lead_id})
            unrendered.append(lead_id)
            continue
        jobs.append(
            AlertJob(
                key=keys.lead_key(lead_id),
                alert=alert,
                claim_condition=LEAD_CLAIM_CONDITION,
                created_epoch=_created_epoch(lead),
            )
        )
    guard = settings

    def decide_sms(alerts: list[Alert]) -> list[Alert]:
        return storm.hold_sms(alerts, settings=guard, dynamodb=dynamodb)

    report = publish_once(
        jobs,
        settings=settings,
        time_left=time_left,
        emit_metrics=emit_metrics,
        decide_sms=decide_sms,
        dynamodb=dynamodb,
    )
    if unrendered:
        report.failed_lead_ids += unrendered
        _Metrics(emit_metrics).count("AlertFailed", len(unrendered))
    return report


def load_lead(
    lead_id: str, *, table_name: str | None = None, dynamodb: Any | None = None
) -> dict[str, Any] | None:
    """The lead item as it is now (strongly consistent), or ``None`` when it is gone or not a lead."""
    from leads_core.store.leads import load_lead as load  # noqa: PLC0415 - the store's read

    return load(lead_id, table_name=table_name, dynamodb=dynamodb)
