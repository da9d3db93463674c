"""Field-name matching for ``simpul mapping propose``: field and column names cut into canonical words.

Abbreviations and Indonesian or English synonyms are brought to one word (``tgl`` = ``tanggal`` = ``date``;
``no`` = ``nomor`` = ``number``); ``name_score`` ranks a source column against a schema field's path, the
field's last word weighing most. Also the word sets and patterns the proposer reads column names with
(id-like words, change and report stamps, personal data).

Imports ``hub.mapping`` only.
"""

from __future__ import annotations

import re

from hub.mapping.paths import loose_key

# Words that mean the same in the column names of regional systems (Indonesian, English, abbreviations).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nomor": ("no", "nomor", "nomer", "number", "num", "nr", "noreg", "nosurat"),
    "tanggal": ("tgl", "tanggal", "tangal", "date", "tg"),
    "waktu": ("waktu", "time", "jam", "pukul", "timestamp", "stempel", "cap"),
    "nama": ("nama", "name", "nm"),
    "paspor": ("paspor", "passport", "pasport", "passpor"),
    "nik": ("nik", "ktp", "no_ktp"),
    "kewarganegaraan": (
        "kewarganegaraan",
        "warganegara",
        "nationality",
        "kebangsaan",
        "negara",
        "wn",
        "citizenship",
        "country",
        "asal_negara",
    ),
    "kecamatan": ("kecamatan", "kec", "distrik", "district", "subdistrict"),
    "kabkota": ("kabkota", "kabupaten", "kota", "kab", "regency", "city", "kabupatenkota"),
    "desa": ("desa", "kelurahan", "kel", "village", "kampung"),
    "provinsi": ("provinsi", "prov", "province", "propinsi"),
    "wilayah": ("wilayah", "region", "lokasi", "location", "tempat", "daerah", "kodewilayah"),
    "kode": ("kode", "code", "kd"),
    "status": ("status", "state", "keadaan"),
    "judul": ("judul", "title", "topik"),
    "mulai": ("mulai", "start", "awal", "dari", "from", "begin"),
    "selesai": ("selesai", "end", "akhir", "sampai", "until", "berakhir", "finish", "sd"),
    "kegiatan": ("kegiatan", "activity", "aktivitas", "acara"),
    "pengajuan": ("pengajuan", "permohonan", "daftar", "pendaftaran", "application", "submitted", "masuk"),
    "terbit": ("terbit", "issued", "diterbitkan", "penerbitan"),
    "institusi": (
        "institusi",
        "instansi",
        "institution",
        "universitas",
        "lembaga",
        "asal",
        "kampus",
        "organisasi",
    ),
    "jumlah": ("jumlah", "jml", "count", "total", "banyak"),
    "uraian": (
        "uraian",
        "deskripsi",
        "description",
        "keterangan",
        "ket",
        "kronologi",
        "kronologis",
        "catatan",
        "notes",
        "isi",
    ),
    "jenis": ("jenis", "type", "kind", "tipe", "kategori", "category", "klasifikasi"),
    "tim": ("tim", "team", "anggota", "peneliti"),
    "periode": ("periode", "period", "masa"),
    "nilai": ("nilai", "value", "amount", "besaran", "nominal", "dana", "anggaran", "rp", "rupiah", "biaya"),
    "partai": ("partai", "parpol", "party"),
    "tahun": ("tahun", "year", "thn", "th"),
    "laporan": ("laporan", "report", "lapor"),
    "sumber": ("sumber", "source", "informasi", "info"),
    "pelapor": ("pelapor", "reporter", "responden"),
    "izin": ("izin", "ijin", "permit", "skp"),
    "registrasi": ("registrasi", "register", "reg", "skt", "ahu", "pendaftaran_ormas"),
    "tinggal": ("tinggal", "stay", "residence", "keimigrasian"),
    "mengungsi": ("mengungsi", "ngungsi", "pengungsi", "displaced", "mengungsi"),
    "anonim": ("anonim", "anonymous", "rahasiakan", "dirahasiakan", "rahasia", "disamarkan"),
    "kerugian": ("kerugian", "loss", "kerusakan", "rugi"),
    "lon": ("lon", "lng", "long", "longitude", "bujur"),
    "lat": ("lat", "latitude", "lintang"),
    "korban": ("korban", "victim", "victims"),
    "meninggal": ("meninggal", "md", "tewas", "died", "dead"),
    "luka": ("luka", "injured", "lb", "lr"),
    "suara": ("suara", "votes", "vote"),
    "pemilih": ("pemilih", "voters", "dpt"),
}
_CANON = {word: canon for canon, words in _SYNONYMS.items() for word in words}
_NOISE = {"token", "kode_wilayah", "data", "the", "of", "dan", "yang", "di", "ke"}
_GENERIC = {"tanggal", "nomor", "waktu", "jumlah", "nama", "kode"}
_ID_WORDS = {"nomor", "kode", "id", "registrasi", "izin"}
_STAMP = re.compile(r"timestamp|stempel|cap_waktu|submitted|dikirim|waktu_isi", re.I)
_UPDATED = re.compile(r"updated|modified|diubah|diperbarui|tgl_update|last_update|tgl_ubah", re.I)
_PERSONAL = {"pelapor", "reporter", "email", "telepon", "telp", "phone", "hp", "wa", "whatsapp", "nik", "ttl"}


def words(name: str) -> list[str]:
    """Canonical words of a field or column name (``tgl_terbit`` -> ``tanggal``, ``terbit``)."""
    parts = [p for p in re.split(r"[^0-9a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).casefold()) if p]
    return [_CANON.get(p, p) for p in parts if p not in _NOISE]


def name_score(target: str, column: str) -> float:
    """How well a column name fits a target path: shared canonical words, the field's own last word
    weighing double; 0 when the last word is not among the column's words."""
    t = words(target.replace(".", "_"))
    if not t:
        return 0.0
    c = set(words(column))
    leaf = t[-1]
    exact = loose_key(target.rsplit(".", 1)[-1]) == loose_key(column)
    # The field's own last word must be there, unless the column says nothing beyond the field's words
    # but generic ones ("singkatan" for singkatan_partai, "tgl_berlaku" for berlaku_sampai).
    specific = c - _GENERIC
    relaxed = leaf not in _ID_WORDS and bool(specific) and specific <= set(t)
    if leaf not in c and not exact and not relaxed:
        return 0.0
    score = sum(2.0 if w == leaf else 1.0 for w in set(t) if w in c) / (len(set(t)) + 1)
    return score + (1.0 if exact else 0.0) - 0.01 * len(c - set(t))  # fewer unrelated words: closer
