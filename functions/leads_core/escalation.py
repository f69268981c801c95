"""Escalations of unanswered leads (contract section 8): which are due, and how they read.

Pure code: no AWS, no clock of its own. ``leads_core.sweep`` finds the leads and sends what this module
decides and renders, through the exactly-once path (``leads_core.delivery.publish_once``).

- A lead is *answered* once a person assigned it or moved it out of ``new`` (``assigned_to`` or
  ``first_answered_at`` set, or a status other than ``new``). Spam is never ``new``.
- Level 1 is due when the lead's SLA has run out (``SlaPolicy.due_at``): to all staff (every subscription
  without a filter on ``escalation_level``). Level 2 is due at twice the SLA: the escalation subscribers
  (``EscalationEmails`` / ``EscalationPhones``, filter ``escalation_level=2``) receive it as well.
- An escalation carries codes only: the reference, service, location, priority, the preferred contact method
  and time, the SLA and the console link (``CONSOLE_URL#<id>``). No name, contact detail or message: the
  person who acts opens the lead in the console. The subject names no person; the SMS is one GSM-7 segment
  once SNS adds the topic's display-name prefix; attributes are ``alert_type=escalation`` and
  ``escalation_level`` ``1`` | ``2`` besides the new-lead alert's codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leads_core.alerts import (
    BEST_TIME_LABELS,
    METHOD_LABELS,
    SERVICE_LABELS,
    SMS_SEND,
    SUBJECT_MAX_CHARS,
    Alert,
    AlertSettings,
    _facts,
    _row,
    _shorten,
    display_name_of,
    format_created,
    location_label,
)
from leads_core.alerts import console_link as alert_console_link
from leads_core.gsm7 import clean_line, sms_budget, to_ascii_line, to_sms_text
from leads_core.hours import SlaPolicy, parse_iso

LEVELS: tuple[int, ...] = (1, 2)
NEW = "new"


def is_answered(lead: Mapping[str, Any]) -> bool:
    """Someone assigned it or moved it out of ``new`` (or it is not an alertable lead at all)."""
    return (
        lead.get("status") != NEW
        or bool(lead.get("assigned_to"))
        or bool(lead.get("first_answered_at"))
        or lead.get("entity", "lead") != "lead"
    )


def due_levels(lead: Mapping[str, Any], policy: SlaPolicy, now: datetime) -> list[int]:
    """The escalation levels of ``lead`` that are due at ``now`` (none for an answered lead)."""
    created = parse_iso(lead.get("created_at"))
    if created is None or is_answered(lead):
        return []
    location = str(lead.get("location") or "")
    urgent = lead.get("urgent") is True
    return [level for level in LEVELS if policy.due_at(created, location, urgent, level) <= now]


def job_id(lead_id: str, level: int) -> str:
    """The escalation's id in one publish call (a PublishBatch entry id): ``<lead id>-esc<level>``."""
    return f"{lead_id}-esc{level}"


def console_link(settings: object, lead_id: str) -> str:
    """``CONSOLE_URL#<id>`` (``alerts.console_link``), or ``""`` when no console URL is configured."""
    base = getattr(settings, "console_url", "")
    return alert_console_link(base, lead_id) if isinstance(base, str) and base else ""


@dataclass(frozen=True)
class EscalationFacts:
    lead_id: str
    level: int
    urgent: bool
    service: str
    location: str
    sla_minutes: float
    counts_business_minutes: bool
    due_at: datetime


def _minutes(value: float) -> str:
    return f"{value:g}"


def _sla_text(facts: EscalationFacts) -> str:
    kind = "business minutes" if facts.counts_business_minutes else "minutes at any hour"
    return f"{_minutes(facts.sla_minutes)} {kind}"


def render_subject(facts: EscalationFacts, clinic_name: str) -> str:
    where = location_label(facts.location)
    if facts.level >= 2:
        head = "ESCALATION: URGENT request" if facts.urgent else "ESCALATION: request"
        base = f"{head} {facts.lead_id} still not answered (2x SLA) - {where}"
    else:
        head = "URGENT request" if facts.urgent else "Consultation request"
        base = f"{head} {facts.lead_id} not answered yet - {where}"
    base = _shorten(to_ascii_line(base), SUBJECT_MAX_CHARS)
    clinic = to_ascii_line(clinic_name)
    if clinic and len(base) + 3 + len(clinic) <= SUBJECT_MAX_CHARS:
        return f"{base} | {clinic}"
    return base


# The shortest heads (no longer than the new-lead alert's shortest, so the link always fits: the settings
# check of CONSOLE_URL, ``alerts.console_link_problem``, guarantees that layout).
SMS_FLOOR_HEADS = {1: "Overdue", 2: "Overdue 2x"}


