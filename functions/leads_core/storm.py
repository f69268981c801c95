"""Storm guard (contract 2.5): past ``ALERT_STORM_THRESHOLD`` new-lead alerts in a 10-minute window, the rest
of that window's non-urgent leads reach phones as ONE digest SMS instead of one text each.

Mechanism: every alert carries the code-only message attribute ``sms`` (``send`` | ``hold``) and the phone
subscriptions' filter policies require ``sms=send`` (``UrgentPhones``: ``priority=urgent`` too). A held lead's
alert is still published once, so every email subscriber gets it as before; only the texts are held.

Windows are fixed 10-minute slices of the clock (``00:00``, ``00:10``, ...), one counter item each: pk
``STORM#<window start, UTC, e.g. 2026-12-02T06:10Z>``, sk ``STORM``, with ``sent_ids`` and ``held_ids``
(string sets of lead ids), ``closed_at``, ``expires_at`` (TTL, two days) and the digest's own exactly-once
bookkeeping (``alerted_at``, lease: ``delivery.publish_once``).

Decision (``hold_sms``, per chunk of new-lead alerts just before it is published, after its claims): each
lead gets the answer one ``decide`` per lead, in the chunk's order, would give:
- urgent: ``ADD sent_ids :id`` and send, always;
- otherwise ``send`` (``ADD sent_ids :id``) while the window has sent fewer than the threshold (or this lead
  is in it already: a retry decides the same way); when the window is full, ``hold`` (``ADD held_ids :id``)
  unless the window is closed -> ``send``.
  String sets make every step idempotent: a retried or duplicate lead is never counted twice.
- any DynamoDB failure (after short retries), or any other error deciding -> ``send`` for every lead of the
  chunk: an extra text is better than a missing one, and the alert itself is never held up.

One write per chunk (``decide_many``), not one per lead: a single ``UpdateItem`` on the window item adds all
the chunk's leads to ``sent_ids``, on condition that the window had room for all of them. In a storm that
condition fails and returns the window as it was; the answers are worked out from it (``_simulate``) and a
second ``UpdateItem`` adds the new sent and held ids on condition that the window is still exactly as read
(same set sizes, still open; the sets only grow, so equal sizes mean equal sets). Another writer in between:
worked out again from the newer window, at most ``CHUNK_DECISION_ROUNDS`` times, then one ``decide`` per lead.

Digest (``flush_digests``, from a scheduled function): for each ended window with held leads, first close it
(``closed_at``: from then on no lead is held in it, so the count is final whichever flush reads it), then
publish ``"N new requests since HH:MM"`` (ending with the staff console's link, ``CONSOLE_URL``) through
``delivery.publish_once`` with the window's item as ledger: one digest per window, even when flushes run
twice, concurrently, or under throttling.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol

from leads_core import keys
from leads_core.alerts import SMS_SEND, SUBJECT_MAX_CHARS, Alert, clock_label, display_name_of
from leads_core.errors import ConditionFailed, StorageUnavailable
from leads_core.gsm7 import PRINTABLE_ASCII, sms_budget, to_ascii_line, to_sms_text
from leads_core.observability import MetricUnit, logger, metrics
from leads_core.store import storm_windows
from leads_core.store.codec import read_string_set
from leads_core.store.failures import code_of
from leads_core.store.layout import STORM_PREFIX, STORM_SK, window_key, window_label

if TYPE_CHECKING:
    from leads_core.delivery import DeliveryReport, TimeLeft

__all__ = [  # the window keys live in store.layout and are named here too (template tests, tools)
    "HOLD",
    "LOOKBACK_WINDOWS",
    "SEND",
    "STORM_PREFIX",
    "STORM_SK",
    "STORM_TTL_SECONDS",
    "WINDOW_SECONDS",
    "DigestSettings",
    "FlushReport",
    "StormSettings",
    "decide",
    "decide_many",
    "digest_id",
    "flush_digests",
    "hold_sms",
    "render_digest",
    "window_key",
    "window_label",
    "window_start",
]

WINDOW_SECONDS = 600
STORM_TTL_SECONDS = 2 * 24 * 3600  # a window item is kept two days after its window
LOOKBACK_WINDOWS = 18  # a flush looks at the last 3 hours of windows (a digest later than that is dropped)
DECISION_ATTEMPTS = 3
_RETRY_BASE_SECONDS = 0.02

Decision = Literal["send", "hold"]
SEND: Decision = "send"
HOLD: Decision = "hold"

_sleep = time.sleep  # tests may replace it
_clock = time.time  # tests may replace it (a fixed moment inside one window)
_random = random.Random()  # noqa: S311  # nosec B311: retry jitter, not cryptography


class StormSettings(Protocol):
    @property
    def table_name(self) -> str: ...

    @property
    def alert_storm_threshold(self) -> int: ...


class DigestSettings(StormSettings, Protocol):
    @property
    def topic_arn(self) -> str: ...

    @property
    def clinic_name(self) -> str: ...

    @property
    def console_url(self) -> str: ...


# ------------------------------------------------------------------------------------------------ windows


def window_start(epoch: float) -> int:
    """Start (epoch seconds) of the 10-minute window holding ``epoch``."""
    return int(epoch // WINDOW_SECONDS) * WINDOW_SECONDS


def digest_id(start: int) -> str:
    """The digest's id (PublishBatch entry id and ``lead_id`` attribute): ``DIGEST-20261202T0610Z``."""
    return "DIGEST-" + datetime.fromtimestamp(start, tz=UTC).strftime("%Y%m%dT%H%MZ")


