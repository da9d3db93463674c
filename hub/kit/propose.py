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
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hub.adapters.model import SampleRead
from hub.adapters.registry import get as get_adapter
from hub.errors import ConfigError, MappingError
from hub.mapping import compile_mapping
from hub.mapping.countries import parse_country
from hub.mapping.paths import loose_key
from hub.mapping.spec import DEFAULT_NONE_VALUES
from hub.model.records import SourceRecord
from schemas.catalog import annotation_text
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity
from schemas.pii import nested_models

# Words that mean the same in the column names of regional systems (Indonesian, English, abbreviations).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nomor": ("no", "nomor", "nomer", "number", "num", "nr", "noreg", "nosurat"),
    "tanggal": ("tgl", "tanggal", "tangal", "date", "tg"),
    "waktu": ("waktu", "time", "jam", "pukul", "timestamp", "stempel", "cap"),
    "nama": ("nama", "name", "nm"),
    "paspor": ("paspor", "passport", "pasport", "passpor"),
    "nik": ("nik", "ktp", "no_ktp"),
    "kewarganegaraan": (
        "kewarganegaraan",
        "warganegara",
        "nationality",
        "kebangsaan",
        "negara",
        "wn",
        "citizenship",
        "country",
        "asal_negara",
    ),
    "kecamatan": ("kecamatan", "kec", "distrik", "district", "subdistrict"),
    "kabkota": ("kabkota", "kabupaten", "kota", "kab", "regency", "city", "kabupatenkota"),
    "desa": ("desa", "kelurahan", "kel", "village", "kampung"),
    "provinsi": ("provinsi", "prov", "province", "propinsi"),
    "wilayah": ("wilayah", "region", "lokasi", "location", "tempat", "daerah", "kodewilayah"),
    "kode": ("kode", "code", "kd"),
    "status": ("status", "state", "keadaan"),
    "judul": ("judul", "title", "topik"),
    "mulai": ("mulai", "start", "awal", "dari", "from", "begin"),
    "selesai": ("selesai", "end", "akhir", "sampai", "until", "berakhir", "finish", "sd"),
    "kegiatan": ("kegiatan", "activity", "aktivitas", "acara"),
    "pengajuan": ("pengajuan", "permohonan", "daftar", "pendaftaran", "application", "submitted", "masuk"),
    "terbit": ("terbit", "issued", "diterbitkan", "penerbitan"),
    "institusi": (
        "institusi",
        "instansi",
        "institution",
        "universitas",
        "lembaga",
        "asal",
        "kampus",
        "organisasi",
    ),
    "jumlah": ("jumlah", "jml", "count", "total", "banyak"),
    "uraian": (
        "uraian",
        "deskripsi",
        "description",
        "keterangan",
        "ket",
        "kronologi",
        "kronologis",
        "catatan",
        "notes",
        "isi",
    ),
    "jenis": ("jenis", "type", "kind", "tipe", "kategori", "category", "klasifikasi"),
    "tim": ("tim", "team", "anggota", "peneliti"),
    "periode": ("periode", "period", "masa"),
    "nilai": ("nilai", "value", "amount", "besaran", "nominal", "dana", "anggaran", "rp", "rupiah", "biaya"),
    "partai": ("partai", "parpol", "party"),
    "tahun": ("tahun", "year", "thn", "th"),
    "laporan": ("laporan", "report", "lapor"),
    "sumber": ("sumber", "source", "informasi", "info"),
    "pelapor": ("pelapor", "reporter", "responden"),
    "izin": ("izin", "ijin", "permit", "skp"),
    "registrasi": ("registrasi", "register", "reg", "skt", "ahu", "pendaftaran_ormas"),
    "tinggal": ("tinggal", "stay", "residence", "keimigrasian"),
    "mengungsi": ("mengungsi", "ngungsi", "pengungsi", "displaced", "mengungsi"),
    "anonim": ("anonim", "anonymous", "rahasiakan", "dirahasiakan", "rahasia", "disamarkan"),
    "kerugian": ("kerugian", "loss", "kerusakan", "rugi"),
    "lon": ("lon", "lng", "long", "longitude", "bujur"),
    "lat": ("lat", "latitude", "lintang"),
    "korban": ("korban", "victim", "victims"),
    "meninggal": ("meninggal", "md", "tewas", "died", "dead"),
    "luka": ("luka", "injured", "lb", "lr"),
    "suara": ("suara", "votes", "vote"),
    "pemilih": ("pemilih", "voters", "dpt"),
}
_CANON = {word: canon for canon, words in _SYNONYMS.items() for word in words}
_NOISE = {"token", "kode_wilayah", "data", "the", "of", "dan", "yang", "di", "ke"}
_GENERIC = {"tanggal", "nomor", "waktu", "jumlah", "nama", "kode"}
_ID_WORDS = {"nomor", "kode", "id", "registrasi", "izin"}
_STAMP = re.compile(r"timestamp|stempel|cap_waktu|submitted|dikirim|waktu_isi", re.I)
_UPDATED = re.compile(r"updated|modified|diubah|diperbarui|tgl_update|last_update|tgl_ubah", re.I)
_PERSONAL = {"pelapor", "reporter", "email", "telepon", "telp", "phone", "hp", "wa", "whatsapp", "nik", "ttl"}
_ZERO_DATES = ["0000-00-00", "0000-00-00 00:00:00"]
ENUM_MAX = 12


