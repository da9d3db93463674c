"""A simulated regional office that drops export files: the shapes ``file_drop`` meets in the field.

* :func:`write_ormas_csv`: a Kesbangpol ormas register as Excel exports it to CSV (``;`` separated,
  upper-case headers with spaces, mixed date formats, "5 Tahun", an empty trailing ``;;;;`` row), in
  UTF-8 with BOM or Windows-1252, optionally with title rows above the header.
* :func:`write_conflict_workbook`: a monthly recap of social-conflict incidents as an XLSX workbook: one
  sheet per month, title rows, two header rows with merged cells (``KORBAN`` over ``MD | LUKA |
  MENGUNGSI``), a ``JUMLAH`` row with formulas, a place-and-date line and a signature block with a NIP,
  and a hidden reference sheet.

Files are written under a temporary name and renamed, as a careful export job does, so the watcher
never reads half a file. Every NIK is a test NIK (serial ``0099``); names are invented.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

KECAMATAN_BOGOR = {  # name -> Kemendagri code (Kab. Bogor, 32.01)
    "Cibinong": "32.01.01",
    "Gunung Putri": "32.01.02",
    "Citeureup": "32.01.03",
    "Sukaraja": "32.01.04",
    "Babakan Madang": "32.01.05",
    "Cileungsi": "32.01.07",
    "Bojonggede": "32.01.13",
}
_MEN = ["Dedi", "Ahmad", "Asep", "Ujang", "Budi", "Agus", "Yusuf", "Dadang"]
_WOMEN = ["Iis", "Siti", "Nining", "Euis", "Rina", "Yayah", "Neneng", "Lilis"]
_LAST = ["Suryadi", "Rohayati", "Fauzi", "Nurhayati", "Saepudin", "Kurniasih", "Hidayat", "Permana"]
_KIND = ["Gerakan Pemuda", "Paguyuban Warga", "Forum Kerukunan", "Lembaga Swadaya", "Himpunan Pengusaha"]
_TOPIC = ["Peduli Lingkungan", "Sunda Bogor", "Nelayan Pesisir", "Jum’at Berkah", "Kreatif Muda"]
_BIDANG = ["Lingkungan Hidup", "Sosial Budaya", "Sosial", "Pendidikan", "Ekonomi", "Keagamaan"]
_MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember"]  # fmt: skip
_MON = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
ORMAS_HEADER = ["NO", "NAMA ORMAS", "SINGKATAN", "NO. SKT/SK AHU", "TGL TERBIT", "MASA BERLAKU", "BIDANG",
                "ALAMAT SEKRETARIAT", "KECAMATAN", "KETUA", "NIK KETUA", "NO HP", "STATUS"]  # fmt: skip


def test_nik(kecamatan_code: str, birth: date, female: bool = False) -> str:
    """A structurally valid NIK with the test serial 0099 (never a real person's)."""
    day = birth.day + (40 if female else 0)
    return f"{kecamatan_code.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}0099"


def _atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


@dataclass
class OrmasRow:
    """One ormas of the simulated register (``cells`` in ``ORMAS_HEADER`` order)."""

    nomor: str
    cells: list[str]


def ormas_rows(n: int, seed: int = 1, start: int = 1) -> list[OrmasRow]:
    """``n`` register rows (deterministic for a seed); SKT numbers are unique per row number."""
    rnd = random.Random(seed)
    rows = []
    for i in range(start, start + n):
        kec = rnd.choice(list(KECAMATAN_BOGOR))
        issued = date(2018, 1, 1) + timedelta(days=rnd.randrange(2000))
        female = rnd.random() < 0.4
        ahu = i % 4 == 2
        nomor = f"AHU-{i:07d}.AH.01.07.TAHUN {issued.year}" if ahu else f"01-00-00/{i:04d}/VI/{issued.year}"
        date_text = [issued.strftime("%d-%m-%Y"), issued.isoformat(),
                     f"{issued.day} {_MON[issued.month - 1]} {issued.year}"][i % 3]  # fmt: skip
        name = f"{rnd.choice(_WOMEN if female else _MEN)} {rnd.choice(_LAST)}"
        phone = "" if i % 5 == 0 else f"0812{rnd.randrange(10**7, 10**8)}"
        birth = date(1960, 1, 1) + timedelta(days=rnd.randrange(12000))
        cells = [str(i), f"{rnd.choice(_KIND)} {rnd.choice(_TOPIC)} {i}", f"O{i:03d}", nomor, date_text,
                 "-" if ahu else "5 Tahun", rnd.choice(_BIDANG), f"Jl. Raya {kec} No. {i}", kec,
                 ("Hj. " if female else "H. ") + name, test_nik(KECAMATAN_BOGOR[kec], birth, female), phone,
                 rnd.choice(["AKTIF", "AKTIF", "LAPOR ULANG"])]  # fmt: skip
        rows.append(OrmasRow(nomor, cells))
    return rows


def write_ormas_csv(
    folder: Path,
    name: str,
    rows: list[OrmasRow],
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ";",
    title: bool = False,
) -> Path:
    """The register as an Excel CSV export; ``title`` adds the two title lines and a blank line above."""
    width = len(ORMAS_HEADER)
    lines: list[list[str]] = []
    if title:
        lines += [["DAFTAR ORMAS TERDAFTAR"] + [""] * (width - 1),
                  ["BADAN KESBANGPOL KABUPATEN BOGOR"] + [""] * (width - 1), [""] * width]  # fmt: skip
    lines += [ORMAS_HEADER, *(r.cells for r in rows), [""] * width]
    text = "\r\n".join(delimiter.join(cells) for cells in lines) + "\r\n"
    return _atomic_write(folder / name, text.encode(encoding))


CONFLICT_TOP = ["NO", "NO. LAPORAN", "TANGGAL", "KECAMATAN", "JENIS KONFLIK", "SUMBER KONFLIK",
                "PIHAK TERLIBAT", "KORBAN", None, None, "KERUGIAN (Rp)", "URAIAN SINGKAT", "TAHAP",
                "STATUS"]  # fmt: skip
CONFLICT_SUB = [None] * 7 + ["MD", "LUKA", "MENGUNGSI"] + [None] * 4
_JENIS = [("Sengketa Lahan", "SUMBER DAYA ALAM"), ("Bentrok Antarwarga", "SOSIAL BUDAYA"),
          ("Sengketa Batas Desa", "BATAS WILAYAH"), ("Unjuk Rasa Pilkades", "POLITIK")]  # fmt: skip


@dataclass
class Incident:
    """One incident row of the recap (``cells`` in column order, the date as a ``date``)."""

    nomor: str
    cells: list[object]


def incidents(month: int, n: int, year: int = 2024, seed: int = 7) -> list[Incident]:
    """``n`` incidents of one month (deterministic); the first one's text mentions a (test) NIK."""
    rnd = random.Random(seed * 100 + month)
    out = []
    for i in range(1, n + 1):
        kec = rnd.choice(list(KECAMATAN_BOGOR))
        jenis, sumber = rnd.choice(_JENIS)
        nomor = f"LK/{month:02d}{i:03d}/{_roman(month)}/{year}"
        who = f"{rnd.choice(_MEN)} {rnd.choice(_LAST)}"
        nik = test_nik(KECAMATAN_BOGOR[kec], date(1980, 1, 1))
        text = f"Warga melaporkan {jenis.lower()} di Kecamatan {kec}; sudah dimediasi."
        if i == 1:
            text = f"Sdr. {who} (NIK {nik}) melaporkan {jenis.lower()} kepada Kesbangpol."
        day = date(year, month, rnd.randrange(1, 28))
        loss = rnd.choice([0, 2_500_000, 15_000_000, 120_000_000])
        parties = f"Warga RW 0{i % 9 + 1} vs PT Maju {i}"
        out.append(Incident(nomor, [i, nomor, day, kec, jenis, sumber, parties, 0, rnd.randrange(0, 5),
                                    rnd.randrange(0, 30), loss, text,
                                    rnd.choice(["Pencegahan", "Penghentian", "Pemulihan"]),
                                    rnd.choice(["Baru", "Proses", "Selesai"])]))  # fmt: skip
    return out


def _roman(month: int) -> str:
    return ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][month - 1]


