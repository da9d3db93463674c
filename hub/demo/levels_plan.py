"""The levels demo's world: which nodes exist at which level, and what each office sends.

``single_broker_layout`` puts two kab/kota nodes, their province and pusat in vhosts of one broker;
``plan`` says, record by record, where each must end (pusat, or held at a level) and which hops it must
carry; ``node_settings`` gives each node its config (dev keys, its own office's API key, uplink).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hub.settings import Settings, load_settings
from schemas.catalog import example_payload


@dataclass(frozen=True)
class LevelNode:
    """One node of the demo: its place in the hierarchy and where its broker is."""

    name: str
    level: str
    region: str | None
    amqp: str  # amqp://user:pass@host:port (no vhost)
    management: str
    vhost: str
    parent: str | None = None
    hold: tuple[str, ...] = ("SANGAT_RAHASIA",)

    def url(self) -> str:
        return f"{self.amqp.rstrip('/')}/{quote(self.vhost, safe='')}"


@dataclass(frozen=True)
class Planned:
    """A record the plan sends: where it enters, what it is, and where it must end."""

    node: str
    schema: str
    system: str
    rid: str
    data: dict[str, Any]
    classification: str | None
    ends: str  # "pusat" or the name of the node that holds it
    path: tuple[str, ...]  # nodes whose hops it must carry, in order


def single_broker_layout(amqp: str, management: str, prefix: str = "simpul-levels") -> list[LevelNode]:
    """Two kab/kota nodes, their province and pusat, each in its own vhost of one broker."""

    def node(name: str, level: str, region: str | None, parent: str | None, **kw: Any) -> LevelNode:
        return LevelNode(name, level, region, amqp, management, f"{prefix}-{name}", parent, **kw)

    return [
        node("pusat", "pusat", None, None),
        node("jabar", "provinsi", "32", "pusat", hold=("RAHASIA", "SANGAT_RAHASIA")),
        node("kab-bogor", "kabkota", "32.01", "jabar"),
        node("kota-bandung", "kabkota", "32.73", "jabar"),
    ]


def plan(nodes: list[LevelNode], per_office: int) -> list[Planned]:
    """The records each office sends, with where each must end and which hops it must carry."""
    by_name = {n.name: n for n in nodes}
    out: list[Planned] = []

    def chain(name: str) -> tuple[str, ...]:
        path: list[str] = []
        node: LevelNode | None = by_name[name]
        while node is not None and node.level != "pusat":
            path.append(node.name)
            node = by_name.get(node.parent or "")
        return tuple(path)

    def add(node: LevelNode, schema: str, rid: str, data: dict[str, Any], **how: Any) -> None:
        ends, hops = how.get("ends", "pusat"), how.get("hops", chain(node.name))
        out.append(Planned(node.name, schema, f"sys-{node.name}", rid, data, how.get("cls"), ends, hops))

    for node in nodes:
        if node.level != "kabkota" or node.region is None:
            continue
        kode, own, province = f"{node.region}.01", chain(node.name)[:1], node.parent or ""
        for i in range(per_office):
            ormas = example_payload("ormas_registration") | {"kode_wilayah": kode, "nama": f"Ormas Demo {i}"}
            add(node, "ormas_registration", f"ORM-{i}", ormas)
        report = example_payload("periodic_report") | {"kode_wilayah": node.region, "kantor": node.name}
        add(node, "periodic_report", "LAP-Q1", report)
        add(
            node,
            "periodic_report",
            "LAP-Q2",
            report | {"periode_ke": 2, "status": "draft"},
            ends=node.name,
            hops=own,
        )
        warning = example_payload("early_warning") | {"kode_wilayah": kode}
        add(node, "early_warning", "EW-1", warning, cls="SANGAT_RAHASIA", ends=node.name, hops=own)
        conflict = example_payload("conflict_incident") | {"kode_wilayah": kode}
        add(
            node,
            "conflict_incident",
            "KF-1",
            conflict,
            cls="RAHASIA",
            ends=province,
            hops=chain(node.name)[:2],
        )
    for node in nodes:
        if node.level == "provinsi" and node.region is not None:
            report = example_payload("periodic_report") | {"kode_wilayah": node.region, "kantor": node.name}
            add(node, "periodic_report", "LAP-Q1", report)
    return out


def node_settings(
    node: LevelNode, nodes: list[LevelNode], state: Path, parent_uri: str | None = None
) -> Settings:
    """The settings of one demo node: dev keys, an ephemeral HTTP port, an API key for its own office.
    ``parent_uri`` overrides how its shovel reaches the parent (through a faulty link in the tests)."""
    parent = next((n for n in nodes if n.name == node.parent), None)
    office = node.region or "pusat"
    return load_settings(
        None,
        dev_mode=True,
        node=node.name,
        level=node.level,
        region=node.region,
        state_dir=state / node.name,
        broker={"url": node.url(), "management_url": node.management},
        http={"port": 0, "api_keys": {f"key-{node.name}": {"system": f"sys-{node.name}", "office": office}}},
        batch={"linger_ms": 2},
        sink={"enabled": node.level == "pusat", "sqlite_path": str(state / node.name / "warehouse.sqlite3")},
        uplink={
            "enabled": parent is not None,
            "parent_uri": parent_uri or (parent.url() if parent else "amqp://"),
            "hold_classifications": list(node.hold),
        },
    )
