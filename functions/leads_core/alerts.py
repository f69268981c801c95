"""Render one staff alert (subject, email, SMS, message attributes) from a lead item.

Pure code: no AWS, no clock except the lead's own ``created_at``. The lead is a plain dict as deserialised
from DynamoDB (str / bool / Decimal / list / dict); any attribute may be missing or of an unexpected type, and
every visitor value may be hostile (line breaks, control and bidi characters, emoji, HTML, 2000-char
messages). Rules (docs/alerts.md):

- ``subject``: printable ASCII only (0x20-0x7E), 1-99 characters, no line breaks, never a person's name.
- ``sms``: one segment *as the phone receives it*: the topic's display-name prefix (``Clinic leads> ``) plus
  our text is at most 160 characters of the GSM 03.38 *basic* alphabet (the display name comes from the
  ``TOPIC_DISPLAY_NAME`` setting, the same value as the template's ``StaffAlertsTopic`` ``DisplayName``).
  The text rules (alphabet, transliteration of visitor text, segment budget) are ``leads_core.gsm7``; here
  the optional parts give way, in a fixed order, until it fits (``render_sms``).
- Console link: the email and the SMS carry ``<CONSOLE_URL>#<lead id>`` (``settings.console_url``), the SMS
  at its end and never cut; ``console_link_problem`` is the length budget the settings check applies, so a
  ``CONSOLE_URL`` too long for even the tightest SMS stops the function at start.
- Detail per ``ALERT_DETAIL``: ``minimal`` (the default: reference, service, location, priority, preferred
  contact method and time, console link), ``contact`` (adds first name, last initial and the callback phone
  or email), ``full`` (the email part only adds full name, message, provider and attribution). The SMS never
  carries more than ``contact`` and never the message text.
- Message attributes hold codes only: ``lead_id``, ``location``, ``service``, ``priority``, ``referral_type``,
  ``alert_type`` (``new_lead`` | ``escalation`` | ``digest`` | ``test``) and the code-only ``sms`` (``send`` |
  ``hold``): the phone subscriptions' filter policies require ``sms=send``, which is how the storm guard
  (``leads_core.storm``) keeps a lead's SMS back while its email still goes out.

``default`` (what SQS, HTTPS and Lambda subscribers receive) is the email text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal, Protocol

from leads_core.gsm7 import (
    DEFAULT_TOPIC_DISPLAY_NAME,
    GSM7_BASIC,
    GSM7_BASIC_TABLE,
    MESSAGE_MAX_CHARS,
    PRINTABLE_ASCII,
    SMS_MAX_CHARS,
    SMS_SAFE,
    clean_block,
    clean_line,
    is_single_gsm7_segment,
    sms_as_delivered,
    sms_budget,
    sms_prefix,
    to_ascii_line,
    to_sms_text,
)
from leads_core.keys import ATTRIBUTION_FIELDS

# The text rules (leads_core.gsm7) that importers have always found here.
__all__ = [
    "ALERT_TIMEZONE",
    "ALERT_TYPES",
    "DEFAULT_TOPIC_DISPLAY_NAME",
    "GSM7_BASIC",
    "GSM7_BASIC_TABLE",
    "MESSAGE_MAX_CHARS",
    "PRINTABLE_ASCII",
    "SMS_HEADS",
    "SMS_HOLD",
    "SMS_MAX_CHARS",
    "SMS_SAFE",
    "SMS_SEND",
    "SUBJECT_MAX_CHARS",
    "Alert",
    "AlertDetailLevel",
    "AlertSettings",
    "AlertType",
    "Priority",
    "clean_block",
    "clean_line",
    "clock_label",
    "console_link",
    "console_link_problem",
    "display_name_of",
    "format_created",
    "is_single_gsm7_segment",
    "is_valid_subject",
    "lead_priority",
    "location_label",
    "render_alert",
    "render_email",
    "render_sms",
    "render_subject",
    "sms_as_delivered",
    "sms_budget",
    "sms_prefix",
    "to_ascii_line",
    "to_sms_text",
]

AlertDetailLevel = Literal["minimal", "contact", "full"]
Priority = Literal["urgent", "normal"]

AlertType = Literal["new_lead", "escalation", "digest", "test"]
ALERT_TYPES: tuple[str, ...] = ("new_lead", "escalation", "digest", "test")
SMS_SEND = "send"
SMS_HOLD = "hold"
SUBJECT_MAX_CHARS = 99
ALERT_TIMEZONE = "America/Chicago"

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

SERVICE_LABELS = {
    "depression": "Depression",
    "anxiety": "Anxiety",
    "ptsd": "PTSD",
    "bipolar": "Bipolar disorder",
    "ocd": "OCD",
    "chronic_pain": "Chronic pain",
    "other": "Other / not sure",
}
BEST_TIME_LABELS = {
    "morning": "mornings",
    "afternoon": "afternoons",
    "evening": "evenings",
    "any": "any time",
}
METHOD_LABELS = {"phone": "phone call", "text": "text message", "email": "email"}
SMS_METHOD_VERBS = {"phone": "call", "text": "text", "email": "email"}
REFERRAL_LABELS = {"self": "self-referral", "provider": "referred by a provider"}
URGENT_REASON_LABELS = {
    "self_reported": 'they ticked "I may be thinking about harming myself"',
    "message": "their message reads as a crisis",
}


class AlertSettings(Protocol):
    """What rendering needs from ``leads_core.settings.Settings``.

    ``topic_display_name`` is read when the object has it (``Settings`` does) and is the template's
    ``DisplayName`` otherwise, so light settings objects (tests, ``leads alert-test``) need not carry it.
    """

    @property
    def clinic_name(self) -> str: ...

    @property
    def alert_detail(self) -> str: ...

    @property
    def console_url(self) -> str:
        """``CONSOLE_URL`` (checked and normalised by the settings, ends with ``/``); ``""``: no link."""
        ...


@dataclass(frozen=True)
class Alert:
    """One rendered alert. ``attributes`` hold codes only (no visitor values)."""

    lead_id: str
    subject: str
    email: str
    sms: str
    default: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: Priority = "normal"

    def message_json(self) -> str:
        return json.dumps({"default": self.default, "email": self.email, "sms": self.sms}, ensure_ascii=False)

    def to_publish_entry(self) -> dict[str, Any]:
        """One ``PublishBatchRequestEntries`` item (``Id`` is the lead id).

        An alert without an ``sms`` attribute is published with ``sms=send``: the phone subscriptions'
        filter policies match ``sms=send`` only, so a missing attribute would silently keep it off phones.
        """
        attributes: dict[str, dict[str, str]] = {
            name: {"DataType": "String", "StringValue": value} for name, value in self.attributes.items()
        }
        attributes.setdefault("sms", {"DataType": "String", "StringValue": SMS_SEND})
        # Staff alerts are time-critical: SNS delivers Transactional SMS with the highest reliability.
        attributes["AWS.SNS.SMS.SMSType"] = {"DataType": "String", "StringValue": "Transactional"}
        return {
            "Id": self.lead_id,
            "Message": self.message_json(),
            "MessageStructure": "json",
            "Subject": self.subject,
            "MessageAttributes": attributes,
        }


# --------------------------------------------------------------------------------------------- settings


def display_name_of(settings: object) -> str:
    value = getattr(settings, "topic_display_name", DEFAULT_TOPIC_DISPLAY_NAME)
    return value if isinstance(value, str) else DEFAULT_TOPIC_DISPLAY_NAME


# --------------------------------------------------------------------------------------------- text


def _shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` chars, at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= max(1, limit // 2):
        cut = cut[:space]
    return cut.rstrip(" -.,'")


# --------------------------------------------------------------------------------------------- lead fields


def _text(lead: Mapping[str, Any], name: str) -> str:
    value = lead.get(name)
    return value.strip() if isinstance(value, str) else ""


def _code(lead: Mapping[str, Any], name: str, allowed: Mapping[str, str], default: str) -> str:
    value = _text(lead, name)
    return value if value in allowed else default


def _slug(value: str, default: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", to_ascii_line(value).lower()).strip("-")[:40]
    return slug or default


def location_label(slug: str) -> str:
    return " ".join(part.capitalize() for part in slug.split("-") if part) or "Unknown location"


def lead_priority(lead: Mapping[str, Any]) -> Priority:
    return "urgent" if lead.get("urgent") is True else "normal"


def _created_at(lead: Mapping[str, Any]) -> datetime | None:
    raw = _text(lead, "created_at")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _alert_zone() -> tuple[tzinfo, str]:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

        return ZoneInfo(ALERT_TIMEZONE), ALERT_TIMEZONE
    except (ZoneInfoNotFoundError, ValueError):  # no tz database on this host: say so rather than guess
        return UTC, "UTC"


def format_created(lead: Mapping[str, Any]) -> str:
    created = _created_at(lead)
    if created is None:
        return "unknown"
    zone, zone_name = _alert_zone()
    local = created.astimezone(zone)
    hour = local.strftime("%I").lstrip("0") or "12"
    return f"{local.strftime('%a %d %b %Y')}, {hour}:{local.strftime('%M %p %Z')} ({zone_name})"


def clock_label(epoch: float) -> str:
    """``HH:MM`` of ``epoch`` on the clinic's clock (America/Chicago; UTC, labelled, without tz data)."""
    zone, zone_name = _alert_zone()
    local = datetime.fromtimestamp(epoch, tz=zone)
    return local.strftime("%H:%M") + (" UTC" if zone_name == "UTC" else "")


