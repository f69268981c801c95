"""Fixtures: template.yaml as CloudFormation receives it (SAM transform applied), per deployment flavour."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.sam import effective

EXISTING_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-4909-8807-060504030201"


@pytest.fixture(scope="session")
def dev() -> dict[str, Any]:
    """Default parameters (Environment=dev, no WAF, no captcha, key created by the stack)."""
    return effective()


@pytest.fixture(scope="session")
def prod() -> dict[str, Any]:
    return effective(Environment="prod")