def words(name: str) -> list[str]:
    """Canonical words of a field or column name (``tgl_terbit`` -> ``tanggal``, ``terbit``)."""
    parts = [p for p in re.split(r"[^0-9a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).casefold()) if p]
    return [_CANON.get(p, p) for p in parts if p not in _NOISE]


def name_score(target: str, column: str) -> float:
    """How well a column name fits a target path: shared canonical words, the field's own last word
    weighing double; 0 when the last word is not among the column's words."""
    t = words(target.replace(".", "_"))
    if not t:
        return 0.0
    c = set(words(column))
    leaf = t[-1]
    exact = loose_key(target.rsplit(".", 1)[-1]) == loose_key(column)
    # The field's own last word must be there, unless the column says nothing beyond the field's words
    # but generic ones ("singkatan" for singkatan_partai, "tgl_berlaku" for berlaku_sampai).
    specific = c - _GENERIC
    relaxed = leaf not in _ID_WORDS and bool(specific) and specific <= set(t)
    if leaf not in c and not exact and not relaxed:
        return 0.0
    score = sum(2.0 if w == leaf else 1.0 for w in set(t) if w in c) / (len(set(t)) + 1)
    return score + (1.0 if exact else 0.0) - 0.01 * len(c - set(t))  # fewer unrelated words: closer


@dataclass
class Target:
    """One leaf field of the schema."""

    path: str
    kind: str
    required: bool
    annotation: Any
    choices: list[str] = field(default_factory=list)


def _enum_of(annotation: Any) -> type[Enum] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    for arg in typing.get_args(annotation):
        found = _enum_of(arg)
        if found is not None:
            return found
    return None


def _kind(text: str, annotation: Any) -> str:
    base = text.replace(" | None", "").strip()
    listed = base.startswith("list[")
    inner = base[5:-1] if listed else base
    kinds = {
        "KodeWilayah": "region", "NikToken": "nik", "PasporToken": "passport", "CountryCode": "country",
        "date": "date", "AwareDatetime": "datetime", "datetime": "datetime", "int": "int",
        "NonNegInt": "int", "Rupiah": "rupiah", "Decimal": "decimal", "Percent": "decimal", "bool": "bool",
        "FreeText": "freetext", "Latitude": "coord", "Longitude": "coord",
    }  # fmt: skip
    kind = kinds.get(inner) or ("enum" if _enum_of(annotation) else "text")
    return f"list_{kind}" if listed else kind


def targets(model: type[BaseModel], prefix: str = "", required: bool = True) -> Iterator[Target]:
    """Every leaf field of a schema model (nested models flattened to dotted paths; a list of models is
    one target of kind ``objects``)."""
    for name, info in model.model_fields.items():
        path = prefix + name
        nested = list(nested_models(info.annotation))
        if nested:
            step, sub = nested[0]
            if step:  # a list of objects
                yield Target(path, "objects", info.is_required() and required, sub)
            else:
                yield from targets(sub, path + ".", info.is_required() and required)
            continue
        text = annotation_text(model, name)
        enum = _enum_of(info.annotation)
        choices = [str(m.value) for m in enum] if enum else []
        yield Target(
            path, _kind(text, info.annotation), info.is_required() and required, info.annotation, choices
        )


def flatten(raw: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf source paths of a raw record: nested objects dotted, lists kept whole."""
    out: dict[str, Any] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                out.update(flatten(value, path + "."))
            else:
                out[path] = value
    return out


def _present(value: Any) -> bool:
    return value is not None and not (
        isinstance(value, str) and value.strip().casefold() in ("", "-", "null", "none", "nil", "n/a")
    )


@dataclass
class Proposal:
    """The proposed ``[[sources]]`` block and, per schema field, how it was matched."""

    block: dict[str, Any]
    comments: dict[str, str]
    read: SampleRead
    text: str = ""


class _Trial:
    """Candidate rules tried on every sample record with the hub's compiler."""

    def __init__(self, records: list[SourceRecord], none_values: list[str]) -> None:
        self.records = records
        self.none_values = none_values

    def outcome(self, rule: dict[str, Any]) -> tuple[int, int, list[Any]]:
        """(records with a value, records with an issue, the values) of ``rule`` over the sample."""
        spec = {"version": "trial", "fields": {"v": rule}, "none_values": self.none_values}
        try:
            mapper = compile_mapping(spec)
        except ConfigError:
            return 0, len(self.records) or 1, []
        filled = bad = 0
        values: list[Any] = []
        for record in self.records:
            result = mapper.evaluate(record)
            if result.skipped is not None:
                continue
            if any(i.loc.startswith("v") for i in result.issues):
                bad += 1
            elif "v" in result.payload:
                filled += 1
                values.append(result.payload["v"])
        return filled, bad, values

    def works(self, rule: dict[str, Any]) -> tuple[bool, int]:
        filled, bad, _ = self.outcome(rule)
        return filled > 0 and bad == 0, filled


TEST_ROW = r"^(test|tes|testing)\b|\babaikan\b|\b(uji )?coba\b|\bdummy\b"
"""A cell of a test submission ("TEST - abaikan", "uji coba formulir"): searched case-folded."""


def _test_rows(records: list[SourceRecord]) -> tuple[tuple[dict[str, Any], int] | None, list[SourceRecord]]:
    """A skip rule for rows that look like test submissions, and the records it leaves (what the mapping
    will see). The rule tests one text column: of those matching in some rows but fewer than half, the
    one matching fewest rows, then the one with the shortest values (a title rather than a description).
    Rows are tested with the hub's own compiler, so the rule proposed is the rule that runs."""
    pattern = re.compile(TEST_ROW, re.I)
    columns: dict[str, list[str]] = {}
    for record in records:
        for key, value in flatten(record.raw).items():
            if isinstance(value, str) and _present(value):
                columns.setdefault(key, []).append(" ".join(value.casefold().split()))
    ranked = []
    for column, values in columns.items():
        hits = sum(1 for v in values if pattern.search(v))
        if hits and 2 * hits < len(records) and not _PERSONAL & set(words(column)):
            ranked.append((hits, sum(map(len, values)) / len(values), column))
    if not ranked:
        return None, records
    column = min(ranked)[2]
    rule = {"reason": "test submission", "when": {"path": column, "matches": TEST_ROW}}
    mapper = compile_mapping({"version": "trial", "fields": {"v": {"const": 1}}, "skip": [rule]})
    kept = [r for r in records if mapper.skip_reason(r) is None]
    return (rule, len(records) - len(kept)), kept


def _distinct(columns: dict[str, list[Any]], column: str) -> list[str]:
    seen: dict[str, None] = {}
    for value in columns[column]:
        if _present(value):
            seen.setdefault(" ".join(str(value).split()), None)
    return list(seen)


# Words that turn a value into its opposite: "TIDAK AKTIF" is not `aktif`, "Sudah LPJ" is not `belum_lpj`.
_NEGATIONS = frozenset({"tidak", "belum", "bukan", "tak", "non", "not"})


def _enum_map(values: list[str], choices: list[str]) -> tuple[dict[str, str], list[str]]:
    """Source value -> enum member by words; the values no member fits. A value and a member that
    disagree on a negation word never match by their other words: a wrong code that validates is worse
    than a TODO."""
    table: dict[str, str] = {}
    missing: list[str] = []
    for value in values:
        v = set(words(value))
        best, best_score = None, 0.0
        for choice in choices:
            c = set(words(choice))
            if loose_key(value) == loose_key(choice):
                best, best_score = choice, 9.0
                break
            if (v & _NEGATIONS) != (c & _NEGATIONS):
                continue
            shared = len(v & c) + sum(
                0.5 for a in v for b in c if a != b and len(a) >= 4 and len(b) >= 4 and (a in b or b in a)
            )
            if shared > best_score:
                best, best_score = choice, shared
        if best is None:
            missing.append(value)
        else:
            table[value] = best
    return table, missing


def _country_code(value: str) -> str | None:
    """The ISO code the mapping's ``parse = "country"`` gives ``value``, or None."""
    try:
        return parse_country(value)
    except MappingError:
        return None


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

    def identity(self, mapping: dict[str, Any]) -> None:
        records = self.records
        if records and all(r.source_record_id for r in records) and self._adapter_id_stable():
            self.comments["$id"] = "the adapter's record id"
        else:
            column = self._identity_column(mapping) or self._id_column()
            if column is not None:
                mapping["id"] = column
                self.comments["$id"] = f"{toml_value(column)}: distinct in every record"
            else:
                self.comments["$id"] = "TODO: no column is distinct in every record; the adapter's id is used"
        if records and all(r.revision is not None for r in records):
            self.comments["$revision"] = "the adapter's revision"
        else:
            stamp = next((c for c in self.columns if _UPDATED.search(c)), None)
            if stamp is not None and self.trial.works({"path": stamp, "parse": "datetime"})[0]:
                mapping["revision"] = {"path": stamp, "parse": "datetime"}
                self.comments["$revision"] = f"change stamp {stamp!r}"
            else:
                mapping["revision"] = {"from_content": True}
                self.comments["$revision"] = (
                    "the source has no change stamp: the revision follows the mapped content (kept in the "
                    "source's state), so a later status change arrives as a newer revision, not a conflict"
                )
        stamp = next((c for c in self.columns if _STAMP.search(c)), None)
        if stamp is not None:
            rule = {"path": stamp, "parse": "datetime"}
            if self.trial.works(rule)[0]:
                mapping["reported_at"] = rule
                self.comments["$reported_at"] = f"the source's own report time {stamp!r}"
        self.comments.setdefault("$reported_at", "not mapped: the hub uses the time the record was read")

    def _adapter_id_stable(self) -> bool:
        # file_drop's fallback id (<digest>/<sheet>/<row>) changes with every new export of a register.
        first = self.records[0].source_record_id or ""
        return not re.fullmatch(r"[0-9a-f]{16}(/.*)?/\d+", first)

    def _identity_column(self, mapping: dict[str, Any]) -> str | dict[str, str] | None:
        """The columns the schema's identity fields were matched to (``nomor_kasus``; ``tahun_anggaran`` +
        ``singkatan_partai``), as a path or a template, if together they are distinct in every record."""
        paths = [mapping["fields"].get(f, {}).get("path") for f in self.spec.identity]
        paths = [p for p in paths if isinstance(p, str)]
        if not paths:
            return None
        keys = []
        for row in self.rows:
            parts = [row.get(p) for p in paths]
            if not all(_present(v) for v in parts):
                return None
            keys.append("/".join(str(v).strip() for v in parts))
        if len(set(keys)) != len(self.rows):
            return None
        return paths[0] if len(paths) == 1 else {"template": "/".join(f"{{{p}}}" for p in paths)}

    def _id_column(self) -> str | None:
        n = len(self.rows)
        candidates = []
        for column, values in self.columns.items():
            present = [str(v).strip() for v in values if _present(v)]
            if len(present) != n or len(set(present)) != n or n == 0 or column in self.personal:
                continue
            w = set(words(column))
            running = all(p.isdigit() for p in present) and [int(p) for p in present] == list(range(1, n + 1))
            rank = (0 if w & _ID_WORDS and not running else 1 if _STAMP.search(column) else 2, column)
            candidates.append(rank)
        candidates.sort()
        return candidates[0][1] if candidates and candidates[0][0] < 2 else None

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
        self.identity(mapping)
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


def _paths_in(rule: Any) -> set[str]:
    if isinstance(rule, dict):
        found: set[str] = set()
        for key, value in rule.items():
            if key in ("path", "code", "provinsi", "kabkota", "kecamatan", "desa") and isinstance(value, str):
                found.add(value)
            else:
                found |= _paths_in(value)
        return found
    if isinstance(rule, list):
        return set().union(*(_paths_in(v) for v in rule)) if rule else set()
    return set()


def norm_key(value: str) -> str:
    """A value-map key as the mapping compares it (case and repeated spaces ignored)."""
    return " ".join(value.casefold().split())


def _times(values: list[Any]) -> bool:
    present = [str(v).strip() for v in values if _present(v)]
    return bool(present) and all(
        re.fullmatch(r"\d{1,2}[.:]\d{2}([.:]\d{2})?( ?WI[BT]A?)?", p) for p in present
    )


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{2}(\.\d{2}){0,2}(\.\d{4})?", value) is not None


def _how(kind: str, rule: dict[str, Any]) -> str:
    how = rule.pop("_why", None) or _how_by_rule(kind, rule)
    note = rule.pop("_note", None)
    return f"{how}; {note}" if note else how


def _how_by_rule(kind: str, rule: dict[str, Any]) -> str:
    if kind == "country":
        return "country names -> ISO 3166 alpha-2 (parse = country: CLDR names via Babel)"
    if "split" in rule and "map" not in rule:
        return "split into a list" + (" of kode wilayah" if kind == "list_region" else "")
    if "map" in rule:
        return "value map onto the schema's codes (the values seen, and every code by its label)"
    if "region" in rule:
        return "resolves inside the office"
    if rule.get("parse") == "date_range":
        return f"every value is a period; its {rule['part']}"
    if "parse" in rule:
        return f"every value parses as {rule['parse']}"
    if "pii" in rule:
        return {"nik": "NIKs check; stored as tokens", "passport": "passport numbers; stored as tokens"}.get(
            rule["pii"], "free text, NIKs and phone numbers redacted"
        )
    return "text"


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


# --- TOML out, with a comment per field ------------------------------------------------------------------

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """One TOML value, inline (tables as inline tables; dates and times as TOML's own)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise ConfigError("TOML has no null")
    return json.dumps(str(value), ensure_ascii=False)


def render(proposal: Proposal) -> str:
    """The block as TOML: the adapter config, then the mapping with a comment on every schema field."""
    block, comments = proposal.block, proposal.comments
    mapping = block["mapping"]
    lines = [
        f"# Proposed by `simpul mapping propose` from a {block['kind']} sample: check every line, then put",
        "# this block into the node config and run `simpul check-config` and `simpul mapping test`.",
        "[[sources]]",
    ]
    lines += [f"{k} = {toml_value(block[k])}" for k in ("name", "kind", "schema", "system", "office")]
    lines += [
        "",
        "[sources.config]                      # `simpul adapters show "
        + block["kind"]
        + "` lists every key",
    ]
    for key, value in block["config"].items():
        if value is None:
            continue
        todo = "   # TODO" if isinstance(value, str) and "TODO" in value else ""
        lines.append(f"{toml_key(key)} = {toml_value(value)}{todo}")
    for note in proposal.read.notes:
        lines.append(f"# read: {note}")
    lines += ["", "[sources.mapping]"]
    for key in ("version", "id", "revision", "reported_at", "none_values", "drop", "ignore"):
        if key in mapping:
            comment = comments.get(f"${key}")
            lines.append(f"{key} = {toml_value(mapping[key])}" + (f"   # {comment}" if comment else ""))
        elif f"${key}" in comments:
            lines.append(f"# {key}: {comments[f'${key}']}")
    for rule in mapping.get("skip", []):
        comment = comments.get("$skip")
        lines += ["", "[[sources.mapping.skip]]" + (f"   # {comment}" if comment else "")]
        lines += [f"{key} = {toml_value(value)}" for key, value in rule.items()]
    lines += ["", "[sources.mapping.fields]"]
    fields = mapping["fields"]
    for path, comment in comments.items():
        if path.startswith("$"):
            continue
        if path in fields:
            lines.append(f"{toml_key(path)} = {toml_value(fields[path])}   # {comment}")
        else:
            lines.append(f"# {path}: {comment}")
    return "\n".join(lines) + "\n"


def run_propose(kind: str, schema: str, office: str, sample: Path, out: Callable[[str], Any]) -> int:
    """Print the proposal; exit 0."""
    out(propose(kind, schema, office, sample).text)
    return 0
