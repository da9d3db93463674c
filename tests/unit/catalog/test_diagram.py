"""topology.svg: well-formed SVG with every configured level, node, adapter and link, and no credentials."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hub.catalog.diagram import topology_svg
from hub.cli.root import main
from hub.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[3]
LEVELS = [ROOT / f"ops/config/{n}.example.toml" for n in ("pusat", "provinsi", "kabkota")]
FIXTURE = ROOT / "tests/fixtures/catalog/provinsi_link.toml"
SVG = "{http://www.w3.org/2000/svg}"


def groups(svg: str) -> dict[str, ET.Element]:
    """Every <g> of the (parsed, hence well-formed) SVG by id."""
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g")}


def expected_ids(settings: Settings, key: str) -> set[str]:
    """The ids the diagram must hold for one node: the node, each source and sink, the warehouse."""
    ids = {f"node-{key}"}
    ids |= {f"adapter-{key}-{s.name}" for s in settings.sources}
    ids |= {f"adapter-{key}-{s.name}" for s in settings.sinks}
    if settings.sink.enabled:
        ids.add(f"adapter-{key}-warehouse")
    return ids


def test_three_levels_and_a_linked_node() -> None:
    """pusat <- provinsi <- kab/kota by uplink (matched by broker vhost), and the fixture's amqp_sink link
    to a broker outside the configs drawn to an external box named by host only."""
    configs = [load_settings(p) for p in [*LEVELS, FIXTURE]]
    svg = topology_svg(configs)
    found = groups(svg)
    keys = ["pusat-dev", "jabar", "kab-bogor", "kab-bogor-2"]  # the fixture is a second kab-bogor
    for settings, key in zip(configs, keys, strict=True):
        missing = expected_ids(settings, key) - found.keys()
        assert not missing, missing
    assert {"level-pusat", "level-provinsi", "level-kabkota", "level-external"} <= found.keys()
    assert {
        "link-jabar-pusat-dev-uplink",
        "link-kab-bogor-jabar-uplink",
        "link-kab-bogor-2-external-1-amqp_sink",
    } <= found.keys()
    external = "".join(found["external-1"].itertext())
    assert "broker.jabar.example:5671" in external
    assert "office-kab-bogor-kec-cibinong" in found and "adapter-pusat-dev-feed" in found
    for secret in ("secret-password", "link-password", "dev-jabar-not-secret", "dev-kab-bogor-not-secret"):
        assert secret not in svg


@pytest.mark.parametrize("config", sorted((ROOT / "ops/examples").glob("*.toml")), ids=lambda p: p.name)
def test_each_example_config_alone(config: Path) -> None:
    """One config: its node and every adapter, well-formed, the legend and the level band."""
    settings = load_settings(config)
    found = groups(topology_svg([settings]))
    assert expected_ids(settings, settings.node) <= found.keys()
    assert f"level-{settings.level}" in found


def test_cli_export_draws_every_config(tmp_path: Path) -> None:
    """`simpul catalog export DIR --config A --config B ...`: topology.svg holds all of them, linked from
    the HTML and Markdown catalogue."""
    args = ["catalog", "export", str(tmp_path), "--no-desa"]
    for path in LEVELS:
        args += ["--config", str(path)]
    assert main(args) == 0
    found = groups((tmp_path / "topology.svg").read_text(encoding="utf-8"))
    assert {"node-pusat-dev", "node-jabar", "node-kab-bogor", "link-kab-bogor-jabar-uplink"} <= found.keys()
    assert "<img src='topology.svg'" in (tmp_path / "catalog.html").read_text(encoding="utf-8")
    assert "](topology.svg)" in (tmp_path / "catalog.md").read_text(encoding="utf-8")
