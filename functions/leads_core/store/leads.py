"""Reading one lead as it is now: the alert replay and the on-failure queue reload a lead before alerting."""

from __future__ import annotations

from typing import Any

from leads_core import aws
from leads_core.store import layout
from leads_core.store.codec import from_item, read_string
from leads_core.store.failures import translated


def load_lead(
    lead_id: str, *, table_name: str | None = None, dynamodb: Any | None = None
) -> dict[str, Any] | None:
    """The lead item (strongly consistent, numbers as ``Decimal``), or ``None`` when it is gone or not a lead.

    Raises ``StorageUnavailable`` (``store.failures``) when DynamoDB fails or throttles.
    """
    if table_name is None:
        from leads_core.settings import load_settings  # noqa: PLC0415

        table_name = load_settings().table_name
    with translated():
        response = (dynamodb or aws.client("dynamodb")).get_item(
            TableName=table_name, Key=layout.lead_key(lead_id), ConsistentRead=True
        )
    item = response.get("Item")
    if not item or read_string(item, "entity") != layout.ENTITY_LEAD:
        return None
    return from_item(item)
