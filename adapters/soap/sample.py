"""``soap`` reading a captured response document: the client's own parsing (``parse_envelope``,
``find_records``, ``record_of``) and the source's own ``source_record``, so a sample maps as the node would.

Without a config, the settings a proposal needs are guessed from the document: ``record_path`` is the
shallowest element path (from the Body's child) that repeats under one parent and whose children are
mostly leaves (a list nested in a record is a field of it), ``id_field`` the first
leaf whose values are present and distinct in every record, named like an id or number if one is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from adapters.soap.config import SoapSourceConfig
from adapters.soap.source import source_record
from adapters.soap.xml import NotSoap, SoapFault, find_records, local, parse_envelope, record_of
from hub.adapters.model import SampleRead
from hub.errors import ConfigError
from hub.model.records import SourceRecord

_ID_NAME = re.compile(r"(^|_)(id|no|nomor|kode|nomer|number|noreg|registrasi)($|_)|^no[A-Z]|^id[A-Z]|Id$|No$")
TEMPLATE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    "<!-- TODO: the operation's request element --><tanggalMulai>{start}</tanggalMulai>"
    "<tanggalSelesai>{last}</tanggalSelesai></soapenv:Body></soapenv:Envelope>"
)


def _paths(
    element: Element, prefix: str, found: Counter[str], repeated: set[str], leafy: Counter[str]
) -> None:
    """Count every element path with children (``found``), note the paths that occur more than once under
    one parent (``repeated``) and how many of their elements have mostly leaf children (``leafy``)."""
    siblings = Counter(local(child.tag) for child in element if len(child))
    for child in element:
        if not len(child):
            continue
        path = f"{prefix}/{local(child.tag)}" if prefix else local(child.tag)
        found[path] += 1
        if siblings[local(child.tag)] > 1:
            repeated.add(path)
        if sum(1 for c in child if not len(c)) * 2 >= len(child):
            leafy[path] += 1
        _paths(child, path, found, repeated, leafy)


def guess_record_path(body: Element) -> str | None:
    """The record element's path: the shallowest element that repeats under one parent and whose children
    are mostly leaves. A list nested in a record (``IzinPenelitian/Lokasi``, repeated inside each permit)
    is a field of it, however often it occurs; a repeated wrapper of records (children not leaves) is
    passed over for the records inside it. Without a repeated element (a page of one record): the
    shallowest element below the response element whose children are mostly leaves; failing that, the
    most frequent path with children (ties: the shallower one)."""
    found: Counter[str] = Counter()
    repeated: set[str] = set()
    leafy: Counter[str] = Counter()
    _paths(body, "", found, repeated, leafy)
    records = [p for p in found if leafy[p] * 2 >= found[p]]
    for candidates in ([p for p in records if p in repeated], [p for p in records if "/" in p]):
        if candidates:
            return min(candidates, key=lambda p: (p.count("/"), -found[p], p))
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0].count("/")))
    # A path of one step is the response element itself: records sit below it.
    deeper = [p for p, _ in ranked if "/" in p]
    return deeper[0] if deeper else (ranked[0][0] if ranked else None)


def guess_id(raws: list[dict[str, Any]]) -> str | None:
    """A leaf key present and distinct in every record, preferring id-like names."""
    if not raws:
        return None
    candidates = []
    for key in raws[0]:
        values = [r.get(key) for r in raws]
        if all(isinstance(v, str) and v for v in values) and len(set(values)) == len(values):
            candidates.append(key)
    named = [k for k in candidates if _ID_NAME.search(k.rsplit("/", 1)[-1].lstrip("@"))]
    chosen = named or candidates
    return chosen[0] if chosen else None


def read_sample(
    config: SoapSourceConfig | None, data: bytes, *, name: str, make: Callable[..., SourceRecord]
) -> SampleRead:
    """The records of a captured SOAP response as the source would offer them."""
    try:
        body, version = parse_envelope(data)
    except SoapFault as fault:
        raise ConfigError(f"the sample is a SOAP fault ({fault.code}), not a response with records") from None
    except NotSoap as exc:
        raise ConfigError(f"soap cannot read the sample: {exc}", key=name) from None
    settings: dict[str, Any] = {}
    if config is None:
        record_path = guess_record_path(body)
        if record_path is None:
            raise ConfigError("no repeated record element in the SOAP body; give record_path", key=name)
        first = [record_of(e) for e in find_records(body, record_path.split("/")) or []]
        settings = {
            "url": "http://TODO.example.invalid/ws",
            "soap_version": version,
            "envelope_template": TEMPLATE,
            "record_path": record_path,
            "id_field": guess_id(first) or "TODO",
            "start_date": (date.today() - timedelta(days=30)).isoformat(),
        }
        config = SoapSourceConfig.model_validate(settings)
    else:
        settings = config.model_dump(mode="json", exclude_defaults=True)
    elements = find_records(body, config.record_steps)
    if elements is None:
        raise ConfigError(f"the response has no <{config.record_steps[0]}> element; check record_path")
    zone = ZoneInfo(config.timezone)
    records = [source_record(record_of(e, config.list_fields), config, zone, make) for e in elements]
    notes = [f"SOAP {version}; {len(records)} record element(s) at {config.record_path}"]
    return SampleRead(records, [], settings, notes)
