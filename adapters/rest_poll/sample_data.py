"""Generated records shaped like the legacy PHP conflict app's (``../shared/samples/rest_conflict_api.json``).

Deterministic for a seed. Places are real kecamatan/desa of Kabupaten Bogor (from the packaged region
index), written the way the app writes them (``KAB. BOGOR``, kecamatan in capitals). Every third record
shares its predecessor's ``updated_at`` (ties for the cursor), some chronologies carry a test NIK, and
reporter fields are filled for some records (the mapping must drop them).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from schemas.regions import default_index

KABUPATEN = ("32.01", "KAB. BOGOR")
TEST_NIKS = ("3201010101800099", "3201011203850099", "3201014507900099")
# The app's own labels (those the example mapping ops/examples/sitimdu_conflict.toml knows).
_JENIS = (
    ("Sengketa Lahan", "Warga RW {rw:02d} vs PT Maju Properti"),
    ("Antar Kelompok Pemuda", "Pemuda Kp. {a} vs Pemuda Kp. {b}"),
    ("Sengketa Batas Desa", "Warga Desa {a} vs Warga Desa {b}"),
    ("Pilkada", "Pendukung Paslon {n} vs Pendukung Paslon {m}"),
    ("Perselisihan Antarumat Beragama", "Jemaah Masjid {a} vs Panitia Pembangunan Gereja"),
)
_KRONOLOGI = (
    "Sdr. Budi Santoso (NIK {nik}) melaporkan pemagaran lahan warga oleh pengembang.",
    "Tawuran setelah pertandingan sepak bola antar kampung.",
    "Warga menutup akses jalan menuju lokasi tambang, mediasi oleh Muspika.",
    "Keributan saat penghitungan suara di balai desa, dilerai Babinsa dan Bhabinkamtibmas.",
    "Sdri. Siti Aminah, NIK {nik}, mengadukan patok batas yang dipindahkan.",
)
_STATUS = ("Baru", "Proses", "Selesai")
_PELAPOR = ("Asep", "Dedi Kurniawan", "Euis", "")


def _places(rng: random.Random) -> list[tuple[str, str]]:
    index = default_index()
    places = []
    for kecamatan in index.children(KABUPATEN[0]):
        desa = index.children(kecamatan.code)
        if desa:
            places.append((kecamatan.name.upper(), rng.choice(desa).name))
    return places


def _rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".") + ",-"


def conflict_record(
    number: int, updated_at: datetime, rng: random.Random, places: list[tuple[str, str]]
) -> dict[str, Any]:
    """One report as the legacy app serves it: every value a string, dates dd/mm/yyyy, times with dots."""
    kecamatan, desa = rng.choice(places)
    jenis, pihak = rng.choice(_JENIS)
    happened = updated_at - timedelta(hours=rng.randint(1, 72))
    pelapor = rng.choice(_PELAPOR)
    kerugian = rng.choice((0, 0, 2_500_000, 15_000_000, 125_750_000))
    return {
        "id_laporan": str(number),
        "no_laporan": f"LK/{number}/{_roman(happened.month)}/{happened.year}",
        "tgl_kejadian": happened.strftime("%d/%m/%Y"),
        "jam": happened.strftime("%H.%M"),
        "kabupaten": KABUPATEN[1],
        "kecamatan": kecamatan,
        "desa": desa,
        "jenis_konflik": jenis,
        "pihak_terlibat": pihak.format(rw=rng.randint(1, 12), a="Cikaret", b="Pasir Jambu", n=1, m=2),
        "korban_md": str(rng.choice((0, 0, 0, 1))),
        "korban_luka": str(rng.randint(0, 5)),
        "kerugian": _rupiah(kerugian) if kerugian else "-",
        "kronologis": rng.choice(_KRONOLOGI).format(nik=rng.choice(TEST_NIKS)),
        "status": rng.choice(_STATUS),
        "pelapor_nama": pelapor,
        "pelapor_nik": rng.choice(TEST_NIKS) if pelapor else "",
        "pelapor_hp": "0812-3456-7890" if pelapor else "",
        "updated_at": updated_at.strftime("%Y-%m-%d %H:%M:%S"),
    }


def generate(
    count: int, *, seed: int = 7, first_id: int = 100, start: datetime = datetime(2024, 1, 2, 8, 0)
) -> list[dict[str, Any]]:
    """``count`` records with ids from ``first_id``, updated_at rising (every third one a tie)."""
    rng = random.Random(seed)
    places = _places(rng)
    records, moment = [], start
    for i in range(count):
        if i % 3 != 2:  # the third record of each run of three keeps its predecessor's time
            moment += timedelta(seconds=rng.randint(1, 600))
        records.append(conflict_record(first_id + i, moment, rng, places))
    return records


def _roman(month: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")[month - 1]
