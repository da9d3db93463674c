"""Checking a node config given as TOML text, as ``simpul check-config`` does, with per-field problems.

Used by ``POST /v1/admin/config/validate`` and ``simpul check-config``. By default the text is checked as
written: the environment of the process doing the check (``SIMPUL_*`` variables) is *not* applied, so a
running node validating a config for another node does not mix its own overrides in (the CLI asks for
them: it checks what ``simpul run`` would start). Problems name keys and rules, never values (a config
holds passwords and keys).

Each problem is ``{"loc", "line", "message"}``: the dotted key, its line in the text (None when the key is
not written, e.g. a missing one), and what is wrong in plain words, with the nearest valid key for an
unknown one ("did you mean `heartbeat_s`?"). Beyond the settings' own rules, every office and region code
must exist in the kode wilayah reference, and an empty text is no config.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from hub.errors import ConfigError
from hub.settings import Settings, office_exists

Problem = dict[str, Any]


class _AsWritten(Settings):
    """``Settings`` from the given values only: no ``SIMPUL_*`` environment variables."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class ConfigReport:
    """The outcome: ``problems`` empty means valid; then ``summary`` says what the config describes."""

    problems: list[Problem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems

    def lines(self, file: str) -> list[str]:
        """One line per problem: ``file:line: key: message`` (no line number when the key is unwritten)."""
        return [
            f"{file}:{p['line']}: {p['loc']}: {p['message']}"
            if p.get("line")
            else f"{file}: {p['loc']}: {p['message']}"
            for p in self.problems
        ]


def check_config_text(text: str, *, environment: bool = False) -> ConfigReport:
    """Parse and validate ``text``: TOML syntax, every setting, every office code, every adapter config
    and mapping. ``environment``: apply ``SIMPUL_*`` variables as ``simpul run`` would."""
    if not text.strip():
        return ConfigReport([_problem("$", None, "the file is empty; a node config needs at least `node`")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        reason = str(exc)[: at.start()].strip() if at else str(exc)
        return ConfigReport([_problem("$", int(at.group(1)) if at else None, f"not valid TOML ({reason})")])
    if not data:
        return ConfigReport([_problem("$", None, "the file sets nothing; a config needs at least `node`")])
    lines = _key_lines(text)
    problems = _unknown_offices(data, lines)
    try:
        settings: Settings = Settings(**data) if environment else _AsWritten(**data)
    except ValidationError as exc:
        problems += [_from_pydantic(err, lines) for err in exc.errors(include_url=False)]
    if problems:
        return ConfigReport(sorted(problems, key=lambda p: (p["line"] or 0, p["loc"])))
    from hub.adapters.build import check_adapters

    try:
        check_adapters(settings.sources, settings.sinks)
    except ConfigError as exc:
        return ConfigReport([_problem_of(exc, settings, lines)])
    warehouse = ["warehouse"] if settings.sink.enabled else []
    return ConfigReport(
        summary={
            "node": settings.node,
            "level": settings.level,
            "sources": [s.name for s in settings.sources if s.enabled],
            "sinks": warehouse + [s.name for s in settings.sinks if s.enabled],
        }
    )


def _problem(loc: str, line: int | None, message: str) -> Problem:
    return {"loc": loc, "line": line, "message": message}


# --- where a key is written ---------------------------------------------------------------------------

_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)""", key)
    return tuple(next(p for p in part if p) if any(part) else "" for part in parts)


def _key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The line (1-based) each table and key is written on, by path; array-of-tables entries by index
    (``("sources", 0, "office")``). Multi-line values are not followed: good enough to point at a key."""
    found: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            path = _split_key(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(path, -1) + 1
                counts[path] = index
                table = (*path, index)
            else:
                # [sources.config] after [[sources]] belongs to the latest entry
                table = _within_arrays(path, counts)
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*table, *_split_key(key.group(1))), number)
    return found


def _within_arrays(path: tuple[str, ...], counts: dict[tuple[str | int, ...], int]) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in path:
        out.append(part)
        if tuple(out) in counts:
            out.append(counts[tuple(out)])
    return tuple(out)


def _line_of(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    """The line of ``loc`` or, if it is not written itself (a missing key), of its nearest written parent."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


# --- pydantic's errors in plain words ----------------------------------------------------------------------

_PLAIN = {
    "missing": "is required but not given",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "string_type": "must be text (in quotes)",
    "path_type": "must be a file or folder path (text, in quotes)",
    "list_type": "must be a list ([...]) or, for tables, [[...]] entries",
    "dict_type": "must be a table ([section] or { ... })",
    "model_type": "must be a table ([section] or { ... })",
    "model_attributes_type": "must be a table ([section] or { ... })",
    "url_parsing": "must be a URL",
    "url_scheme": "has a URL scheme that is not allowed here",
}


def _from_pydantic(err: Any, lines: dict[tuple[str | int, ...], int]) -> Problem:
    raw_loc: tuple[str | int, ...] = tuple(err["loc"])
    loc = _dotted(raw_loc)
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(raw_loc[-1]) if raw_loc else ""
        message = "is not a setting here"
        suggestion = _nearest(key, raw_loc[:-1])
        if suggestion:
            message += f"; did you mean `{suggestion}`?"
        return _problem(loc, _line_of(raw_loc, lines), message)
    if kind in _PLAIN:
        message = _PLAIN[kind]
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]  # fmt: skip
        bound = next(iter(ctx.values()), "?")
        message = f"must be {words} {bound}"
    elif kind == "literal_error":
        message = f"must be one of {ctx.get('expected', '?')}"
    elif kind == "string_pattern_mismatch":
        message = f"has a form that is not allowed (it must match {ctx.get('pattern', '?')})"
    elif kind in ("string_too_short", "too_short"):
        message = f"must have at least {ctx.get('min_length', '?')} character(s) or item(s)"
    elif kind in ("string_too_long", "too_long"):
        message = f"must have at most {ctx.get('max_length', '?')} character(s) or item(s)"
    elif kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
    else:
        message = str(err["msg"]).replace("Input should be", "must be")
    return _problem(loc or "$", _line_of(raw_loc, lines), message)


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _nearest(key: str, parent: tuple[str | int, ...]) -> str | None:
    """The valid key closest to ``key`` in the table at ``parent`` (None if nothing is close)."""
    model = _model_at(Settings, parent)
    if model is None:
        return None
    names = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.5)
    return close[0] if close else None


def _model_at(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The settings model of the table at ``path`` (list indexes and mapping keys stepped over)."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(part, str):
                return None
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        else:
            args = typing.get_args(annotation)
            if not args:
                return None
            annotation = args[-1]  # list[X] -> X; dict[str, X] -> X
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


# --- codes that must exist -------------------------------------------------------------------------------


def _unknown_offices(data: dict[str, Any], lines: dict[tuple[str | int, ...], int]) -> list[Problem]:
    """Every office and region code written must be ``pusat`` or an existing dotted kode wilayah (read
    from the raw text, so these come out together with every other problem)."""
    http = data.get("http")
    http = http if isinstance(http, dict) else {}
    keys = http.get("api_keys")
    keys = keys if isinstance(keys, dict) else {}
    sources = data.get("sources")
    sources = sources if isinstance(sources, list) else []
    written: list[tuple[tuple[str | int, ...], str, Any]] = [(("region",), "region", data.get("region"))]
    written += [
        (("http", "api_keys", key, "office"), "http.api_keys[...].office", entry.get("office"))
        for key, entry in keys.items()
        if isinstance(entry, dict)  # the key itself is a secret: never named
    ]
    written += [
        (("sources", i, "office"), f"sources[{i}].office", entry.get("office"))
        for i, entry in enumerate(sources)
        if isinstance(entry, dict)
    ]
    problems = []
    for loc, where, code in written:
        if not isinstance(code, str):
            continue  # absent, or not text (the settings' own rules say so)
        if not office_exists(code):
            problems.append(
                _problem(
                    where,
                    _line_of(loc, lines),
                    "is not an existing kode wilayah (write it dotted, e.g. 32.01), nor 'pusat'",
                )
            )
    return problems


def _problem_of(exc: ConfigError, settings: Settings, lines: dict[tuple[str | int, ...], int]) -> Problem:
    """An adapter problem: ``key: message`` split into its location and text where it has one; the line
    is the adapter entry's own (``sources[name]`` -> its ``[[sources]]`` table)."""
    text = str(exc)
    if exc.key is not None:
        loc, message = exc.key, text[len(exc.key) + 2 :]
    else:
        head, sep, rest = text.partition(": ")
        loc, message = (head, rest) if sep and " " not in head else ("$", text)
    line = None
    entry = re.match(r"(sources|sinks)\[([^\]]+)\]\.?(.*)", loc)
    if entry:
        group, name, tail = entry.groups()
        names = [e.name for e in (settings.sources if group == "sources" else settings.sinks)]
        index = names.index(name) if name in names else None
        if index is not None:
            line = _line_of((group, index, *[p for p in tail.split(".") if p]), lines)
    return _problem(loc, line, message)
