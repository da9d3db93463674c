"""Human-readable description of a region, for the ``simpul regions lookup`` command."""

from __future__ import annotations

from .index import RegionIndex
from .model import Region, RegionNotFound, normalize_code


def _line(region: Region) -> str:
    return f"{region.code}  {region.name} ({region.kind})"


def describe(code_or_name: str, index: RegionIndex | None = None) -> list[str]:
    """Lines describing a region and its ancestors, e.g. for "96.03" or "9603"::

        96.03  Kabupaten Raja Ampat (kabupaten)
          in 96  Papua Barat Daya (provinsi)

    A well-formed code is looked up; a pre-2022 Papua kab/kota code that moved in 2022 is described through
    its current code, after a first line "92.05  pre-2022 code, moved in the 2022 Papua split to 96.03". An
    old kecamatan/desa code under a moved kab/kota is described through that kab/kota, after a first line
    saying it moved with its kabupaten (or kota) and that the kecamatan number cannot be translated offline
    (the renumbering is not in the pinned source). Anything else is resolved as a name first ("kab bogor"
    -> 32.01), see ``RegionIndex.resolve``.

    Raises RegionNotFound (unknown code or name) and AmbiguousRegion (name with several matches).
    """
    from . import default_index

    idx = index if index is not None else default_index()
    lines: list[str] = []
    dotted = normalize_code(code_or_name)
    if dotted is None:
        region = idx.resolve(code_or_name)
    else:
        found = idx.get(dotted)
        if found is None:
            moved_to = idx.crosswalk(dotted)
            kabkota = idx.crosswalk_kabkota(dotted)
            if moved_to is not None:
                lines.append(f"{dotted}  pre-2022 code, moved in the 2022 Papua split to {moved_to}")
                found = idx.get(moved_to)
            elif kabkota is not None:
                found = idx.get(kabkota)
                kind = found.kind if found is not None else "kabupaten"  # "kota" for Kota Sorong
                number = "kecamatan number" if dotted.count(".") == 2 else "kecamatan and desa numbers"
                lines.append(
                    f"{dotted}  pre-2022 code, moved with its {kind} in the 2022 Papua split to {kabkota};"
                    f" the {number} cannot be translated offline"
                )
            else:
                raise RegionNotFound(f"no region with code {dotted} in {idx.version}")
        if found is None:  # crosswalk targets always exist; kept for the type checker
            raise RegionNotFound(f"no region with code {dotted} in {idx.version}")
        region = found
    chain = idx.parent_chain(region.code)
    lines.append(_line(chain[0]))
    lines.extend(f"  in {_line(ancestor)}" for ancestor in chain[1:])
    return lines
