"""``simpul adapters new NAME``: a new, installable adapter package whose tests pass as generated.

Layout under ``DIR/NAME``: ``pyproject.toml`` (with the ``simpul.adapters`` entry point), ``README.md``,
``NAME/__init__.py`` (``PLUGIN``), ``NAME/config.py``, ``NAME/source.py`` (a JSON-file source with a
cursor), ``NAME/mapping.example.toml`` (a ``[[sources]]`` entry with a mapping to the chosen schema),
``tests/sample.json`` (three records built from the schema's example) and ``tests/test_NAME.py`` (the
contract kit). ``tests`` has no ``__init__.py`` on purpose, so it cannot shadow another ``tests`` package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hub.errors import ConfigError
from hub.kit import templates, templates_tests
from schemas.catalog import get as get_schema
from schemas.payloads import EXAMPLES

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _fields(schema: str) -> str:
    """Field lines of the example mapping: every top-level field of the schema's example, from ``data``."""
    return "\n".join(f'{key} = "data.{key}"' for key in EXAMPLES[schema])


def _sample(schema: str) -> str:
    records = [
        {"id": str(n), "updated_at": f"2024-03-0{n} 08:00:00", "data": EXAMPLES[schema]} for n in (1, 2, 3)
    ]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def scaffold(name: str, directory: Path, schema: str = "ormas_registration") -> list[Path]:
    """Write the package for adapter ``name`` into ``directory/name``; the paths written."""
    if not _NAME.match(name) or name in ("hub", "schemas", "adapters", "tests"):
        raise ConfigError(
            "must be a Python package name: lower case, digits, _ (2-40 characters)", key="NAME"
        )
    spec = get_schema(schema)
    root = directory / name
    if root.exists() and any(root.iterdir()):
        raise ConfigError("exists and is not empty", key=str(root))
    fill = {"__NAME__": name, "__DASHNAME__": name.replace("_", "-"), "__SCHEMA__": spec.name}
    files = {
        "pyproject.toml": templates.PYPROJECT,
        "README.md": templates.README,
        f"{name}/__init__.py": templates.INIT,
        f"{name}/config.py": templates.CONFIG,
        f"{name}/source.py": templates.SOURCE,
        f"{name}/mapping.example.toml": templates.MAPPING.replace("__FIELDS__", _fields(spec.name)),
        f"tests/test_{name}.py": templates_tests.TESTS,
    }
    written = []
    for relative, text in files.items():
        for marker, value in fill.items():
            text = text.replace(marker, value)
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    sample = root / "tests" / "sample.json"
    sample.write_text(_sample(spec.name), encoding="utf-8")
    return [*written, sample]
