"""The warehouses' shared row serialisation (``adapters.sqlite_sink.rows``): the hand-built JSON is byte for
byte what pydantic writes, so stored rows and content hashes do not change with the faster path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.postgres_sink.rows import jsonb_text, kab_kota_of, trace_of
from adapters.postgres_sink.rows import prepare as pg_prepare
from adapters.sqlite_sink.rows import envelope_json, serialise, trace_json
from hub.quarantine.entry import province_of
from schemas.classification import Classification
from schemas.envelope import Envelope, Hop, Note, SourceIdentity
from schemas.periods import period_of, status_of
from tests.helpers import example
from tests.unit.test_sqlite_store import env

_text = st.text(max_size=12)
_offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
_aware = st.builds(
    lambda d, off: d.replace(tzinfo=UTC if off is None else timezone(off)),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.one_of(st.none(), _offsets),
)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    """Envelopes with arbitrary text (control characters, non-ASCII), timestamps at any offset and
    precision, optional fields set or not, notes and lineage present or not."""
    return Envelope(
        message_id=draw(_text),
        schema_name=draw(_text),
        schema_version=draw(_text),
        op=draw(st.sampled_from(["upsert", "withdraw"])),
        source_record_id=draw(st.text(min_size=1, max_size=12)),
        revision=draw(st.integers(min_value=0, max_value=2**63 - 1)),
        record_key=draw(_text),
        idempotency_key=draw(_text),
        source=SourceIdentity(
            system=draw(st.text(min_size=1, max_size=8)),
            office=draw(_text),
            adapter=draw(st.text(min_size=1, max_size=8)),
        ),
        kode_wilayah=draw(_text),
        region_ref=draw(_text),
        occurred_at=draw(st.one_of(st.none(), _aware)),
        reported_at=draw(_aware),
        received_at=draw(_aware),
        classification=draw(st.sampled_from(list(Classification))),
        pii=tuple(draw(st.lists(_text, max_size=3))),
        correlation_id=draw(st.one_of(st.none(), _text)),
        mapping_version=draw(st.one_of(st.none(), _text)),
        notes=tuple(
            Note(loc=draw(_text), rule=draw(_text), detail=draw(_text))
            for _ in range(draw(st.integers(0, 2)))
        ),
        lineage=tuple(
            Hop(node=draw(_text), level=draw(_text), at=draw(_aware), status=draw(_text))
            for _ in range(draw(st.integers(0, 3)))
        ),
        signature=draw(st.one_of(st.none(), st.text(max_size=40))),
        payload=draw(st.dictionaries(_text, st.one_of(_text, st.integers(), st.none()), max_size=4)),
    )


def _reference_trace(envelope: Envelope) -> str:
    """``trace_json`` as it was written before the fast path (every timestamp through isoformat)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat()

    trace: dict[str, object] = {
        "schema": f"{envelope.schema_name}@{envelope.schema_version}",
        "system": envelope.source.system,
        "office": envelope.source.office,
        "adapter": envelope.source.adapter,
        "mapping_version": envelope.mapping_version,
        "source_record_id": envelope.source_record_id,
        "kode_wilayah": envelope.kode_wilayah,
        "received_at": iso(envelope.received_at),
        "hops": [[h.node, h.level, iso(h.at), h.status] for h in envelope.lineage],
    }
    if envelope.notes:
        trace["notes"] = [{"loc": n.loc, "rule": n.rule, "detail": n.detail} for n in envelope.notes]
    return orjson.dumps(trace).decode()


@settings(max_examples=300, deadline=None)
@given(envelopes())
def test_envelope_and_trace_json_are_what_they_were(envelope: Envelope) -> None:
    """Built, re-parsed from JSON (pydantic's own timezone type) and ``model_construct``-ed envelopes
    give pydantic's bytes for the envelope and the old bytes for the trace."""
    parsed = Envelope.model_validate_json(envelope.model_dump_json())
    constructed = Envelope.model_construct(**{k: getattr(envelope, k) for k in Envelope.model_fields})
    for e in (envelope, parsed, constructed):
        assert envelope_json(e) == e.model_dump_json(exclude={"payload"})
        assert trace_json(e) == _reference_trace(e)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_envelope_json_falls_back_to_pydantic_for_other_types() -> None:
    """A ``model_construct`` envelope carrying values of other types than declared (a dict for the
    source, a plain string classification) is still written as pydantic writes it."""
    e = env("x", 3)
    odd = Envelope.model_construct(
        **{
            **{k: getattr(e, k) for k in Envelope.model_fields},
            "source": e.source.model_dump(),
            "revision": 2**70,
        }
    )
    assert envelope_json(odd) == odd.model_dump_json(exclude={"payload"}, warnings=False)


def _reference_pg_values(envelope: Envelope) -> tuple[Any, ...]:
    """The PostgreSQL row values as ``prepare`` composed them before it was written out."""
    s = serialise(envelope)
    period, start, end = period_of(envelope.payload)
    return (
        envelope.record_key, envelope.schema_name, envelope.schema_version, envelope.source.system,
        envelope.source_record_id, envelope.kode_wilayah, province_of(envelope.kode_wilayah),
        kab_kota_of(envelope.kode_wilayah), period, start, end, status_of(envelope.payload),
        envelope.revision, envelope.idempotency_key, envelope.message_id, envelope.op, s.state,
        s.content_hash, jsonb_text(s.payload_json), jsonb_text(s.envelope_json), envelope.occurred_at,
        envelope.received_at,
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(envelopes())
def test_postgres_row_is_serialise_plus_typed_columns(envelope: Envelope) -> None:
    """``postgres_sink.rows.prepare`` stores what the shared ``serialise`` gives (so both warehouses keep
    the same payload, envelope, trace and content hash), with the typed columns as before; the trace
    comes apart (``trace_of``), made only for the deliveries the applied_log keeps."""
    row = pg_prepare(envelope)
    assert row.values == _reference_pg_values(envelope)
    assert trace_of(envelope) == jsonb_text(serialise(envelope).trace)


def test_postgres_row_of_real_payloads() -> None:
    """Example payloads (periods, statuses, region levels, NUL characters, withdrawals) as before."""
    cases = [
        env("a", 1, example("party_financial_aid"), schema="party_financial_aid", kode="32"),
        env("b", 2, example("ormas_registration"), schema="ormas_registration", kode="32.01.01"),
        env("c", 1, {"nama": "Ormas\x00A", "periode_mulai": "2024-02-01"}, kode="32.01"),
        env("d", 4, op="withdraw", kode=""),
    ]
    for e in cases:
        assert pg_prepare(e).values == _reference_pg_values(e)
