"""The mapping spec: what a ``[sources.mapping]`` table (TOML) or ``mapping:`` block (YAML) may hold.

Validated with pydantic (unknown keys refused) before anything runs; :func:`parse_spec` turns every problem
into one ``ConfigError`` naming the keys (``fields.status.map: ...``). ``docs/adapters.md`` is the reference
for each key; the models' field descriptions say the same in short.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.errors import ConfigError
from hub.mapping.timezones import AUTO, parse_tz

Parser = Literal[
    "text", "int", "decimal", "rupiah", "bool", "date", "time", "datetime", "epoch_ms", "date_range",
    "years", "end_date", "phone", "country",
]  # fmt: skip
DEFAULT_NONE_VALUES = ("", "-", "--", "—", "–", "n/a", "null", "none", "nil")
_SOURCES = ("path", "const", "template", "region", "rows", "each")
_OPTIONS: dict[str, tuple[str, ...]] = {
    "tz": ("datetime", "epoch_ms"),
    "time": ("datetime", "epoch_ms"),
    "time_default": ("datetime", "epoch_ms"),
    "start": ("end_date",),
    "part": ("date_range",),
}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Spec):
    """A test on one raw source field (after trimming; 'no value' texts count as empty). Exactly one of
    ``set``, ``in``, ``not_in``, ``matches``. Values compare case-folded with whitespace collapsed."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: str = Field(min_length=1, description="Source path tested")
    set: bool | None = Field(None, description="true: the field has a value; false: it has none")
    in_: list[str] | None = Field(None, alias="in", min_length=1, description="The value is one of these")
    not_in: list[str] | None = Field(
        None, min_length=1, description="The value is none of these (an empty field holds too)"
    )
    matches: str | None = Field(None, description="A regular expression found in the value (any case)")

    @model_validator(mode="after")
    def _check(self) -> Condition:
        given = [k for k in ("set", "in_", "not_in", "matches") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a condition has a path and exactly one of set, in, not_in, matches")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches is not a regular expression: {exc}") from None
        return self


Conditions = Condition | list[Condition]
"""One condition, or a list of conditions that must all hold."""


class SkipRule(_Spec):
    """A mapping-level rule dropping a raw row before it becomes a record (a test submission, say)."""

    reason: str = Field(
        min_length=1, max_length=200, description="Why such rows are skipped (shown and logged as written)"
    )
    when: Conditions = Field(description="Condition(s) on source fields; all must hold")

    @field_validator("when")
    @classmethod
    def _not_empty(cls, value: Conditions) -> Conditions:
        if isinstance(value, list) and not value:
            raise ValueError("a skip rule needs at least one condition")
        return value


class ContentRevision(_Spec):
    """``revision = { from_content = true }``: for sources without a change stamp, the revision follows the
    mapped content (kept in source state): the same content keeps its revision, changed content gets a
    higher one (the time it was first seen, in epoch ms, and always above the previous one)."""

    from_content: Literal[True] = Field(description="Derive the revision from the mapped content")


class RegionRule(_Spec):
    """Kode wilayah from region names (resolved level by level inside a scope) and/or a code column."""

    provinsi: str | None = Field(None, description="Source path of the province name")
    kabkota: str | None = Field(None, description="Source path of the kabupaten/kota name")
    kecamatan: str | None = Field(None, description="Source path of the kecamatan (distrik) name")
    desa: str | None = Field(None, description="Source path of the kelurahan/desa name")
    code: str | None = Field(None, description="Source path of a Kemendagri code (dotted or not)")
    within: str = Field("office", description="Scope: 'office' (the sending office), 'none', or a code")
    aliases: dict[str, str] = Field(default_factory=dict, description="Source name -> official name or code")
    min_level: int | None = Field(None, ge=1, le=4, description="Coarsest acceptable level (e.g. 3)")
    bps: Any = Field(None, description="Not supported: BPS codes are not Kemendagri codes")

    @model_validator(mode="after")
    def _check(self) -> RegionRule:
        if self.bps is not None:
            raise ValueError(
                "BPS codes are not supported: no licensed offline BPS-Kemendagri table is shipped and "
                "the two code sets differ (BPS 1101 is Simeulue, Kemendagri 11.01 Aceh Selatan); "
                "map names instead"
            )
        if not any((self.provinsi, self.kabkota, self.kecamatan, self.desa, self.code)):
            raise ValueError("a region rule needs at least one of provinsi, kabkota, kecamatan, desa, code")
        return self


