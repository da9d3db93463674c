"""``simpul mapping propose``: a complete source block (adapter config + mapping) proposed from a raw sample.

The sample is read by the adapter's own ``read_sample`` hook without a config, so the adapter guesses
what it must (soap's ``record_path``, rest_poll's ``data_path``, sql_poll's key and change columns); the
records it yields are what the mapping will see. Then, for every leaf field of the schema:

1. the **kind** of the field is taken from its annotation (a kode wilayah, a NIK or passport token, a
   country code, a date, a datetime, a number, Rupiah, a boolean, an enum, a list, text, free text);
2. source fields are ranked by **name**: both names are cut into words, abbreviations and Indonesian or
   English synonyms are brought to one word (``tgl`` = ``tanggal`` = ``date``; ``no`` = ``nomor`` =
   ``number``), a two-row header's group counts (``identitas_no_paspor``), and a field's last word
   weighs most;
3. a candidate rule for the kind is **tried on every sample record with the hub's own mapping compiler**
   (so a proposed rule is one the hub runs, not a guess about it): dates must parse, regions must resolve
   inside the office's area, NIKs and passports must check, small sets of distinct values become value
   maps onto the enum's members, country names become ISO codes (CLDR names via Babel, in Indonesian
   and English). Fields without a name match are still tried by value where the value is distinctive
   (a NIK, a passport number, a region name, a country name).

Every field gets a comment saying how it was matched, or ``# TODO`` where nothing fit. Identity: the
adapter's own id or revision when it has one; else an id-like column with distinct values, the form's
timestamp column, or a TODO. ``reported_at`` is the form's timestamp column when there is one; otherwise
the hub uses the time the record was read.

The jobs around the proposer have modules of their own: ``propose_names`` (field-name matching),
``propose_fields`` (the schema's leaf fields and their kinds), ``propose_values`` (rules tried on the
sample's values, value helpers), ``propose_identity`` (record id, revision and report time) and
``propose_render`` (the proposal and its TOML). This module holds the
``Proposer`` and the entry points (``read_raw``, ``propose``, ``run_propose``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.adapters.model import SampleRead
from hub.adapters.registry import get as get_adapter
from hub.errors import ConfigError
from hub.kit.propose_fields import Target, flatten, targets
from hub.kit.propose_identity import identity
from hub.kit.propose_names import _ID_WORDS, _PERSONAL, _STAMP, name_score, words
from hub.kit.propose_render import Proposal, render
from hub.kit.propose_values import (
    _country_code,
    _distinct,
    _enum_map,
    _how,
    _is_code,
    _paths_in,
    _test_rows,
    _times,
    _Trial,
    norm_key,
)
from hub.mapping.spec import DEFAULT_NONE_VALUES
from hub.model.records import SourceRecord
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity

_ZERO_DATES = ["0000-00-00", "0000-00-00 00:00:00"]
ENUM_MAX = 12


class Proposer:
    """Matches one schema's fields to one sample's source fields (see the module docstring)."""

    def __init__(self, schema: str, read: SampleRead) -> None:
        self.spec = get_schema(schema)
        self.read = read
        self.skip, self.records = _test_rows(read.records)
        self.rows = [flatten(r.raw) for r in self.records]
        self.columns: dict[str, list[Any]] = {}
        for row in self.rows:
            for key, value in row.items():
                self.columns.setdefault(key, []).append(value)
        zero = any(
            isinstance(v, str) and v.startswith("0000-00-00") for c in self.columns.values() for v in c
        )
        self.none_values = [*DEFAULT_NONE_VALUES, *(_ZERO_DATES if zero else [])]
        self.trial = _Trial(self.records, self.none_values)
        self.used: set[str] = set()
        self.personal: set[str] = set()  # columns matched to NIK or passport fields: never an id
        self.ranges: set[str] = set()  # period columns: read twice, for the start and for the end
        self.comments: dict[str, str] = {}

    def ranked(self, target: str) -> list[tuple[float, str]]:
        scored = [(name_score(target, c), c) for c in self.columns]
        return sorted([(s, c) for s, c in scored if s > 0], key=lambda sc: (-sc[0], sc[1]))

    def _values_only(self) -> list[str]:
        return [c for c in self.columns if c not in self.used]

    # --- rules per kind ----------------------------------------------------------------------------------

    def rule_for(self, t: Target, column: str) -> dict[str, Any] | None:
        """The rule reading ``column`` for a field of ``t``'s kind, or None if none fits the values."""
        kind = t.kind
        simple: dict[str, dict[str, Any]] = {
            "date": {"parse": "date"},
            "datetime": {"parse": "datetime"},
            "int": {"parse": "int"},
            "decimal": {"parse": "decimal"},
            "rupiah": {"parse": "rupiah"},
            "bool": {"parse": "bool"},
            "nik": {"pii": "nik"},
            "passport": {"pii": "passport"},
            "freetext": {"pii": "redact"},
            "coord": {"parse": "decimal", "style": "point"},  # machine-written: "122.789" is not 122789
            "text": {},
        }
        plain_date = kind == "date" and self.trial.works({"path": column, "parse": "date"})[0]
        if kind == "date" and (column in self.ranges or not plain_date):
            # A period in one cell ("15 Jan s.d. 20 Feb 2024"): its start or end, by the field's word.
            leaf = words(t.path)[-1]
            part = "end" if leaf in ("selesai", "akhir", "sampai") else "start" if leaf == "mulai" else None
            ranged = {"path": column, "parse": "date_range", "part": part}
            if part is not None and self.trial.works(ranged)[0]:
                self.ranges.add(column)
                return ranged
            return None if column in self.ranges else self.lenient(t, {"path": column, "parse": "date"})
        if kind in simple:
            rule = {"path": column, **simple[kind]}
            if kind == "datetime" and not self.trial.works(rule)[0]:
                # A date column with the time in a column of its own ("jam", "pukul"), else midnight.
                for other in self.columns:
                    if other != column and "waktu" in words(other) and _times(self.columns[other]):
                        with_time = {**rule, "time": other}
                        if self.trial.works(with_time)[0]:
                            self.used.add(other)
                            return with_time
                midnight = {**rule, "time_default": "00:00"}
                if self.trial.works(midnight)[0]:
                    return midnight
                return self.lenient(t, rule)
            return rule if self.trial.works(rule)[0] else None
        if kind == "region":
            return self.region_rule(column)
        if kind == "country":
            return self.country_rule(column)
        if kind in ("enum", "list_enum"):
            values = _distinct(self.columns, column)
            if kind == "list_enum":
                values = list(
                    dict.fromkeys(p.strip() for v in values for p in re.split(r"[,;/]", v) if p.strip())
                )
            if not values or len(values) > ENUM_MAX:
                return None
            # One value where the schema has one: a cell with several answers ("FKDM, Masyarakat", a
            # form's checkbox question) maps to the member of its first answer, said in the comment.
            several = [v for v in values if re.search(r"[,;]", v)] if kind == "enum" else []
            first = {v: re.split(r"[,;]", v)[0].strip() for v in several}
            singles = list(dict.fromkeys(first.get(v, v) for v in values))
            table, missing = _enum_map(singles, t.choices)
            if not table or len(missing) > len(table):
                return None
            table = {v: table[first.get(v, v)] for v in values if first.get(v, v) in table}
            # Members the sample did not show yet ("Pencegahan" once a case moves on) by their own label.
            labelled = {norm_key(v) for v in table}
            for choice in t.choices:
                label = choice.replace("_", " ")
                if norm_key(label) not in labelled:
                    table[label] = choice
            mapped: dict[str, Any] = {"path": column, "map": table}
            if kind == "list_enum":
                mapped["split"] = [",", ";", "/"]
            if missing:
                mapped["_todo"] = f"no member fits {len(missing)} value(s): add them to map"
            if several:
                mapped["_note"] = (
                    f"{len(several)} distinct cell(s) hold several answers and {self.spec.ref} keeps one "
                    "value here: each maps to its first answer"
                )
            return mapped
        if kind == "list_region":
            rule = {"path": column, "split": [",", ";"]}
            ok, _ = self.trial.works(rule)
            values = self.trial.outcome(rule)[2]
            codes = all(isinstance(v, list) and all(_is_code(x) for x in v) for v in values)
            return rule if ok and values and codes else None
        if kind in ("list_text",):
            rule = {"path": column, "split": [",", ";"]}
            return rule if self.trial.works(rule)[0] else None
        return None

    def lenient(self, t: Target, rule: dict[str, Any]) -> dict[str, Any] | None:
        """``rule`` with ``on_unparseable = "unknown"`` for an optional date/time field whose sample values
        mostly parse but not all (free text like "kemarin malam"): those are left unknown, with their raw
        text in the record's notes, never guessed. None for a required field (unknown would not validate)
        or when fewer than half the values parse (then the column is probably not this field)."""
        filled, bad, _ = self.trial.outcome(rule)
        if t.required or not filled or not bad or bad > filled:
            return None
        share = f"{bad} of {filled + bad} sample value(s) ({100 * bad // (filled + bad)}%)"
        return {
            **rule,
            "on_unparseable": "unknown",
            "_why": f"{share} do not parse: left unknown, raw text kept in the record's notes",
        }

    def region_rule(self, column: str) -> dict[str, Any] | None:
        code = {"region": {"code": column}}
        if self.trial.works(code)[0]:
            return code
        for level in ("kecamatan", "desa", "kabkota", "provinsi"):
            rule = {"region": {level: column}}
            if self.trial.works(rule)[0]:
                return rule
        return None

    def country_rule(self, column: str) -> dict[str, Any] | None:
        """``parse = "country"`` when every distinct value is a country name or code the mapping's own
        parser knows (CLDR names in Indonesian and English via Babel, and everyday aliases)."""
        values = _distinct(self.columns, column)
        if not values or not all(_country_code(v) for v in values):
            return None
        rule = {"path": column, "parse": "country"}
        return rule if self.trial.works(rule)[0] else None

    def region_field(self) -> tuple[dict[str, Any] | None, str]:
        """kode_wilayah: a code column, else names level by level (named columns first, then by value)."""
        levels = {"provinsi": "provinsi", "kabkota": "kabkota", "kecamatan": "kecamatan", "desa": "desa"}
        for _, column in self.ranked("kode_wilayah") + self.ranked("kode_lokasi"):
            if self.trial.works({"region": {"code": column}})[0]:
                return {"region": {"code": column}}, f"codes in {column!r} are kode wilayah inside the office"
        chosen: dict[str, str] = {}
        for level, word in levels.items():
            named = [c for c in self.columns if word in words(c) and c not in chosen.values()]
            # Exact level words win over combinations ("kegiatan_kab_kota" is not "kab_kota").
            named.sort(key=lambda c: (len(words(c)), c))
            for column in named:
                # Resolving in most records is enough to choose the column (typos need aliases).
                filled, bad, _ = self.trial.outcome({"region": {**chosen, level: column}})
                if filled and filled >= 2 * bad:
                    chosen[level] = column
                    break
        while chosen:
            rule = {"region": dict(chosen)}
            filled, bad, _ = self.trial.outcome(rule)
            if bad and filled >= 2 * bad and len(chosen) > 1:
                given = ", ".join(f"{k}: {v!r}" for k, v in chosen.items())
                return rule, (
                    f"region names by column name ({given}); TODO: {bad} record(s) name a place not found "
                    "under the level above: add aliases or correct the source"
                )
            if bad:
                chosen.popitem()  # the finest level does not fit under the coarser ones: drop it
                continue
            return rule, "region names by column name (" + ", ".join(
                f"{k}: {v!r}" for k, v in chosen.items()
            ) + "), resolved inside the office"
        for column in self._values_only():
            found = self.region_rule(column)
            if found is not None:
                return found, f"values of {column!r} resolve as regions inside the office"
        return None, "TODO: no column resolves as a region inside the office"

    # --- the whole proposal -----------------------------------------------------------------------------

    def field(self, t: Target) -> tuple[dict[str, Any] | None, str]:
        if t.path == "kode_wilayah":
            rule, why = self.region_field()
            if rule is not None:
                self.used.update(_paths_in(rule))
            return rule, why
        for score, column in self.ranked(t.path):
            if column in self.used and column not in self.ranges:
                continue
            rule = self.rule_for(t, column)
            if rule is not None:
                self.used.add(column)
                if t.kind in ("nik", "passport"):
                    self.personal.add(column)
                return rule, f"name {column!r} ~ {t.path} ({score:.2f}); {_how(t.kind, rule)}"
        if t.kind in ("nik", "passport", "country", "region", "list_region", "rupiah", "datetime"):
            for column in self._values_only():
                if t.kind == "datetime" and not _STAMP.search(column):
                    continue
                if t.kind == "rupiah" and set(words(column)) & _ID_WORDS:
                    continue  # numbers, but an id or register number is never an amount
                rule = self.rule_for(t, column)
                if rule is not None:
                    self.used.add(column)
                    return rule, f"by value: {column!r}; {_how(t.kind, rule)}"
        return None, f"TODO: no source field fits ({t.kind}{', required' if t.required else ''})"

    def objects(self, t: Target) -> tuple[dict[str, Any] | None, str]:
        """A list of objects from flat columns: one ``rows`` item whose fields are matched like any other
        (``subjek.kewarganegaraan`` from a ``kewarganegaraan`` column)."""
        item: dict[str, Any] = {}
        notes: list[str] = []
        missing: list[str] = []
        used = set(self.used)
        for sub in targets(t.annotation, f"{t.path}."):
            rule, why = self.field(sub)
            leaf = sub.path[len(t.path) + 1 :]
            if rule is not None:
                rule.pop("_todo", None)
                item[leaf] = rule
                notes.append(f"{leaf}: {why.split(';')[0]}")
            else:
                notes.append(f"{leaf}: TODO")
                missing += [leaf] if sub.required else []
        if not item or missing:
            # An object without its required fields fails every record: better no rule than that one.
            self.used = used
            found = (
                f"the sample has no source for its required {', '.join(missing)}"
                if item
                else "nothing in the sample fits its fields"
            )
            return None, f"TODO: a list of objects; {found} (rows or each + fields)"
        return {"rows": [item]}, "one object per record from flat columns (" + "; ".join(notes) + ")"

    def propose(self, name: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The mapping for source ``name`` and, per schema field (and ``$id`` ...), how it was matched."""
        mapping: dict[str, Any] = {"version": f"{name}/1"}
        fields: dict[str, Any] = {}
        for t in sorted(targets(self.spec.model), key=lambda t: t.path != "kode_wilayah"):
            if t.kind == "objects":
                rows, why = self.objects(t)
                if rows is not None:
                    fields[t.path] = rows
                self.comments[t.path] = why
                continue
            rule, why = self.field(t)
            if rule is not None:
                todo = rule.pop("_todo", None)
                fields[t.path] = rule
                if todo:
                    why = f"{why}; TODO: {todo}"
            self.comments[t.path] = why
        order = [t.path for t in targets(self.spec.model)]
        mapping["fields"] = {p: fields[p] for p in order if p in fields}
        self.comments.update(
            identity(
                mapping,
                identity_fields=self.spec.identity,
                records=self.records,
                rows=self.rows,
                columns=self.columns,
                personal=self.personal,
                trial=self.trial,
            )
        )
        if self.none_values != list(DEFAULT_NONE_VALUES):
            mapping["none_values"] = self.none_values
        if self.skip is not None:
            rule, count = self.skip
            mapping["skip"] = [rule]
            self.comments["$skip"] = (
                f"{count} sample row(s) look like test submissions ({rule['when']['path']!r} matches): "
                "dropped before mapping, counted, never stored; check the rule"
            )
        unused = [c for c in self.columns if c not in self.used and c not in _paths_in(mapping)]
        personal = [c for c in unused if _PERSONAL & set(words(c))]
        if personal:
            mapping["drop"] = personal
            self.comments["$drop"] = "personal data the schema does not need: never read"
        rest = [c for c in unused if c not in personal]
        if rest:
            mapping["ignore"] = rest
        return mapping, self.comments


def read_raw(kind: str, schema: str, office: str, sample: Path, config: Any = None) -> SampleRead:
    """The sample read by the ``kind`` adapter (``config`` None: settings guessed from the sample)."""
    plugin = get_adapter(kind)
    if plugin.read_sample is None:
        raise ConfigError(f"the {kind} adapter cannot read raw samples", key="--kind")
    try:
        data = sample.read_bytes()
    except FileNotFoundError:
        raise ConfigError("sample file not found", key=str(sample)) from None
    identity = SourceIdentity(system="sample", office=office, adapter="sample")

    def make(raw: Any, **meta: Any) -> SourceRecord:
        return SourceRecord(schema, raw, identity, **meta)

    return plugin.read_sample(config, data, name=sample.name, make=make)


def propose(kind: str, schema: str, office: str, sample: Path) -> Proposal:
    """The proposed source block for ``sample`` (see the module docstring)."""
    read = read_raw(kind, schema, office, sample)
    name = re.sub(r"[^a-z0-9-]+", "-", sample.stem.casefold()).strip("-")[:60] or "source"
    mapping, comments = Proposer(schema, read).propose(name)
    block = {
        "name": name,
        "kind": kind,
        "schema": schema,
        "system": name,
        "office": office,
        "config": read.settings,
        "mapping": mapping,
    }
    proposal = Proposal(block, comments, read)
    proposal.text = render(proposal)
    return proposal


def run_propose(kind: str, schema: str, office: str, sample: Path, out: Callable[[str], Any]) -> int:
    """Print the proposal; exit 0."""
    out(propose(kind, schema, office, sample).text)
    return 0
