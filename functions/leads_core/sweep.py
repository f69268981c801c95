"""The speed-to-lead sweep: escalate unanswered leads past their SLA, each level exactly once per lead.

Run every minute by ``SweepLeadsFunction`` (EventBridge schedule; locally every ``LOCAL_SWEEP_SECONDS``).

1. **Find** (no Scan): ``Query`` the ``ByStatus`` index for ``status = new`` and ``created_at`` between
   ``now - LOOKBACK_DAYS`` and ``now`` minus the shorter SLA (no younger lead can be due), projecting
   codes only (no visitor data is read). A lead still ``new`` after ``LOOKBACK_DAYS`` is no longer escalated.
2. **Decide** (``leads_core.escalation.due_levels``): levels 1 (SLA) and 2 (twice the SLA) that are due, for
   leads not assigned and not answered. Levels already sent are known from one ``BatchGetItem`` of the
   escalation ledger items (below) and left alone; if that read fails, the claims below still refuse them.
3. **Ledger**: one item per lead and level, ``pk=LEAD#<id>``, ``sk=ESC#<level>`` (``entity=escalation``,
   ids and codes only, TTL ``expires_at`` = the lead's own): created by a ``TransactWriteItems`` that also
   checks the lead item is still ``new``, unassigned and unanswered, so an answered, erased or spam lead never
   gets a ledger item. It lives in the lead's partition so erasing a lead's partition removes it too.
4. **Send** through ``delivery.publish_once`` with the ledger item as the job's key and the claim condition
   "the ledger item exists" (``alerted_at``, lease and attempt are the same bookkeeping as a new-lead alert):
   throttling or failure of any DynamoDB or SNS call never sends a level twice; what fails is retried by the
   next run.

The table calls (query, ledger read, ledger transaction) are ``leads_core.store.escalations``; this module
decides, retries and sends.

Metrics: ``LeadsUnansweredPastTwiceSla`` (every run, 0 included: the ``LeadsUnansweredAlarm``'s metric),
``EscalationsDue``, ``EscalationsPublished`` and the delivery metrics of ``publish_once``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from leads_core import keys
from leads_core.alerts import AlertSettings
from leads_core.delivery import AlertJob, TimeLeft, publish_once, retry_read
from leads_core.errors import StorageUnavailable
from leads_core.escalation import due_levels, job_id, render_escalation
from leads_core.hours import SlaPolicy
from leads_core.observability import MetricUnit, logger, metrics
from leads_core.store import escalations
from leads_core.store.layout import escalation_key

LOOKBACK_DAYS = 14
MAX_JOBS_PER_RUN = 200
READ_ATTEMPTS = 5
PREPARE_ATTEMPTS = 4
_DEFAULT_TTL_DAYS = 30


class SweepSettings(AlertSettings, Protocol):
    @property
    def table_name(self) -> str: ...

    @property
    def topic_arn(self) -> str: ...

    def sla_policy(self) -> SlaPolicy: ...


@dataclass
class SweepReport:
    candidates: int = 0  # unanswered leads old enough to be due
    due: list[str] = field(default_factory=list)  # job ids due and not known to be sent
    published: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)  # sent before
    skipped: list[str] = field(default_factory=list)  # answered, erased or spam by the time of sending
    failed: list[str] = field(default_factory=list)  # retried by the next run
    past_twice_sla: int = 0  # unanswered leads past twice their SLA

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "due": len(self.due),
            "published": sorted(self.published),
            "suppressed": sorted(self.suppressed),
            "skipped": sorted(self.skipped),
            "failed": sorted(self.failed),
            "past_twice_sla": self.past_twice_sla,
        }


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ------------------------------------------------------------------------------------------ find


def unanswered_leads(
    table_name: str,
    since: datetime,
    until: datetime,
    time_left: TimeLeft | None = None,
    *,
    dynamodb: Any | None = None,
) -> Iterator[dict[str, Any]]:
    """``status=new`` leads created in ``[since, until]`` (``ByStatus``), codes only, oldest first; each page
    read is retried (``READ_ATTEMPTS``), then ``StorageUnavailable`` ends the run."""
    return escalations.unanswered_leads(
        table_name,
        iso(since),
        iso(until),
        read_page=lambda read: retry_read(read, READ_ATTEMPTS, time_left),
        dynamodb=dynamodb,
    )


# ------------------------------------------------------------------------------------------ ledger


def prepare_ledger(  # noqa: PLR0913 - the client keyword-only, as every store call takes it
    table_name: str,
    lead: Mapping[str, Any],
    level: int,
    now: datetime,
    time_left: TimeLeft | None = None,
    *,
    dynamodb: Any | None = None,
) -> bool:
    """Create the ledger item of (lead, level) while the lead is still unanswered; ``False`` when the lead is
    answered, assigned, erased or spam (nothing to send, ever). An existing ledger item is kept (``True``).
    Raises ``StorageUnavailable`` after the retries (the next run tries again)."""
    lead_id = str(lead["id"])
    expires = lead.get(keys.TTL_ATTRIBUTE)
    expires_at = int(expires) if expires else int((now + timedelta(days=_DEFAULT_TTL_DAYS)).timestamp())
    return retry_read(
        lambda: escalations.create_ledger_item(
            table_name, lead_id, level, seen_at=iso(now), expires_at=expires_at, dynamodb=dynamodb
        ),
        PREPARE_ATTEMPTS,
        time_left,
    )


# ------------------------------------------------------------------------------------------ the sweep


def _emit(name: str, value: int, enabled: bool) -> None:
    if enabled:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _plan(
    leads: Iterable[dict[str, Any]], policy: SlaPolicy, now: datetime, report: SweepReport
) -> list[tuple[dict[str, Any], int]]:
    planned: list[tuple[dict[str, Any], int]] = []
    for lead in leads:
        levels = due_levels(lead, policy, now)
        if not levels:
            continue
        report.candidates += 1
        if 2 in levels:
            report.past_twice_sla += 1
        planned += [(lead, level) for level in levels]
    return planned


def sweep(
    settings: SweepSettings,
    *,
    now: datetime | None = None,
    time_left: TimeLeft | None = None,
    emit_metrics: bool = True,
    dynamodb: Any | None = None,
) -> SweepReport:
    """One run: escalate every due level of every unanswered lead, at most once each. ``dynamodb``: the
    client of the sweep's own reads and writes (``leads_core.store.escalations``; default
    ``aws.client("dynamodb")``); the alerts' bookkeeping is ``delivery.publish_once``'s."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    policy = settings.sla_policy()
    report = SweepReport()
    shortest = min(policy.first_contact_minutes, policy.urgent_minutes)
    leads = unanswered_leads(
        settings.table_name,
        now - timedelta(days=LOOKBACK_DAYS),
        now - timedelta(minutes=shortest),
        time_left,
        dynamodb=dynamodb,
    )
    planned = _plan(leads, policy, now, report)
    wanted = [(str(lead["id"]), level) for lead, level in planned]
    already = escalations.sent_levels(settings.table_name, wanted, dynamodb=dynamodb)
    jobs: list[AlertJob] = []
    for lead, level in planned:
        lead_id = str(lead["id"])
        if (lead_id, level) in already:
            continue
        report.due.append(job_id(lead_id, level))
        if len(jobs) >= MAX_JOBS_PER_RUN:
            report.failed.append(job_id(lead_id, level))  # the next run takes the rest
            continue
        try:
            ready = prepare_ledger(settings.table_name, lead, level, now, time_left, dynamodb=dynamodb)
        except StorageUnavailable:
            report.failed.append(job_id(lead_id, level))
            continue
        if not ready:
            report.skipped.append(job_id(lead_id, level))
            continue
        jobs.append(
            AlertJob(
                key=escalation_key(lead_id, level),
                alert=render_escalation(lead, level, policy, settings),
                claim_condition=escalations.CLAIM_CONDITION,
            )
        )
    if jobs:
        delivered = publish_once(jobs, settings=settings, time_left=time_left, emit_metrics=emit_metrics)
        report.published += list(delivered.published)
        report.suppressed += delivered.suppressed
        report.skipped += delivered.skipped
        report.failed += delivered.failed_lead_ids
    _emit("LeadsUnansweredPastTwiceSla", report.past_twice_sla, emit_metrics)
    _emit("EscalationsDue", len(report.due), emit_metrics)
    _emit("EscalationsPublished", len(report.published), emit_metrics)
    if report.due:
        logger.info("escalation sweep", extra={k: v for k, v in report.as_dict().items() if k != "published"})
    return report
