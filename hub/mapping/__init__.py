"""Declarative mappings: a source's raw records -> a payload schema, configured, not coded.

``compile_mapping(spec)`` validates a mapping spec (the ``mapping`` table of a ``[[sources]]`` entry, from
TOML or YAML) and returns a ``Mapper`` (``hub.model.records``): call it with a ``SourceRecord`` to get a
``MappedRecord`` or a ``MappingError`` listing every field issue (target path, rule, message; never the
value). The hub then validates the payload against the schema. The spec reference with every rule is
``docs/adapters.md``; ``simpul mapping test`` runs a mapping over a sample file.

Modules: ``spec`` (the spec models), ``compiler`` (the mapper), ``rules`` (field rules), ``parsers`` and
``dates``/``numbers``/``text`` (Indonesian formats), ``regions`` (kode wilayah from names), ``timezones``
(WIB/WITA/WIT), ``paths`` (source and target paths), ``python_ref`` (the escape hatch), ``conditions``
(``when`` and ``skip``), ``countries`` (country names to ISO 3166), ``revisions`` (content revisions).

May import ``hub.model``, the foundations and ``schemas``; not ``hub.trust`` (its sibling) nor anything
above.
"""

from __future__ import annotations

from typing import Any

from hub.mapping.compiler import DeclarativeMapper, Evaluation
from hub.mapping.revisions import RevisionStore, StateRevisions
from hub.mapping.spec import MappingSpec, parse_spec

__all__ = [
    "DeclarativeMapper",
    "Evaluation",
    "MappingSpec",
    "RevisionStore",
    "StateRevisions",
    "compile_mapping",
    "parse_spec",
]


def compile_mapping(spec: dict[str, Any], *, revisions: RevisionStore | None = None) -> DeclarativeMapper:
    """Compile a mapping spec into a ``Mapper``; ``ConfigError`` names the bad key. ``revisions`` keeps
    content-derived revisions (the source's state on a node; in memory when not given)."""
    return DeclarativeMapper(parse_spec(spec), revisions)
