"""Helpers of the workbench engine: pydantic errors as one line of keys and messages (never an input value),
and answers as plain JSON values.

Imports ``orjson`` and ``pydantic`` only.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

# --- helpers --------------------------------------------------------------------------------------------


def _problems(exc: ValidationError, prefix: str) -> str:
    return "; ".join(
        f"{prefix}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON values: ``Decimal`` as its exact text, dates as ISO text."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
