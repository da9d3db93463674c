"""The identity of proposed records for ``simpul mapping propose``: which source id, revision and report
time the mapping reads (``identity``).

- **id**: the adapter's own record id when every sample record has one and it is stable (not file_drop's
  fallback ``<digest>/<sheet>/<row>``, which changes with each new export); else the columns the schema's
  identity fields were matched to, if together they are distinct in every record; else an id-like column
  distinct in every record (a running number 1..n is not one; a personal column never is); else a TODO.
- **revision**: the adapter's own when every record has one; else a change-stamp column that parses as a
  datetime; else the mapped content (``from_content``).
- **reported_at**: the form's own timestamp column when it parses; else the time the record was read.

Imports ``hub.model`` and the other ``hub.kit.propose_*`` modules only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hub.kit.propose_fields import _present
from hub.kit.propose_names import _ID_WORDS, _STAMP, _UPDATED, words
from hub.kit.propose_render import toml_value
from hub.kit.propose_values import _Trial
from hub.model.records import SourceRecord


def identity(
    mapping: dict[str, Any],
    *,
    identity_fields: Sequence[str],
    records: Sequence[SourceRecord],
    rows: Sequence[dict[str, Any]],
    columns: dict[str, list[Any]],
    personal: set[str],
    trial: _Trial,
) -> dict[str, str]:
    """Add ``id``, ``revision`` and ``reported_at`` rules to ``mapping`` (its ``fields`` already matched)
    where the sample calls for them; returns the comments for ``$id``, ``$revision`` and ``$reported_at``.
    ``rows`` are the sample records flattened, ``columns`` their values by source path, ``personal`` the
    columns matched to NIK or passport fields."""
    comments: dict[str, str] = {}
    if records and all(r.source_record_id for r in records) and _adapter_id_stable(records):
        comments["$id"] = "the adapter's record id"
    else:
        column = _identity_column(mapping, identity_fields, rows) or _id_column(rows, columns, personal)
        if column is not None:
            mapping["id"] = column
            comments["$id"] = f"{toml_value(column)}: distinct in every record"
        else:
            comments["$id"] = "TODO: no column is distinct in every record; the adapter's id is used"
    if records and all(r.revision is not None for r in records):
        comments["$revision"] = "the adapter's revision"
    else:
        stamp = next((c for c in columns if _UPDATED.search(c)), None)
        if stamp is not None and trial.works({"path": stamp, "parse": "datetime"})[0]:
            mapping["revision"] = {"path": stamp, "parse": "datetime"}
            comments["$revision"] = f"change stamp {stamp!r}"
        else:
            mapping["revision"] = {"from_content": True}
            comments["$revision"] = (
                "the source has no change stamp: the revision follows the mapped content (kept in the "
                "source's state), so a later status change arrives as a newer revision, not a conflict"
            )
    stamp = next((c for c in columns if _STAMP.search(c)), None)
    if stamp is not None:
        rule = {"path": stamp, "parse": "datetime"}
        if trial.works(rule)[0]:
            mapping["reported_at"] = rule
            comments["$reported_at"] = f"the source's own report time {stamp!r}"
    comments.setdefault("$reported_at", "not mapped: the hub uses the time the record was read")
    return comments


def _adapter_id_stable(records: Sequence[SourceRecord]) -> bool:
    # file_drop's fallback id (<digest>/<sheet>/<row>) changes with every new export of a register.
    first = records[0].source_record_id or ""
    return not re.fullmatch(r"[0-9a-f]{16}(/.*)?/\d+", first)


def _identity_column(
    mapping: dict[str, Any], identity_fields: Sequence[str], rows: Sequence[dict[str, Any]]
) -> str | dict[str, str] | None:
    """The columns the schema's identity fields were matched to (``nomor_kasus``; ``tahun_anggaran`` +
    ``singkatan_partai``), as a path or a template, if together they are distinct in every record."""
    paths = [mapping["fields"].get(f, {}).get("path") for f in identity_fields]
    paths = [p for p in paths if isinstance(p, str)]
    if not paths:
        return None
    keys = []
    for row in rows:
        parts = [row.get(p) for p in paths]
        if not all(_present(v) for v in parts):
            return None
        keys.append("/".join(str(v).strip() for v in parts))
    if len(set(keys)) != len(rows):
        return None
    return paths[0] if len(paths) == 1 else {"template": "/".join(f"{{{p}}}" for p in paths)}


def _id_column(
    rows: Sequence[dict[str, Any]], columns: dict[str, list[Any]], personal: set[str]
) -> str | None:
    n = len(rows)
    candidates = []
    for column, values in columns.items():
        present = [str(v).strip() for v in values if _present(v)]
        if len(present) != n or len(set(present)) != n or n == 0 or column in personal:
            continue
        w = set(words(column))
        running = all(p.isdigit() for p in present) and [int(p) for p in present] == list(range(1, n + 1))
        rank = (0 if w & _ID_WORDS and not running else 1 if _STAMP.search(column) else 2, column)
        candidates.append(rank)
    candidates.sort()
    return candidates[0][1] if candidates and candidates[0][0] < 2 else None
