"""HTTP ingest validates a request's items in one call (``hub.ingest.items.validate_batch``) when all are
valid, and item by item otherwise. The one-call way must publish the same bytes (NIKs tokenised, numbers
read the same, signatures verifying), give a record refused later (region) the same source record, and
never decide an error: a bad record's 422 is the per-item one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict

from hub.errors import RecordError
from hub.http.ingest import IngestHandler
from hub.ingest import items as items_module
from hub.ingest.items import BodyItems, _schema_depth, to_source_record, validate_batch, validate_body
from hub.ingest.prepared import Prepared
from hub.node import Node
from hub.trust.keys import KeyRegistry
from hub.trust.verify import TrustPolicy, Verifier
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity
from schemas.registry import SchemaSpec
from tests.helpers import OFFICE_BOGOR, item
from tests.unit.test_http_ingest import post

RECEIVED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
SOURCE = SourceIdentity(system="sitimdu-bogor", office=OFFICE_BOGOR, adapter="http_ingest")


def handler(node: Node) -> IngestHandler:
    return IngestHandler(node.pipeline, node.transport, node.settings.http)


def both_ways(
    node: Node, raw: list[dict[str, Any]], schema: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    """(records, checked) item by item and in one call, for the same items and the same clock. The one
    call from the body's bytes (``validate_body``) is held to the one from parsed items here: the same
    bytes published or refusals, the same source records (``raw`` read from the body when asked)."""
    monkeypatch.setattr("hub.ingest.pipeline.now_utc", lambda: RECEIVED)
    body = orjson.dumps(raw)
    items = orjson.loads(body)  # as parse_body gives them
    spec = get_schema(schema)
    h = handler(node)
    context = node.pipeline.validation_context
    typed = validate_batch(items, spec, context, 32)
    assert typed is not None
    one_call = h._check_typed(BodyItems.of(items), typed, schema, SOURCE, None)
    from_bytes = validate_body(body, "application/json", spec, context, 32, 1000)
    assert from_bytes is not None
    records, checked = h._check_typed(
        BodyItems(body, "application/json", 1000), from_bytes, schema, SOURCE, None
    )
    assert bodies(checked) == bodies(one_call[1])
    assert [(r.source_record_id, r.revision, r.op, r.original, dict(r.raw)) for r in records] == [
        (r.source_record_id, r.revision, r.op, r.original, dict(r.raw)) for r in one_call[0]
    ]
    per_item = h._check(orjson.loads(body), schema, SOURCE, None)
    return per_item, one_call


def bodies(checked: list[Prepared | RecordError]) -> list[bytes | str]:
    return [c.body if isinstance(c, Prepared) else f"{c.reason}: {c}" for c in checked]


async def test_one_call_publishes_the_same_bytes(memory_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = [
        item("ormas_registration", "SKT-1"),  # undotted kode wilayah, NIKs to tokenise
        {**item("ormas_registration", "SKT-2", revision=5), "op": "withdraw", "correlation_id": "c-2"},
        {
            **item("ormas_registration", "SKT-3"),
            "occurred_at": "2026-02-28T20:15:00.250+07:00",
            "reported_at": "2026-02-28T13:20:00Z",
            "classification": "RAHASIA",
        },
        item("ormas_registration", "SKT-4", nama="  Ormas \u00e9\u4e2d  "),  # whitespace stripped
    ]
    (per_records, per_checked), (one_records, one_checked) = both_ways(
        memory_node, raw, "ormas_registration", monkeypatch
    )
    assert all(isinstance(c, Prepared) for c in one_checked)
    assert bodies(one_checked) == bodies(per_checked)
    for a, b in zip(per_records, one_records, strict=True):
        assert (a.source_record_id, a.revision, a.op, a.occurred_at, a.reported_at) == (
            b.source_record_id,
            b.revision,
            b.op,
            b.occurred_at,
            b.reported_at,
        )
        assert (a.classification, a.correlation_id, dict(a.raw)) == (
            b.classification,
            b.correlation_id,
            dict(b.raw),
        )
    wire = [orjson.loads(c.body) for c in one_checked if isinstance(c, Prepared)]
    assert "3201010101800099" not in str(wire)  # the NIK is tokenised on this way too
    verifier = Verifier(
        KeyRegistry(None, dev_mode=True), TrustPolicy(), clock=lambda: RECEIVED + timedelta(minutes=1)
    )
    for envelope in wire:
        verifier.verify(envelope)


async def test_json_numbers_read_the_same(memory_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """Percent and counts given as JSON numbers (floats and ints) make the same payload either way."""
    raw = [
        item("voter_participation", "VP-1", kode_wilayah="32.01.01", partisipasi=84.4, dpt=260000.0),
        item("voter_participation", "VP-2", kode_wilayah="3201", partisipasi="84.40", dpt=260000),
    ]
    for r in raw:
        data = r["data"]
        data.update(dptb=0, dpk=0, pengguna_hak_pilih=219440, per_generasi=[], target_partisipasi=80)
    (_, per_checked), (_, one_checked) = both_ways(memory_node, raw, "voter_participation", monkeypatch)
    assert all(isinstance(c, Prepared) for c in one_checked), bodies(one_checked)
    assert bodies(one_checked) == bodies(per_checked)


async def test_a_record_refused_later_gets_the_per_item_source_record(
    memory_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid payload outside the office's region is refused by the pipeline, not by the one-call
    validation: its source record (raw, original bytes) is the one the per-item way makes."""
    raw = [item("ormas_registration", "SKT-in"), item("ormas_registration", "SKT-out", kode_wilayah="3301")]
    (per_records, per_checked), (one_records, one_checked) = both_ways(
        memory_node, raw, "ormas_registration", monkeypatch
    )
    assert bodies(one_checked) == bodies(per_checked)
    assert isinstance(one_checked[1], RecordError) and one_checked[1].reason == "region_invalid"
    expected = to_source_record(raw[1], "ormas_registration", SOURCE)[0]
    assert one_records[1] == expected == per_records[1]
    assert one_records[1].original == orjson.dumps(raw[1])


