"""Small, dependency-free statistics for the figures (median and spread)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (``fraction`` in 0..1) of a non-empty sequence."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float], digits: int = 3) -> dict[str, float | int]:
    """Median plus spread (p10/p90, min/max, p99) and the sample count."""
    return {
        "n": len(values),
        "median": round(percentile(values, 0.5), digits),
        "p10": round(percentile(values, 0.1), digits),
        "p90": round(percentile(values, 0.9), digits),
        "p99": round(percentile(values, 0.99), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }
