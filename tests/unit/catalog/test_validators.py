"""The exported documents pass independent validators: openapi-spec-validator, check-jsonschema against the
JSON Schema meta-schema, and the AsyncAPI parser (npm @asyncapi/parser via node). Each validator is also shown
a broken document, so a validator that accepts anything cannot pass these tests.

The tools are installed by ops/scripts/install-validators.sh (run by ops/scripts/setup.sh)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub.catalog.export import build_documents
from hub.settings import load_settings
from hub.transport.factory import topology_for

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
TOOLS = ROOT / ".tools"
PARSE_ASYNCAPI = ROOT / "tests/fixtures/catalog/validate_asyncapi.js"
INSTALL = "run ops/scripts/install-validators.sh"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue of the kab/kota fixture config (with a link), written to a directory."""
    settings = load_settings(ROOT / "tests/fixtures/catalog/provinsi_link.toml")
    out = tmp_path_factory.mktemp("catalog")
    for relative, body in build_documents(settings, topology_for(settings), region_levels=(1,)).items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(body)
    return out


def _tool(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in the venv: {INSTALL}")
    return str(path)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def test_openapi_document_passes_openapi_spec_validator(exported: Path, tmp_path: Path) -> None:
    """openapi-spec-validator accepts openapi.json and rejects a copy whose path parameter is undeclared."""
    good = _run(_tool("openapi-spec-validator"), str(exported / "openapi.json"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK" in good.stdout
    document: dict[str, Any] = json.loads((exported / "openapi.json").read_text())
    del document["paths"]["/v1/records/{schema}"]["post"]["parameters"]
    broken = tmp_path / "broken-openapi.json"
    broken.write_text(json.dumps(document))
    bad = _run(_tool("openapi-spec-validator"), str(broken))
    assert bad.returncode != 0 and "schema" in bad.stdout + bad.stderr


def test_json_schemas_pass_the_metaschema(exported: Path, tmp_path: Path) -> None:
    """check-jsonschema --check-metaschema accepts every exported schema and rejects a malformed one."""
    files = sorted(str(p) for p in (exported / "schemas").glob("*.schema.json"))
    assert len(files) == 15  # 10 at 1.0.0, 2 at 1.1.0, 2 drafts at 2.0.0, the envelope
    good = _run(_tool("check-jsonschema"), "--check-metaschema", *files)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok -- validation done" in good.stdout
    document = json.loads(Path(files[0]).read_text())
    document["properties"]["kode_wilayah"]["type"] = 12
    broken = tmp_path / "broken.schema.json"
    broken.write_text(json.dumps(document))
    bad = _run(_tool("check-jsonschema"), "--check-metaschema", str(broken))
    assert bad.returncode != 0 and "kode_wilayah" in bad.stdout + bad.stderr


def test_examples_validate_against_their_schemas(exported: Path) -> None:
    """Each schema's own example validates against it with check-jsonschema (draft 2020-12 semantics)."""
    for path in sorted((exported / "schemas").glob("*-*.*.*.schema.json")):
        document = json.loads(path.read_text())
        instance = path.with_suffix(".example.json")
        instance.write_text(json.dumps(document["examples"][0]))
        result = _run(_tool("check-jsonschema"), "--schemafile", str(path), str(instance))
        assert result.returncode == 0, (path.name, result.stdout + result.stderr)


def test_asyncapi_document_passes_the_asyncapi_parser(exported: Path, tmp_path: Path) -> None:
    """@asyncapi/parser parses asyncapi.json without errors and reports a dangling message reference."""
    node = shutil.which("node")
    assert node is not None, f"node is not installed; the AsyncAPI parser needs it ({INSTALL})"
    if not (TOOLS / "node_modules/@asyncapi/parser/package.json").exists():
        pytest.fail(f"@asyncapi/parser is not installed in .tools/: {INSTALL}")
    good = _run(node, str(PARSE_ASYNCAPI), str(TOOLS), str(exported / "asyncapi.json"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines()[-1] == "parsed"
    assert not [line for line in good.stdout.splitlines() if line.startswith("0 ")]
    document = json.loads((exported / "asyncapi.json").read_text())
    del document["components"]["messages"]["ormas_registration_1_0_0"]
    broken = tmp_path / "broken-asyncapi.json"
    broken.write_text(json.dumps(document))
    bad = _run(node, str(PARSE_ASYNCAPI), str(TOOLS), str(broken))
    assert bad.returncode == 1 and "ormas_registration_1_0_0" in bad.stdout
