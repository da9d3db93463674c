"""``tools/import_cycles.py``, the figure behind "import cycles in hub": every strongly connected
component of two or more modules, TYPE_CHECKING imports included, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools.import_cycles import cycles, main


def _package(root: Path, modules: dict[str, str]) -> None:
    pkg = root / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, body in modules.items():
        (pkg / f"{name}.py").write_text(body)


def test_counts_each_knot_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(
        tmp_path,
        {
            "a": "from cyclepkg import b\n",
            "b": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyclepkg import a\n",
            "c": "from cyclepkg import d\n",
            "d": "from cyclepkg import e\n",
            "e": "def f():\n    from cyclepkg import c\n",
            "lone": "from cyclepkg import a\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles("cyclepkg") == [
        ["cyclepkg.a", "cyclepkg.b"],
        ["cyclepkg.c", "cyclepkg.d", "cyclepkg.e"],
    ]
    assert main(["cyclepkg"]) == 1
    sys.modules.pop("cyclepkg", None)


def test_an_acyclic_package_has_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(tmp_path, {"a": "from cyclepkg import b\n", "b": "import json\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles("cyclepkg") == [] and main(["cyclepkg"]) == 0
    sys.modules.pop("cyclepkg", None)
