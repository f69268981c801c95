"""A function whose module fails to import (Lambda's init error), for ``tests/local/test_processes.py``."""

from __future__ import annotations

raise RuntimeError("configuration missing")
