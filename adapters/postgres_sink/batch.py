"""How one write's batch turns into results: which candidate of each record key goes to the merge, and
what the merge's report and the re-read rows mean for every record of the batch (``Batch``); the
reference rules it must agree with (``decide``); and the applied_log rows the ledger keeps by exception
(``log_rows``). Pure: no I/O; ``adapters.postgres_sink.sink`` runs the statements around it.

Imports the sink's statements (column positions), the shared row and result types and the hub's
``judge`` and exception tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.postgres_sink import statements
from adapters.sqlite_sink.rows import PreparedRow
from adapters.sqlite_sink.store import ApplyResult
from hub.consume.sink import ApplyStatus, judge
from hub.errors import SinkUnavailable


class Batch:
    """One batch's candidates and how their outcome turns into results.

    Per record key one candidate goes to the staging table: the key's row or, when the key repeats in the
    batch, the first of its highest revisions (the only one that can be stored: an earlier or equal
    revision after it is never applied), with ``top``, the key's highest revision in the batch. The merge
    reports three kinds of keys:

    * held: the stored row was already at ``top`` or above when the statement started, so nothing of the
      batch can apply. The merge leaves it alone (no JSON parsed, no lock taken: a redelivery costs
      little) and returns its revision and hash; the key's results are decided against that row, as if
      the batch had come just then (it writes nothing there, so no later writer can see otherwise).
    * not written: the merge found a row at least as new only at its insert (another writer committed
      meanwhile) and locked it; the re-read row decides.
    * the rest were written: ``applied``.

    A repeated key's results depend on exactly what was stored before, which an applied merge would hide,
    so its candidate goes in as a lock-only row (revision -1: its WHERE is never true, it only inserts
    where nothing is stored, and the merge reports whether it did); the stored row, or its absence, then
    decides in Python, and a second pass writes the winner.
    """

    __slots__ = ("held", "inserted", "keys", "rows", "unread")

    def __init__(self, rows: list[PreparedRow]) -> None:
        self.rows = rows
        self.keys: dict[str, list[int]] = {}
        for n, r in enumerate(rows):
            self.keys.setdefault(r.record_key, []).append(n)
            if not 0 <= r.revision < 2**63:  # as the array path did: a client-side DataError before any I/O
                import asyncpg

                raise asyncpg.DataError(f"revision of record {n} of the batch is out of bigint range")
        self.inserted: set[str] = set()
        self.unread: set[str] = set()
        self.held: dict[str, tuple[int, str]] = {}

    def staged(self) -> list[tuple[object, ...]]:
        """The staging rows: ``(candidate number, highest revision of the key in the batch, *values)``,
        revision -1 for a repeated key."""
        out: list[tuple[object, ...]] = []
        rows = self.rows
        for n, idx in enumerate(self.keys.values()):
            if len(idx) == 1:
                row = rows[idx[0]]
                out.append((n, row.revision, *row.values))
            else:
                top = max(idx, key=lambda i: rows[i].revision)  # max: the first of the highest
                values = list(rows[top].values)
                values[statements.REVISION] = -1
                out.append((n, rows[top].revision, *values))
        return out

    def report(self, returned: list[Any]) -> list[str]:
        """Takes the merge's report; returns the keys whose stored row must be read (all locked now)."""
        keys = list(self.keys)
        for n, done, revision, content_hash in returned:
            if done is None:  # stored at least as new as anything of the batch: left alone, not locked
                self.held[keys[n]] = (revision, content_hash)
            elif done:
                self.inserted.add(keys[n])  # a lock-only candidate inserted: nothing was stored before
            else:
                self.unread.add(keys[n])
        return list(self.unread)

    def decide(self, stored: dict[str, tuple[int, str]]) -> tuple[list[ApplyResult], list[PreparedRow]]:
        """Results in input order, and the winners of repeated keys still to write."""
        rows = self.rows
        stored.update(self.held)
        statuses: list[ApplyStatus | None] = [None] * len(rows)
        second: list[PreparedRow] = []
        for key, idx in self.keys.items():
            if len(idx) == 1:
                r = rows[idx[0]]
                if key not in self.unread and key not in self.held:
                    statuses[idx[0]] = "applied"
                    continue
                status = judge(_locked(stored, key), r.revision, r.content_hash)
                if status == "applied":  # the merge's WHERE saw an older row: cannot be, the row is locked
                    raise SinkUnavailable("warehouse row changed under its lock; batch retried")
                statuses[idx[0]] = status
                continue
            held = None if key in self.inserted else _locked(stored, key)
            winner = None
            for n in idx:
                r = rows[n]
                statuses[n] = status = judge(held, r.revision, r.content_hash)
                if status == "applied":
                    held, winner = (r.revision, r.content_hash), r
            if winner is not None:
                second.append(winner)
            elif key in self.inserted:  # a placeholder row must never be committed
                raise SinkUnavailable("warehouse placeholder row without a winner; batch retried")
        results = []
        for r, decided in zip(rows, statuses, strict=True):
            if decided is None:  # every row belongs to one key, and every key decides all of its rows
                raise RuntimeError("warehouse batch left a record undecided")
            results.append(ApplyResult(r.idempotency_key, r.record_key, decided))
        return results, second


