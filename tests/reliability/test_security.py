"""bandit on our code: no finding without a written justification (see security.py)."""

from __future__ import annotations

import pytest

from tests.reliability.security import bandit_findings, unjustified

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_bandit_reports_nothing_unjustified() -> None:
    assert unjustified(bandit_findings()) == []


def test_an_unlisted_finding_is_reported() -> None:
    invented = {
        "filename": "functions/leads_core/new.py",
        "test_id": "B602",
        "code": "x",
        "line_number": 3,
        "issue_text": "subprocess call with shell=True",
    }
    assert unjustified([invented]) == ["functions/leads_core/new.py:3 B602 subprocess call with shell=True"]
