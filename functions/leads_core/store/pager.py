"""The one pagination loop: every paged read of the table goes through ``items``.

``items(dynamodb.query, request)`` yields the items of every page in order, asking for the next page with
``ExclusiveStartKey`` until there is no ``LastEvaluatedKey``; only one page is in memory at a time. AWS
failures become domain errors (``failures.translated``). The request is copied, never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from leads_core.store.failures import translated


def items(
    operation: Callable[..., Mapping[str, Any]], request: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    """Every item of a paged ``Query`` (or another paged read with the same page keys), lazily."""
    page_request = dict(request)
    while True:
        with translated():
            page = operation(**page_request)
        yield from page.get("Items", [])
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return
        page_request["ExclusiveStartKey"] = last_key