@dataclass(frozen=True)
class _Facts:
    """The lead's fields after validation against the form's enums (codes only, no visitor text)."""

    lead_id: str
    priority: Priority
    service: str
    location: str
    referral_type: str
    method: str
    best_time: str
    urgent_reasons: tuple[str, ...]


def _facts(lead: Mapping[str, Any]) -> _Facts:
    lead_id = _text(lead, "id")
    if not _SAFE_ID.match(lead_id):
        lead_id = to_ascii_line(lead_id).replace(" ", "")[:80] or "unknown"
    reasons_raw = lead.get("urgent_reasons")
    reasons = tuple(
        r for r in (reasons_raw if isinstance(reasons_raw, list) else []) if r in URGENT_REASON_LABELS
    )
    return _Facts(
        lead_id=lead_id,
        priority=lead_priority(lead),
        service=_code(lead, "service", SERVICE_LABELS, "other"),
        location=_slug(_text(lead, "location"), "unknown"),
        referral_type=_code(lead, "referral_type", REFERRAL_LABELS, "self"),
        method=_code(lead, "preferred_contact", METHOD_LABELS, "phone" if _text(lead, "phone") else "email"),
        best_time=_code(lead, "best_time", BEST_TIME_LABELS, "any"),
        urgent_reasons=reasons,
    )


