"""SOAP response parsing with defusedxml: envelope -> fault or records as plain Python values.

Contract of :func:`element_value` (what a mapping sees):

* names are **local names**: namespaces and prefixes are dropped (services change prefixes between
  releases: ``ns2:``, ``tns:``, a default namespace; the local name is what stays stable);
* ``xsi:nil="true"`` -> ``None``; an empty element without it -> ``""``;
* an element with children -> ``dict``; a child name that repeats -> ``list`` (and a name listed in
  ``list_fields`` is a list even when it occurs once, so a mapping never sees a scalar in its place);
* leaf text is kept **as text**: ``Y``/``N`` flags, BPS codes with leading zeros and money stay strings
  for the mapping to interpret; surrounding whitespace is stripped;
* **attributes** are kept by path: an attribute ``a`` of a child element ``X`` is the key ``X/@a`` beside
  ``X`` (``<lokasi kodeBps="3201">Bogor</lokasi>`` gives ``lokasi = "Bogor"`` and
  ``"lokasi/@kodeBps" = "3201"``; a repeated ``X`` gives a list, ``None`` where one lacks it); an
  attribute of the record element itself is ``@a``. Names are local (prefixes dropped); the XML Schema
  instance attributes (``xsi:nil``, ``xsi:type``) are not data and are left out.

:func:`parse_envelope` raises :class:`SoapFault` for a ``Fault`` in the body and :class:`NotSoap` for a
document that is not a SOAP envelope; ``defusedxml`` refuses entity expansion and external references.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL = f"{{{XSI_NS}}}nil"

# The fault code families that mean "the service failed, try again later" (SOAP 1.1 / 1.2).
RETRIABLE_FAULTS = frozenset({"Server", "Receiver"})


class NotSoap(ValueError):
    """The document is not well-formed XML or not a SOAP envelope with a body. ``forbidden`` is True
    when defusedxml refused a dangerous construct (DTD entities, external references)."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


class SoapFault(Exception):
    """A SOAP fault: ``code`` as written (``soap:Server``, ``env:Sender``), ``family`` its local name
    without sub-codes (``Server``, ``Client``, ``Receiver``, ``Sender``...), ``reason`` the fault text."""

    def __init__(self, code: str, family: str, reason: str, version: str) -> None:
        super().__init__(f"SOAP {version} fault {code}")
        self.code = code
        self.family = family
        self.reason = reason
        self.version = version

    @property
    def retriable(self) -> bool:
        """True for ``Server``/``Receiver`` faults: the service failed, the request was fine."""
        return self.family in RETRIABLE_FAULTS


def local(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if local(c.tag) == name), None)


def is_nil(element: ET.Element) -> bool:
    """``xsi:nil="true"`` (or ``1``): the element stands for a missing value."""
    return element.get(XSI_NIL, "").strip() in ("true", "1")


def attributes(element: ET.Element) -> dict[str, str]:
    """The element's data attributes by local name (``xsi:*`` left out), values stripped."""
    return {
        local(name): value.strip()
        for name, value in element.attrib.items()
        if not name.startswith(f"{{{XSI_NS}}}")
    }


def element_value(element: ET.Element, list_fields: Collection[str] = ()) -> Any:
    """The Python value of one element (see the module docstring for the rules)."""
    if is_nil(element):
        return None
    children = list(element)
    if not children:
        return (element.text or "").strip()
    grouped: dict[str, list[Any]] = {}
    attrs: dict[str, list[ET.Element]] = {}
    for child in children:
        name = local(child.tag)
        grouped.setdefault(name, []).append(element_value(child, list_fields))
        attrs.setdefault(name, []).append(child)
    value: dict[str, Any] = {}
    for name, values in grouped.items():
        many = len(values) > 1 or name in list_fields
        value[name] = values if many else values[0]
        found = [attributes(child) for child in attrs[name]]
        for attr in dict.fromkeys(a for each in found for a in each):
            per_child = [each.get(attr) for each in found]
            value[f"{name}/@{attr}"] = per_child if many else per_child[0]
    return value


def record_of(element: ET.Element, list_fields: Collection[str] = ()) -> dict[str, Any]:
    """One record element as the raw record a mapping sees: its value, with its own attributes as
    ``@a``. A record element without children (or nil) carries no fields: its value is ``_value``."""
    value = element_value(element, list_fields)
    record = value if isinstance(value, dict) else {"_value": value}
    return {**{f"@{k}": v for k, v in attributes(element).items()}, **record}


def _fault(fault: ET.Element, version: str) -> SoapFault:
    if version == "1.2":
        # <Code><Value>env:Receiver</Value><Subcode>...</Subcode></Code><Reason><Text>...</Text></Reason>
        code_el = _child(fault, "Code")
        code = _text(_child(code_el, "Value")) if code_el is not None else ""
        reason_el = _child(fault, "Reason")
        reason = _text(_child(reason_el, "Text")) if reason_el is not None else ""
    else:
        # <faultcode>soap:Server.Busy</faultcode><faultstring>...</faultstring> (unqualified children)
        code = _text(_child(fault, "faultcode"))
        reason = _text(_child(fault, "faultstring"))
    family = code.rsplit(":", 1)[-1].split(".", 1)[0]
    return SoapFault(code=code, family=family, reason=reason, version=version)


def parse_envelope(body: bytes) -> tuple[ET.Element, str]:
    """The SOAP ``Body`` element and the SOAP version (``1.1``/``1.2``) of a response document.

    Raises :class:`SoapFault` when the body holds a fault, :class:`NotSoap` otherwise when the document
    is not a SOAP envelope.
    """
    try:
        root = SafeET.fromstring(body)
    except DefusedXmlException as exc:
        raise NotSoap(f"forbidden XML construct ({type(exc).__name__})", forbidden=True) from None
    except ET.ParseError as exc:
        raise NotSoap(f"not well-formed XML ({exc})") from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if local(root.tag) != "Envelope" or namespace not in (SOAP11_NS, SOAP12_NS):
        raise NotSoap(f"root element is {local(root.tag)!r}, not a SOAP Envelope")
    version = "1.2" if namespace == SOAP12_NS else "1.1"
    body_el = _child(root, "Body")
    if body_el is None:
        raise NotSoap("SOAP envelope without a Body")
    fault = _child(body_el, "Fault")
    if fault is not None:
        raise _fault(fault, version)
    return body_el, version


def find_records(body: ET.Element, record_path: Iterable[str]) -> list[ET.Element] | None:
    """The elements at ``record_path`` (local names, from the Body's child down), or None when the first
    step (the operation's response element) is missing. A missing deeper step means no records."""
    steps = list(record_path)
    current = [c for c in body if local(c.tag) == steps[0]]
    if not current:
        return None
    for step in steps[1:]:
        current = [c for parent in current for c in parent if local(c.tag) == step]
    return current


def lookup(record: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``Pemohon.NIK``) in a parsed record, or None if absent."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
