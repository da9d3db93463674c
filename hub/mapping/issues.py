"""How mapping code reports a problem: a ``MappingError`` holding one ``FieldIssue`` without a location.

Parsers call :func:`fail`; the field that ran the parser catches the error and re-files its issues under
the target path (``korban.luka``), so a parser never needs to know where it is used. Messages describe the
expected shape only: they never contain the submitted value (it may be a NIK or a name).
"""

from __future__ import annotations

from typing import NoReturn

from hub.errors import FieldIssue, MappingError


def fail(rule: str, message: str) -> NoReturn:
    """Raise a ``MappingError`` for one broken ``rule``; ``message`` must not contain the value."""
    raise MappingError(message, issues=[FieldIssue("", rule, message)])


def relocate(exc: MappingError, loc: str) -> list[FieldIssue]:
    """The issues of ``exc`` filed under ``loc`` (an issue's own sub-location is appended to it)."""
    issues = exc.issues or [FieldIssue("", exc.reason, str(exc))]
    return [FieldIssue(f"{loc}.{i.loc}" if i.loc else loc, i.rule, i.message) for i in issues]
