"""The speed-to-lead sweep's reads and writes (``leads_core.sweep`` decides what is due and sends it).

- ``unanswered_leads``: the ``ByStatus`` query of ``status=new`` leads in a ``created_at`` range, codes only
  (``PROJECTION``: never a visitor's name, contact or message), oldest first, through ``pager``;
- ``sent_levels``: which escalation ledger items already carry ``alerted_at`` (``BatchGetItem``, best effort);
- ``create_ledger_item``: the ledger item of (lead, level), ``pk=LEAD#<id>``, ``sk=ESC#<level>``, written by a
  ``TransactWriteItems`` that also checks the lead is still ``new``, unassigned and unanswered;
- ``CLAIM_CONDITION``: the alert claim's extra condition on a ledger item ("it exists").

Every function takes the low-level client as ``dynamodb`` (default ``leads_core.aws.client("dynamodb")``);
AWS failures become domain errors through ``failures.translated``. Times arrive formatted (ISO strings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from leads_core import aws
from leads_core.errors import StorageUnavailable, TransactionCancelled
from leads_core.observability import logger
from leads_core.store import layout, pager
from leads_core.store.alert_state import ClaimCondition
from leads_core.store.codec import from_item, number, string
from leads_core.store.failures import TRANSACTION_CANCELLED, code_of, translated

_BATCH_GET_KEYS = 100

# The attributes the sweep reads: codes only, never a visitor's name, contact or message.
PROJECTION = {
    "#id": "id",
    "#entity": "entity",
    "#status": "status",
    "#created": "created_at",
    "#location": "location",
    "#urgent": "urgent",
    "#service": "service",
    "#referral": "referral_type",
    "#method": "preferred_contact",
    "#best": "best_time",
    "#assigned": "assigned_to",
    "#answered": "first_answered_at",
    "#expires": layout.TTL_ATTRIBUTE,
}

CLAIM_CONDITION = ClaimCondition(
    expression="attribute_exists(#pk) AND #entity = :escalation",
    names={"#pk": layout.PK, "#entity": "entity"},
    values={":escalation": string(layout.ENTITY_ESCALATION)},
)

Page = dict[str, Any]


def _once(read: Callable[[], Page]) -> Page:
    return read()


def unanswered_leads(
    table_name: str,
    since: str,
    until: str,
    *,
    read_page: Callable[[Callable[[], Page]], Page] = _once,
    dynamodb: Any | None = None,
) -> Iterator[dict[str, Any]]:
    """``status=new`` leads created in ``[since, until]`` (``ByStatus``), codes only, oldest first, as Python
    values (numbers ``Decimal``). ``read_page`` runs each page's read (the sweep retries it there); a failure
    left over raises ``StorageUnavailable``."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": layout.INDEX_BY_STATUS,
        "KeyConditionExpression": "#status = :new AND #created BETWEEN :since AND :until",
        "ProjectionExpression": ", ".join(PROJECTION),
        "ExpressionAttributeNames": PROJECTION,
        "ExpressionAttributeValues": {
            ":new": string("new"),
            ":since": string(since),
            ":until": string(until),
        },
    }
    client = dynamodb or aws.client("dynamodb")

    def query(**page_request: Any) -> Page:
        def read() -> Page:
            with translated():
                return dict(client.query(**page_request))

        return read_page(read)

    for item in pager.items(query, request):
        lead = from_item(item)
        if lead.get("entity") == layout.ENTITY_LEAD and isinstance(lead.get("id"), str):
            yield lead


def sent_levels(
    table_name: str, wanted: Sequence[tuple[str, int]], *, dynamodb: Any | None = None
) -> set[tuple[str, int]]:
    """Which (lead id, level) escalations are already sent (their ledger item has ``alerted_at``).

    Best effort: a failed or partly unprocessed read leaves those out (their claim refuses them anyway).
    """
    sent: set[tuple[str, int]] = set()
    client = dynamodb or aws.client("dynamodb")
    for start in range(0, len(wanted), _BATCH_GET_KEYS):
        chunk = wanted[start : start + _BATCH_GET_KEYS]
        try:
            with translated():
                response = client.batch_get_item(
                    RequestItems={
                        table_name: {
                            "Keys": [layout.escalation_key(lead_id, level) for lead_id, level in chunk],
                            "ProjectionExpression": "#pk, #sk, alerted_at",
                            "ExpressionAttributeNames": {"#pk": layout.PK, "#sk": layout.SK},
                        }
                    }
                )
        except StorageUnavailable as exc:
            logger.warning("escalation ledger read failed", extra={"error_code": code_of(exc)})
            continue
        for item in response.get("Responses", {}).get(table_name, []):
            if "alerted_at" in item:
                lead_id = item[layout.PK]["S"].removeprefix(layout.LEAD_PREFIX)
                sent.add((lead_id, int(item[layout.SK]["S"].removeprefix(layout.ESCALATION_PREFIX))))
    return sent


def create_ledger_item(  # noqa: PLR0913 - the item's parts, keyword-only after its key
    table_name: str,
    lead_id: str,
    level: int,
    *,
    seen_at: str,
    expires_at: int,
    dynamodb: Any | None = None,
) -> bool:
    """Create the ledger item of (lead, level) while the lead is still unanswered; ``False`` when the lead is
    answered, assigned, erased or spam (nothing to send, ever). An existing ledger item is kept (``True``).
    Raises ``StorageUnavailable`` when DynamoDB fails, throttles or cancels for another reason (a conflicting
    transaction): worth retrying."""
    request = {
        "TransactItems": [
            {
                "ConditionCheck": {
                    "TableName": table_name,
                    "Key": layout.lead_key(lead_id),
                    "ConditionExpression": (
                        "attribute_exists(#pk) AND #entity = :lead AND #status = :new"
                        " AND attribute_not_exists(#assigned) AND attribute_not_exists(#answered)"
                    ),
                    "ExpressionAttributeNames": {
                        "#pk": layout.PK,
                        "#entity": "entity",
                        "#status": "status",
                        "#assigned": "assigned_to",
                        "#answered": "first_answered_at",
                    },
                    "ExpressionAttributeValues": {":lead": string(layout.ENTITY_LEAD), ":new": string("new")},
                }
            },
            {
                "Put": {
                    "TableName": table_name,
                    "Item": {
                        **layout.escalation_key(lead_id, level),
                        "entity": string(layout.ENTITY_ESCALATION),
                        "lead_id": string(lead_id),
                        "level": number(level),
                        "due_seen_at": string(seen_at),
                        layout.TTL_ATTRIBUTE: number(expires_at),
                    },
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": layout.PK},
                }
            },
        ]
    }
    try:
        with translated():
            (dynamodb or aws.client("dynamodb")).transact_write_items(**request)
    except TransactionCancelled as exc:
        codes = [str(reason.get("Code", "")) for reason in exc.reasons]
        if codes and codes[0] == "ConditionalCheckFailed":
            return False  # the lead is answered, assigned, erased or spam
        if len(codes) > 1 and codes[0] in {"", "None"} and codes[1] == "ConditionalCheckFailed":
            return True  # the ledger item exists already (an earlier run)
        raise StorageUnavailable(code=TRANSACTION_CANCELLED) from exc  # a conflicting transaction: retry
    return True
