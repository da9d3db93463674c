"""Compiling a mapping (config errors name the key) and what a compiled mapping returns: identity, op,
strict mode, and every issue collected without the submitted values."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from hub.errors import ConfigError, MappingError
from hub.mapping import compile_mapping
from schemas.classification import Classification
from tests.unit.mapping.support import issues_of, mapping, record

TEST_NIK = "3201010101800099"


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"fields": {"a": "b"}}, "version"),
        (mapping({"a": {"path": "x", "zzz": 1}}), r"fields\.a\.zzz"),
        (mapping({"a": {"path": "x", "const": 1}}), r"fields\.a: .*one value source"),
        (mapping({"a": {"path": "x", "parse": "tanggal"}}), r"fields\.a\.parse"),
        (mapping({"a": {"path": "x", "tz": "WIB"}}), r"fields\.a: .*tz applies"),
        (mapping({"a": {"path": "x", "parse": "date_range"}}), r"fields\.a: .*part"),
        (mapping({"a": {"each": "x"}}), r"fields\.a: .*each and fields"),
        (mapping({"a": "b"}, timezone="Mars"), "timezone"),
        (
            mapping({"a": {"path": "x", "parse": "datetime", "time_default": "noon"}}),
            r"fields\.a\.time_default",
        ),
        (mapping({"a": {"python": "nowhere.at_all:fn"}}), r"fields\.a\.python: cannot import"),
        (mapping({"a": {"python": "tests.unit.mapping.funcs:missing"}}), r"fields\.a\.python: .*no function"),
        (mapping({"a": {"python": "tests.unit.mapping.funcs:not_callable"}}), r"fields\.a\.python"),
        (mapping({"a": {"python": "no_colon"}}), r"fields\.a\.python: must have the form"),
        (mapping({"korban": "x", "korban.luka": "y"}), r"fields\.korban: collides"),
        (mapping({"a-b": "x"}), r"fields\.a-b"),
        (
            mapping({"nik_token": "pelapor_nik"}, drop=["pelapor_nik"]),
            r"fields\.nik_token: reads a source field",
        ),
        (mapping({"x": "laporan"}, drop=["laporan.pelapor"]), r"fields\.x: reads a source field"),
        (mapping({"x": "a"}, op={"withdraw": ["x"]}), "op"),
    ],
)
def test_config_errors_name_the_key(spec: dict[str, object], key: str) -> None:
    """Every spec problem is a ConfigError naming where it is."""
    with pytest.raises(ConfigError, match=key):
        compile_mapping(spec)  # type: ignore[arg-type]


def test_identity_from_the_mapping() -> None:
    """id, revision (epoch ms of updated_at in WIB), occurred_at and mapping_version come from the spec."""
    spec = mapping(
        {"n": "no"},
        id="id_laporan",
        revision={"path": "updated_at", "parse": "epoch_ms"},
        occurred_at={"path": "tgl", "parse": "datetime", "time": "jam"},
        classification={"const": "rahasia"},
    )
    raw = {
        "id_laporan": 117,
        "no": "LK/117",
        "updated_at": "2024-01-25 16:02:11",
        "tgl": "25/01/2024",
        "jam": "14.30",
    }
    mapped = compile_mapping(spec)(record(raw, source_record_id=None, revision=None))
    assert (mapped.source_record_id, mapped.revision, mapped.mapping_version) == ("117", 1706173331000, "t/1")
    assert mapped.occurred_at is not None and mapped.occurred_at.utcoffset() == timedelta(hours=7)
    assert mapped.classification is Classification.RAHASIA


def test_identity_from_the_source_when_the_mapping_has_none() -> None:
    """Without id/revision rules the source record's own id, revision and op are kept."""
    mapped = compile_mapping(mapping({"n": "no"}))(
        record({"no": "1"}, source_record_id="A7", revision=5, op="withdraw")
    )
    assert (mapped.source_record_id, mapped.revision, mapped.op) == ("A7", 5, "withdraw")


def test_missing_identity_is_reported() -> None:
    """No id and no revision from either side: two issues, $id and $revision."""
    with pytest.raises(MappingError) as caught:
        compile_mapping(mapping({"n": "no"}))(record({"no": "1"}, source_record_id=None, revision=None))
    assert [(i.loc, i.rule) for i in caught.value.issues] == [("$id", "missing"), ("$revision", "missing")]


