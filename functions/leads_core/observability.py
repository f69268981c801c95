"""The one observability module: Powertools Logger, Tracer and Metrics.

Service name and metric namespace come from ``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_METRICS_NAMESPACE``
(set in the template's Globals). Rule for every log call in this code base: log ids, codes, counts and
field *names*, never a visitor's values (names, email, phone, message, attribution).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