def _callback_method(lead: Mapping[str, Any], facts: _Facts) -> str:
    """The preferred method, except that someone who may be in crisis is called when a phone was given."""
    return "phone" if facts.priority == "urgent" and _text(lead, "phone") else facts.method


def _callback(lead: Mapping[str, Any], method: str) -> tuple[str, str]:
    """(kind, value) of the visitor's own callback for ``method``, falling back to the other one."""
    phone, email = _text(lead, "phone"), _text(lead, "email")
    order = (
        [("email", email), ("phone", phone)] if method == "email" else [("phone", phone), ("email", email)]
    )
    for kind, value in order:
        if value:
            return kind, clean_line(value)
    return "", ""


# --------------------------------------------------------------------------------------------- subject


def render_subject(facts: _Facts, clinic_name: str) -> str:
    head = "URGENT: new consultation request" if facts.priority == "urgent" else "New consultation request"
    base = f"{head} {facts.lead_id} - {location_label(facts.location)}"
    base = _shorten(to_ascii_line(base), SUBJECT_MAX_CHARS)
    clinic = to_ascii_line(clinic_name)
    room = SUBJECT_MAX_CHARS - len(base) - len(" | ")
    if clinic and len(clinic) <= room:
        return f"{base} | {clinic}"
    if clinic and room >= 16:
        return f"{base} | {_shorten(clinic, room - 3)}..."
    return base


# --------------------------------------------------------------------------------------------- SMS


def _sms_name(lead: Mapping[str, Any], first_limit: int | None) -> str:
    """'Jose M.' with the first name cut to ``first_limit`` (``0``: initials only; ``None``: no cut)."""
    first = to_sms_text(_text(lead, "first_name"))
    last = to_sms_text(_text(lead, "last_name"))
    initial = next((c for c in last if c.isalnum()), "")
    if first_limit == 0:
        first = next((f"{c}." for c in first if c.isalnum()), "")
    elif first_limit is not None:
        first = _shorten(first, first_limit)
    parts = [p for p in (first, f"{initial.upper()}." if initial else "") if p]
    return " ".join(parts)


def _sms_verb(method: str, kind: str) -> str:
    """How to reach them: the preferred method's verb, unless the callback we have is of the other kind."""
    verb = SMS_METHOD_VERBS[method]
    if kind == "email" and verb != "email":
        return "email"
    if kind == "phone" and verb == "email":
        return "call"
    return verb


