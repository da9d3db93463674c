"""Governed metadata and immutability: the lock of published versions, semver bumps, field documentation."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import Field

from schemas import catalog
from schemas.governance import (
    fingerprint,
    load_lock,
    lock_problems,
    semver_problems,
    write_lock,
)
from schemas.metadata import FIELD_DOCS, NO_EXAMPLE, SCHEMA_DOCS
from schemas.payloads._common import PayloadModel
from schemas.payloads.ormas_registration import OrmasRegistration
from schemas.registry import DEFAULT_OWNER, SchemaRegistry, SchemaSpec


def _registry(*specs: SchemaSpec) -> SchemaRegistry:
    registry = SchemaRegistry()
    for spec in specs:
        registry.register(spec)
    return registry


def test_published_versions_match_the_committed_lock() -> None:
    """Every published version is locked and unchanged; no locked version vanished (the real gate)."""
    assert lock_problems(catalog.REGISTRY, load_lock()) == []


def test_every_version_is_bumped_as_its_changes_require() -> None:
    """No registered version skips the major bump its breaking changes need (the real gate)."""
    assert semver_problems(catalog.REGISTRY) == []


def test_a_published_version_changed_in_place_is_caught() -> None:
    """Narrowing a field of ormas_registration 1.0.0 without a new version breaks the lock check."""

    class Narrowed(OrmasRegistration):
        bidang_kegiatan: list[str] = Field(min_length=1, max_length=5, description="Fields of activity")

    spec = catalog.get("ormas_registration", "1.0.0")
    changed = dataclasses.replace(spec, model=Narrowed)
    problems = lock_problems(_registry(changed), {spec.ref: fingerprint(spec)})
    assert problems == [
        "ormas_registration@1.0.0 changed in place: its contract no longer matches the lock; publish a new "
        "version instead (a breaking change needs a new major)"
    ]


def test_wording_may_change_in_place_but_contract_may_not() -> None:
    """A new description keeps the fingerprint; another default classification changes it."""
    spec = catalog.get("early_warning")

    class Reworded(spec.model):  # type: ignore[name-defined,misc]
        judul: str = Field(min_length=1, max_length=200, description="A short, better title")

    assert fingerprint(dataclasses.replace(spec, description="Reworded")) == fingerprint(spec)
    assert fingerprint(dataclasses.replace(spec, model=Reworded)) == fingerprint(spec)
    assert fingerprint(dataclasses.replace(spec, identity=("sumber_id",))) != fingerprint(spec)


def test_unlocked_and_vanished_versions_are_reported() -> None:
    """A published version missing from the lock, and a locked one no longer registered, are both named."""
    spec = catalog.get("voter_participation")
    problems = lock_problems(_registry(spec), {"voter_participation@0.9.0": "sha256:00"})
    assert any("voter_participation@1.0.0 is published but not locked" in p for p in problems)
    assert any("voter_participation@0.9.0 is locked but no longer registered" in p for p in problems)


def test_drafts_are_not_locked() -> None:
    """The ormas_registration 2.0.0 draft is not in the lock and its absence is not a problem."""
    assert "ormas_registration@2.0.0" not in load_lock()
    assert catalog.get("ormas_registration@2.0.0").status == "draft"
    assert catalog.get("ormas_registration").version == "1.0.0"


class _Jenis(StrEnum):
    """A kind."""

    A = "a"
    B = "b"


class _V1(PayloadModel):
    kode: str = Field(description="Code")
    jenis: _Jenis = Field(description="Kind")


class _V2(PayloadModel):
    kode: str = Field(description="Code")
    jenis: _Jenis = Field(description="Kind")
    wajib: str = Field(description="New required field")


def _spec(model: type[PayloadModel], version: str) -> SchemaSpec:
    return SchemaSpec("toy", version, model, "Toy", "A toy schema", frozenset({2}), ("kode",))


def test_breaking_change_with_a_minor_bump_fails_the_semver_check() -> None:
    """A required field added in 1.1.0 is reported as needing a major bump, with the reason."""
    problems = semver_problems(_registry(_spec(_V1, "1.0.0"), _spec(_V2, "1.1.0")))
    assert len(problems) == 1
    assert "toy 1.0.0 -> 1.1.0 is a minor bump but the changes are breaking (need major)" in problems[0]
    assert "wajib: required field added" in problems[0]
    assert semver_problems(_registry(_spec(_V1, "1.0.0"), _spec(_V2, "2.0.0"))) == []


def test_lock_file_round_trips(tmp_path: Path) -> None:
    """write_lock then load_lock gives back the entries, sorted."""
    path = tmp_path / "lock.json"
    write_lock({"b@1.0.0": "sha256:2", "a@1.0.0": "sha256:1"}, path)
    assert load_lock(path) == {"a@1.0.0": "sha256:1", "b@1.0.0": "sha256:2"}
    assert list(load_lock(path)) == ["a@1.0.0", "b@1.0.0"]


@pytest.mark.parametrize("spec", catalog.all_versions(), ids=lambda s: s.ref)
def test_every_field_is_documented(spec: SchemaSpec) -> None:
    """Each field has English and Indonesian descriptions, numbers a unit, enums a code list."""
    docs = catalog.documented_fields(spec)
    assert [d.path for d in docs if not d.description] == []
    assert [d.path for d in docs if not d.description_id] == []
    assert [d.path for d in docs if d.numeric and not d.unit and d.path not in _UNITLESS] == []
    enums = [d for d in docs if d.type in _ENUM_TYPES or "Kode" in d.type]
    assert all(d.code_list for d in enums)
    assert any(d.example is not NO_EXAMPLE for d in docs if d.required)


_UNITLESS = {"periode_ke"}  # an ordinal, not a quantity
_ENUM_TYPES = {"StatusOrmas", "JenisRegistrasi", "Aspek", "TahapKonflik", "UrusanPasal25"}


def test_no_orphan_field_docs() -> None:
    """Every documented path exists in some version of its schema (no stale entries)."""
    paths: dict[str, set[str]] = {}
    for spec in catalog.all_versions():
        paths.setdefault(spec.name, set()).update(d.path for d in catalog.documented_fields(spec))
    orphans = {name: sorted(set(table) - paths[name]) for name, table in FIELD_DOCS.items()}
    assert {name: rest for name, rest in orphans.items() if rest} == {}


def test_every_schema_has_an_owner_and_indonesian_texts() -> None:
    """Owners are named directorates (not the default), titles and descriptions exist in Indonesian."""
    for spec in catalog.all_versions():
        assert spec.owner != DEFAULT_OWNER and spec.owner == SCHEMA_DOCS[spec.name].owner
        assert spec.title_id and spec.description_id and spec.walidata


def test_example_values_are_tokenised_in_field_docs() -> None:
    """The per-field example of a NIK token is a token, never the clear NIK of the raw example."""
    docs = {d.path: d for d in catalog.documented_fields(catalog.get("ormas_registration"))}
    token = docs["pengurus.*.nik_token"].example
    assert isinstance(token, str) and token.startswith("nik1_")
    assert docs["kode_wilayah"].code_list == "kode_wilayah" and docs["kode_wilayah"].example == "32.01.01"