# ----------------------------------------------------------------------------------------------- decision


def _windows(table_name: str, dynamodb: Any | None = None) -> storm_windows.WindowTable:
    """The window items' table, writes retried ``DECISION_ATTEMPTS`` times with jittered backoff.
    ``dynamodb``: the low-level client (default ``aws.client("dynamodb")``)."""
    return storm_windows.WindowTable(
        table_name,
        attempts=DECISION_ATTEMPTS,
        backoff=lambda attempt: _sleep(_random.uniform(0, _RETRY_BASE_SECONDS * 2**attempt)),
        dynamodb=dynamodb,
    )


def decide(  # noqa: PLR0913 - keyword-only inputs of one decision
    lead_id: str,
    *,
    urgent: bool,
    table_name: str,
    threshold: int,
    now: float | None = None,
    dynamodb: Any | None = None,
) -> Decision:
    """``send`` or ``hold`` for this lead's SMS in the window of ``now``; raises AWS errors (retried)."""
    moment = _clock() if now is None else now
    start = window_start(moment)
    table = _windows(table_name, dynamodb)
    expires_at = start + WINDOW_SECONDS + STORM_TTL_SECONDS
    if urgent:
        storm_windows.add_sent(table, start, lead_id, expires_at=expires_at)
        return SEND
    try:
        storm_windows.add_sent(table, start, lead_id, expires_at=expires_at, limit=threshold)
        return SEND
    except ConditionFailed as full:
        if lead_id in read_string_set(full.item, "held_ids"):
            return HOLD  # decided before (a retry of this lead)
    try:
        storm_windows.add_held(table, start, lead_id, expires_at=expires_at)
    except ConditionFailed:
        return SEND  # the window's digest is already closed: too late to hold, text it
    return HOLD


CHUNK_DECISION_ROUNDS = 4  # conditional chunk writes before falling back to one decision per lead


def _simulate(
    leads: Sequence[tuple[str, bool]], seen: storm_windows.WindowState, threshold: int
) -> tuple[dict[str, Decision], list[str], list[str]]:
    """What ``decide`` would answer for each lead in turn, given the window as ``seen``; new ids to add."""
    decisions: dict[str, Decision] = {}
    new_sent: list[str] = []
    new_held: list[str] = []
    count = len(seen.sent)
    for lead_id, urgent in leads:
        if lead_id in seen.sent or lead_id in new_sent:
            decisions[lead_id] = SEND
        elif urgent or (count < threshold and lead_id not in seen.held):
            new_sent.append(lead_id)
            count += 1
            decisions[lead_id] = SEND
        elif lead_id in seen.held or lead_id in new_held:
            decisions[lead_id] = HOLD
        elif seen.closed:
            decisions[lead_id] = SEND  # the window's digest is already closed: too late to hold, text it
        else:
            new_held.append(lead_id)
            decisions[lead_id] = HOLD
    return decisions, new_sent, new_held