# Heads of an SMS by priority: (long, short). The short ones are what the tightest layout keeps.
SMS_HEADS: dict[str, tuple[str, str]] = {
    "urgent": ("URGENT - may be in crisis, call now", "URGENT"),
    "normal": ("New consultation request", "New request"),
}
# Longest possible lead link text after the console URL: "#" and a lead id (keys.LEAD_ID_PATTERN).
LEAD_ID_CHARS = 10


def console_link(console_url: str, lead_id: str) -> str:
    """The staff console's deep link to one lead (``CONSOLE_URL`` ends with ``/``)."""
    return f"{console_url}#{lead_id}"


def _sms_floor(head: str, link: str) -> str:
    """The tightest SMS layout: the short head and the link (the lead's reference is the link's end)."""
    return f"{head}. {link}"


def console_link_problem(console_url: str, display_name: str = DEFAULT_TOPIC_DISPLAY_NAME) -> str:
    """Why ``console_url`` cannot be linked from one-segment SMS (``""`` when it can).

    The tightest layout (a short head and a lead's link, after the topic's display-name prefix) must fit
    in 160 characters; every richer layout gives way to it before the link is ever cut or a second segment
    sent. Used by the settings check, so a too-long ``CONSOLE_URL`` stops the function at start.
    """
    longest_head = max((short for _, short in SMS_HEADS.values()), key=len)
    floor = _sms_floor(longest_head, console_link(console_url, "X" * LEAD_ID_CHARS))
    budget = sms_budget(display_name)
    if len(floor) <= budget:
        return ""
    room = budget - (len(floor) - len(console_url))
    return (
        f"too long for a one-segment SMS: it has {len(console_url)} characters, and with the topic display"
        f" name (TOPIC_DISPLAY_NAME, {len(display_name)} characters) at most {max(room, 0)} fit"
    )


@dataclass(frozen=True)
class _SmsShape:
    """Which optional parts an SMS layout keeps (``name_limit``: see ``_sms_name``)."""

    clinic: bool = True
    name: bool = True
    name_limit: int | None = None
    callback: bool = True
    ref: bool = True
    long_head: bool = True
    prefers: bool = True
    location_limit: int | None = None
    when: bool = True


# Layouts from the richest to the leanest, each dropping or shortening one more part; the link is never cut.
_SMS_STEPS: tuple[dict[str, Any], ...] = (
    {},
    {"clinic": False},
    {"ref": False},  # the link ends with the reference
    {"long_head": False},
    {"name_limit": 20},
    {"name_limit": 12},
    {"name_limit": 6},
    {"name_limit": 0},
    {"name": False},
    {"callback": False},  # contact detail is gone from here on: what is left is minimal's
    {"location_limit": 16},
    {"prefers": False},
    {"when": False},
    {"location_limit": 10},
)
_SMS_SHAPES: tuple[_SmsShape, ...] = tuple(
    _SmsShape(**{k: v for step in _SMS_STEPS[: n + 1] for k, v in step.items()})
    for n in range(len(_SMS_STEPS))
)


@dataclass(frozen=True)
class _SmsParts:
    """What an SMS may say about one lead, already SMS-safe; ``_SmsShape`` picks which parts to keep."""

    facts: _Facts
    show_contact: bool
    verb: str
    callback: str  # the callback value, "" when none or when it would not survive as SMS text unchanged
    provider_only: bool
    clinic: str
    link: str

    def how(self, shape: _SmsShape) -> str:
        if shape.callback and self.callback:
            return f"{self.verb} {self.callback}"
        if self.provider_only:
            return "provider referral"
        verb = SMS_METHOD_VERBS[self.facts.method]
        if not shape.prefers:
            return verb
        return f"prefers {'a ' if self.facts.method != 'email' else ''}{verb}"

    def compose(self, lead: Mapping[str, Any], shape: _SmsShape) -> str:
        facts = self.facts
        head = SMS_HEADS[facts.priority][0 if shape.long_head else 1]
        name = _sms_name(lead, shape.name_limit) if self.show_contact and shape.name else ""
        how = self.how(shape)
        who = f"{name} - {how}" if name else how
        if shape.when:
            who = f"{who}, {BEST_TIME_LABELS[facts.best_time]}"
        location = location_label(facts.location)
        if shape.location_limit is not None:
            location = _shorten(location, shape.location_limit)
        sentences = [f"{head}: {who}", f"{SERVICE_LABELS[facts.service]}, {location}"]
        if shape.ref:
            sentences.append(f"Ref {facts.lead_id}")
        text = ". ".join(sentences) + "."
        if shape.clinic and self.clinic:
            text = f"{text} {self.clinic}"
        return f"{text} {self.link}" if self.link else text


