"""Preloaded by the local stack's workers in a test (``LocalStack(preload=["tests.local.storm_clock"])``):
the storm window clock of the functions reads the moment from the file named by ``STORM_CLOCK_FILE``.

The functions run in their own processes, so a test moves their clock by writing that file (``set_clock``)
instead of patching ``leads_core.storm`` in its own process.
"""

from __future__ import annotations

import os
from pathlib import Path

from leads_core import storm

VARIABLE = "STORM_CLOCK_FILE"


def set_clock(path: Path, moment: float) -> None:
    path.write_text(repr(moment), encoding="utf-8")


def _clock() -> float:
    return float(Path(os.environ[VARIABLE]).read_text(encoding="utf-8"))


storm._clock = _clock
