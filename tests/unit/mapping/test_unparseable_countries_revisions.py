"""``on_unparseable``, ``split`` lists, ``parse = "country"`` and ``revision = { from_content = true }``."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError, MappingError
from hub.mapping import compile_mapping
from hub.mapping.countries import country_index
from hub.mapping.revisions import ContentRevisions, MemoryRevisions, StateRevisions
from tests.unit.mapping.support import issues_of, map_one, mapping, record

WAKTU = {"path": "jam", "parse": "datetime", "tz": "WITA"}


def test_unparseable_value_quarantines_by_default() -> None:
    issues = issues_of({"waktu_kejadian": WAKTU}, {"jam": "kemarin malam"})
    assert [(i.loc, i.rule) for i in issues] == [("waktu_kejadian", "date_format")]
    assert all("kemarin" not in i.message for i in issues)


def test_unknown_leaves_the_field_null_and_notes_the_raw_text() -> None:
    """With on_unparseable = "unknown" the field is left out and a note keeps the raw text (redacted)."""
    rule = {**WAKTU, "on_unparseable": "unknown"}
    out = map_one(
        {"waktu_kejadian": rule, "judul": "judul"}, {"jam": "kemarin malam 081234567890", "judul": "x"}
    )
    assert out.payload == {"judul": "x"}
    (note,) = out.notes
    assert (note.loc, note.rule) == ("waktu_kejadian", "value_unparseable")
    assert note.detail.startswith("date_format; left unknown; raw text: kemarin malam [TELEPON]")
    good = map_one({"waktu_kejadian": rule}, {"jam": "10/02/2024 21.14"})
    assert good.payload["waktu_kejadian"].isoformat() == "2024-02-10T21:14:00+08:00" and good.notes == ()


def test_unknown_masks_a_pii_rules_raw_text_and_keeps_required() -> None:
    """A pii rule's raw text is never kept (``***``); a required field left unknown is still an issue."""
    rule = {"path": "nik", "pii": "nik", "on_unparseable": "unknown"}
    out = map_one({"nik": rule}, {"nik": "3201-0101-8000"})
    assert out.payload == {} and out.notes[0].detail.endswith("raw text: ***")
    issues = issues_of({"nik": {**rule, "required": True}}, {"nik": "3201-0101-8000"})
    assert [i.rule for i in issues] == ["missing"]


def test_unknown_drops_only_the_bad_items_of_a_list() -> None:
    """Split lists: each unparseable item is dropped with its own note (loc.N); the rest is kept."""
    rule = {"path": "tgl", "split": ";", "parse": "date", "on_unparseable": "unknown"}
    out = map_one({"tanggal": rule}, {"tgl": "01/02/2024; entah; 03/02/2024"})
    assert [d.isoformat() for d in out.payload["tanggal"]] == ["2024-02-01", "2024-02-03"]
    assert [n.loc for n in out.notes] == ["tanggal.1"]


def test_on_unparseable_covers_value_maps_and_rejects_other_words() -> None:
    rule = {"path": "s", "map": {"fkdm": "fkdm"}, "on_unparseable": "unknown"}
    out = map_one({"sumber": rule}, {"s": "warga"})
    assert out.payload == {} and out.notes[0].detail.startswith("value_unmapped")
    with pytest.raises(ConfigError, match="on_unparseable"):
        compile_mapping(mapping({"a": {"path": "a", "on_unparseable": "guess"}}))


def test_split_a_checkbox_answer_into_a_list_of_codes() -> None:
    """ "FKDM, Masyarakat" -> ["fkdm", "masyarakat"] (a list-valued field such as early_warning 2.0.0's)."""
    rule = {"path": "sumber", "split": [",", ";"], "map": {"FKDM": "fkdm", "Masyarakat": "masyarakat"}}
    assert map_one({"sumber": rule}, {"sumber": "FKDM, Masyarakat"}).payload == {
        "sumber": ["fkdm", "masyarakat"]
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Amerika Serikat", "US"),
        ("United States", "US"),
        ("Tiongkok", "CN"),
        ("RRT", "CN"),
        ("china", "CN"),
        ("Jepang", "JP"),
        ("  JEPANG ", "JP"),
        ("Korea Selatan", "KR"),
        ("Inggris", "GB"),
        ("Belanda", "NL"),
        ("Timor-Leste", "TL"),
        ("au", "AU"),
        ("AS", "AS"),  # a code wins over an everyday abbreviation: American Samoa, never guessed
    ],
)
def test_country_names_in_indonesian_and_english(name: str, code: str) -> None:
    assert map_one({"kewarganegaraan": {"path": "n", "parse": "country"}}, {"n": name}).payload == {
        "kewarganegaraan": code
    }