def decide_many(
    leads: Sequence[tuple[str, bool]],
    *,
    table_name: str,
    threshold: int,
    now: float | None = None,
    dynamodb: Any | None = None,
) -> dict[str, Decision]:
    """``decide`` for several leads ``(id, urgent)`` in order, with one ``UpdateItem`` on the window item in
    the usual case (two in a storm), each answer the same as ``decide`` one lead after the other would give.

    First write: every lead texted, on condition that the window had room for all of them (so none would
    have been held). When it had not, the failed condition returns the window; the decisions are worked out
    from it and written on condition that the window is still as seen (its sets only grow), repeated with the
    newer window while other writers get in between (``CHUNK_DECISION_ROUNDS``), then one ``decide`` per
    lead. Raises AWS errors (retried). ``dynamodb``: the low-level client (default
    ``aws.client("dynamodb")``).
    """
    distinct = list(dict(leads).items())
    moment = _clock() if now is None else now
    start = window_start(moment)
    table = _windows(table_name, dynamodb)
    expires_at = start + WINDOW_SECONDS + STORM_TTL_SECONDS
    ids = [lead_id for lead_id, _ in distinct]
    normal = [position for position, (_, urgent) in enumerate(distinct) if not urgent]
    # The lead at position p is texted when fewer than `threshold` were before it: all fit while the window
    # had at most threshold - 1 - (last non-urgent position) texted leads.
    fits_below = threshold - 1 - normal[-1] if normal else None
    if fits_below is None or fits_below >= 0:
        try:
            storm_windows.add_many(table, start, sent=ids, expires_at=expires_at, fits_below=fits_below)
            return dict.fromkeys(ids, SEND)
        except ConditionFailed as full:
            seen = storm_windows.WindowState.of(full.item)
    else:
        seen = storm_windows.WindowState()
    for _ in range(CHUNK_DECISION_ROUNDS):
        decisions, new_sent, new_held = _simulate(distinct, seen, threshold)
        try:
            storm_windows.add_many(
                table, start, sent=new_sent, held=new_held, expires_at=expires_at, seen=seen
            )
            return decisions
        except ConditionFailed as changed:
            seen = storm_windows.WindowState.of(changed.item)
    return {
        lead_id: decide(
            lead_id,
            urgent=urgent,
            table_name=table_name,
            threshold=threshold,
            now=moment,
            dynamodb=dynamodb,
        )
        for lead_id, urgent in distinct
    }


def hold_sms(
    alerts: Sequence[Alert],
    *,
    settings: StormSettings,
    now: float | None = None,
    dynamodb: Any | None = None,
) -> list[Alert]:
    """``alerts`` with the ``sms`` attribute decided for each new-lead alert (others unchanged), all new-lead
    alerts of the call decided together (``decide_many``).
    ``dynamodb``: the low-level client of the window items (default ``aws.client("dynamodb")``)."""
    leads = [
        (alert.lead_id, alert.priority == "urgent")
        for alert in alerts
        if alert.attributes.get("alert_type") == "new_lead"
    ]
    if not leads:
        return list(alerts)
    failed = 0
    try:
        decisions = decide_many(
            leads,
            table_name=settings.table_name,
            threshold=settings.alert_storm_threshold,
            now=now,
            dynamodb=dynamodb,
        )
    except Exception as exc:  # AWS errors after the retries, or a bug here: never block or lose the alert
        logger.warning(
            "storm decision failed, SMS sent",
            extra={
                "alerts": len(leads),
                "lead_ids": [lead_id for lead_id, _ in leads],
                "error_code": code_of(exc),
            },
        )
        failed = len(leads)
        decisions = {}
    decided: list[Alert] = []
    held = 0
    for alert in alerts:
        if alert.attributes.get("alert_type") != "new_lead":
            decided.append(alert)
            continue
        decision = decisions.get(alert.lead_id, SEND)
        if decision == HOLD:
            held += 1
            logger.info("alert SMS held for the storm digest", extra={"lead_id": alert.lead_id})
        decided.append(replace(alert, attributes={**alert.attributes, "sms": decision}))
    if held:
        metrics.add_metric(name="AlertSmsHeld", unit=MetricUnit.Count, value=held)
    if failed:
        metrics.add_metric(name="StormDecisionFailed", unit=MetricUnit.Count, value=failed)
    return decided


# ------------------------------------------------------------------------------------------------- digest


