"""Every DynamoDB read and write of the product, in one package (docs/architecture.md, "Table").

- ``layout``: the item layout (keys, index names, TTL attribute): ``leads_core.keys`` and the store's own.
- ``codec``: the one (de)serialiser between plain values and DynamoDB's wire shape.
- ``failures``: the one translation of AWS errors into domain errors (``ConditionFailed``,
  ``TransactionCancelled``, ``StorageThrottled``, ``StorageUnavailable``).
- ``pager``: the one pagination loop (``Query`` pages, items one at a time).
- ``submit``: the submit path's transaction (lead + idempotency record + rate counter).
- ``alert_state``: exactly-once alert bookkeeping on an item (claim, mark, release).
- ``storm_windows``: the SMS storm guard's window items.
- ``escalations``: the speed-to-lead sweep's reads and writes (unanswered leads, the escalation ledger).
- ``leads``: reading one lead as it is now (alert replay, DLQ).
- ``leads_admin``: staff and ops reads and writes (``Inbox`` / ``ByStatus`` lists and the staff list's page,
  one lead and its history, status change and assignment with their history item and the first answer,
  contact lookups, erasure, audit trail).

Every function takes the low-level client as ``dynamodb`` (default ``leads_core.aws.client("dynamodb")``), so
tests hand in a moto client. Importing this package imports nothing heavy: boto3 and botocore are loaded when
a call needs them.
"""
