"""The checked path: a sink storing JSON (``CheckedSink``) is handed verified records as they arrived, with
no ``Envelope`` model built; the rows it stores are the rows the model path gives, and anything off the
plain shape, unsigned, or of an older schema version goes the model's way."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from adapters.postgres_sink.rows import prepare, prepare_checked, trace_of, trace_of_checked
from adapters.sqlite_sink.rows import canonical_payload
from hub.consume.checked import CheckedRecord, checked_form
from hub.consume.sink_worker import SinkWorker
from hub.consume.upcast import VersionsSeen
from hub.errors import RecordError
from hub.metrics import Metrics
from hub.trust.signing import canonical_bytes, canonical_with_payload
from schemas import catalog
from schemas.envelope import Envelope, Hop
from tests.helpers import ENVELOPE_T0
from tests.unit.test_sink_worker_validate_once import (
    USER,
    _Delivery,
    _envelope,
    _Quarantiner,
    _Result,
    _samples,
    _signed,
    _verifier,
)

JSON_COLUMNS = (18, 19)  # payload, envelope: jsonb, compared as JSON (key order and spacing do not exist)
TIME_COLUMNS = (20, 21)  # occurred_at, received_at: compared as instants


class _CheckedSink:
    name = "memory-json"

    def __init__(self) -> None:
        self.written: list[CheckedRecord] = []
        self.models: list[Envelope] = []

    async def write(self, envelopes: Sequence[Envelope]) -> list[_Result]:
        self.models.extend(envelopes)
        return [_Result(e) for e in envelopes]

    async def write_checked(self, records: Sequence[CheckedRecord]) -> list[Any]:
        self.written.extend(records)
        return [_Result(Envelope.model_validate(r.data)) for r in records]

    async def close(self) -> None:
        return None


def _hops() -> list[dict[str, Any]]:
    """Lineage as forwarders append it, one at an offset other than UTC (the trace normalises it)."""
    wib = timezone(timedelta(hours=7))
    return [
        Hop(node="kab-3201", level="kabkota", at=ENVELOPE_T0).model_dump(mode="json"),
        Hop(node="prov-32", level="provinsi", at=ENVELOPE_T0.astimezone(wib), status="ditahan").model_dump(
            mode="json"
        ),
    ]


def _items() -> list[dict[str, Any]]:
    items = _signed(_samples())
    for item in items[::2]:
        item["lineage"] = _hops()
    return items


def _check(worker: SinkWorker, item: dict[str, Any], verifier: Any) -> Any:
    return worker._check(item, USER, verifier.now(), VersionsSeen(Metrics()))


def _same_row(checked: tuple[object, ...], model: tuple[object, ...]) -> None:
    assert len(checked) == len(model)
    for n, (a, b) in enumerate(zip(checked, model, strict=True)):
        if n in JSON_COLUMNS:
            assert isinstance(a, str) and isinstance(b, str)
            assert orjson.loads(a) == orjson.loads(b), n
        elif n in TIME_COLUMNS:
            assert a == b, n  # aware datetimes compare as instants
            assert (a is None) == (b is None)
        else:
            assert a == b and type(a) is type(b), n


def test_rows_from_the_json_form_equal_rows_from_the_model() -> None:
    """Every catalogue example at its current version (plus one with every optional field, lineage at
    two offsets, notes, a withdrawal): the row ``prepare_checked`` builds from the dict is the row
    ``prepare`` builds from the validated model, column for column, and the same content hash and
    lineage record."""
    compared = 0
    for item in _items():
        if item["schema_version"] != catalog.get(item["schema_name"]).version:
            continue  # older versions are upcast: the model's way, tested below
        form = checked_form(item)
        assert form is not None, item["schema_name"]
        envelope = Envelope.model_validate(item)
        a, b = prepare_checked(form), prepare(envelope)
        _same_row(a.values, b.values)
        assert orjson.loads(trace_of_checked(form)) == orjson.loads(trace_of(envelope))
        assert (a.record_key, a.idempotency_key, a.revision, a.message_id) == (
            b.record_key,
            b.idempotency_key,
            b.revision,
            b.message_id,
        )
        assert a.content_hash == b.content_hash
        assert a.values[18] == canonical_payload(envelope).decode()  # the payload text byte for byte
        compared += 1
    assert compared >= len(catalog.REGISTRY.names())


def test_rows_from_a_model_handed_over_as_json_equal_rows_from_the_model() -> None:
    """``CheckedRecord.of`` (unsigned and upcast records, validated by the model) gives the same row."""
    for item in _items():
        envelope = Envelope.model_validate(item)
        a, b = prepare_checked(CheckedRecord.of(envelope)), prepare(envelope)
        _same_row(a.values, b.values)
        assert a.content_hash == b.content_hash
        assert orjson.loads(trace_of_checked(CheckedRecord.of(envelope))) == orjson.loads(trace_of(envelope))


def _base() -> dict[str, Any]:
    item = _signed([_envelope("voter_participation", catalog.get("voter_participation").version, "C-1")])[0]
    assert checked_form(item) is not None
    return item


def _set(path: str, value: Any) -> dict[str, Any]:
    item = copy.deepcopy(_base())
    *parents, last = path.split(".")
    target = item
    for part in parents:
        target = target[part]
    target[last] = value
    return item


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("revision", True),  # a bool is an int to Python, not to the model's JSON form
        ("revision", "1"),
        ("revision", -1),
        ("revision", 2**63),
        ("source_record_id", ""),
        ("source_record_id", "x" * 201),
        ("op", "delete"),
        ("spec", "simpul.envelope/2"),
        ("classification", "RAHASIA-SEKALI"),
        ("classification", ["TERBATAS"]),
        ("message_id", 7),
        ("kode_wilayah", None),
        ("pii", ["a", 1]),
        ("pii", "a"),
        ("payload", []),
        ("received_at", "2026-12-06T10:00:00"),  # naive
        ("received_at", "2026-12-06 10:00:00+00:00"),  # another form: the model judges it
        ("received_at", "yesterday"),
        ("reported_at", 1765000000),
        ("occurred_at", "2026-W49-1T10:00:00+00:00"),  # ISO week dates: Python parses them, not we
        ("source.system", ""),
        ("source.adapter", "a" * 101),
        ("source.office", 32),
        ("lineage", [{"node": "n", "level": "l", "at": "2026-12-06T10:00:00+00:00"}]),  # no status
        ("lineage", [{"node": "n", "level": "l", "at": "2026-12-06T10:00:00", "status": "s"}]),
        ("lineage", "none"),
        ("notes", []),  # the JSON form leaves out empty notes
        ("notes", [{"loc": "x", "rule": "r"}]),
        ("notes", [{"loc": "x", "rule": "r" * 65, "detail": "d"}]),
        ("correlation_id", 5),
        ("signature", 5),
    ],
)
def test_anything_off_the_plain_shape_goes_the_models_way(path: str, value: Any) -> None:
    assert checked_form(_set(path, value)) is None


def test_an_unknown_or_a_missing_key_goes_the_models_way() -> None:
    extra = copy.deepcopy(_base()) | {"extra": 1}
    assert checked_form(extra) is None
    swapped = copy.deepcopy(_base())
    del swapped["region_ref"]
    swapped["regionref"] = "x"
    assert checked_form(swapped) is None
    source = copy.deepcopy(_base())
    source["source"] = {"system": "s", "office": "pusat", "adaptor": "a"}
    assert checked_form(source) is None
    missing = copy.deepcopy(_base())
    del missing["lineage"]
    assert checked_form(missing) is None


def test_the_worker_hands_a_checked_sink_verified_records_as_they_arrived() -> None:
    verifier = _verifier()
    worker = SinkWorker(_CheckedSink(), _Quarantiner(), Metrics(), verifier=verifier)  # type: ignore[arg-type]
    for item in _items():
        checked = _check(worker, item, verifier)
        assert not isinstance(checked, RecordError), item["schema_name"]
        record, root = checked
        assert isinstance(record, CheckedRecord) and root is not None
        current = catalog.get(item["schema_name"]).version
        if item["schema_version"] == current:
            assert record.data is item  # no copy, no model
        else:  # upcast by the model, then handed over as JSON
            assert record.data["schema_version"] == current and record.data is not item
        assert record.received_at == datetime.fromisoformat(item["received_at"])


def test_the_checked_path_still_refuses_what_the_model_path_refuses() -> None:
    """Tampering, an unsigned record where signatures are required, an unknown schema: the same errors."""
    verifier = _verifier()
    worker = SinkWorker(_CheckedSink(), _Quarantiner(), Metrics(), verifier=verifier)  # type: ignore[arg-type]
    tampered = _base() | {"kode_wilayah": "32.02"}
    err = _check(worker, tampered, verifier)
    assert isinstance(err, RecordError) and err.reason == "signature_invalid"
    unsigned = _base() | {"signature": None}
    err = _check(worker, unsigned, verifier)
    assert isinstance(err, RecordError) and err.reason == "signature_missing"


def test_an_unsigned_record_goes_the_models_way_with_its_payload_validated() -> None:
    verifier = _verifier(require_signatures=False)
    worker = SinkWorker(_CheckedSink(), _Quarantiner(), Metrics(), verifier=verifier)  # type: ignore[arg-type]
    good = _base() | {"signature": None}
    record, root = _check(worker, good, verifier)
    assert isinstance(record, CheckedRecord) and root is None and record.data is not good
    bad = good | {"payload": {**good["payload"], "dpt": -1}}
    err = _check(worker, bad, verifier)
    assert isinstance(err, RecordError) and [i.loc for i in err.issues] == ["payload.dpt"]


async def test_a_whole_group_reaches_a_checked_sink_as_json_and_is_acked() -> None:
    verifier = _verifier()
    sink = _CheckedSink()
    worker = SinkWorker(sink, _Quarantiner(), Metrics(), verifier=verifier)  # type: ignore[arg-type]
    items = _items()
    deliveries = [_Delivery(items[:3]), _Delivery(items[3:])]
    await worker(deliveries)  # type: ignore[arg-type]
    assert all(d.acked for d in deliveries)
    assert not sink.models and len(sink.written) == len(items)
    assert [r.data["message_id"] for r in sink.written] == [i["message_id"] for i in items]


def test_timestamps_are_parsed_once_and_kept_aware() -> None:
    item = _base() | {
        "received_at": "2026-12-06T17:00:00.250000+07:00",
        "occurred_at": "2026-12-05T00:00:00Z",
    }
    form = checked_form(item)
    assert form is not None
    assert form.received_at == datetime(2026, 12, 6, 10, 0, 0, 250000, tzinfo=UTC)
    assert form.occurred_at == datetime(2026, 12, 5, tzinfo=UTC)


class _PoisonedCheckedSink(_CheckedSink):
    """Refuses any batch holding one chosen record, as a warehouse refuses a row it cannot store."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison
        self.calls = 0

    async def write_checked(self, records: Sequence[CheckedRecord]) -> list[Any]:
        self.calls += 1
        if any(r.data["source_record_id"] == self.poison for r in records):
            raise ValueError("cannot store")
        return await super().write_checked(records)


