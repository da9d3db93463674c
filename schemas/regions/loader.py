"""Reading the pinned data files in ``schemas/regions/data/`` (written by ``tools/gen_regions.py``).

Files, all gzip-compressed JSON objects with a ``ref`` field that must equal ``REGION_REF``:

- ``wilayah.json.gz``: ``{"regions": {code: name}}`` for levels 1-3 (provinsi, kabupaten/kota, kecamatan);
- ``desa.json.gz``: ``{"desa": {kecamatan_code: {XNNN: name}}}`` for level 4 (kelurahan/desa).

The 2022 Papua split crosswalk is by kab/kota only and lives in ``crosswalk.py``, not in a data file.
"""

from __future__ import annotations

import gzip
from importlib import resources
from typing import Any

import orjson

from .model import REGION_REF

WILAYAH_FILE = "wilayah.json.gz"
DESA_FILE = "desa.json.gz"


class RegionDataError(RuntimeError):
    """A data file is missing, unreadable or for another reference version than ``REGION_REF``."""


def read_data_file(name: str) -> dict[str, Any]:
    """Load one data file from the package and check its ``ref``. Raises RegionDataError."""
    try:
        raw = resources.files(__package__).joinpath("data", name).read_bytes()
        doc = orjson.loads(gzip.decompress(raw))
    except (OSError, ValueError) as exc:
        raise RegionDataError(f"cannot read region data file {name}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("ref") != REGION_REF:
        found = doc.get("ref") if isinstance(doc, dict) else None
        raise RegionDataError(f"region data file {name} is for {found!r}, expected {REGION_REF!r}")
    return doc


def load_levels_1_3() -> dict[str, str]:
    """Codes and names of provinces, kabupaten/kota and kecamatan, ordered by code."""
    regions: dict[str, str] = read_data_file(WILAYAH_FILE)["regions"]
    return regions


def load_level_4() -> dict[str, dict[str, str]]:
    """Kelurahan/desa grouped by kecamatan code: ``{"32.01.01": {"1001": "Pondok Rajeg", ...}}``."""
    desa: dict[str, dict[str, str]] = read_data_file(DESA_FILE)["desa"]
    return desa
