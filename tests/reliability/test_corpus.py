"""Replay the checked-in nasty-input corpus through the real submit handler (in-process, moto).

Every entry must get a clean answer: never a 5xx; a 4xx for what the contract rejects (the exact code where
the contract names one), 201/303 for what it accepts; no response ever echoes a hostile value; a rejected
request stores nothing; and no hostile value reaches the logs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.events import source_ip
from tests.reliability.conftest import InProcessSubmit, corpus_event, echoed, response_texts
from tests.reliability.corpus import build_corpus

CORPUS = json.loads(Path(build_corpus.CORPUS_PATH).read_text(encoding="utf-8"))["entries"]
ACCEPTED = {201, 303}


def test_corpus_is_large_and_matches_its_builder() -> None:
    assert len(CORPUS) >= 200
    assert Path(build_corpus.CORPUS_PATH).read_text(encoding="utf-8") == build_corpus.render()
    categories = {entry["category"].split("/")[0] for entry in CORPUS}
    assert {"injection", "unicode", "oversize", "wrong-type", "encoding", "duplicate-keys"} <= categories


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[entry["id"] for entry in CORPUS])
def test_corpus_entry_gets_a_clean_answer(inprocess_submit: InProcessSubmit, index: int) -> None:
    entry: dict[str, Any] = CORPUS[index]
    before = inprocess_submit.stored_items()
    log_start = inprocess_submit.log.tell()

    response = inprocess_submit.call(corpus_event(entry, source_ip(index)))
    status = response["statusCode"]

    assert status < 500, f"{entry['id']}: {status}"
    if entry["expect"] == "accept":
        assert status in ACCEPTED, f"{entry['id']}: expected acceptance, got {status}"
    elif entry["expect"] == "reject":
        assert 400 <= status < 500, f"{entry['id']}: expected a 4xx, got {status}"
    else:
        assert status in ACCEPTED or 400 <= status < 500
    if "status" in entry:
        assert status == entry["status"], f"{entry['id']}: expected {entry['status']}, got {status}"

    assert echoed(entry["echo"], response_texts(response)) == []
    if status >= 400:
        assert inprocess_submit.stored_items() == before, "a rejected request stored something"
    new_logs = inprocess_submit.log.getvalue()[log_start:]
    assert echoed(entry["echo"], [new_logs]) == [], "a hostile value reached the logs"