class _FinalDelivery(_Delivery):
    def __init__(self, items: list[dict[str, Any]], count: int) -> None:
        super().__init__(items)
        self.delivery_count = count


@pytest.mark.parametrize("last_chance", [False, True])
async def test_a_record_a_checked_sink_refuses_is_isolated_and_kept(last_chance: bool) -> None:
    """The halving around a failing sink works on records as JSON too: its message-mates are written,
    and the refused record is retried with its message, or quarantined (``sink_refused``, its JSON form
    kept as it arrived) on the message's last delivery, which is then acked."""
    verifier = _verifier()
    items = [i for i in _items() if checked_form(i) is not None][:6]
    poison = items[3]["source_record_id"]
    sink, quarantiner = _PoisonedCheckedSink(poison), _Quarantiner()
    worker = SinkWorker(sink, quarantiner, Metrics(), verifier=verifier, delivery_limit=5)  # type: ignore[arg-type]
    delivery = _FinalDelivery(items, 4 if last_chance else 0)
    if not last_chance:
        with pytest.raises(ValueError):
            await worker([delivery])  # type: ignore[list-item]
        assert not delivery.acked and not quarantiner.filed
        return
    await worker([delivery])  # type: ignore[list-item]
    assert delivery.acked
    assert sorted(r.data["source_record_id"] for r in sink.written) == sorted(
        i["source_record_id"] for i in items if i["source_record_id"] != poison
    )
    assert [(rid, err.reason) for rid, err in quarantiner.filed] == [(poison, "sink_refused")]


