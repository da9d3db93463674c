"""What the simulated offices will send, and what the centre must end up with.

Every good record is (office, schema, id) with a final revision; some are sent twice (a retry), some get
a second revision, some are withdrawn. Every bad record has the reason it must be quarantined with.
The plan is deterministic for a given seed, so a failing demo can be re-run identically.
"""

from __future__ import annotations

import copy
import functools
import importlib
import random
from dataclasses import dataclass, field
from typing import Any

from schemas.catalog import all_specs
from schemas.regions import Region, RegionIndex
from schemas.registry import SchemaSpec

# A spread of real offices: kab/kota Kesbangpol across the archipelago (incl. the new Papua provinces)
# and a few provincial ones. Codes per Kepmendagri 300.2.2-2138/2025.
OFFICE_CODES = (
    "32.01",
    "32.71",
    "31.74",
    "33.74",
    "35.78",
    "11.01",
    "12.71",
    "13.71",
    "16.71",
    "18.71",
    "36.03",
    "51.71",
    "52.01",
    "53.71",
    "61.71",
    "64.72",
    "72.01",
    "73.71",
    "76.01",
    "81.71",
    "82.71",
    "91.03",
    "94.01",
    "96.03",
    "32",
    "35",
    "72",
    "96",
)


@dataclass(frozen=True)
class Bad:
    """A record that must end in quarantine with ``reason``."""

    kind: str
    reason: str
    rid: str = ""


@dataclass
class Item:
    """One ingest item to send; ``bad`` is set for records that must be quarantined."""

    body: dict[str, Any]
    schema: str
    bad: Bad | None = None


@dataclass
class Office:
    """A simulated Kesbangpol office with its API key and the items it will send, by schema."""

    region: Region
    api_key: str
    system: str
    items: dict[str, list[Item]] = field(default_factory=dict)
    resend: dict[str, list[Item]] = field(default_factory=dict)


@dataclass
class Expected:
    """What the centre must hold afterwards."""

    final: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)  # key -> (rev, state)
    revisions_sent: set[tuple[str, str, str, int]] = field(default_factory=set)
    bad: list[Bad] = field(default_factory=list)


@functools.cache
def _examples() -> dict[str, dict[str, Any]]:
    return {
        spec.name: importlib.import_module(f"schemas.payloads.{spec.name}").EXAMPLE for spec in all_specs()
    }


def _region_for(spec: SchemaSpec, office: Region, index: RegionIndex, rng: random.Random) -> str | None:
    """A region of a level the schema allows, at or under the office; None if the office cannot send it."""
    levels = sorted(lv for lv in spec.region_levels if lv >= office.level)
    if not levels:
        return None
    target = rng.choice(levels)
    region = office
    while region.level < target:
        children = index.children(region.code)
        if not children:
            return None
        region = rng.choice(children)
    return region.code


def _mutations(spec: SchemaSpec, office: Region, index: RegionIndex) -> list[tuple[str, Bad]]:
    kinds = [
        ("unknown_region", Bad("unknown_region", "validation_failed")),
        ("missing_field", Bad("missing_field", "validation_failed")),
        ("extra_field", Bad("extra_field", "validation_failed")),
        ("wrong_type", Bad("wrong_type", "validation_failed")),
        ("outside_office", Bad("outside_office", "region_invalid")),
        ("no_revision", Bad("no_revision", "validation_failed")),
    ]
    if _nik_path(_examples()[spec.name]):
        kinds.append(("invalid_nik", Bad("invalid_nik", "validation_failed")))
    wrong_levels = [lv for lv in (1, 2, 3, 4) if lv not in spec.region_levels and lv >= office.level]
    if wrong_levels:
        kinds.append(("wrong_level", Bad("wrong_level", "region_invalid")))
    return kinds


