"""A tiny function for the worker-pool tests (tests/local/test_processes.py): sleeps, raises or answers."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    if event.get("raise"):
        raise ValueError("a message that may quote visitor data")
    if event.get("not_json"):
        return {1, 2}
    time.sleep(float(event.get("sleep", 0)))
    if event.get("barrier"):  # wait until `parties` invocations are running at the same time
        Path(event["barrier"], str(os.getpid())).touch()
        while len(list(Path(event["barrier"]).iterdir())) < int(event["parties"]):
            time.sleep(0.05)
    return {
        "pid": os.getpid(),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "mark": os.environ.get("MARK"),
    }