def test_the_canonical_bytes_made_with_the_payload_apart_are_the_canonical_bytes() -> None:
    """``canonical_with_payload`` splices the payload's own canonical bytes into the rest's: the result
    is ``canonical_bytes`` exactly, for every catalogue example with and without lineage and notes, and
    the payload part is what the warehouse hashes."""
    for item in _items():
        canonical, payload_json = canonical_with_payload(item)
        assert canonical == canonical_bytes(item), item["schema_name"]
        assert payload_json == orjson.dumps(item["payload"], option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize(
    "change",
    [
        {"notes": [{"loc": "x", "rule": "r", "detail": 'a,"pii":b'}]},  # escaped: still one key
        {"classification": {"a": 1, "pii": [1]}},  # a value holding the bytes ,"pii": as a key
        {"extra": 1},  # a key not of the envelope: it could sort anywhere
        {"payload": [1, 2]},
    ],
)
def test_anything_unusual_is_serialised_whole(change: dict[str, Any]) -> None:
    item = _base() | change
    canonical, payload_json = canonical_with_payload(item)
    assert canonical == canonical_bytes(item)
    if "notes" in change:
        assert payload_json is not None  # a quote inside a string is escaped: the splice stays right
    else:
        assert payload_json is None


def test_a_key_missing_for_the_splice_is_serialised_whole() -> None:
    item = dict(_base())
    del item["pii"]
    assert canonical_with_payload(item) == (canonical_bytes(item), None)


def test_verified_records_carry_their_payloads_canonical_bytes_to_the_warehouse() -> None:
    verifier = _verifier()
    worker = SinkWorker(_CheckedSink(), _Quarantiner(), Metrics(), verifier=verifier)  # type: ignore[arg-type]
    for item in _items():
        record, _ = _check(worker, item, verifier)
        if record.data is item:  # current version, as it arrived
            assert record.payload_json == canonical_payload(Envelope.model_validate(item))
            assert prepare_checked(record).values == prepare_checked(checked_form(item)).values  # type: ignore[arg-type]