class FieldRule(_Spec):
    """How one target value is made. A plain string is short for ``{path = "..."}``."""

    path: str | list[str] | None = Field(None, description="Source path; a list: several candidates")
    pick: Literal["first", "latest"] = Field("first", description="Of several paths: first non-empty, latest")
    const: Any = Field(None, description="A constant value")
    template: str | None = Field(None, description="Text with {source.path} placeholders")
    region: RegionRule | None = Field(None, description="Kode wilayah from names or a code")
    rows: list[dict[str, FieldRule]] | None = Field(None, description="A list built from flat columns")
    each: FieldRule | None = Field(None, description="A list built from each item of a source list")
    fields: dict[str, FieldRule] | None = Field(None, description="Item fields of `each` (paths per item)")
    skip_empty: bool = Field(True, description="Leave out list items whose source values are all empty")
    python: str | None = Field(None, description="'package.module:function' called as fn(value, raw)")
    uses: list[str] = Field(default_factory=list, description="Source fields a python rule reads (strict)")
    none_values: list[str] | None = Field(None, description="Texts meaning 'no value' (overrides mapping's)")
    split: str | list[str] | None = Field(None, description="Separators cutting text into a list")
    map: dict[str, Any] | None = Field(None, description="Value map; keys 're:...' are regexes, '*' the rest")
    parse: Parser | None = Field(None, description="Parser applied to the value")
    tz: str | None = Field(None, description="Time zone for datetime/epoch_ms (overrides the mapping's)")
    time: str | None = Field(None, description="Source path of a separate time (datetime/epoch_ms)")
    time_default: str | None = Field(None, description="Time used when the source has none, e.g. 00:00")
    start: str | None = Field(None, description="Source path of the start date (end_date)")
    part: Literal["start", "end"] | None = Field(None, description="Which end of a date_range")
    style: Literal["auto", "id", "point"] = Field("auto", description="Decimal style of numbers")
    pii: Literal["nik", "passport", "redact"] | None = Field(None, description="Personal-data handling")
    case: Literal["upper", "lower", "title"] | None = Field(None, description="Change the letter case")
    default: Any = Field(None, description="Value when the source has none")
    required: bool = Field(False, description="A missing value is a mapping error")
    when: Conditions | None = Field(None, description="Set this field only when the condition(s) hold")
    on_unparseable: Literal["quarantine", "unknown"] = Field(
        "quarantine",
        description="A value the map/parse/pii steps refuse: quarantine the record, or leave the field "
        "unknown (null) with the raw text noted in the record's notes",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check(self) -> FieldRule:
        given = [k for k in _SOURCES if k in self.model_fields_set and getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one value source, not {' and '.join(given)}")
        if not given and self.python is None:
            raise ValueError(f"a rule needs a value source ({', '.join(_SOURCES)}) or python")
        if (self.each is None) != (self.fields is None):
            raise ValueError("each and fields go together (fields are read from each item)")
        for option, parsers in _OPTIONS.items():
            if getattr(self, option) is not None and self.parse not in parsers:
                raise ValueError(f"{option} applies to parse = {' or '.join(parsers)} only")
        if self.parse == "date_range" and self.part is None:
            raise ValueError("parse = date_range needs part = 'start' or 'end'")
        if isinstance(self.path, list) and not self.path:
            raise ValueError("path list is empty")
        if isinstance(self.when, list) and not self.when:
            raise ValueError("when is an empty list")
        return self

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is not None:
            parse_tz(value)
        return value

    @property
    def has_const(self) -> bool:
        return "const" in self.model_fields_set

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class OpRule(_Spec):
    """When a record is a withdrawal: a set column (``deleted_at``), or a status among given values."""

    withdraw_when_set: str | None = Field(None, description="Source path; a value there means withdraw")
    path: str | None = Field(None, description="Source path of a status compared with `withdraw`")
    withdraw: list[str] = Field(default_factory=list, description="Status values meaning withdraw")

    @model_validator(mode="after")
    def _check(self) -> OpRule:
        if (self.withdraw_when_set is None) == (self.path is None):
            raise ValueError("give withdraw_when_set, or path with withdraw values")
        if self.path is not None and not self.withdraw:
            raise ValueError("path needs the withdraw values")
        return self


class MappingSpec(_Spec):
    """A declarative mapping from one source's raw records to one payload schema."""

    version: str = Field(
        min_length=1, max_length=64, description="Mapping version (envelope mapping_version)"
    )
    description: str | None = Field(None, description="What this mapping is for (documentation only)")
    id: FieldRule | None = Field(None, description="Source record id (path or template); else the source's")
    revision: ContentRevision | FieldRule | None = Field(
        None,
        union_mode="left_to_right",
        description="Revision (int; datetimes become epoch ms), or { from_content = true }",
    )
    op: OpRule | None = Field(None, description="Withdraw rule; else the source's op")
    occurred_at: FieldRule | None = Field(None, description="When it happened (an aware datetime)")
    reported_at: FieldRule | None = Field(None, description="When the source reported it")
    classification: FieldRule | None = Field(None, description="Classification per record; else the schema's")
    fields: dict[str, FieldRule] = Field(min_length=1, description="Target payload path -> rule")
    strict: bool = Field(False, description="Every source field must be mapped, ignored or dropped")
    ignore: list[str] = Field(default_factory=list, description="Source fields deliberately not mapped")
    drop: list[str] = Field(
        default_factory=list, description="Personal source fields that must never be read"
    )
    timezone: str = Field(AUTO, description="Zone of naive times: auto, office, WIB/WITA/WIT, +07:00, IANA")
    none_values: list[str] = Field(list(DEFAULT_NONE_VALUES), description="Texts meaning 'no value'")
    python: str | None = Field(None, description="'package.module:function' post-processing the payload")
    skip: list[SkipRule] = Field(
        default_factory=list, description="Rows dropped before mapping when a rule's conditions hold"
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        parse_tz(value)
        return value


FieldRule.model_rebuild()


def parse_spec(spec: dict[str, Any]) -> MappingSpec:
    """The validated spec; ``ConfigError`` listing every bad key otherwise."""
    try:
        return MappingSpec.model_validate(spec)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'mapping'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(problems) from None