def render_sms(  # noqa: PLR0913 - the lead, its facts and the four settings that shape the text
    lead: Mapping[str, Any],
    facts: _Facts,
    detail: str,
    clinic_name: str,
    *,
    budget: int = SMS_MAX_CHARS,
    console_url: str = "",
) -> str:
    """At most ``budget`` GSM-7 characters (one segment once SNS adds its display-name prefix), ending with
    the lead's console link (when ``console_url`` is set) that is never cut.

    Never more than ``contact`` detail, never the message text. Parts give way in this order: the clinic's
    name, the reference (the link ends with it), the long head, the visitor's name (shortened, then
    initials, then gone), the callback value, then minimal's own parts: the location (shortened),
    "prefers", the best time. Below all of them: the short head and the link.
    """
    show_contact = detail in {"contact", "full"}
    method = _callback_method(lead, facts)
    kind, value = _callback(lead, method) if show_contact else ("", "")
    sms_value = to_sms_text(value)
    link = console_link(console_url, facts.lead_id) if console_url else ""
    parts = _SmsParts(
        facts=facts,
        show_contact=show_contact,
        verb=_sms_verb(method, kind),
        callback=sms_value if value and sms_value == value else "",
        provider_only=show_contact and not value and _text(lead, "referral_type") == "provider",
        clinic=_shorten(to_sms_text(clinic_name), 40),
        link=link,
    )
    for shape in _SMS_SHAPES:
        candidate = parts.compose(lead, shape)
        if len(candidate) <= budget:
            return candidate
    head = SMS_HEADS[facts.priority][1]
    if link and len(_sms_floor(head, link)) <= budget:
        return _sms_floor(head, link)
    # Only for a link the settings check would refuse (or a malformed id): one segment without a cut link.
    return f"{head}. Ref {facts.lead_id}. See the email alert."[:budget]


# --------------------------------------------------------------------------------------------- email


def _row(label: str, value: str) -> str:
    return f"  {label + ':':<18}{value}"


def _urgent_lines(lead: Mapping[str, Any], facts: _Facts) -> list[str]:
    """The head of an urgent alert: call now, 911 and 988, why it is urgent, and a review flag if any."""
    said = "self_reported" in facts.urgent_reasons or lead.get("in_crisis") is True
    lines = [
        "URGENT: this person said they may be in crisis. Call them now."
        if said
        else "URGENT: their message reads as a crisis. Call them now.",
        "If they are in immediate danger, call 911. The 988 Suicide & Crisis Lifeline (call or text 988)",
        "is available 24/7; you can share it with them.",
    ]
    if facts.urgent_reasons:
        lines.append(
            "Flagged because " + " and ".join(URGENT_REASON_LABELS[r] for r in facts.urgent_reasons) + "."
        )
    if "possible_spam" in (lead.get("review_flags") or []):  # kept despite a spam rule (repository)
        codes = [r for r in lead.get("spam_reasons") or [] if isinstance(r, str) and r.isidentifier()]
        lines.append(f"Flagged for review: possible spam ({', '.join(codes) or 'rule'}).")
    return [*lines, ""]


def _email_name(lead: Mapping[str, Any], detail: str) -> str:
    """The full name (``full``), first name and last initial (``contact``), or nothing (``minimal``)."""
    first, last = clean_line(_text(lead, "first_name")), clean_line(_text(lead, "last_name"))
    if detail == "full":
        return " ".join(p for p in (first, last) if p)
    if detail == "contact":
        initial = next((c for c in last if c.isalnum()), "")
        return " ".join(p for p in (first, f"{initial}." if initial else "") if p)
    return ""