def render_sms(facts: EscalationFacts, link: str, budget: int) -> str:
    """One segment: the head and reference, then service and location while they fit; the link always
    (when there is one), the richer parts give way to it first."""
    if facts.level >= 2:
        head = f"ESCALATION: {'URGENT ' if facts.urgent else ''}Ref {facts.lead_id} unanswered at 2x SLA"
    else:
        head = f"{'URGENT - ' if facts.urgent else ''}Not answered yet: Ref {facts.lead_id}"
    what = [SERVICE_LABELS.get(facts.service, "Other"), location_label(facts.location)]
    sla = f"SLA {_minutes(facts.sla_minutes)} min"
    tail = f" {link}" if link else ""
    floor = SMS_FLOOR_HEADS[min(facts.level, 2)]
    candidates = [
        f"{head} ({', '.join(what)}), {sla}.{tail}",
        f"{head} ({what[1]}), {sla}.{tail}",
        f"{head}, {sla}.{tail}",
        f"{head}.{tail}",
        f"{'URGENT ' if facts.urgent else ''}{floor}: Ref {facts.lead_id}.{tail}",
        f"{floor}.{tail}",
    ]
    for candidate in candidates:
        text = to_sms_text(candidate)
        if len(text) <= budget:
            return text
    return to_sms_text(candidates[-1])[:budget]  # only with a CONSOLE_URL the settings would have refused


def render_email(lead: Mapping[str, Any], facts: EscalationFacts, link: str, clinic_name: str) -> str:
    clinic = clean_line(clinic_name) or "the clinic"
    lines: list[str] = []
    if facts.urgent:
        lines += [
            "URGENT: this person may be in crisis. Call them now.",
            "If they are in immediate danger, call 911. The 988 Suicide & Crisis Lifeline (call or text 988)",
            "is available 24/7; you can share it with them.",
            "",
        ]
    if facts.level >= 2:
        lines.append(f"Consultation request {facts.lead_id} is still not answered at twice its SLA.")
        lines.append("You receive this as an escalation contact: please make sure someone answers it now.")
    else:
        lines.append(f"Consultation request {facts.lead_id} has not been answered within its SLA.")
    lines.append("")
    base = _facts(lead)
    lines += [
        _row("Reference", facts.lead_id),
        _row("Service", SERVICE_LABELS.get(facts.service, "Other / not sure")),
        _row("Location", location_label(facts.location)),
        _row("Priority", "urgent" if facts.urgent else "normal"),
        _row("Prefers", METHOD_LABELS[base.method]),
        _row("Best time", BEST_TIME_LABELS[base.best_time]),
        _row("Received", format_created(lead)),
        _row("SLA", _sla_text(facts)),
        _row(
            "Escalation", f"level {facts.level} of 2" + (" (escalation contacts)" if facts.level >= 2 else "")
        ),
        "",
    ]
    if link:
        lines.append(f"Open it: {link}")
    lines += [
        f"Full record: leads show {facts.lead_id}",
        "Assign it to yourself or set its status once answered: no further escalation goes out then.",
        f"You receive this because you are subscribed to {clinic}'s consultation alerts.",
    ]
    return "\n".join(lines) + "\n"


def render_escalation(
    lead: Mapping[str, Any], level: int, policy: SlaPolicy, settings: AlertSettings
) -> Alert:
    """The escalation ``level`` of ``lead`` (a lead item as stored; only codes of it are used)."""
    base = _facts(lead)
    created = parse_iso(lead.get("created_at"))
    urgent = base.priority == "urgent"
    due = policy.due_at(created, base.location, urgent, level) if created else datetime.min
    facts = EscalationFacts(
        lead_id=base.lead_id,
        level=level,
        urgent=urgent,
        service=base.service,
        location=base.location,
        sla_minutes=policy.sla_minutes(urgent),
        counts_business_minutes=not urgent,
        due_at=due,
    )
    link = console_link(settings, base.lead_id)
    email = render_email(lead, facts, link, settings.clinic_name)
    return Alert(
        lead_id=job_id(base.lead_id, level),
        subject=render_subject(facts, settings.clinic_name),
        email=email,
        sms=render_sms(facts, link, sms_budget(display_name_of(settings))),
        default=email,
        attributes={
            "lead_id": base.lead_id,
            "location": base.location,
            "service": base.service,
            "priority": base.priority,
            "referral_type": base.referral_type,
            "alert_type": "escalation",
            "escalation_level": str(level),
            "sms": SMS_SEND,
        },
        priority=base.priority,
    )
