"""The examples in docs/alerts.md, rendered by the real renderer.

``python -m tests.alerts.doc_examples`` rewrites every ``<!-- example:NAME -->`` block of docs/alerts.md with
the current output; ``test_docs_examples_are_current`` fails when the page and the renderer disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leads_core.alerts import render_alert

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
BLOCK = re.compile(r"(<!-- example:(?P<name>[a-z_:-]+) -->\n```text\n)(?P<body>.*?)(```)", re.DOTALL)

SAMPLE_LEAD: dict[str, Any] = {
    "pk": "LEAD#7K3M9Q2XAB",
    "sk": "LEAD",
    "entity": "lead",
    "id": "7K3M9Q2XAB",
    "status": "new",
    "created_at": "2026-11-29T13:45:12.345Z",
    "first_name": "María José",
    "last_name": "Núñez",
    "email": "mj.nunez@example.com",
    "phone": "+16305550123",
    "preferred_contact": "phone",
    "best_time": "evening",
    "service": "anxiety",
    "location": "naperville",
    "referral_type": "provider",
    "provider_name": "Dr. Alan Grant",
    "provider_practice": "Grant Family Medicine",
    "provider_phone": "+16305559876",
    "message": "My doctor suggested I reach out.\nPanic attacks at work, mostly mornings.",
    "heard_about": "My doctor",
    "attribution": {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "fall-anxiety"},
    "consent_privacy": True,
    "consent_sms": False,
    "in_crisis": False,
    "urgent": False,
}
URGENT_LEAD: dict[str, Any] = {
    **SAMPLE_LEAD,
    "id": "8N4P0R3YBC",
    "urgent": True,
    "in_crisis": True,
    "urgent_reasons": ["self_reported", "message"],
    "preferred_contact": "text",
    "consent_sms": True,
    "referral_type": "self",
}


# The console URL the template gives a stack in us-east-1 (the API's own, stage v1).
CONSOLE_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/"


@dataclass(frozen=True)
class _Settings:
    alert_detail: str
    clinic_name: str = "Naperville Wellness Clinic"
    console_url: str = CONSOLE_URL


def examples() -> dict[str, str]:
    rendered: dict[str, str] = {}
    for detail in ("minimal", "contact", "full"):
        alert = render_alert(SAMPLE_LEAD, _Settings(detail))
        rendered[f"{detail}:subject"] = alert.subject + "\n"
        rendered[f"{detail}:email"] = alert.email
        rendered[f"{detail}:sms"] = alert.sms + "\n"
    urgent = render_alert(URGENT_LEAD, _Settings("contact"))
    rendered["urgent:subject"] = urgent.subject + "\n"
    rendered["urgent:email"] = urgent.email
    rendered["urgent:sms"] = urgent.sms + "\n"
    return rendered


def documented() -> dict[str, str]:
    return {m["name"]: m["body"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def main() -> None:
    current = examples()
    text = DOC.read_text(encoding="utf-8")
    text = BLOCK.sub(lambda m: m.group(1) + current[m["name"]] + m.group(4), text)
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