def test_revision_must_be_a_count_or_instant() -> None:
    """A revision of "v2" is revision_type; a digit string is taken as a number."""
    spec = mapping({"n": "no"}, revision="rev")
    assert compile_mapping(spec)(record({"no": "1", "rev": "17"})).revision == 17
    with pytest.raises(MappingError) as caught:
        compile_mapping(spec)(record({"no": "1", "rev": "v2"}))
    assert caught.value.issues[0].rule == "revision_type"


def test_soft_delete_and_status_withdrawals() -> None:
    """deleted_at set -> withdraw; a status among the withdraw values -> withdraw; otherwise upsert."""
    soft = compile_mapping(mapping({"n": "no"}, op={"withdraw_when_set": "deleted_at"}))
    assert soft(record({"no": "1", "deleted_at": "2024-01-05 10:00:00"})).op == "withdraw"
    assert soft(record({"no": "1", "deleted_at": None})).op == "upsert"
    status = compile_mapping(mapping({"n": "no"}, op={"path": "status", "withdraw": ["DIHAPUS", "Batal"]}))
    assert status(record({"no": "1", "status": " batal "})).op == "withdraw"
    assert status(record({"no": "1", "status": "AKTIF"})).op == "upsert"


def test_strict_mode_requires_every_source_field_to_be_accounted_for() -> None:
    """strict: an unmapped field is an issue (its name, never its value); ignore and drop cover fields."""
    spec = mapping({"n": "no", "lat": "lokasi.lat"}, strict=True, ignore=["foto"], drop=["pelapor_nik"])
    mapper = compile_mapping(spec)
    ok = {"no": "1", "lokasi": {"lat": "-0.9"}, "foto": ["x.jpg"], "pelapor_nik": TEST_NIK}
    assert mapper(record(ok)).payload == {"n": "1", "lat": "-0.9"}
    with pytest.raises(MappingError) as caught:
        mapper(record({**ok, "hp": "0812-3456-7890", "lokasi": {"lat": "-0.9", "lng": "122.7"}}))
    assert [(i.loc, i.rule) for i in caught.value.issues] == [
        ("$source.lokasi.lng", "unmapped_source_field"),
        ("$source.hp", "unmapped_source_field"),
    ]
    assert "0812" not in json.dumps([i.as_dict() for i in caught.value.issues])


def test_unmapped_fields_are_dropped_without_strict() -> None:
    """Data minimisation: only mapped fields reach the payload."""
    mapped = compile_mapping(mapping({"n": "no"}))(record({"no": "1", "pelapor_nik": TEST_NIK, "hp": "0812"}))
    assert mapped.payload == {"n": "1"}


def test_all_issues_are_collected_and_none_carries_a_value() -> None:
    """Every broken field is reported in one error, and no input value (NIK, name, text) appears in it."""
    fields = {
        "nik_token": {"path": "nik", "pii": "nik"},
        "tanggal": {"path": "tgl", "parse": "date"},
        "kerugian": {"path": "rugi", "parse": "rupiah"},
        "status": {"path": "status", "map": {"Baru": "baru"}},
        "kode_wilayah": {"region": {"kecamatan": "kec"}},
        "jam": {"path": "jam", "parse": "time"},
        "nama": {"path": "nama", "required": True},
        "korban": {"path": "korban", "parse": "int"},
    }
    raw = {
        "nik": "3201019913800099",  # birth month 13: structurally bad NIK
        "tgl": "Budi Santoso 31/02/2024",
        "rugi": "Rp lima juta Budi",
        "status": "Budi Santoso menunggu",
        "kec": "Budi Santoso",
        "jam": "jam Budi",
        "nama": "",
        "korban": f"{TEST_NIK} orang",
    }
    issues = issues_of(fields, raw, strict=False)
    assert {i.loc for i in issues} == set(fields)
    text = json.dumps([i.as_dict() for i in issues]) + str(MappingError("x", issues=issues))
    for value in (TEST_NIK, "3201019913800099", "Budi", "Santoso", "menunggu", "lima juta"):
        assert value not in text


def test_mapping_version_travels() -> None:
    """The mapper exposes its version; the MappedRecord carries it."""
    mapper = compile_mapping(mapping({"n": "no"}))
    assert mapper.version == "t/1" and mapper(record({"no": "1"})).mapping_version == "t/1"
