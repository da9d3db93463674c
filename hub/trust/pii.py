"""Which keys a quarantine preview masks: every field that holds personal data in *any* schema.

A preview must not show what the record's own claims leave out: an envelope off the bus may declare no
``pii`` paths, and an ingest item may carry a free-text field under a schema that does not know it
(``kronologi`` sent to the ormas endpoint). So the preview masks, by key name, every field that any
schema version marks personal or specific, plus whatever the record itself declares. NIKs and phone
numbers inside all other strings are redacted by ``schemas.pii.mask_mapping`` as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from schemas.catalog import all_versions


@lru_cache(maxsize=1)
def catalogue_pii_keys() -> frozenset[str]:
    """Leaf names of every PII path of every schema version (``pengurus.*.nik_token`` -> ``nik_token``)."""
    return frozenset(path.rsplit(".", 1)[-1].lower() for spec in all_versions() for path in spec.pii_paths)


def preview_pii_keys(declared: Iterable[object] = ()) -> frozenset[str]:
    """The keys to mask in a preview: the catalogue's PII keys and the record's declared PII paths."""
    own = {p.rsplit(".", 1)[-1].lower() for p in declared if isinstance(p, str)}
    return catalogue_pii_keys() | own
