"""What happens to a lead, told to others: the ``MinutesToFirstAnswer`` metric and the lead events on
EventBridge (contract section 8, docs/speed-to-lead.md "Lead events").

Events go to the bus named by ``LEAD_EVENTS_BUS`` (template: ``LeadEventsBus``; empty: none), source
``clinic.leads``, at least once (a retried call may repeat one; consumers use ``detail.lead_id`` plus
``detail-type`` and ``detail.at`` to drop repeats):

- ``LeadReceived``: a new lead was accepted (sent by the alert function for each lead it alerts);
- ``LeadStatusChanged``: staff (console or CLI) moved a lead to another status.

``detail`` holds ids and codes only: ``lead_id``, ``status``, ``previous_status`` (status changes),
``location``, ``service``, ``priority`` (``urgent`` | ``normal``), ``at`` (ISO 8601 UTC). Never a name,
contact, message, note, attribution value or staff member.

Sending never fails the caller: a refused or throttled ``PutEvents`` is logged (codes only) and counted
(``LeadEventsFailed``); the lead, the status change and the alert stand.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from leads_core import aws
from leads_core.hours import SlaPolicy, parse_iso
from leads_core.observability import MetricUnit, logger, metrics
from leads_core.store.failures import code_of

SOURCE = "clinic.leads"
LEAD_RECEIVED = "LeadReceived"
LEAD_STATUS_CHANGED = "LeadStatusChanged"
BUS_VARIABLE = "LEAD_EVENTS_BUS"
_PUT_EVENTS_LIMIT = 10
_CODE_FIELDS = ("location", "service")


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return text if text.replace("-", "").replace("_", "").isalnum() and len(text) <= 40 else ""


def _detail_base(lead: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "lead_id": str(lead.get("id") or ""),
        **{name: _code(lead.get(name)) for name in _CODE_FIELDS},
        "priority": "urgent" if lead.get("urgent") is True else "normal",
    }


def lead_received_detail(lead: Mapping[str, Any]) -> dict[str, Any]:
    at = str(lead.get("created_at") or "")
    return {**_detail_base(lead), "status": _code(lead.get("status")), "at": at}


def status_changed_detail(lead: Mapping[str, Any], previous: str, status: str, at: str) -> dict[str, Any]:
    return {**_detail_base(lead), "status": _code(status), "previous_status": _code(previous), "at": at}


def entry(bus: str, detail_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    return {"EventBusName": bus, "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}


def put_events(entries: Sequence[Mapping[str, Any]], *, client: Any = None) -> int:
    """Send ``entries`` (10 per call); the number that failed (logged and counted, never raised)."""
    events = client if client is not None else aws.client("events")
    failed = 0
    for start in range(0, len(entries), _PUT_EVENTS_LIMIT):
        chunk = list(entries[start : start + _PUT_EVENTS_LIMIT])
        try:
            response = events.put_events(Entries=chunk)
            failed += int(response.get("FailedEntryCount", 0))
        except Exception as exc:
            from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

            if not isinstance(exc, ClientError | BotoCoreError):
                raise
            logger.warning("lead events not sent", extra={"error_code": code_of(exc), "events": len(chunk)})
            failed += len(chunk)
    if failed:
        metrics.add_metric(name="LeadEventsFailed", unit=MetricUnit.Count, value=failed)
    return failed


def bus_name(environ: Mapping[str, str] | None = None) -> str:
    return (environ if environ is not None else os.environ).get(BUS_VARIABLE, "").strip()


def send_lead_received(leads: Sequence[Mapping[str, Any]], *, bus: str | None = None) -> int:
    """``LeadReceived`` for each lead (no-op without a bus); the number that failed."""
    bus = bus_name() if bus is None else bus
    if not bus or not leads:
        return 0
    return put_events([entry(bus, LEAD_RECEIVED, lead_received_detail(lead)) for lead in leads])


class LeadObserver(Protocol):
    """Told by ``leads_core.manage`` after a change is stored (``lead``: the item as it was before)."""

    def first_answered(self, lead: Mapping[str, Any], at: str) -> None: ...

    def status_changed(self, lead: Mapping[str, Any], previous: str, status: str, at: str) -> None: ...


@dataclass
class SpeedObserver:
    """``MinutesToFirstAnswer`` (in the minutes the lead's SLA counts) and ``LeadStatusChanged`` events."""

    policy: SlaPolicy | None = None
    bus: str = ""
    emit_metrics: bool = True

    def first_answered(self, lead: Mapping[str, Any], at: str) -> None:
        created, answered = parse_iso(lead.get("created_at")), parse_iso(at)
        if self.policy is None or created is None or answered is None or not self.emit_metrics:
            return
        minutes = self.policy.minutes_to_answer(
            created, answered, str(lead.get("location") or ""), lead.get("urgent") is True
        )
        metrics.add_metric(name="MinutesToFirstAnswer", unit=MetricUnit.NoUnit, value=round(minutes, 2))

    def status_changed(self, lead: Mapping[str, Any], previous: str, status: str, at: str) -> None:
        if self.bus:
            detail = status_changed_detail(lead, previous, status, at)
            put_events([entry(self.bus, LEAD_STATUS_CHANGED, detail)])
