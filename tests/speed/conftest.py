"""The alert-path fixtures (tests/alerts/conftest.py) for the sweep's tests: the table, its stream and the
staff topic from template.yaml on moto, with an SQS inbox subscribed to the topic."""

from __future__ import annotations

from tests.alerts.conftest import alert_world, sns_faults

__all__ = ["alert_world", "sns_faults"]
