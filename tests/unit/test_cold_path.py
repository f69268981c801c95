"""What the submit path's speed work relies on (issue 12, ``cold_start_ratio`` and ``own_code_ms``).

Importing the handler does not compile the crisis and spam patterns (the first checked submission does); one
transaction computes each keyed hash once; a lead id reads the OS random source once; the digest of a dump
equals ``Submission.normalised_digest``. Behaviour is covered by the other tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
from leads_core import keys
from leads_core.settings import Settings
from leads_core.store import submit as submit_store
from leads_core.store.submit import LeadRepository, NewLead
from leads_core.submission.model import digest_of, parse_submission

from benchmarks.cold_start import lambda_like_environment

LOCATIONS = ("naperville", "oak-brook")

_IMPORT_ONLY = """
import submit_consultation.app
from leads_core import crisis, spam
from leads_core.submission.model import parse_submission
print(crisis._rules.cache_info().currsize, spam._rules.cache_info().currsize)
sub = parse_submission(
    {"first_name": "Ann", "last_name": "Lee", "phone": "(630) 555-0142", "consent_privacy": True,
     "message": "I want to die, see www.example.com"},
    locations=("naperville",),
)
print(crisis.crisis_reasons(sub), spam.spam_reasons(sub), spam.count_links("www.example.com"))
print(crisis._rules.cache_info().currsize, spam._rules.cache_info().currsize)
"""


def test_importing_the_handler_leaves_the_patterns_to_the_first_submission() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_ONLY],
        env=lambda_like_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    after_import, first_results, after_first = completed.stdout.strip().splitlines()[-3:]
    assert after_import == "0 0"
    assert first_results == "['message'] [] 1"
    assert after_first == "1 1"


def test_a_lead_id_maps_each_random_byte_to_one_of_32_letters(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def token_bytes(count: int) -> bytes:
        asked.append(count)
        return bytes([0, 31, 32, 63, 255, 1, 10, 18, 100, 200])

    monkeypatch.setattr(keys.secrets, "token_bytes", token_bytes)
    assert keys.new_lead_id() == "0Z0ZZ1AJ48"
    assert asked == [10]


def test_lead_ids_match_the_pattern_and_use_every_letter() -> None:
    ids = [keys.new_lead_id() for _ in range(500)]
    pattern = re.compile(keys.LEAD_ID_PATTERN)
    assert all(pattern.fullmatch(lead_id) for lead_id in ids)
    assert set("".join(ids)) == set(keys._ID_ALPHABET)


@pytest.mark.parametrize(
    "fields",
    [
        {"first_name": "Ann", "last_name": "Lee", "phone": "(630) 555-0142", "consent_privacy": True},
        {
            "first_name": "  José ",
            "last_name": "Núñez",
            "email": "Jose.N@Example.com",
            "message": "Hola,\r\n  I need   help",
            "consent_privacy": "on",
            "submission_id": "abcdefgh-1234",
            "captcha_token": "tok",
            "website": "x",
            "utm_source": "Google",
            "referral_type": "provider",
            "provider_name": "Dr. Who",
            "provider_phone": "630-555-0100",
        },
    ],
)
def test_the_digest_of_a_dump_is_the_normalised_digest(fields: dict[str, Any]) -> None:
    submission = parse_submission(fields, locations=LOCATIONS)
    assert digest_of(submission.model_dump(mode="json")) == submission.normalised_digest()
    assert digest_of(submission.model_dump()) == submission.normalised_digest()


@pytest.mark.parametrize("submission_id", [None, "abcdefgh-1234"])
def test_one_transaction_computes_each_keyed_hash_once(
    monkeypatch: pytest.MonkeyPatch, submission_id: str | None
) -> None:
    purposes: Counter[str] = Counter()

    def keyed_hash(secret_id: str, purpose: str, value: str) -> str:
        purposes[purpose] += 1
        return f"{purpose}-hash"

    monkeypatch.setattr(submit_store, "keyed_hash", keyed_hash)
    settings = Settings(table_name="leads-table", locations=LOCATIONS)
    fields = parse_submission(
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@example.com",
            "phone": "(630) 555-0142",
            "consent_privacy": True,
            "submission_id": submission_id,
        },
        locations=LOCATIONS,
    ).model_dump(mode="json")
    lead = NewLead(
        fields=fields, digest="d1", channel="json", source_ip="203.0.113.7", submission_id=submission_id
    )
    idempotency, lead_put, rate = LeadRepository(settings).transact_items(
        lead, "0123456789", 1_795_953_600.25
    )
    assert purposes == {"ip": 1, "submission": 1, "email": 1, "phone": 1}
    item = lead_put["Put"]["Item"]
    assert item["source_hash"] == {"S": "ip-hash"}
    assert rate["Update"]["Key"]["pk"] == {"S": "RATE#ip-hash"}
    assert idempotency["Put"]["Item"]["request_digest"] == {"S": "submission-hash"}
    if submission_id is None:
        assert idempotency["Put"]["Item"]["pk"] == {"S": "IDEMC#submission-hash"}
        assert item["dedupe_hash"] == {"S": "submission-hash"}
    else:
        assert idempotency["Put"]["Item"]["pk"] == {"S": f"IDEM#{submission_id}"}
        assert "dedupe_hash" not in item
