"""Make the local stack's moto answer like AWS at AWS-like cost: O(items written), not O(items stored).

Three patches, each keeping moto's answers exactly as they were:

* ``TransactWriteItems``: moto 5 keeps a rollback copy by ``copy.deepcopy`` of the *whole table*, once per
  transaction item, so each submission cost O(items in the table, stream records included) and the local
  stack slowed down lead by lead. Instead, the items the transaction names are remembered before it runs (an
  ``Update`` changes its item in place, so that one is deep-copied; ``Put`` replaces and ``Delete`` pops item
  objects, so a reference is enough) and put back if it is cancelled: O(items in the transaction). Stream
  records of a transaction are held back and appended only when it commits: DynamoDB never streams a
  cancelled transaction, and a record that was visible for a moment and then removed would let a stream reader
  skip the next record (moto numbers records by position).
* DynamoDB Streams ``GetRecords``: the records are already in the wire shape; they are written with ``json``
  instead of moto's generic, shape-driven serialiser (same document, timestamps as moto writes them).
* moto's server looked up the list of its service packages on disk for every request; it is read once.

The local stack installs them at start and removes them at stop; ``LOCAL_STOCK_MOTO=1`` runs stock moto.
``install()`` also makes the emulated Cognito honour the app client's token lifetimes
(``leads_local.cognito_tokens``).
"""

from __future__ import annotations

import base64
import contextlib
import copy as stdlib_copy
import functools
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from leads_local import cognito_tokens

_state = threading.local()
_installed = False
_originals: dict[str, Any] = {}


def enabled() -> bool:
    return os.environ.get("LOCAL_STOCK_MOTO", "0") != "1"


class _Undo:
    """What a transaction's items were before it ran, to put back if it is cancelled."""

    _MISSING = object()

    def __init__(self) -> None:
        self._entries: list[tuple[Any, Any, Any, bool, Any]] = []  # table, hash, range, hash known, item

    def remember(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415 - moto loads only when patched

        for entry in transact_items:
            for op_type, op in entry.items():
                if not isinstance(op, dict) or op_type == "ConditionCheck":
                    continue
                table = backend.tables.get(op.get("TableName"))
                wire_key = op.get("Item") if op_type == "Put" else op.get("Key")
                if table is None or not isinstance(wire_key, dict):
                    continue  # moto answers these with its own error and changes nothing
                try:
                    hash_value = DynamoType(wire_key[table.hash_key_attr])
                    range_value = (
                        DynamoType(wire_key[table.range_key_attr])
                        if table.range_key_attr is not None
                        else None
                    )
                except (KeyError, TypeError, AttributeError):
                    continue
                current = table.items.get(hash_value, self._MISSING)
                if range_value is not None:
                    hash_known = current is not self._MISSING
                    current = current.get(range_value) if hash_known else None
                else:
                    hash_known = True
                    current = None if current is self._MISSING else current
                if op_type == "Update" and current is not None:
                    current = stdlib_copy.deepcopy(current)
                self._entries.append((table, hash_value, range_value, hash_known, current))

    def restore(self) -> None:
        for table, hash_value, range_value, hash_known, item in reversed(self._entries):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
                continue
            by_range = table.items.get(hash_value)
            if item is not None:
                table.items[hash_value][range_value] = item
            elif by_range is not None:
                by_range.pop(range_value, None)
                if not by_range and not hash_known:
                    table.items.pop(hash_value, None)


class _CopyModule:
    """Stands in for ``copy`` inside ``moto.dynamodb.models``: no whole-table copy inside a transaction."""

    copy = staticmethod(stdlib_copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table  # noqa: PLC0415 - moto loads only when the patch is used

        if isinstance(value, Table) and getattr(_state, "in_transaction", False):
            return value  # moto's "rollback" puts the same table back; _Undo restores its items
        return stdlib_copy.deepcopy(value, memo)


def _stream_timestamp(value: Any) -> Any:
    """A datetime or a binary value as moto's serialiser writes them (epoch seconds with ms; base64)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        from moto.core.serialize import TimestampSerializer  # noqa: PLC0415 - moto loads only when patched

        return TimestampSerializer._timestamp_unixtimestamp(value)  # moto's own conversion
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _get_records(self: Any) -> str:
    """``DynamoDBStreamsHandler.get_records`` without the generic serialiser (same answer)."""
    iterator = self._get_param("ShardIterator")
    limit = self._get_param("Limit")
    result = self.backend.get_records(iterator, 1000 if limit is None else limit)
    return json.dumps(result, default=_stream_timestamp)


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
        undo = _Undo()
        undo.remember(self, transact_items)
        _state.in_transaction = True
        _state.pending_records = pending
        try:
            original(self, transact_items)
        except BaseException:
            undo.restore()
            raise
        finally:
            _state.in_transaction = False
            _state.pending_records = None
        for shard, old, new in pending:  # committed: only now do its stream records exist
            original_add(shard, old, new)

    from moto import backends  # noqa: PLC0415 - moto loads only when the patch is used
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler  # noqa: PLC0415 - as above

    _originals.update(
        copy=dynamodb_models.copy,
        transact_write_items=original,
        add=original_add,
        get_records=DynamoDBStreamsHandler.get_records,
        list_of_moto_modules=backends.list_of_moto_modules,
    )
    dynamodb_models.copy = _CopyModule  # type: ignore[assignment]
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    StreamShard.add = add  # type: ignore[method-assign]
    DynamoDBStreamsHandler.get_records = _get_records  # type: ignore[assignment,method-assign]
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = functools.partial(iter, modules)
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
    from moto import backends  # noqa: PLC0415 - moto loads only when the patch is used
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler  # noqa: PLC0415 - as above

    DynamoDBStreamsHandler.get_records = _originals["get_records"]  # type: ignore[method-assign]
    backends.list_of_moto_modules = _originals["list_of_moto_modules"]
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
