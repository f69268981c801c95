"""The speed-to-lead report (contract section 8; ``leads report``, ``GET /staff/report``).

Pure: ``build_report(leads, policy, now=..., since=...)`` counts plain lead dicts (as ``manage.public_lead``
returns them, or items with an ``attribution`` map); the caller reads them with one ``ByStatus`` query per
status and ``created_at >= since`` (``manage.LeadAdmin.iter_leads``), never a Scan.

Figures (spam is counted in ``by_status`` only and left out of everything else):

- ``total``, ``by_status``, ``by_service``, ``by_location``, ``by_source`` (``utm_source``, else the
  referrer's host without ``www.``, else ``direct``), ``weekly`` (leads per week, weeks starting Monday in
  UTC, keyed by that Monday's date);
- ``first_answer``: over leads with ``first_answered_at``: how many, the median and p90 (nearest rank) of
  the minutes they waited as their SLA counts them (business minutes; urgent leads every minute), how many
  were answered within their SLA and that share; ``answered_without_time`` (out of ``new`` but answered
  before the time was recorded);
- ``unanswered``: still ``new``, unassigned and unanswered, and how many of those are past their SLA at
  ``now``;
- ``conversions``: leads now ``scheduled`` and their share of all (non-spam) leads.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from leads_core.escalation import is_answered
from leads_core.hours import SlaPolicy, parse_iso

STATUSES: tuple[str, ...] = ("new", "contacted", "scheduled", "not_a_fit", "closed", "spam")
DIRECT = "direct"
_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")


def source_of(lead: Mapping[str, Any]) -> str:
    """``utm_source``, else the referrer's host (``www.`` dropped), else ``direct``; lower case, short."""
    attribution = lead.get("attribution")
    values: Mapping[str, Any] = attribution if isinstance(attribution, Mapping) else {}

    def value(name: str) -> str:
        raw = values.get(name, lead.get(name))
        return raw.strip() if isinstance(raw, str) else ""

    utm = value("utm_source")
    if utm:
        return utm.lower()[:60]
    referrer = value("referrer")
    if referrer:
        try:
            host = (urlsplit(referrer if "//" in referrer else f"//{referrer}").hostname or "").lower()
        except ValueError:
            host = ""
        if _HOST.fullmatch(host):
            return host.removeprefix("www.")[:60]
    return DIRECT


def week_of(created: datetime) -> str:
    monday = created.date() - timedelta(days=created.weekday())
    return monday.isoformat()


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` 0..1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class _Tally:
    def __init__(self) -> None:
        self.by_status: Counter[str] = Counter()
        self.by_service: Counter[str] = Counter()
        self.by_location: Counter[str] = Counter()
        self.by_source: Counter[str] = Counter()
        self.weekly: Counter[str] = Counter()
        self.minutes: list[float] = []
        self.within_sla = 0
        self.answered_without_time = 0
        self.unanswered = 0
        self.overdue = 0
        self.scheduled = 0
        self.total = 0

    def add(self, lead: Mapping[str, Any], policy: SlaPolicy, now: datetime) -> None:
        status = str(lead.get("status") or "")
        self.by_status[status] += 1
        if status == "spam":
            return
        self.total += 1
        location = str(lead.get("location") or "unknown")
        self.by_service[str(lead.get("service") or "other")] += 1
        self.by_location[location] += 1
        self.by_source[source_of(lead)] += 1
        self.scheduled += status == "scheduled"
        created = parse_iso(lead.get("created_at"))
        if created is None:
            return
        self.weekly[week_of(created)] += 1
        urgent = lead.get("urgent") is True
        answered_at = parse_iso(lead.get("first_answered_at"))
        if answered_at is not None:
            minutes = policy.minutes_to_answer(created, answered_at, location, urgent)
            self.minutes.append(minutes)
            self.within_sla += minutes <= policy.sla_minutes(urgent)
        elif is_answered(lead):
            self.answered_without_time += 1
        else:
            self.unanswered += 1
            self.overdue += policy.due_at(created, location, urgent) <= now


def build_report(
    leads: Iterable[Mapping[str, Any]], policy: SlaPolicy, *, now: datetime, since: datetime | None = None
) -> dict[str, Any]:
    """The report's figures (JSON-ready) over ``leads``."""
    tally = _Tally()
    for lead in leads:
        tally.add(lead, policy, now)
    answered = len(tally.minutes)
    return {
        "since": since.isoformat().replace("+00:00", "Z") if since else None,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "sla_minutes": {"first_contact": policy.first_contact_minutes, "urgent": policy.urgent_minutes},
        "total": tally.total,
        "by_status": {status: tally.by_status.get(status, 0) for status in STATUSES},
        "by_service": _sorted_counts(tally.by_service),
        "by_location": _sorted_counts(tally.by_location),
        "by_source": _sorted_counts(tally.by_source),
        "weekly": dict(sorted(tally.weekly.items())),
        "first_answer": {
            "answered": answered,
            "median_minutes": _round(statistics.median(tally.minutes) if tally.minutes else None),
            "p90_minutes": _round(percentile(tally.minutes, 0.9)),
            "within_sla": tally.within_sla,
            "within_sla_share": round(tally.within_sla / answered, 3) if answered else None,
            "answered_without_time": tally.answered_without_time,
        },
        "unanswered": {"count": tally.unanswered, "past_sla": tally.overdue},
        "conversions": {
            "scheduled": tally.scheduled,
            "share": round(tally.scheduled / tally.total, 3) if tally.total else None,
        },
    }