def test_unknown_country_is_an_issue_without_the_value() -> None:
    issues = issues_of({"kewarganegaraan": {"path": "n", "parse": "country"}}, {"n": "Atlantis"})
    assert [i.rule for i in issues] == ["country_unknown"] and "Atlantis" not in issues[0].message


def test_country_index_is_cldr_without_non_countries() -> None:
    index = country_index()
    assert {"EU", "UN", "ZZ"}.isdisjoint(index.values())
    assert len(set(index.values())) > 240  # every ISO 3166 country


# --- content revisions --------------------------------------------------------------------------------


def test_content_revision_same_content_same_revision_changed_content_higher() -> None:
    store = MemoryRevisions()
    mapper = compile_mapping(
        mapping({"status": "status"}, id="no", revision={"from_content": True}), revisions=store
    )
    first = mapper(record({"no": "A1", "status": "diproses"}, revision=None))
    again = mapper(record({"no": "A1", "status": "diproses"}, revision=None))
    changed = mapper(record({"no": "A1", "status": "diterbitkan"}, revision=None))
    other = mapper(record({"no": "B2", "status": "diproses"}, revision=None))
    assert first.revision == again.revision < changed.revision
    assert other.revision >= first.revision  # its own history
    back = mapper(record({"no": "A1", "status": "diproses"}, revision=None))
    assert back.revision > changed.revision  # a change back is a change too
    mapper.flush()
    assert len(store._values) == 2 and not any("A1" in key for key in store._values)  # ids are hashed


def test_content_revision_survives_a_restart_through_the_store_and_never_goes_back() -> None:
    """A new mapper over the same state gives the same revision; a clock behind the stored revision
    still moves forward."""
    store = MemoryRevisions()
    before = ContentRevisions(store, clock_ms=lambda: 5_000)
    first = before.revision("A1", b"one")
    before.flush()
    after = ContentRevisions(store, clock_ms=lambda: 9_000)
    assert after.revision("A1", b"one") == first == 5_000
    assert ContentRevisions(store, clock_ms=lambda: 1_000).revision("A1", b"two") == 5_001


def test_state_revisions_use_the_source_state(tmp_path: object) -> None:
    from pathlib import Path

    from hub.adapters.state import StateStore

    state = StateStore(Path(str(tmp_path)) / "state.sqlite")
    try:
        revisions = ContentRevisions(StateRevisions(state, "soap-dpmptsp"), clock_ms=lambda: 7)
        assert revisions.revision("SKP/1", b"x") == 7
        assert revisions.revision("SKP/1", b"x") == 7  # from memory before the flush
        assert ContentRevisions(StateRevisions(state, "soap-dpmptsp")).revision("SKP/1", b"x") > 7
        revisions.flush()  # one transaction for the batch
        reopened = ContentRevisions(StateRevisions(state, "soap-dpmptsp"), clock_ms=lambda: 99)
        assert reopened.revision("SKP/1", b"x") == 7
        other_adapter = ContentRevisions(StateRevisions(state, "other"), clock_ms=lambda: 99)
        assert other_adapter.revision("SKP/1", b"x") == 99
    finally:
        state.close()


def test_content_revision_is_config_checked() -> None:
    with pytest.raises(ConfigError, match="revision"):
        compile_mapping(mapping({"a": "a"}, revision={"from_content": False}))
    out = map_one({"a": "a"}, {"a": "1", "rev": "12"}, revision="rev")
    assert out.revision == 12  # an ordinary revision rule still works


def test_mapping_failed_carries_the_partial_payload() -> None:
    """What the mapping did make travels with the error (the pipeline lists the schema's issues)."""
    mapper = compile_mapping(mapping({"a": "a", "n": {"path": "n", "parse": "int"}}))
    with pytest.raises(MappingError) as caught:
        mapper(record({"a": "x", "n": "lima"}))
    assert caught.value.partial_payload == {"a": "x"}  # type: ignore[attr-defined]
