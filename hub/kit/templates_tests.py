"""The test file of a new adapter package (``simpul adapters new``); placeholders as in ``templates``."""

from __future__ import annotations

TESTS = '''"""Contract tests of the ``__NAME__`` adapter (made by ``simpul adapters new``, green as made)."""

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from hub.errors import SourceUnavailable
from hub.mapping import compile_mapping
from hub.testing.contract import check_config_model, check_source_contract

from __NAME__ import PLUGIN

HERE = Path(__file__).parent
SAMPLE = HERE / "sample.json"
EXAMPLE = tomllib.loads((HERE.parent / "__NAME__" / "mapping.example.toml").read_text(encoding="utf-8"))
ENTRY = EXAMPLE["sources"][0]


def test_config_model_is_strict_and_described() -> None:
    """The config model forbids unknown keys and describes every field."""
    check_config_model(PLUGIN)


def test_example_mapping_compiles() -> None:
    """The example mapping in mapping.example.toml is valid."""
    assert compile_mapping(ENTRY["mapping"]).version == "__NAME__/1"


async def test_source_contract(tmp_path: Path) -> None:
    """Records reach a sink through a node, only the hub commits, and nothing is emitted twice."""
    sample = tmp_path / "sample.json"
    shutil.copy(SAMPLE, sample)
    config = {"path": str(sample)}
    report = await check_source_contract(
        PLUGIN, config, schema=ENTRY["schema"], expect_records=3, mapping=ENTRY["mapping"]
    )
    assert report.applied == 3 and report.reread == 0


async def test_missing_file_is_retriable(tmp_path: Path) -> None:
    """A file that is not there yet is SourceUnavailable: the hub backs off instead of stopping."""
    from hub.adapters.model import AdapterContext
    from hub.metrics import Metrics
    from hub.adapters.state import StateStore
    from schemas.envelope import SourceIdentity

    state = StateStore(tmp_path / "state.sqlite3")
    identity = SourceIdentity(system="t", office="pusat", adapter="t")
    context = AdapterContext("t", ENTRY["schema"], identity, state, tmp_path, Metrics())
    source = PLUGIN.factory(PLUGIN.config_model(path=tmp_path / "absent.json"), context)
    with pytest.raises(SourceUnavailable):
        async for _batch in source.read():
            pass
    state.close()


def test_sample_is_valid_json() -> None:
    """The sample holds three records with ids."""
    assert [r["id"] for r in json.loads(SAMPLE.read_text(encoding="utf-8"))] == ["1", "2", "3"]
'''
