"""The escape hatch: ``"python": "package.module:function"`` in a rule or at the top of a mapping.

A field function is called as ``fn(value, raw)``: ``value`` is what the rule's own source and steps
produced (None for a rule with no path), ``raw`` the whole raw record (read-only by convention); its
return value is the field's value. A top-level function is called as ``fn(payload, raw)`` after all
fields and may change the payload in place or return a new dict. To report a bad record, raise
``hub.errors.MappingError`` with ``FieldIssue``s (without values); any other exception is reported as
``python_failed`` naming only the function and the exception class, since its message may hold a value.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from hub.errors import ConfigError, MappingError
from hub.mapping.issues import fail


def load_function(ref: str, key: str) -> Callable[..., Any]:
    """Import ``package.module:function`` now, so a typo fails when the config is checked."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ConfigError("must have the form 'package.module:function'", key=key)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r} ({exc})", key=key) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ConfigError(f"{module_name!r} has no function {attribute!r}", key=key)
    return function  # type: ignore[no-any-return]


def call_function(function: Callable[..., Any], ref: str, *args: Any) -> Any:
    """Call a mapping function, turning its failures into a value-free mapping issue."""
    try:
        return function(*args)
    except MappingError:
        raise
    except Exception as exc:
        fail("python_failed", f"{ref} raised {type(exc).__name__}")