def write_conflict_workbook(
    folder: Path, name: str, months: dict[int, list[Incident]], *, year: int = 2024, hidden_sheet: bool = True
) -> Path:
    """A recap workbook with one sheet per month (``months``: month number -> incidents)."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    width = len(CONFLICT_TOP)
    for month, rows in months.items():
        ws = book.create_sheet(_MONTHS[month - 1])
        ws.append(["REKAPITULASI KEJADIAN KONFLIK SOSIAL"])
        ws.append([f"BADAN KESBANGPOL KABUPATEN BOGOR - BULAN {_MONTHS[month - 1].upper()} {year}"])
        ws.append([])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
        ws.append(CONFLICT_TOP)
        ws.append(CONFLICT_SUB)
        ws.merge_cells(start_row=4, start_column=8, end_row=4, end_column=10)  # KORBAN over MD|LUKA|MENGUNGSI
        for col in [*range(1, 8), *range(11, width + 1)]:  # the other headers span both rows
            ws.merge_cells(start_row=4, start_column=col, end_row=5, end_column=col)
        for incident in rows:
            ws.append(incident.cells)
        first, last = 6, 5 + len(rows)
        ws.append([])
        total = ws.max_row + 1
        ws.append(["JUMLAH"] + [None] * 6 + [f"=SUM({c}{first}:{c}{last})" for c in "HIJK"])
        ws.merge_cells(start_row=total, start_column=1, end_row=total, end_column=7)
        ws.append([])
        for line in (f"Cibinong, {28 if month == 2 else 30} {_MONTHS[month - 1]} {year}", "Mengetahui,",
                     "Kepala Badan Kesbangpol Kabupaten Bogor", None, None, "Drs. H. Ahmad Fauzi, M.Si",
                     "Pembina Utama Muda", "NIP. 19700101 199003 1 005"):  # fmt: skip
            ws.append([None] * 11 + [line])
    if hidden_sheet:
        ref = book.create_sheet("Referensi")
        ref.append(["KODE", "KECAMATAN"])
        for kec, code in KECAMATAN_BOGOR.items():
            ref.append([code, kec])
        ref.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return _atomic_write(folder / name, buffer.getvalue())
