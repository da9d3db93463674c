"""The topology diagram of the catalogue: levels, nodes, links and adapters of the given configs, as SVG.

Hand-written SVG (no Graphviz, no fonts or scripts fetched), deterministic, so an export can be committed
and diffed. One horizontal band per level (pusat at the top, then provinsi, kab/kota, kecamatan); one box
per node with its region, its source adapters (``->``), its sinks (``<-``: the warehouse, configured
sinks) and the offices allowed to publish to its broker. Links are arrows from child to parent:

* ``uplink``: a node's ``[uplink]`` (the shovel to its parent level);
* ``amqp_sink``: a configured ``amqp_sink`` sink publishing to another broker.

A link's target is the node whose broker URL has the same host, port and vhost; failing that, for an
uplink, the node one level up whose region contains the child's; failing both, an *external* box named
by the target's host (never its credentials).

Elements carry ids so that tests and tools can find them: ``node-<name>``, ``adapter-<node>-<name>``
(class ``source`` or ``sink``), ``office-<node>-<user>``, ``link-<from>-<to>-<kind>``, ``external-<n>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

from hub.settings import Settings

LEVELS = ("pusat", "provinsi", "kabkota", "kecamatan")
_LEVEL_LABELS = {
    "external": "luar / external",
    "pusat": "pusat",
    "provinsi": "provinsi",
    "kabkota": "kabupaten / kota",
    "kecamatan": "kecamatan",
}
_BOX_W, _HEAD_H, _ROW_H, _GAP_X, _GAP_Y, _LEFT, _TOP = 300, 44, 17, 60, 90, 150, 70
_FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


@dataclass
class _Box:
    """One node (or an external target) placed in a band."""

    key: str
    title: str
    subtitle: str
    level: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (id, css class, text)
    x: int = 0
    y: int = 0

    @property
    def height(self) -> int:
        return _HEAD_H + _ROW_H * len(self.rows) + 10


@dataclass(frozen=True)
class Link:
    """An arrow from ``source`` to ``target`` (node or external keys)."""

    source: str
    target: str
    kind: str  # "uplink" or "amqp_sink"
    label: str


def _endpoint(url: str) -> tuple[str, int, str]:
    """(host, port, vhost) of an AMQP URL; credentials are dropped."""
    parts = urlsplit(url)
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return (parts.hostname or "", port, vhost)


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _contains(parent: Settings, child: Settings) -> bool:
    """True if ``parent`` is one level above ``child`` and its region contains the child's."""
    if LEVELS.index(parent.level) != LEVELS.index(child.level) - 1:
        return False
    if parent.level == "pusat" or parent.region is None:
        return True
    region = child.region or ""
    return region == parent.region or region.startswith(parent.region + ".")


def _keys(configs: Sequence[Settings]) -> list[str]:
    """One key per config: the node name, with ``-2``, ``-3`` ... when configs share a name."""
    keys: list[str] = []
    for settings in configs:
        key, n = settings.node, 1
        while key in keys:
            n += 1
            key = f"{settings.node}-{n}"
        keys.append(key)
    return keys


def _node_box(settings: Settings, key: str) -> _Box:
    region = settings.region or ("seluruh Indonesia" if settings.level == "pusat" else "-")
    title = settings.node if key == settings.node else f"{settings.node} ({key})"
    box = _Box(key, title, f"{settings.level} · wilayah {region}", settings.level)
    if settings.http.api_keys:
        box.rows.append(
            (f"adapter-{key}-http_ingest", "source", f"-> http_ingest ({len(settings.http.api_keys)} keys)")
        )
    for source in settings.sources:
        state = "" if source.enabled else ", off"
        text = f"-> {source.name} ({source.kind}, {source.schema_name}{state})"
        box.rows.append((f"adapter-{key}-{source.name}", "source", text))
    if settings.sink.enabled:
        box.rows.append((f"adapter-{key}-warehouse", "sink", "<- warehouse (sqlite, central queue)"))
    for sink in settings.sinks:
        state = "" if sink.enabled else ", off"
        text = f"<- {sink.name} ({sink.kind}, {', '.join(sink.bindings)}{state})"
        box.rows.append((f"adapter-{key}-{sink.name}", "sink", text))
    if settings.feed.stream:
        box.rows.append(
            (f"adapter-{key}-feed", "sink", f"<- feed stream (retention {settings.feed.max_age})")
        )
    for user in settings.broker_users:
        if user.role in ("source", "consumer"):
            text = f"{'office' if user.role == 'source' else 'reader'} {user.name} ({user.office})"
            box.rows.append((f"office-{key}-{user.name}", "office", text))
    return box


def _links(
    configs: Sequence[Settings], keys: list[str], externals: dict[tuple[str, int, str], _Box]
) -> list[Link]:
    """Every uplink and amqp_sink link, resolved to a node or an external box."""
    links: list[Link] = []

    def target_of(url: str, me: int, uplink: bool) -> str:
        endpoint = _endpoint(url)
        rank = LEVELS.index(configs[me].level)
        matches = [
            (LEVELS.index(s.level), i)
            for i, s in enumerate(configs)
            if i != me and _endpoint(s.broker.url) == endpoint
            and (not uplink or LEVELS.index(s.level) < rank)
        ]  # fmt: skip
        if matches:  # for an uplink, the nearest level above wins
            return keys[max(matches, key=lambda m: (m[0], -m[1]))[1]]
        if uplink:
            parents = [i for i, p in enumerate(configs) if _contains(p, configs[me])]
            if len(parents) == 1:
                return keys[parents[0]]
        box = externals.get(endpoint)
        if box is None:
            host, port, vhost = endpoint
            box = _Box(
                f"external-{len(externals) + 1}",
                f"{host}:{port}",
                f"vhost {vhost} · broker outside these configs",
                "external",
            )
            externals[endpoint] = box
        return box.key

    for me, settings in enumerate(configs):
        if settings.uplink.enabled:
            target = target_of(settings.uplink.parent_uri, me, uplink=True)
            label = f"uplink (shovel to {settings.uplink.parent_exchange})"
            links.append(Link(keys[me], target, "uplink", label))
        for sink in settings.sinks:
            url = sink.config.get("url")
            if sink.kind == "amqp_sink" and isinstance(url, str) and sink.enabled:
                target = target_of(url, me, uplink=False)
                exchange = sink.config.get("exchange", "simpul.ingest")
                links.append(Link(keys[me], target, "amqp_sink", f"{sink.name} (amqp_sink to {exchange})"))
    return links


