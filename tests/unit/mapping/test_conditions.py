"""``when`` conditions on a rule and the mapping's ``skip`` rules (issue 17, issue 20)."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError, MappingError, RecordSkipped
from hub.mapping import compile_mapping
from tests.unit.mapping.support import issues_of, map_one, mapping, record

ISSUED = {"path": "tgl_terbit", "parse": "date", "when": {"path": "status", "in": ["TERBIT"]}}


def test_when_in_sets_the_field_only_for_the_listed_values() -> None:
    """The issue date is set when status is TERBIT (any case, padded), left out otherwise."""
    fields = {"status": "status", "tanggal_terbit": ISSUED}
    issued = map_one(fields, {"status": " terbit ", "tgl_terbit": "06/03/2024"})
    assert issued.payload["tanggal_terbit"].isoformat() == "2024-03-06"
    pending = map_one(fields, {"status": "PROSES", "tgl_terbit": "06/03/2024"})
    assert "tanggal_terbit" not in pending.payload


def test_a_false_condition_skips_parsing_default_and_required() -> None:
    """A rule whose condition fails is not run at all: its garbage is not an issue, and neither default
    nor required applies."""
    rule = {**ISSUED, "required": True, "default": "2000-01-01"}
    out = map_one({"tanggal_terbit": rule}, {"status": "DIPROSES", "tgl_terbit": "bukan tanggal"})
    assert out.payload == {}
    issues = issues_of({"tanggal_terbit": rule}, {"status": "TERBIT", "tgl_terbit": "bukan tanggal"})
    assert [(i.loc, i.rule) for i in issues] == [("tanggal_terbit", "date_format")]


@pytest.mark.parametrize(
    ("condition", "raw", "holds"),
    [
        ({"path": "nik", "set": True}, {"nik": "123"}, True),
        ({"path": "nik", "set": True}, {"nik": " - "}, False),  # a 'no value' text is empty
        ({"path": "nik", "set": False}, {}, True),
        ({"path": "s", "not_in": ["batal", "Ditolak"]}, {"s": "DITOLAK"}, False),
        ({"path": "s", "not_in": ["batal"]}, {}, True),  # an empty field is none of them
        ({"path": "judul", "matches": "^test\\b"}, {"judul": "TEST - abaikan"}, True),
        ({"path": "judul", "matches": "^test\\b"}, {"judul": "Kontes layang-layang"}, False),
        ([{"path": "a", "set": True}, {"path": "b", "in": ["y"]}], {"a": "1", "b": "Y"}, True),
        ([{"path": "a", "set": True}, {"path": "b", "in": ["y"]}], {"a": "1", "b": "n"}, False),
    ],
)
def test_condition_kinds(condition: object, raw: dict[str, object], holds: bool) -> None:
    """set, in, not_in, matches, and a list meaning all of them."""
    out = map_one({"x": {"const": "on", "when": condition}}, raw)
    assert ("x" in out.payload) is holds


@pytest.mark.parametrize(
    "condition",
    [
        {"path": "a"},
        {"path": "a", "set": True, "in": ["x"]},
        {"path": "a", "matches": "("},
        {"path": "a", "in": []},
        [],
    ],
)
def test_bad_conditions_are_config_errors(condition: object) -> None:
    """No test, two tests, a broken regex, an empty list: refused when the mapping is compiled."""
    with pytest.raises(ConfigError, match="when"):
        compile_mapping(mapping({"x": {"const": "on", "when": condition}}))


SKIP = [
    {"reason": "test submission", "when": {"path": "judul", "matches": "^test\\b|abaikan"}},
    {"reason": "withdrawn by the form owner", "when": {"path": "status", "in": ["hapus"]}},
]


def test_skip_rule_raises_record_skipped_with_its_own_reason() -> None:
    """A matching row raises RecordSkipped carrying the rule's words, never the row's values."""
    mapper = compile_mapping(mapping({"judul": "judul"}, skip=SKIP))
    with pytest.raises(RecordSkipped) as caught:
        mapper(record({"judul": "TEST - abaikan 3201010101800099"}))
    assert caught.value.reason == "test submission"
    assert "3201" not in str(caught.value)
    with pytest.raises(RecordSkipped, match="withdrawn by the form owner"):
        mapper(record({"judul": "Bentrok warga", "status": "HAPUS"}))
    assert mapper(record({"judul": "Bentrok warga"})).payload == {"judul": "Bentrok warga"}


def test_skip_comes_before_mapping_so_a_broken_test_row_is_not_an_error() -> None:
    """A skipped row is not mapped: its unparseable fields raise nothing; evaluate() shows the reason."""
    mapper = compile_mapping(mapping({"n": {"path": "n", "parse": "int", "required": True}}, skip=SKIP))
    result = mapper.evaluate(record({"judul": "test", "n": "banyak"}))
    assert (result.skipped, result.issues, result.mapped, result.payload) == ("test submission", [], None, {})
    with pytest.raises(MappingError):
        mapper(record({"judul": "laporan", "n": "banyak"}))


def test_skip_rules_need_a_reason_and_a_condition() -> None:
    for rule in ({"when": {"path": "a", "set": True}}, {"reason": "x"}, {"reason": "", "when": []}):
        with pytest.raises(ConfigError, match="skip"):
            compile_mapping(mapping({"a": "a"}, skip=[rule]))


def test_conditions_count_as_reads_for_strict_mode_and_drop() -> None:
    """A field only tested by a condition is 'mapped' for strict mode; testing a dropped field is refused."""
    fields = {"x": {"const": 1, "when": {"path": "status", "set": True}}}
    out = map_one(fields, {"status": "ok", "judul": "t"}, strict=True, skip=SKIP)
    assert out.payload == {"x": 1}
    with pytest.raises(ConfigError, match="drop"):
        compile_mapping(mapping(fields, drop=["status"]))
    with pytest.raises(ConfigError, match="drop"):
        compile_mapping(mapping({"a": "a"}, skip=SKIP, drop=["judul"]))
