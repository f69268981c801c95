"""Concurrent clients for the local stack, and the checks every end-to-end run shares.

Clients are plain threads with ``http.client`` (one connection per request, like browsers posting a form).
Each job is one send of one submission with its ``Idempotency-Key``; a client retries a 503 with the same key
(bounded, exponential backoff with jitter), as the contract tells clients to.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.local_stack import LocalStackProcess
from benchmarks.payloads import submission_key, valid_lead


@dataclass
class Outcome:
    """What one send of one submission finally got (after its 503 retries)."""

    index: int
    attempt: int
    statuses: list[int] = field(default_factory=list)
    lead_id: str | None = None

    @property
    def final(self) -> int:
        return self.statuses[-1] if self.statuses else 0


@dataclass
class Traffic:
    """Distinct valid submissions built from ``visitor_token``; keys from a separate ``key_token``."""

    visitor_token: str
    key_token: str
    count: int

    def lead(self, index: int) -> dict[str, Any]:
        return valid_lead(self.visitor_token, index)

    def key(self, index: int) -> str:
        return submission_key(self.key_token, index)

    def run(
        self,
        stack: LocalStackProcess,
        *,
        sends_per_submission: int = 2,
        clients: int = 8,
        max_attempts: int = 1,
        seed: int = 1129,
    ) -> list[Outcome]:
        """Send every submission ``sends_per_submission`` times, shuffled over ``clients`` threads."""
        jobs: queue.Queue[tuple[int, int]] = queue.Queue()
        order = [(i, attempt) for i in range(self.count) for attempt in range(sends_per_submission)]
        random.Random(seed).shuffle(order)
        for job in order:
            jobs.put(job)
        outcomes: list[Outcome] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def client() -> None:
            rng = random.Random()
            while True:
                try:
                    index, attempt = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcome = self._send(stack, index, attempt, max_attempts, rng)
                except BaseException as exc:  # reported by the caller, never swallowed
                    with lock:
                        errors.append(exc)
                    return
                with lock:
                    outcomes.append(outcome)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        if errors:
            raise errors[0]
        return outcomes

    def _send(
        self, stack: LocalStackProcess, index: int, attempt: int, max_attempts: int, rng: random.Random
    ) -> Outcome:
        outcome = Outcome(index=index, attempt=attempt)
        for number in range(max_attempts):
            result = stack.post_json(self.lead(index), idempotency_key=self.key(index), origin=stack.origin)
            outcome.statuses.append(result.status)
            if result.status == 201:
                outcome.lead_id = str(result.json()["id"])
                return outcome
            if result.status != 503 or number == max_attempts - 1:
                return outcome
            time.sleep(min(1.0, 0.05 * 2**number) * (0.5 + rng.random()))
        return outcome


def status_counts(outcomes: Iterable[Outcome]) -> Counter[int]:
    return Counter(status for outcome in outcomes for status in outcome.statuses)


def ids_by_submission(outcomes: Iterable[Outcome]) -> dict[int, set[str | None]]:
    ids: dict[int, set[str | None]] = {}
    for outcome in outcomes:
        ids.setdefault(outcome.index, set()).add(outcome.lead_id)
    return ids


def leads_by_key(items: Sequence[dict[str, Any]], keys: set[str]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        key = item.get("submission_id")
        if key in keys:
            grouped.setdefault(str(key), []).append(item)
    return grouped


def privacy_hits(log_text: str, traffic: Traffic) -> list[str]:
    """Visitor values of ``traffic`` found in ``log_text`` (a description of each hit, never the value).

    Every first name, email, message, ``heard_about`` and ``utm_source`` contains the run's visitor token, so
    one case-insensitive search covers them; last names and phone numbers are looked up in the sets of
    words and digit runs of the log.
    """
    hits: list[str] = []
    lowered = log_text.lower()
    if traffic.visitor_token.lower() in lowered:
        hits.append(f"visitor token at offset {lowered.index(traffic.visitor_token.lower())}")
    words = set(re.findall(r"[A-Za-z]+", log_text))
    digit_runs = set(re.findall(r"[0-9]+", log_text))
    for index in range(traffic.count):
        lead = traffic.lead(index)
        if lead["last_name"] in words:
            hits.append(f"last_name of submission {index}")
        digits = "".join(ch for ch in lead["phone"] if ch.isdigit())
        if digits in digit_runs or "1" + digits in digit_runs:
            hits.append(f"phone of submission {index}")
    return hits