def render_digest(  # noqa: PLR0913 - keyword-only text inputs of the digest, each a separate setting
    start: int,
    lead_ids: Sequence[str],
    *,
    threshold: int,
    clinic_name: str,
    display_name: str,
    console_url: str = "",
) -> Alert:
    """The window's digest: ``alert_type=digest``, ASCII subject, SMS one segment with the topic's prefix.

    The SMS ends with the staff console's link (``CONSOLE_URL``, never cut): the settings check guarantees
    that ``"<count> new requests: <link>"`` fits, which is shorter than a lead alert's tightest SMS.
    """
    count = len(lead_ids)
    since = clock_label(start)
    until = clock_label(start + WINDOW_SECONDS)
    plural = "request" if count == 1 else "requests"
    head = f"{count} new {plural} since {since}"
    budget = sms_budget(display_name)
    body = f"{head}, not texted one by one (over {threshold} in 10 min). Each is in your email."
    if console_url:
        link = to_sms_text(console_url)
        options = [f"{body} {link}", f"{head}. Each is in your email. {link}", f"{head}: {link}"]
        options.append(f"{count} new {plural}: {link}")
    else:
        clinic = to_sms_text(clinic_name)
        options = [f"{body} {clinic}", body, f"{head}. Each is in your email."]
    sms = next((option for option in options if len(option) <= budget), head[:budget])

    subject = f"SMS digest: {count} new consultation {plural} since {since}"
    clinic_ascii = to_ascii_line(clinic_name)
    if clinic_ascii and len(subject) + 3 + len(clinic_ascii) <= SUBJECT_MAX_CHARS:
        subject = f"{subject} | {clinic_ascii}"
    subject = "".join(c for c in subject if c in PRINTABLE_ASCII)[:SUBJECT_MAX_CHARS]

    lines = [
        f"{count} new consultation {plural} arrived between {since} and {until} after the first {threshold}",
        "of those 10 minutes had been texted. To keep phones usable, their texts were held and this one",
        "summary was sent instead. Each request has its own email alert; urgent requests are always texted.",
        "",
        "References:",
        *[f"  {lead_id}   (leads show {lead_id})" for lead_id in sorted(lead_ids)],
    ]
    if console_url:
        lines += ["", f"Staff console: {console_url}"]
    email = "\n".join(lines) + "\n"
    identifier = digest_id(start)
    return Alert(
        lead_id=identifier,
        subject=subject,
        email=email,
        sms=sms,
        default=email,
        attributes={"lead_id": identifier, "priority": "normal", "alert_type": "digest", "sms": SMS_SEND},
    )


@dataclass
class FlushReport:
    windows: list[str] = field(default_factory=list)  # digest ids of windows with held SMS looked at
    published: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _close(table_name: str, start: int, now: float, dynamodb: Any | None = None) -> set[str]:
    """Close the window (no lead is held in it from now on); its final held lead ids."""
    return storm_windows.close(_windows(table_name, dynamodb), start, now)


def flush_digests(
    *,
    settings: DigestSettings,
    now: float | None = None,
    time_left: TimeLeft | None = None,
    publish: Callable[..., DeliveryReport] | None = None,
    dynamodb: Any | None = None,
) -> FlushReport:
    """Publish the digest of every ended window (last ``LOOKBACK_WINDOWS``) that held SMS, once each.

    Never raises for AWS errors: a window that could not be read, closed or published is in ``failed`` and
    is tried again by the next run. ``dynamodb``: the low-level client of the window items and the digests'
    bookkeeping (default ``aws.client("dynamodb")``).
    """
    from leads_core.delivery import AlertJob, publish_once  # noqa: PLC0415
    from leads_core.store.alert_state import ClaimCondition  # noqa: PLC0415

    publisher = publish or partial(publish_once, dynamodb=dynamodb)
    moment = _clock() if now is None else now
    current = window_start(moment)
    starts = [current - WINDOW_SECONDS * n for n in range(1, LOOKBACK_WINDOWS + 1)]
    report = FlushReport()
    try:
        windows = storm_windows.held_windows(_windows(settings.table_name, dynamodb), starts)
    except StorageUnavailable as exc:
        logger.warning("storm windows not read", extra={"error_code": code_of(exc)})
        report.failed.append("read")
        return report

    jobs = []
    for start in sorted(windows):
        identifier = digest_id(start)
        report.windows.append(identifier)
        try:
            held = _close(settings.table_name, start, moment, dynamodb)
        except (StorageUnavailable, ConditionFailed):
            report.failed.append(identifier)
            continue
        digest = render_digest(
            start,
            sorted(held),
            threshold=settings.alert_storm_threshold,
            clinic_name=settings.clinic_name,
            display_name=display_name_of(settings),
            console_url=settings.console_url,
        )
        jobs.append(
            AlertJob(
                key=window_key(start),
                alert=digest,
                claim_condition=ClaimCondition(
                    expression="attribute_exists(#pk) AND attribute_exists(closed_at)", names={"#pk": keys.PK}
                ),
            )
        )
    if jobs:
        delivered = publisher(jobs, settings=settings, time_left=time_left)
        report.published = sorted(delivered.published)
        report.failed += sorted(delivered.failed_lead_ids)
        for identifier in report.published:
            logger.info("storm digest published", extra={"lead_id": identifier})
    return report
