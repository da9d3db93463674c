"""Conditions on raw source fields: the language of a rule's ``when`` and of the mapping's ``skip`` rules.

A condition tests one source path (read like any rule's path: trimmed, 'no value' texts count as empty):

* ``set = true`` / ``set = false``: the field has a value / has none;
* ``in = [...]``: the value is one of these; ``not_in = [...]``: it is none of these (an empty field holds);
* ``matches = "regex"``: the regular expression is found in the value (case-insensitive).

Values compare as value maps do: case-folded, whitespace collapsed, so ``in = ["Terbit"]`` holds for
"TERBIT ". A list of conditions holds when all hold. Compiled once; evaluation reads only the named paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hub.mapping.parsers import as_text
from hub.mapping.scope import Scope
from hub.mapping.spec import Condition, Conditions

Test = Callable[[Scope], bool]


def norm(value: object) -> str:
    """The key a comparison uses: case-folded, whitespace collapsed."""
    return " ".join(str(value).casefold().split())


def compile_conditions(conditions: Conditions, read: Callable[[str], None]) -> Test:
    """One test holding when every condition holds; ``read(path)`` is told each source path tested."""
    tests = [_compile(c, read) for c in (conditions if isinstance(conditions, list) else [conditions])]
    if len(tests) == 1:
        return tests[0]
    return lambda scope: all(test(scope) for test in tests)


def _compile(condition: Condition, read: Callable[[str], None]) -> Test:
    path = condition.path
    read(path)
    if condition.set is not None:
        wanted = condition.set
        return lambda scope: (scope.value(path) is not None) is wanted
    if condition.in_ is not None:
        among = frozenset(norm(v) for v in condition.in_)
        return lambda scope: _text(scope, path) in among
    if condition.not_in is not None:
        excluded = frozenset(norm(v) for v in condition.not_in)
        return lambda scope: _text(scope, path) not in excluded
    assert condition.matches is not None
    pattern = re.compile(condition.matches, re.IGNORECASE)
    return lambda scope: (text := _text(scope, path)) is not None and pattern.search(text) is not None


def _text(scope: Scope, path: str) -> str | None:
    value = scope.value(path)
    return None if value is None else norm(as_text(value))
