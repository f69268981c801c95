"""Valid, distinct consultation requests for load and benchmarks, and the visitor values each one carries.

Every value is built from a per-run random token so that a log scan for it cannot hit by coincidence, and so
that two runs never collide. Names are letters only, phones are fictional 555-01xx numbers (valid for
libphonenumber), emails use the reserved ``example.org`` domain.
"""

from __future__ import annotations

import random
import string
from typing import Any

_SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "sel", "dun", "bri", "mor", "qua", "zel", "fen", "lis")
_AREA_CODES = ("201", "202", "212", "312", "630", "773", "847", "708", "415", "617")
_SERVICES = ("depression", "anxiety", "ptsd", "bipolar", "ocd", "chronic_pain", "other")
_TIMES = ("morning", "afternoon", "evening", "any")


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def run_token(rng: random.Random | None = None) -> str:
    """A short random token, letters only (names may not hold digits in every validator)."""
    source = rng or random.SystemRandom()
    return "".join(source.choice(string.ascii_lowercase) for _ in range(6))


def submission_key(run: str, index: int) -> str:
    """An idempotency key (8-64 chars of ``[A-Za-z0-9_-]``) unique to ``run`` and ``index``.

    Use a token other than the one the visitor values were built from when scanning logs for that token.
    """
    return f"key-{run}-{index:06d}"


def valid_lead(run: str, index: int, rng: random.Random | None = None) -> dict[str, Any]:
    """A valid JSON submission (self referral, contact by email or phone), distinct for every index."""
    source = rng or random.Random(f"{run}:{index}")
    first = (_word(source, 2) + run).capitalize()
    last = (_word(source, 3) + _word(source, 1)).capitalize()
    area = _AREA_CODES[index % len(_AREA_CODES)]
    phone = f"({area}) 555-01{index % 100:02d}"
    lead: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}{index}@example.org",
        "phone": phone,
        "preferred_contact": source.choice(("email", "phone")),
        "best_time": source.choice(_TIMES),
        "service": source.choice(_SERVICES),
        "message": f"Hoping to talk about sleep and stress, reference {first} {last} number {index}.",
        "heard_about": f"friend {_word(source, 2)}{run}",
        "consent_privacy": True,
        "utm_source": f"newsletter{run}{index}",
        "utm_campaign": f"spring{_word(source, 2)}",
    }
    return lead


def visitor_values(lead: dict[str, Any]) -> list[str]:
    """Every personal or attribution value of ``lead`` worth searching logs for (with normalised forms)."""
    skip = {"preferred_contact", "best_time", "service", "location", "referral_type", "submission_id"}
    values: list[str] = []
    for name, value in lead.items():
        if name in skip or not isinstance(value, str) or len(value) < 4:
            continue
        values.append(value)
        if name in {"email", "provider_email"}:
            values.append(value.lower())
        if name in {"phone", "provider_phone"}:
            digits = "".join(ch for ch in value if ch.isdigit())
            values.extend({digits, "+1" + digits if len(digits) == 10 else "+" + digits})
    return values
