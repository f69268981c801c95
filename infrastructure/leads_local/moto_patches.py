"""Make moto's ``TransactWriteItems`` behave like DynamoDB's: O(items written), stream records on commit.

moto 5 snapshots for rollback by ``copy.deepcopy`` of the *whole table* once per transaction item, so every
transaction costs O(items in the table, stream records included): after a few hundred leads each submission
takes seconds (``make run``, the load tests and the benchmarks would measure moto, not our code).
``install()`` swaps that snapshot for an equivalent, cheap one: the table object and its item index are
copied shallowly, and only the items the transaction updates in place (``Update`` operations) are deep-
copied; ``Put`` replaces item objects and ``Delete`` pops them, so a shallow index copy restores them.
Stream records of a transaction are held back and appended only when it commits: DynamoDB never streams a
cancelled transaction, and a record that was visible for a moment and then removed would let a stream reader
skip the next record (moto numbers records by position). Everything else in moto is untouched.

The local stack installs it at start and removes it at stop; ``LOCAL_STOCK_MOTO=1`` runs stock moto.
``install()`` also makes the emulated Cognito honour the app client's token lifetimes
(``leads_local.cognito_tokens``).
"""

from __future__ import annotations

import contextlib
import copy as stdlib_copy
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from leads_local import cognito_tokens

_state = threading.local()
_installed = False
_originals: dict[str, Any] = {}


def enabled() -> bool:
    return os.environ.get("LOCAL_STOCK_MOTO", "0") != "1"


def _update_keys(transact_items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    keys: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in transact_items:
        for op_type, op in entry.items():
            if op_type == "Update" and isinstance(op, dict) and "Key" in op:
                keys[str(op.get("TableName"))].append(op["Key"])
    return keys


def _snapshot(table: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415 - moto loads only when the patch is used

    snapshot = stdlib_copy.copy(table)
    if table.range_key_attr is not None:
        snapshot.items = defaultdict(dict, {h: dict(by_range) for h, by_range in table.items.items()})
    else:
        snapshot.items = defaultdict(dict, table.items)
    for key in getattr(_state, "update_keys", {}).get(table.name, []):
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        current = table.get_item(hash_value, range_value)
        if current is None:
            continue
        if range_value is not None:
            snapshot.items[hash_value][range_value] = stdlib_copy.deepcopy(current)
        else:
            snapshot.items[hash_value] = stdlib_copy.deepcopy(current)
    return snapshot


class _CopyModule:
    """Stands in for ``copy`` inside ``moto.dynamodb.models``: cheap snapshots of tables in a transaction."""

    copy = staticmethod(stdlib_copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table  # noqa: PLC0415 - moto loads only when the patch is used

        if isinstance(value, Table) and getattr(_state, "in_transaction", False):
            return _snapshot(value)
        return stdlib_copy.deepcopy(value, memo)


def install() -> bool:
    """Patch moto in this process (idempotent); returns whether the speed-up is active."""
    global _installed  # noqa: PLW0603
    cognito_tokens.install()  # token lifetimes as the app client sets them (fidelity, not speed: always)
    if not enabled():
        return False
    if _installed:
        return True
    from moto.dynamodb import models as dynamodb_models  # noqa: PLC0415 - moto loads only when the patch is used
    from moto.dynamodb.models.table import StreamShard  # noqa: PLC0415 - moto loads only when the patch is used

    original = dynamodb_models.DynamoDBBackend.transact_write_items
    original_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        pending = getattr(_state, "pending_records", None)
        if getattr(_state, "in_transaction", False) and pending is not None:
            pending.append((self, old, new))
            return
        original_add(self, old, new)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        pending: list[tuple[Any, Any, Any]] = []
        _state.in_transaction = True
        _state.update_keys = _update_keys(transact_items)
        _state.pending_records = pending
        try:
            original(self, transact_items)
        finally:
            _state.in_transaction = False
            _state.update_keys = {}
            _state.pending_records = None
        for shard, old, new in pending:  # committed: only now do its stream records exist
            original_add(shard, old, new)

    _originals.update(copy=dynamodb_models.copy, transact_write_items=original, add=original_add)
    dynamodb_models.copy = _CopyModule  # type: ignore[assignment]
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    StreamShard.add = add  # type: ignore[method-assign]
    _installed = True
    return True


def uninstall() -> None:
    """Restore stock moto (so tests outside the harness see moto exactly as shipped)."""
    global _installed  # noqa: PLW0603
    cognito_tokens.uninstall()
    if not _installed:
        return
    from moto.dynamodb import models as dynamodb_models  # noqa: PLC0415 - moto loads only when the patch is used
    from moto.dynamodb.models.table import StreamShard  # noqa: PLC0415 - moto loads only when the patch is used

    dynamodb_models.copy = _originals["copy"]
    dynamodb_models.DynamoDBBackend.transact_write_items = _originals["transact_write_items"]  # type: ignore[method-assign]
    StreamShard.add = _originals["add"]  # type: ignore[method-assign]
    _installed = False


@contextlib.contextmanager
def installed() -> Iterator[bool]:
    """``install()`` for the duration of a block, restoring stock moto afterwards if it was not patched."""
    already = _installed
    active = install()
    try:
        yield active
    finally:
        if active and not already:
            uninstall()
