"""What each kind of demo source must leave at the centre, derived from what its simulator served.

A ``KindExpect`` is one source kind's ledger: the final (revision, state) of every good record, every
revision it served (each may be applied once; the final one must be), and every bad record with the
reason (and, where known, the field rule) it must be quarantined with. It is filled from the simulators'
own data (the records the app holds, the rows seeded, the files written), never from what the hub
reports, so the check cannot agree with a hub that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from schemas.envelope import make_idempotency_key, make_record_key

WIB = timezone(timedelta(hours=7))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

RecordId = tuple[str, str, str]  # (schema, source system, record id after mapping)


@dataclass(frozen=True)
class BadRecord:
    """A record that must be in quarantine: filed by ``adapter`` under ``rid`` with ``reason``.

    ``rid`` is the id the source itself gave the record (the quarantine entry's ``source_record_id``);
    ``rule``, when set, must be among the entry's field issues (e.g. ``value_unmapped``).
    """

    adapter: str
    rid: str
    reason: str
    rule: str | None = None


@dataclass
class KindExpect:
    """The ledger of one source kind; see the module docstring."""

    adapters: set[str] = field(default_factory=set)
    final: dict[RecordId, tuple[int, str]] = field(default_factory=dict)
    revisions: set[tuple[RecordId, int]] = field(default_factory=set)
    bad: set[BadRecord] = field(default_factory=set)

    def serve(self, record: RecordId, revision: int, state: str = "active") -> None:
        """The source served ``record`` at ``revision``; the highest revision served is the final one."""
        self.revisions.add((record, revision))
        current = self.final.get(record)
        if current is None or revision >= current[0]:
            self.final[record] = (revision, state)

    def quarantined(self, adapter: str, rid: str, reason: str, rule: str | None = None) -> None:
        """The source served a bad record that must be quarantined."""
        self.bad.add(BadRecord(adapter, rid, reason, rule))

    def allowed_keys(self) -> set[str]:
        """Idempotency keys of every revision served: the only ones the warehouse may have applied."""
        return {make_idempotency_key(make_record_key(*record), rev) for record, rev in self.revisions}

    def final_keys(self) -> set[str]:
        """Idempotency keys of every final revision: each must have been applied."""
        return {make_idempotency_key(make_record_key(*r), rev) for r, (rev, _s) in self.final.items()}


def wib_ms(moment: datetime | str, fmt: str = "%Y-%m-%d %H:%M:%S") -> int:
    """Epoch milliseconds of a WIB wall-clock time (naive ``datetime`` or text in ``fmt``)."""
    if isinstance(moment, str):
        moment = datetime.strptime(moment, fmt)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    return (moment - _EPOCH) // timedelta(milliseconds=1)  # exact, as the mapping's epoch_ms
