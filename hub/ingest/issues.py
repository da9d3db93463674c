"""What a refusal says, and what it may echo back.

- ``issues_from``: field issues from a pydantic error, without the submitted values;
- ``mask_name``: a name the caller chose (a key, a path segment) made safe to echo, as values are;
- ``masked_notes``: mapping notes about a personal field (a schema PII path) with their raw text masked;
- ``unstorable``: the refusal of text a warehouse cannot store exactly (U+0000, lone surrogates).

Pure functions, used on the way in (validation, HTTP items), at the sink, by redrive and by the faces that
answer callers. Imports only ``hub.errors`` and ``schemas``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from hub.errors import FieldIssue, RecordError, ValidationFailed
from schemas.envelope import Note
from schemas.pii import MASK, redact_text

NAME_CAP = 64
_DIGIT_RUN = re.compile(r"\d{6,}")


def mask_name(name: str) -> str:
    """A name the caller chose (a key, a path segment) made safe to echo, as values are: NIK-like and
    phone-like numbers redacted, any other run of six or more digits replaced by ``[ANGKA]``, characters
    that do not print (control bytes, NUL, surrogates) shown as ``?``, cut to ``NAME_CAP`` characters.
    Names the schemas define pass unchanged."""
    if name.isidentifier() and len(name) <= NAME_CAP and not any(c.isdigit() for c in name):
        return name  # the common case (a schema's own field name), without a regex
    masked = _DIGIT_RUN.sub("[ANGKA]", redact_text(name))
    masked = "".join(c if c.isprintable() else "?" for c in masked)
    return masked if len(masked) <= NAME_CAP else masked[: NAME_CAP - 3] + "..."


def issues_from(exc: ValidationError, prefix: str = "") -> list[FieldIssue]:
    """Field issues from a pydantic error, built without the submitted values; key names in ``loc``
    (which the caller may have chosen: an unknown field) are masked by ``mask_name``."""
    issues = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(part) if isinstance(part, int) else mask_name(part) for part in err["loc"])
        issues.append(
            FieldIssue(f"{prefix}{loc}" if loc else prefix.rstrip(".") or "$", err["type"], err["msg"])
        )
    return issues


# The envelope fields a sender chose, with the name the sender knows them by (the rest are derived).
_SENDER_FIELDS = {"payload": "data", "source_record_id": "id", "correlation_id": "correlation_id"}


def _unstorable_text(text: str) -> bool:
    """True if PostgreSQL ``text`` cannot hold ``text``: it has U+0000 or a lone surrogate (not UTF-8)."""
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def _unstorable_locs(value: Any, loc: str) -> list[str]:
    if isinstance(value, str):
        return [loc] if _unstorable_text(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            name = f"{loc}.{mask_name(str(key))}"  # mask_name shows NUL and surrogates as "?"
            found.extend([name] if _unstorable_text(str(key)) else _unstorable_locs(inner, name))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found.extend(_unstorable_locs(inner, f"{loc}.{i}"))
    return found


def unstorable(data: dict[str, Any]) -> RecordError | None:
    """The refusal of an envelope (its JSON form) with text a warehouse cannot store exactly, naming
    each field (as the sender named it: ``data.uraian``, ``id``); None if there is none. Refusing at
    ingest keeps every sink storing what was accepted (PostgreSQL refuses NUL; SQLite would keep it)."""
    locs = [loc for field, name in _SENDER_FIELDS.items() for loc in _unstorable_locs(data.get(field), name)]
    if not locs:
        return None
    return ValidationFailed(
        "text holds U+0000 (NUL) or a lone surrogate, which the warehouses cannot store",
        issues=[
            FieldIssue(loc, "unstorable_text", "U+0000 and lone surrogates are not allowed in text")
            for loc in locs
        ],
    )


def masked_notes(notes: Sequence[Note], pii_paths: Sequence[str]) -> tuple[Note, ...]:
    """``notes`` with the raw text of a note about a personal field (a schema PII path) masked."""
    personal = {p.lower() for p in pii_paths}
    out = []
    for note in notes:
        loc = ".".join("*" if part.isdigit() else part for part in note.loc.lower().split("."))
        if loc in personal or loc.rsplit(".", 1)[0] in personal:
            head, marker, _ = note.detail.partition("raw text: ")
            note = note.model_copy(update={"detail": f"{head}{marker}{MASK}" if marker else note.detail})
        out.append(note)
    return tuple(out)
