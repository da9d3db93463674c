"""Immutability of published schema versions and the semantic-versioning rule, checked against a lock.

``schemas/published.lock.json`` holds one fingerprint per published (or deprecated) version: the SHA-256 of
its *contract*, i.e. what a validator sees (the JSON Schema without descriptions, titles, translations and
examples, plus region levels, identity, default classification and PII paths). The suite fails
(``tests/unit/catalog/test_governance.py``) when

* a locked version's contract changed in place (publish a new version instead),
* a published version is not in the lock, or a locked one disappeared,
* a version is not bumped enough over its predecessor (breaking -> major, compatible -> minor).

Drafts are not locked: they may change until published. Wording may be improved in place.

Lock a newly published version with ``python -m schemas.governance lock`` (existing entries are never
rewritten by it).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.diff import DiffResult, diff_specs
from schemas.registry import SchemaRegistry, SchemaSpec

LOCK_PATH = Path(__file__).with_name("published.lock.json")
_NOT_CONTRACT = frozenset(
    {"description", "title", "examples", "x-description-id", "x-region-ref", "x-reference"}
)
_NAMED_CHILDREN = frozenset({"properties", "$defs", "patternProperties"})


def _strip(node: Any, named: bool = False) -> Any:
    if isinstance(node, dict):
        if named:  # keys are field or definition names, not keywords
            return {k: _strip(v) for k, v in node.items()}
        return {k: _strip(v, k in _NAMED_CHILDREN) for k, v in node.items() if k not in _NOT_CONTRACT}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def contract(spec: SchemaSpec) -> dict[str, Any]:
    """What a published version promises: the validation-relevant parts, in a canonical form."""
    return {
        "schema": _strip(spec.model.model_json_schema(mode="validation")),
        "region_levels": sorted(spec.region_levels),
        "identity": list(spec.identity),
        "default_classification": spec.default_classification.value,
        "pii_paths": sorted(spec.pii_paths),
    }


def fingerprint(spec: SchemaSpec) -> str:
    """``sha256:<hex>`` of the canonical JSON of :func:`contract`."""
    text = json.dumps(contract(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def load_lock(path: Path = LOCK_PATH) -> dict[str, str]:
    """``{"name@version": fingerprint}`` from the lock file (empty if there is none)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data.get("published", {}))


def write_lock(entries: Mapping[str, str], path: Path = LOCK_PATH) -> None:
    """Write the lock file, sorted, with a note on how it is maintained."""
    document = {
        "note": "Fingerprints of published schema versions. Never edit an entry: publish a new version. "
        "Add entries with: python -m schemas.governance lock",
        "published": dict(sorted(entries.items())),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def lock_problems(registry: SchemaRegistry, lock: Mapping[str, str]) -> list[str]:
    """Everything wrong between the registry's published versions and the lock, one sentence each."""
    problems = []
    published = {s.ref: s for s in registry.all_versions() if s.status != "draft"}
    for ref, spec in published.items():
        if ref not in lock:
            problems.append(f"{ref} is published but not locked (python -m schemas.governance lock)")
        elif lock[ref] != fingerprint(spec):
            problems.append(
                f"{ref} changed in place: its contract no longer matches the lock; publish a new version "
                "instead (a breaking change needs a new major)"
            )
    for ref in lock:
        if ref not in published:
            problems.append(f"{ref} is locked but no longer registered as published (versions are kept)")
    return problems


def version_steps(registry: SchemaRegistry) -> list[DiffResult]:
    """The diff of every version against its predecessor (drafts included)."""
    results = []
    for name in registry.names():
        versions = registry.versions(name)
        for old, new in itertools.pairwise(versions):
            results.append(diff_specs(old, new))
    return results


def semver_problems(registry: SchemaRegistry) -> list[str]:
    """Versions not bumped as their changes require, one sentence each with the first reasons."""
    problems = []
    for result in version_steps(registry):
        if not result.bump_ok:
            worst = [c.line() for c in result.changes if c.kind == result.kind][:3]
            problems.append(
                f"{result.name} {result.old} -> {result.new} is a {result.actual_bump} bump but the changes "
                f"are {result.kind} (need {result.required_bump}): {'; '.join(worst)}"
            )
    return problems


def main(argv: list[str]) -> int:
    """``python -m schemas.governance lock|check``."""
    from schemas.catalog import REGISTRY

    if argv[:1] == ["lock"]:
        lock = load_lock()
        added = {
            s.ref: fingerprint(s)
            for s in REGISTRY.all_versions()
            if s.status != "draft" and s.ref not in lock
        }
        write_lock({**lock, **added})
        print(f"locked {len(added)} new version(s): {', '.join(sorted(added)) or 'none'}")
        return 0
    if argv[:1] == ["check"]:
        problems = lock_problems(REGISTRY, load_lock()) + semver_problems(REGISTRY)
        print("\n".join(problems) or "published versions match the lock; every version is bumped enough")
        return 1 if problems else 0
    print("usage: python -m schemas.governance lock|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