def build_plan(
    index: RegionIndex, *, offices: int, records: int, bad_every: int, seed: int = 2026
) -> tuple[list[Office], Expected]:
    """Offices with their items, and the expected end state."""
    rng = random.Random(seed)
    examples = _examples()
    specs = all_specs()
    chosen = [index.get(code) for code in OFFICE_CODES[: max(1, offices)]]
    assert all(chosen), "every demo office code must exist in the reference data"
    expected = Expected()
    result: list[Office] = []
    for n, region in enumerate(r for r in chosen if r is not None):
        office = Office(region, api_key=f"demo-key-{n:03d}", system=f"sim-{region.code.replace('.', '')}")
        usable = [s for s in specs if _region_for(s, region, index, rng) is not None]
        for i in range(records):
            spec = usable[i % len(usable)]
            code = _region_for(spec, region, index, rng)
            assert code is not None
            data = copy.deepcopy(examples[spec.name])
            data["kode_wilayah"] = code
            rid = f"{office.system}-{spec.name}-{i:05d}"
            item = Item({"id": rid, "revision": 1, "data": data}, spec.name)
            office.items.setdefault(spec.name, []).append(item)
            key = (office.system, spec.name, rid)
            expected.final[key] = (1, "active")
            expected.revisions_sent.add((*key, 1))
            if i % 10 == 3:  # the source system sends the same batch again (a retry after a timeout)
                office.resend.setdefault(spec.name, []).append(item)
            if i % 15 == 7:  # an edit: a second revision of the same record
                newer = Item({"id": rid, "revision": 2, "data": data}, spec.name)
                office.resend.setdefault(spec.name, []).append(newer)
                expected.final[key] = (2, "active")
                expected.revisions_sent.add((*key, 2))
            elif i % 41 == 11:  # a withdrawal (record entered by mistake)
                gone = Item({"id": rid, "revision": 2, "op": "withdraw", "data": data}, spec.name)
                office.resend.setdefault(spec.name, []).append(gone)
                expected.final[key] = (2, "withdrawn")
                expected.revisions_sent.add((*key, 2))
            if bad_every and i % bad_every == bad_every - 1:
                kinds = _mutations(spec, region, index)
                kind, bad = kinds[(i // bad_every + n) % len(kinds)]
                body = _mutate(kind, copy.deepcopy(item.body), spec, region, index, rng)
                body["id"] = f"{rid}-bad"
                bad = Bad(bad.kind, bad.reason, body["id"])
                office.items[spec.name].append(Item(body, spec.name, bad))
                expected.bad.append(bad)
        result.append(office)
    return result, expected


def _mutate(
    kind: str, body: dict[str, Any], spec: SchemaSpec, office: Region, index: RegionIndex, rng: random.Random
) -> dict[str, Any]:
    data: dict[str, Any] = body["data"]
    if kind == "unknown_region":
        data["kode_wilayah"] = f"{office.code.split('.')[0]}.98.99"
    elif kind == "missing_field":
        del data["kode_wilayah"]
    elif kind == "extra_field":
        data["kolom_tidak_dikenal"] = "x"
    elif kind == "wrong_type":
        data["kode_wilayah"] = ["bukan", "kode"]
    elif kind == "outside_office":
        data["kode_wilayah"] = "11.01" if not office.code.startswith("11") else "12.71"
    elif kind == "invalid_nik":
        holder, key = _nik_path(data) or (data, "nik")
        holder[key] = "3201017513800001"  # birth day 75 - 40 = 35: no such date
    elif kind == "no_revision":
        del body["revision"]
    elif kind == "wrong_level":
        wrong = [lv for lv in (1, 2, 3, 4) if lv not in spec.region_levels and lv >= office.level]
        region = office
        while region.level < wrong[0]:
            region = rng.choice(index.children(region.code))
        data["kode_wilayah"] = region.code
    return body


def _nik_path(data: Any) -> tuple[dict[str, Any], str] | None:
    """The first (container, key) whose key names a NIK, searching nested dicts and lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            if "nik" in key.lower() and isinstance(value, str):
                return data, key
            found = _nik_path(value)
            if found:
                return found
    elif isinstance(data, list):
        for value in data:
            found = _nik_path(value)
            if found:
                return found
    return None