def _locked(stored: dict[str, tuple[int, str]], key: str) -> tuple[int, str]:
    """The held or re-read row of a key (it exists: the merge would have inserted otherwise)."""
    held = stored.get(key)
    if held is None:
        raise SinkUnavailable("warehouse row locked by the merge is missing; batch retried")
    return held


def decide(
    rows: list[PreparedRow], current: dict[str, tuple[int, str]]
) -> tuple[list[ApplyResult], dict[str, PreparedRow]]:
    """Classify each row against the stored state, updated as the batch goes (a record may repeat): the
    reference rules ``Batch`` must agree with (tests compare them)."""
    results: list[ApplyResult] = []
    winners: dict[str, PreparedRow] = {}
    for r in rows:
        status = judge(current.get(r.record_key), r.revision, r.content_hash)
        if status == "applied":
            current[r.record_key] = (r.revision, r.content_hash)
            winners[r.record_key] = r
        results.append(ApplyResult(r.idempotency_key, r.record_key, status))
    return results, winners


def log_rows(
    rows: list[PreparedRow], results: list[ApplyResult], trace: Callable[[int], str]
) -> list[tuple[Any, ...]]:
    """The batch's applied_log rows, aggregated per idempotency key (a key may repeat within a batch; one
    upsert per key and statement is all PostgreSQL allows), in ``statements.LOG_COLUMNS`` order.

    The ledger by exception (migration 4): the delivery that applied the revision now stored in a records
    row is said by that row, so a key stored by this batch gets a log row only for its other deliveries
    in the batch (duplicates, conflicts), and none when it had none: the usual case, no row at all. Every
    other key gets its whole entry, as before: one not applied, or applied and then superseded within this
    batch (its revision never reaches the records table, and the trigger cannot see it). ``trace(n)``:
    row ``n``'s lineage record, made only for the first delivery of a key that gets a row."""
    stored: dict[str, str] = {}  # record key -> the idempotency key this batch leaves in its records row
    for row, result in zip(rows, results, strict=True):
        if result.status == "applied":
            stored[row.record_key] = row.idempotency_key  # revisions rise: the last applied is stored
    agg: dict[str, list[Any]] = {}
    for n, (row, result) in enumerate(zip(rows, results, strict=True)):
        key = row.idempotency_key
        status = result.status
        entry = agg.get(key)
        if entry is None:
            agg[key] = entry = [key, row.record_key, row.revision, False, 0, 0, "", row.message_id, None]
            if status == "applied" and stored[row.record_key] == key:
                entry[6] = status  # the records row stands for this delivery
                continue
        if entry[8] is None:
            entry[8] = trace(n)  # the first delivery the applied_log keeps (its COALESCE keeps the first)
        entry[3] = entry[3] or status == "applied"
        entry[4] += 1
        entry[5] += status == "conflict"
        entry[6] = status
    return [tuple(e) for e in agg.values() if e[4]]
