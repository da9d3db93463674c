"""``schemas.envelope.trusted_envelope``: a verified record's envelope, built without validating it again.

It must give exactly what ``Envelope.model_validate`` gives for every form a hub writes, refuse (None, so the
caller validates) every form that is not of that exact shape and those plain types, and the sink worker must
take it for verified records only, reporting malformed records as before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from hub.errors import RecordError
from schemas.envelope import Envelope, Hop, trusted_envelope
from tests.helpers import ENVELOPE_T0
from tests.unit.test_sink_worker_validate_once import _check, _samples, _signed, _verifier, _worker


def _forms() -> list[dict[str, Any]]:
    items = _signed(_samples())
    hop = Hop(node="kab", level="kabkota", at=ENVELOPE_T0 + timedelta(seconds=1)).model_dump(mode="json")
    return [*items, {**items[0], "lineage": [hop, hop]}]


@pytest.mark.parametrize("i", range(len(_forms())))
def test_every_form_a_hub_writes_is_built_as_the_model_validates_it(i: int) -> None:
    item = _forms()[i]
    built, validated = trusted_envelope(item), Envelope.model_validate(item)
    assert built is not None
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert list(built.__dict__) == list(validated.__dict__)
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.source == validated.source
    assert built.source.model_fields_set == validated.source.model_fields_set
    # It behaves as a model: frozen, and copies (its fields set is its own, mutable set).
    with pytest.raises(ValidationError):
        built.revision = 9  # type: ignore[misc]
    copy = built.model_copy(update={"revision": 9})
    assert copy.revision == 9 and built.revision == validated.revision
    assert "revision" in copy.model_fields_set


def _changed(path: str, value: Any) -> dict[str, Any]:
    item = _forms()[0]
    target = item
    *parents, last = path.split(".")
    for part in parents:
        target[part] = dict(target[part])
        target = target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return item


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("extra_field", 1),
        ("region_ref", KeyError),
        ("spec", "simpul.envelope/2"),
        ("message_id", 5),
        ("revision", "1"),
        ("revision", True),
        ("revision", -1),
        ("op", "delete"),
        ("source_record_id", ""),
        ("source_record_id", "x" * 201),
        ("source.extra", "x"),
        ("source.system", ""),
        ("source.office", 32),
        ("received_at", "2026-12-06T10:00:00"),  # naive
        ("reported_at", "kemarin"),
        ("occurred_at", 1733480000),
        ("classification", "PUBLIK"),
        ("pii", "nama"),
        ("pii", [1]),
        ("payload", []),
        ("signature", 5),
        ("correlation_id", 7),
        ("lineage", [{"node": "kab"}]),
        ("notes", [{"loc": "x" * 201, "rule": "r", "detail": "d"}]),
        ("lineage", "kab"),
    ],
)
def test_a_form_of_another_shape_or_type_is_left_to_validation(path: str, value: Any) -> None:
    assert trusted_envelope(_changed(path, value)) is None


def test_the_worker_builds_verified_records_without_validating_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A verified record never reaches ``Envelope.model_validate``; an unsigned one still does."""
    verifier = _verifier(require_signatures=False)
    worker, _, _ = _worker(verifier)
    item = _signed(_samples()[-1:])[0]

    def refuse(*args: Any, **kwargs: Any) -> Envelope:
        raise AssertionError("validated again")

    monkeypatch.setattr(Envelope, "model_validate", refuse)
    checked = _check(worker, item, verifier)
    assert isinstance(checked, tuple) and checked[0].message_id == item["message_id"]
    unsigned = {**item, "signature": None}
    with pytest.raises(AssertionError, match="validated again"):
        _check(worker, unsigned, verifier)


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"signature": 5},
        {"source": "pusat", "kode_wilayah": 32, "received_at": "x"},
        {"received_at": "2026-12-06T10:00:00Z", "signature": "dev-pusat:AAAA"},
    ],
)
def test_a_malformed_record_is_still_reported_as_not_an_envelope(item: dict[str, Any]) -> None:
    verifier = _verifier()
    worker, _, _ = _worker(verifier)
    err = _check(worker, item, verifier)
    assert isinstance(err, RecordError) and err.reason == "validation_failed"


def test_a_valid_envelope_failing_verification_keeps_its_trust_reason() -> None:
    verifier = _verifier()
    worker, _, _ = _worker(verifier)
    item = _signed(_samples()[:1])[0]
    item["payload"] = {**item["payload"], "tampered": True}
    err = _check(worker, item, verifier)
    assert isinstance(err, RecordError) and err.reason == "signature_invalid"