async def test_bad_records_get_the_per_item_422(memory_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a bad record in the request the one-call way answers None and the 422 is the per-item one:
    the same per-record loc, reason and message whether or not the one-call way is tried."""
    raw = [
        item("ormas_registration", "SKT-ok"),
        item("ormas_registration", "SKT-bad", kode_wilayah="99.99"),
        {"id": "", "revision": -1, "data": {}},
        item(
            "ormas_registration", "SKT-nik", pengurus=[{"jabatan": "ketua", "nama": "X", "nik_token": "12"}]
        ),
    ]
    assert validate_batch(raw, get_schema("ormas_registration"), {}, 32) is None
    status, body, _ = await post(memory_node, "ormas_registration", raw)
    monkeypatch.setattr("hub.http.ingest.validate_batch", lambda *a: None)
    status_before, body_before, _ = await post(memory_node, "ormas_registration", raw)
    assert (status, body) == (status_before, body_before)
    assert status == 422 and [r["index"] for r in body["records"]] == [1, 2, 3]
    locs = {r["index"]: [i["loc"] for i in r["issues"]] for r in body["records"]}
    assert locs[1] == ["data.kode_wilayah"]
    assert set(locs[2]) == {"id", "revision"}
    assert any(loc.startswith("data.pengurus.0.nik_token") for loc in locs[3])
    assert "3201010101800099" not in str(body) and '"12"' not in orjson.dumps(body).decode()


async def test_all_valid_requests_take_the_one_call_way(
    memory_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON array of valid items is validated from its bytes (``validate_body``), never parsed as
    dicts; an NDJSON body is parsed, then validated in one call (``validate_batch``)."""
    calls: list[tuple[str, int]] = []

    def spy(name: str) -> Any:
        real = getattr(items_module, name)

        def call(*args: Any) -> Any:
            result = real(*args)
            calls.append((name, 0 if result is None else len(result)))
            return result

        return call

    parsed: list[int] = []
    real_parse = items_module.parse_body
    monkeypatch.setattr("hub.http.ingest.validate_batch", spy("validate_batch"))
    monkeypatch.setattr("hub.http.ingest.validate_body", spy("validate_body"))
    monkeypatch.setattr("hub.http.ingest.parse_body", lambda *a: parsed.append(1) or real_parse(*a))
    monkeypatch.setattr("hub.ingest.items.parse_body", lambda *a: parsed.append(1) or real_parse(*a))
    raw = [item("ormas_registration", f"SKT-{i}") for i in range(3)]
    status, body, _ = await post(memory_node, "ormas_registration", raw)
    assert status == 202 and body["accepted"] == 3
    assert calls == [("validate_body", 3)] and parsed == []  # no dict of any item was made
    calls.clear()
    ndjson = b"\n".join(orjson.dumps(r) for r in raw)
    status, body, _ = await post(
        memory_node, "ormas_registration", None, raw=ndjson, ctype="application/x-ndjson"
    )
    assert status == 202 and body["accepted"] == 3
    assert calls == [("validate_body", 0), ("validate_batch", 3)] and parsed == [1]


class _Open(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kode_wilayah: str
    extra: dict[str, Any]


class _Tree(BaseModel):
    children: list[_Tree] = []


def _spec(model: type[BaseModel]) -> SchemaSpec:
    base = get_schema("ormas_registration")
    return SchemaSpec(
        name=f"t_{model.__name__.lower()}",
        version="1.0.0",
        model=model,
        title="t",
        description="t",
        region_levels=base.region_levels,
        identity=("kode_wilayah",),
    )


def test_schemas_that_let_items_nest_freely_are_checked_item_by_item() -> None:
    """A payload with an open object (or a recursive one) has no depth bound: validate_batch declines,
    so the depth check sees the items first."""
    items = [{"id": "a", "revision": 1, "data": {"kode_wilayah": "32", "extra": {"a": {"b": {}}}}}]
    assert validate_batch(items, _spec(_Open), {}, 32) is None
    assert _schema_depth(_Tree.model_json_schema(), {}, frozenset()) is None


def test_every_published_schema_has_a_depth_bound_under_the_limit() -> None:
    from schemas.catalog import all_versions

    for spec in all_versions():
        depth = _schema_depth(spec.model.model_json_schema(), {}, frozenset())
        assert depth is not None and 1 + depth <= 32, spec.ref
    assert validate_batch([item("ormas_registration", "x")], get_schema("ormas_registration"), {}, 3) is None


@pytest.mark.parametrize(
    "literal",
    [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"123456789012345678901234567890", b"-1"],
)
async def test_hostile_numbers_are_answered_as_before(
    memory_node: Node, monkeypatch: pytest.MonkeyPatch, literal: bytes
) -> None:
    """JSON the standard does not allow (NaN, Infinity: pydantic-core's parser reads them, orjson does
    not), numbers beyond 64 bits and negative ones, in a count, a percentage and the revision: the bytes
    way accepts none of them, and each body gets exactly the answer the parsed way gives it (400 from
    the parse, or 422 naming the field), never a 500 or a record stored with another value."""
    good = item("voter_participation", "VP-1", kode_wilayah="32.01.01")
    good["data"].update(
        dpt=260000, dptb=0, dpk=0, pengguna_hak_pilih=219440, partisipasi="84.40", per_generasi=[]
    )
    template = orjson.dumps([good])
    for field in (b'"dpt":260000', b'"partisipasi":"84.40"', b'"revision":1'):
        assert field in template
        body = template.replace(field, field.split(b":")[0] + b":" + literal)
        answers = []
        for way in ("bytes", "parsed"):
            if way == "parsed":
                monkeypatch.setattr("hub.http.ingest.validate_body", lambda *a: None)
            status, answer, _ = await post(memory_node, "voter_participation", None, raw=body)
            answers.append((status, answer))
        monkeypatch.undo()
        assert answers[0] == answers[1], (field, literal)
        assert answers[0][0] in (400, 422), (field, literal, answers[0])


def test_bodies_with_non_json_literals_take_the_parsed_way() -> None:
    """pydantic-core's parser reads NaN and Infinity where orjson refuses them: such a body (even with
    the letters only inside a string) is left to the parsed way, so that a record refused later can
    always be parsed from the body, and nothing accepts a value JSON does not have."""
    spec = get_schema("voter_participation")
    plain = orjson.dumps([item("voter_participation", "VP-1")])
    assert validate_body(plain, "application/json", spec, {}, 32, 10) is not None
    for rid in ("VP-NaN", "VP-Infinity"):
        named = orjson.dumps([item("voter_participation", rid)])
        assert validate_body(named, "application/json", spec, {}, 32, 10) is None
    assert validate_body(plain, "application/x-ndjson", spec, {}, 32, 10) is None
    assert validate_body(plain, "application/json", spec, {}, 32, 0) is None  # too many: 413 the other way
    assert validate_body(b"[]", "application/json", spec, {}, 32, 10) is None  # empty: 400 the other way
