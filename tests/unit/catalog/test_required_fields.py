"""Schemas that demanded what sources lack (issue 17) and single answers that forms give several of
(issue 20): research_permit 1.1.0 and early_warning 1.1.0 make a required field optional; the early_warning
2.0.0 draft makes ``sumber`` a list, with an upcaster from 1.x."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from schemas import catalog
from schemas.diff import diff_specs
from schemas.evolution import UpcastFailed, upcast_payload
from schemas.payloads import VERSION_EXAMPLES
from schemas.pii import NikTokenizer
from schemas.registry import SchemaRegistry

CONTEXT = {"nik_tokenizer": NikTokenizer(b"k" * 32)}


def _validate(ref: str, payload: dict[str, object]) -> object:
    return catalog.get(ref).model.model_validate(payload, context=CONTEXT)


def test_research_permit_without_an_application_date() -> None:
    """1.1.0 takes a letter without tanggal_pengajuan (1.0.0 refused it); a given date is still checked."""
    permit = {k: v for k, v in VERSION_EXAMPLES["research_permit@1.0.0"].items() if k != "tanggal_pengajuan"}
    with pytest.raises(ValidationError):
        _validate("research_permit@1.0.0", permit)
    assert _validate("research_permit@1.1.0", permit).tanggal_pengajuan is None
    late = {**permit, "tanggal_pengajuan": "2024-04-01"}  # after tanggal_terbit (2024-03-06)
    with pytest.raises(ValidationError, match="tanggal_terbit_invalid"):
        _validate("research_permit@1.1.0", late)
    issued = {k: v for k, v in permit.items() if k != "tanggal_terbit"}
    with pytest.raises(ValidationError, match="tanggal_terbit_missing"):
        _validate("research_permit@1.1.0", issued)


def test_early_warning_without_an_assessed_level() -> None:
    report = {k: v for k, v in VERSION_EXAMPLES["early_warning@1.0.0"].items() if k != "tingkat"}
    with pytest.raises(ValidationError):
        _validate("early_warning@1.0.0", report)
    assert _validate("early_warning@1.1.0", report).tingkat is None


@pytest.mark.parametrize(("old", "new"), [("research_permit", "1.1.0"), ("early_warning", "1.1.0")])
def test_optional_is_a_compatible_minor_bump(old: str, new: str) -> None:
    result = diff_specs(catalog.get(old, "1.0.0"), catalog.get(old, new))
    assert result.required_bump == "minor" and result.bump_ok
    assert catalog.get(old).version == new  # the current version at ingest


def test_early_warning_v2_draft_lists_kinds_of_source() -> None:
    result = diff_specs(catalog.get("early_warning", "1.1.0"), catalog.get("early_warning", "2.0.0"))
    assert {c.path.split(".")[0] for c in result.changes if c.kind == "breaking"} == {"sumber"}
    assert result.required_bump == "major" and result.bump_ok
    assert catalog.get("early_warning@2.0.0").status == "draft"
    many = {**VERSION_EXAMPLES["early_warning@2.0.0"], "sumber": ["fkdm", "masyarakat"]}
    assert [str(s) for s in _validate("early_warning@2.0.0", many).sumber] == ["fkdm", "masyarakat"]
    for bad in ([], ["fkdm", "fkdm"], ["warga"]):
        with pytest.raises(ValidationError):
            _validate("early_warning@2.0.0", {**many, "sumber": bad})


def _v2_current() -> SchemaRegistry:
    registry = SchemaRegistry()
    for spec in catalog.all_versions():
        registry.register(dataclasses.replace(spec, status="published") if spec.status == "draft" else spec)
    return registry


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_early_warning_1x_upcasts_to_a_list_of_one(version: str) -> None:
    registry = _v2_current()
    payload = catalog.example_payload("early_warning", version)
    spec, out = upcast_payload("early_warning", version, payload, registry)
    assert spec.version == "2.0.0" and out["sumber"] == [payload["sumber"]]
    assert {k: v for k, v in out.items() if k != "sumber"} == {
        k: v for k, v in spec.model.model_validate(out).model_dump(mode="json").items() if k != "sumber"
    }


def test_early_warning_upcast_of_a_bad_kind_is_quarantined_without_the_value() -> None:
    registry = _v2_current()
    payload = {**catalog.example_payload("early_warning", "1.0.0"), "sumber": "Pak Budi 0812"}
    with pytest.raises(UpcastFailed) as caught:
        upcast_payload("early_warning", "1.0.0", payload, registry)
    assert "Budi" not in str(caught.value.as_dict())