def _who_lines(lead: Mapping[str, Any], facts: _Facts, detail: str, link: str) -> list[str]:
    """The "Who to call back" block at ``detail``."""
    lines = ["Who to call back"]
    name = _email_name(lead, detail)
    if name:
        lines.append(_row("Name", name))
    lines.append(_row("Prefers", METHOD_LABELS[facts.method]))
    if detail in {"contact", "full"}:
        kind, value = _callback(lead, _callback_method(lead, facts))
        if value:
            lines.append(_row("Phone" if kind == "phone" else "Email", value))
        elif facts.referral_type != "provider":
            lines.append(_row("Contact", "none given - see the full record"))
        if facts.method == "text":
            lines.append(_row("Texting consent", "yes" if lead.get("consent_sms") is True else "not given"))
    else:
        where = "in the staff console (link above)" if link else f"leads show {facts.lead_id}"
        lines.append(_row("Contact details", where))
    lines.append(_row("Best time", BEST_TIME_LABELS[facts.best_time]))
    return [*lines, ""]


def render_email(
    lead: Mapping[str, Any], facts: _Facts, detail: str, clinic_name: str, console_url: str = ""
) -> str:
    clinic = clean_line(clinic_name) or "the clinic"
    link = console_link(console_url, facts.lead_id) if console_url else ""
    lines: list[str] = _urgent_lines(lead, facts) if facts.priority == "urgent" else []
    lines += [f"New consultation request for {clinic}", f"Reference: {facts.lead_id}"]
    if link:
        lines.append(f"Open it in the staff console: {link}")
    lines.append("")
    lines += _who_lines(lead, facts, detail, link)

    lines.append("About the request")
    lines.append(_row("Service", SERVICE_LABELS[facts.service]))
    lines.append(_row("Location", location_label(facts.location)))
    lines.append(_row("Referral", REFERRAL_LABELS[facts.referral_type]))
    lines.append(_row("Priority", facts.priority))
    lines.append(_row("Received", format_created(lead)))
    lines.append("")

    if detail == "full":
        lines += _full_details(lead, facts)

    lines += [
        f"Full record: {link} (or: leads show {facts.lead_id})"
        if link
        else f"Full record: leads show {facts.lead_id}",
        f"You receive this because you are subscribed to {clinic}'s consultation alerts.",
    ]
    return "\n".join(lines) + "\n"


def _full_details(lead: Mapping[str, Any], facts: _Facts) -> list[str]:
    lines: list[str] = []
    if facts.referral_type == "provider":
        lines.append("Referring provider")
        for label, name in (
            ("Name", "provider_name"),
            ("Practice", "provider_practice"),
            ("Email", "provider_email"),
            ("Phone", "provider_phone"),
        ):
            value = clean_line(_text(lead, name))
            if value:
                lines.append(_row(label, value))
        lines.append("")
    message = clean_block(_text(lead, "message"))
    if message:
        lines.append("Their message")
        lines += [f"  | {line}" if line else "  |" for line in message]
        lines.append("")
    heard = clean_line(_text(lead, "heard_about"))
    attribution = lead.get("attribution")
    attribution_rows = []
    if isinstance(attribution, Mapping):
        for key in ATTRIBUTION_FIELDS:
            raw = attribution.get(key)
            if isinstance(raw, str) and clean_line(raw):
                attribution_rows.append(_row(key, clean_line(raw)[:500]))
    if heard or attribution_rows:
        lines.append("How they found us")
        if heard:
            lines.append(_row("Heard about", heard))
        lines += attribution_rows
        lines.append("")
    return lines


# --------------------------------------------------------------------------------------------- alert


def render_alert(lead: Mapping[str, Any], settings: AlertSettings) -> Alert:
    """The one alert of ``lead`` at ``settings.alert_detail`` (unknown levels fall back to ``minimal``), its
    email and SMS linking to the lead in the staff console (``settings.console_url``)."""
    detail = settings.alert_detail if settings.alert_detail in {"minimal", "contact", "full"} else "minimal"
    facts = _facts(lead)
    console_url = settings.console_url
    email = render_email(lead, facts, detail, settings.clinic_name, console_url)
    budget = sms_budget(display_name_of(settings))
    return Alert(
        lead_id=facts.lead_id,
        subject=render_subject(facts, settings.clinic_name),
        email=email,
        sms=render_sms(lead, facts, detail, settings.clinic_name, budget=budget, console_url=console_url),
        default=email,
        attributes={
            "lead_id": facts.lead_id,
            "location": facts.location,
            "service": facts.service,
            "priority": facts.priority,
            "referral_type": facts.referral_type,
            "alert_type": "new_lead",
            "sms": SMS_SEND,
        },
        priority=facts.priority,
    )


def is_valid_subject(subject: str) -> bool:
    return 1 <= len(subject) <= SUBJECT_MAX_CHARS and all(c in PRINTABLE_ASCII for c in subject)
