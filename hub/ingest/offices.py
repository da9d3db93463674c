"""Which regions an office may report for: its own region and every region below it, any region for
``pusat`` (``within_office``), and a region split off from the office's former area, accepted with a note
that says so (``successor_note``). Pure; imports only ``schemas``.
"""

from __future__ import annotations

from schemas.envelope import Note
from schemas.regions import RegionIndex

NATIONAL_OFFICE = "pusat"  # an office that may report for any region (ministry systems)


def within_office(kode_wilayah: str, office: str) -> bool:
    """True if the region is the office's own region or lies below it."""
    return office == NATIONAL_OFFICE or kode_wilayah == office or kode_wilayah.startswith(office + ".")


def successor_note(regions: RegionIndex, kode_wilayah: str, office: str) -> Note | None:
    """The note accepting a region outside ``office`` that was split off from the office's area (the
    2022 Papua moves, from the region data's own history), or None if it was not.

    An office's system built before the split still reports the places it covered (Papua Barat's office 92
    reporting Kota Sorong, now 96.71 in Papua Barat Daya): the record keeps its true current code and the
    note says why it was accepted."""
    move = regions.succession_of(kode_wilayah)
    if move is None or not within_office(move.old, office):
        return None
    kabkota, province = regions.get(move.new), regions.get(move.to_province)
    return Note(
        loc="kode_wilayah",
        rule="region_successor",
        detail=f"{move.new} {kabkota.name if kabkota else ''} (formerly {move.old}, province "
        f"{move.from_province}) moved to province {move.to_province} {province.name if province else ''} "
        f"by {move.law} ({move.on.isoformat()}); accepted as part of office {office}'s former area",
    )