def _layout(boxes: list[_Box]) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """Place boxes band by band; returns width, height and each band's (y, height)."""
    bands: dict[str, tuple[int, int]] = {}
    y, width = _TOP, 0
    for level in ("external", *LEVELS):
        members = [b for b in boxes if b.level == level]
        if not members:
            continue
        height = max(b.height for b in members)
        for i, box in enumerate(members):
            box.x, box.y = _LEFT + i * (_BOX_W + _GAP_X), y
        width = max(width, _LEFT + len(members) * (_BOX_W + _GAP_X))
        bands[level] = (y, height)
        y += height + _GAP_Y
    return max(width, 700), y - _GAP_Y + 60, bands


def _text(x: int, y: int, text: str, *, size: int = 12, weight: str = "normal", anchor: str = "start") -> str:
    return (
        f"<text x='{x}' y='{y}' {_FONT} font-size='{size}' font-weight='{weight}' "
        f"text-anchor='{anchor}'>{escape(text)}</text>"
    )


def topology_svg(configs: Sequence[Settings], title: str = "Topologi Simpul / Simpul topology") -> str:
    """The SVG of the nodes described by ``configs`` (one ``Settings`` per node)."""
    keys = _keys(configs)
    boxes = [_node_box(s, k) for s, k in zip(configs, keys, strict=True)]
    externals: dict[tuple[str, int, str], _Box] = {}
    links = _links(configs, keys, externals)
    boxes += list(externals.values())
    width, height, bands = _layout(boxes)
    where = {b.key: b for b in boxes}
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label={quoteattr(title)}>",
        f"<title>{escape(title)}</title>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' markerHeight='8' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#444'/></marker></defs>",
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
        _text(20, 32, title, size=18, weight="bold"),
    ]
    for level, (y, band_h) in bands.items():
        out.append(
            f"<g id='level-{level}' class='level'><rect x='10' y='{y - 12}' width='{width - 20}' "
            f"height='{band_h + 24}' fill='#f4f6f8' stroke='#d0d7de' rx='6'/>"
            + _text(20, y + 16, _LEVEL_LABELS[level], size=13, weight="bold")
            + "</g>"
        )
    for box in boxes:
        cls = "external" if box.level == "external" else "node"
        fill = "#fff8e1" if cls == "external" else "#ffffff"
        gid = box.key if cls == "external" else f"node-{_safe_id(box.key)}"
        parts = [
            f"<g id={quoteattr(gid)} class='{cls}'>",
            f"<rect x='{box.x}' y='{box.y}' width='{_BOX_W}' height='{box.height}' rx='6' fill='{fill}' "
            "stroke='#24292f'/>",
            _text(box.x + 10, box.y + 18, box.title, size=14, weight="bold"),
            _text(box.x + 10, box.y + 35, box.subtitle, size=11),
        ]
        for n, (row_id, row_cls, text) in enumerate(box.rows):
            ry = box.y + _HEAD_H + 12 + n * _ROW_H
            shown = text if len(text) <= 46 else text[:45] + "…"
            parts.append(
                f"<g id={quoteattr(_safe_id(row_id))} class='adapter {row_cls}'>"
                f"<title>{escape(text)}</title>{_text(box.x + 14, ry, shown, size=11)}</g>"
            )
        parts.append("</g>")
        out.append("".join(parts))
    seen: dict[str, int] = {}
    for link in links:
        src, dst = where[link.source], where[link.target]
        base = f"link-{_safe_id(link.source)}-{_safe_id(link.target)}-{link.kind}"
        seen[base] = seen.get(base, 0) + 1
        lid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        x1, y1 = src.x + _BOX_W // 2 + 20 * (seen[base] - 1), src.y
        x2, y2 = dst.x + _BOX_W // 2 + 20 * (seen[base] - 1), dst.y + dst.height
        if src.y <= dst.y:  # same band or the target below: leave from the side
            x1, y1 = src.x + _BOX_W, src.y + _HEAD_H // 2
            x2, y2 = dst.x, dst.y + _HEAD_H // 2
        dash = " stroke-dasharray='6 4'" if link.kind == "amqp_sink" else ""
        out.append(
            f"<g id={quoteattr(lid)} class='link {link.kind}'><title>{escape(link.label)}</title>"
            f"<line x1='{x1}' y1='{y1}' x2='{x2}' y2='{y2}' stroke='#444' stroke-width='2'{dash} "
            "marker-end='url(#arrow)'/>"
            + _text((x1 + x2) // 2 + 6, (y1 + y2) // 2, link.label, size=11)
            + "</g>"
        )
    out.append(
        _text(
            20,
            height - 20,
            "-> sumber / source adapter · <- tujuan / sink · panah / arrow: uplink (garis / solid), "
            "amqp_sink (putus-putus / dashed)",
            size=11,
        )
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
