"""Governed metadata of the payload schemas: owner, Bahasa Indonesia texts, and per field its unit.

The rest of a field's metadata is derived so that it cannot drift from the model: the English description
and PII class come from the pydantic field, the code list from the field's type (an enum, ``KodeWilayah``,
``CountryCode``), the example from the schema's example record. :func:`field_docs` joins them;
``tests/unit/catalog/test_governance.py`` fails when a field has no Indonesian description, a number no unit,
or an entry here names no field.

Owners are the producing directorates of Ditjen Polpum (produsen data); the walidata is Pusdatin
Kemendagri. The directorate assignments are proposals to be confirmed by Polpum's Satu Data forum.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from schemas.pii import nested_models, pii_class_of

DIT_ORMAS = "Direktorat Organisasi Kemasyarakatan, Ditjen Polpum Kemendagri"
DIT_WASNAS = "Direktorat Kewaspadaan Nasional, Ditjen Polpum Kemendagri"
DIT_POLDAGRI = "Direktorat Politik Dalam Negeri, Ditjen Polpum Kemendagri"
SETDITJEN = "Sekretariat Ditjen Polpum Kemendagri"


@dataclass(frozen=True)
class SchemaDoc:
    """Schema-level metadata that is not in the model: owner and the Indonesian title and description."""

    owner: str
    title_id: str
    description_id: str


SCHEMA_DOCS: dict[str, SchemaDoc] = {
    "ormas_registration": SchemaDoc(
        DIT_ORMAS,
        "Pendaftaran ormas",
        "Ormas terdaftar (SKT atau SK AHU) dengan pengurus, lingkup, masa berlaku dan status (SIORMAS).",
    ),
    "early_warning": SchemaDoc(
        DIT_WASNAS,
        "Deteksi dini",
        "Laporan deteksi dini ATHG menurut aspek, tingkat dan sumber (SIPKS, FKDM, Kominda).",
    ),
    "conflict_incident": SchemaDoc(
        DIT_WASNAS,
        "Kejadian konflik sosial",
        "Kejadian konflik sosial menurut tahap penanganan (UU 7/2012): pihak, korban, kerugian, penanganan.",
    ),
    "political_dynamics": SchemaDoc(
        DIT_POLDAGRI,
        "Dinamika politik",
        "Laporan dinamika politik pada agenda pemilu/pilkada: tahapan, isu, kerawanan, netralitas ASN, "
        "unjuk rasa (SIMPOLDAGRI, SIPANTAU).",
    ),
    "political_education_activity": SchemaDoc(
        DIT_POLDAGRI,
        "Kegiatan pendidikan politik",
        "Kegiatan pendidikan politik: penyelenggara, sasaran, peserta dan anggaran.",
    ),
    "voter_participation": SchemaDoc(
        DIT_POLDAGRI,
        "Partisipasi pemilih",
        "Partisipasi pemilih per pemilihan dan wilayah: DPT, pengguna hak pilih, partisipasi, per generasi.",
    ),
    "research_permit": SchemaDoc(
        DIT_WASNAS,
        "Surat keterangan penelitian",
        "Permohonan dan penerbitan Surat Keterangan Penelitian (SKP): pemohon, lokasi, periode, status.",
    ),
    "foreign_national_monitoring": SchemaDoc(
        DIT_WASNAS,
        "Pemantauan orang asing",
        "Pemantauan kegiatan orang asing (Timpora): subjek, kegiatan, lokasi, periode, penetapan.",
    ),
    "party_financial_aid": SchemaDoc(
        DIT_POLDAGRI,
        "Bantuan keuangan partai politik",
        "Bantuan keuangan parpol per tahun, wilayah dan partai (PP 5/2009 jo. PP 1/2018): suara sah, nilai "
        "per suara, total, status LPJ.",
    ),
    "periodic_report": SchemaDoc(
        SETDITJEN,
        "Laporan berkala",
        "Laporan berkala (triwulan/semester/tahunan) per butir Pasal 25 UU 23/2014 dengan indikator dan alur "
        "verifikasi berjenjang.",
    ),
}

# path -> (Indonesian description, unit or None). Paths as in ``simpul schemas show``: lists as ``*``.
_F = dict[str, tuple[str, str | None]]
_GEO: _F = {
    "lokasi": ("Koordinat, bila diketahui", None),
    "lokasi.lat": ("Lintang (WGS 84)", "derajat"),
    "lokasi.lon": ("Bujur (WGS 84)", "derajat"),
}

FIELD_DOCS: dict[str, _F] = {
    "ormas_registration": {
        "nomor_registrasi": ("Nomor SKT atau nomor SK AHU", None),
        "jenis_registrasi": ("Jenis dokumen registrasi: SKT atau SK AHU", None),
        "nama": ("Nama organisasi", None),
        "singkatan": ("Singkatan nama organisasi", None),
        "bentuk": ("Bentuk: berbadan hukum (perkumpulan, yayasan) atau tidak berbadan hukum", None),
        "lingkup": ("Lingkup wilayah kegiatan", None),
        "bidang_kegiatan": ("Bidang kegiatan", None),
        "alamat_sekretariat": ("Alamat sekretariat (sering rumah pengurus)", None),
        "kode_wilayah": ("Lokasi sekretariat (kab/kota, kecamatan atau desa)", None),
        "tanggal_terbit": ("Tanggal terbit registrasi", None),
        "tanggal_registrasi": ("Tanggal terbit registrasi (v2: dahulu tanggal_terbit)", None),
        "berlaku_sampai": ("Akhir masa berlaku; kosong untuk SK AHU", None),
        "status": ("Status registrasi", None),
        "jumlah_anggota": ("Jumlah anggota yang dilaporkan", "orang"),
        "pengurus": ("Susunan pengurus", None),
        "pengurus.*.jabatan": ("Jabatan, mis. ketua, sekretaris, bendahara", None),
        "pengurus.*.nama": ("Nama lengkap", None),
        "pengurus.*.nik_token": ("Token NIK (bukan NIK)", None),
    },
    "early_warning": {
        "sumber_id": ("Id laporan di sistem sumber", None),
        "waktu_laporan": ("Waktu pelaporan oleh sumber, dengan zona waktunya", None),
        "waktu_kejadian": ("Waktu pengamatan, bila diketahui", None),
        "kode_wilayah": ("Lokasi, setepat yang diketahui", None),
        "aspek": ("Aspek ipoleksosbud-hankam yang terdampak", None),
        "jenis_athg": ("Jenis ATHG: ancaman, tantangan, hambatan, gangguan", None),
        "kategori": ("Kategori menurut sistem sumber", None),
        "judul": ("Judul singkat", None),
        "uraian": ("Uraian (disunting; dapat menyebut orang)", None),
        "tingkat": ("Tingkat kerawanan yang dinilai", None),
        "sumber": ("Jenis sumber informasi", None),
        "nama_sumber": ("Unit pelapor, mis. FKDM Kec. Luwuk", None),
        "pelapor_anonim": ("Pelapor dirahasiakan (tanpa data pelapor)", None),
        "rekomendasi": ("Rekomendasi tindak lanjut (disunting)", None),
        **_GEO,
    },
    "conflict_incident": {
        "nomor_laporan": ("Nomor laporan di sistem sumber", None),
        "waktu_kejadian": ("Waktu kejadian, dengan zona waktu sumber", None),
        "kode_wilayah": ("Lokasi kejadian", None),
        "tahap": ("Tahap penanganan konflik", None),
        "sumber_konflik": ("Sumber konflik (UU 7/2012 Pasal 5)", None),
        "jenis_konflik": ("Label jenis konflik menurut sumber, mis. 'Sengketa Lahan'", None),
        "skala": ("Skala konflik", None),
        "pihak": ("Pihak yang terlibat", None),
        "pihak.*.nama_pihak": ("Kelompok, mis. 'Warga RW 05' atau perusahaan", None),
        "pihak.*.perkiraan_jumlah": ("Perkiraan jumlah orang", "orang"),
        "korban": ("Jumlah korban", None),
        "korban.meninggal": ("Korban meninggal", "orang"),
        "korban.luka": ("Korban luka", "orang"),
        "korban.mengungsi": ("Warga mengungsi", "orang"),
        "kerugian": ("Kerugian material, bila dinilai", "IDR"),
        "kronologi": ("Kronologi (disunting; dapat menyebut orang, luka, dugaan pidana)", None),
        "penanganan": ("Langkah penanganan", None),
        "penanganan.*.tanggal": ("Tanggal langkah", None),
        "penanganan.*.tindakan": ("Tindakan yang dilakukan (disunting)", None),
        "penanganan.*.pelaksana": ("Pelaksana, instansi (mis. Polsek, Kesbangpol, FKUB)", None),
        "status": ("Status penanganan", None),
        **_GEO,
    },
    "political_dynamics": {
        "nomor_laporan": ("Nomor laporan di sistem sumber", None),
        "kode_wilayah": ("Wilayah yang dilaporkan", None),
        "periode_mulai": ("Hari pertama periode laporan", None),
        "periode_selesai": ("Hari terakhir periode laporan", None),
        "agenda": ("Agenda pemilihan", None),
        "tahun_agenda": ("Tahun pemilihan", "tahun"),
        "tahapan": ("Tahapan pemilihan saat ini", None),
        "kerawanan": ("Kerawanan wilayah secara keseluruhan", None),
        "isu": ("Isu yang teramati", None),
        "isu.*.topik": ("Topik, mis. 'Politik uang', 'Hoaks', 'Politisasi SARA'", None),
        "isu.*.uraian": ("Uraian (disunting; dapat menyebut orang)", None),
        "isu.*.kerawanan": ("Kerawanan yang dinilai", None),
        "kasus_netralitas_asn": ("Kasus netralitas ASN yang dilaporkan", "kasus"),
        "unjuk_rasa": ("Unjuk rasa", None),
        "unjuk_rasa.*.tanggal": ("Tanggal", None),
        "unjuk_rasa.*.tuntutan": ("Tuntutan (disunting)", None),
        "unjuk_rasa.*.perkiraan_massa": ("Perkiraan jumlah massa", "orang"),
        "unjuk_rasa.*.kondusif": ("Berlangsung kondusif", None),
        "ringkasan": ("Ringkasan (disunting)", None),
        "urusan": ("Butir Pasal 25(1) UU 23/2014 yang terkait", None),
    },
    "political_education_activity": {
        "kegiatan_id": ("Id kegiatan di sistem sumber", None),
        "judul": ("Judul kegiatan", None),
        "penyelenggara": ("Penyelenggara, mis. Badan Kesbangpol Kab. Bogor atau partai", None),
        "kode_wilayah": ("Tempat kegiatan", None),
        "metode": ("Tatap muka, daring atau hibrida", None),
        "sasaran": ("Kelompok sasaran", None),
        "tanggal_mulai": ("Hari pertama", None),
        "tanggal_selesai": ("Hari terakhir", None),
        "peserta_laki_laki": ("Peserta laki-laki", "orang"),
        "peserta_perempuan": ("Peserta perempuan", "orang"),
        "peserta_disabilitas": ("Peserta penyandang disabilitas", "orang"),
        "narasumber": ("Nama dan peran narasumber", None),
        "anggaran": ("Anggaran yang digunakan", "IDR"),
        "sumber_anggaran": ("Sumber anggaran", None),
        "ringkasan": ("Ringkasan dan hasil (disunting)", None),
    },
    "voter_participation": {
        "pemilihan": ("Jenis pemilihan", None),
        "tahun": ("Tahun pemilihan", "tahun"),
        "tanggal_pemungutan": ("Hari pemungutan suara", None),
        "kode_wilayah": ("Wilayah angka ini (semua tingkat)", None),
        "dpt": ("Pemilih dalam Daftar Pemilih Tetap (DPT)", "orang"),
        "dptb": ("Pemilih dalam Daftar Pemilih Tambahan (DPTb)", "orang"),
        "dpk": ("Pemilih dalam Daftar Pemilih Khusus (DPK)", "orang"),
        "pengguna_hak_pilih": ("Pengguna hak pilih", "orang"),
        "partisipasi": ("Partisipasi, % dari seluruh pemilih terdaftar", "persen"),
        "target_partisipasi": ("Target partisipasi", "persen"),
        "jumlah_tps": ("Jumlah tempat pemungutan suara (TPS)", "TPS"),
        "per_generasi": ("Rincian per generasi", None),
        "per_generasi.*.generasi": ("Generasi", None),
        "per_generasi.*.pemilih": ("Pemilih terdaftar generasi ini", "orang"),
        "per_generasi.*.pengguna_hak_pilih": ("Dari mereka, yang menggunakan hak pilih", "orang"),
    },
    "research_permit": {
        "nomor_skp": ("Nomor Surat Keterangan Penelitian", None),
        "kode_wilayah": ("Wilayah kantor penerbit (provinsi atau kab/kota)", None),
        "tanggal_pengajuan": ("Tanggal pengajuan", None),
        "tanggal_terbit": ("Tanggal terbit", None),
        "status": ("Status", None),
        "pemohon": ("Pemohon", None),
        "pemohon.nama": ("Nama lengkap", None),
        "pemohon.kewarganegaraan": ("Kewarganegaraan, ISO 3166-1 alpha-2", None),
        "pemohon.nik_token": ("Token NIK (bukan NIK)", None),
        "pemohon.paspor_token": ("Token nomor paspor", None),
        "pemohon.kategori": ("Kategori pemohon", None),
        "pemohon.institusi": ("Institusi, mis. universitas", None),
        "jumlah_anggota_tim": ("Jumlah peneliti termasuk pemohon", "orang"),
        "judul": ("Judul penelitian", None),
        "lingkup": ("Lingkup lokasi penelitian", None),
        "lokasi": ("Lokasi penelitian", None),
        "periode_mulai": ("Awal kegiatan lapangan", None),
        "periode_selesai": ("Akhir kegiatan lapangan", None),
    },
    "foreign_national_monitoring": {
        "nomor_kasus": ("Nomor kasus", None),
        "kode_wilayah": ("Lokasi kegiatan", None),
        "subjek": ("Orang asing yang dipantau", None),
        "subjek.*.kewarganegaraan": ("Kewarganegaraan, ISO 3166-1 alpha-2", None),
        "subjek.*.paspor_token": ("Token nomor paspor", None),
        "subjek.*.izin_tinggal": ("Jenis izin tinggal", None),
        "kegiatan": ("Jenis kegiatan", None),
        "uraian_kegiatan": ("Uraian kegiatan (disunting)", None),
        "sponsor": ("Organisasi penjamin, bila ada", None),
        "periode_mulai": ("Hari pertama kegiatan", None),
        "periode_selesai": ("Hari terakhir, bila diketahui", None),
        "penetapan": ("Hasil penetapan", None),
        "tanggal_penetapan": ("Tanggal penetapan", None),
        "instansi_terlibat": ("Anggota Timpora yang terlibat, mis. Imigrasi, Polres", None),
    },
    "party_financial_aid": {
        "tahun_anggaran": ("Tahun anggaran", "tahun"),
        "kode_wilayah": ("Pemerintah pembayar: provinsi atau kab/kota", None),
        "nama_partai": ("Nama partai", None),
        "singkatan_partai": ("Singkatan partai", None),
        "jumlah_kursi": ("Jumlah kursi", "kursi"),
        "jumlah_suara_sah": ("Jumlah suara sah", "suara"),
        "nilai_per_suara": ("Bantuan per suara sah (PP 1/2018: Rp1.200 / Rp1.500)", "IDR"),
        "total_bantuan": ("Total bantuan = jumlah_suara_sah x nilai_per_suara", "IDR"),
        "tanggal_pencairan": ("Tanggal pencairan", None),
        "status_lpj": ("Status laporan pertanggungjawaban", None),
        "nomor_lhp_bpk": ("Nomor LHP BPK", None),
        "realisasi_pendidikan_politik": (
            "Realisasi untuk pendidikan politik (PP 1/2018: minimal 60%)",
            "IDR",
        ),
    },
    "periodic_report": {
        "kantor": ("Kantor penerbit, mis. Badan Kesbangpol Kabupaten Bogor", None),
        "kode_wilayah": ("Wilayah kantor penerbit (provinsi atau kab/kota)", None),
        "jenis_periode": ("Jenis periode", None),
        "tahun": ("Tahun", "tahun"),
        "periode_ke": ("Triwulan (1-4) atau semester (1-2) ke-; 1 untuk tahunan", None),
        "status": ("Status alur kerja", None),
        "waktu_status": ("Waktu status dicapai, dengan zona waktu", None),
        "catatan_verifikasi": ("Catatan verifikator (disunting)", None),
        "butir": ("Satu butir per huruf Pasal 25", None),
        "butir.*.urusan": ("Huruf Pasal 25(1) UU 23/2014, a-g", None),
        "butir.*.jumlah_kegiatan": ("Jumlah kegiatan", "kegiatan"),
        "butir.*.kegiatan": ("Kegiatan yang dilaksanakan (disunting)", None),
        "butir.*.capaian": ("Capaian (disunting)", None),
        "butir.*.kendala": ("Kendala (disunting)", None),
        "indikator": ("Indikator", None),
        "indikator.*.nama": ("Nama indikator, mis. 'Indeks Demokrasi Indonesia'", None),
        "indikator.*.satuan": ("Satuan, mis. '%', 'kegiatan', 'indeks'", None),
        "indikator.*.target": ("Target", "lihat satuan"),
        "indikator.*.realisasi": ("Realisasi", "lihat satuan"),
    },
}


@dataclass(frozen=True)
class FieldDoc:
    """Everything the catalogue says about one field of one schema version."""

    path: str
    type: str
    required: bool
    pii: str
    description: str
    description_id: str
    unit: str | None
    code_list: str | None
    example: Any
    numeric: bool


NO_EXAMPLE = object()
"""The example record has no value at this path (the field is optional and left out)."""


def code_list_of(annotation: Any, type_text: str = "") -> str | None:
    """The id of the code list a field draws its values from (see ``schemas.codelists``), or None.

    ``type_text`` is the annotation as written (``KodeWilayah``): pydantic keeps no trace of the
    ``Annotated`` alias in ``FieldInfo.annotation``."""
    if "KodeWilayah" in type_text:
        return "kode_wilayah"
    if "CountryCode" in type_text:
        return "iso_3166_1_alpha2"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return enum_code_list_id(annotation)
    for arg in typing.get_args(annotation):
        found = code_list_of(arg)
        if found:
            return found
    return None


def enum_code_list_id(enum: type[Enum]) -> str:
    """``UrusanPasal25`` -> ``urusan_pasal25``; ``StatusOrmas`` -> ``status_ormas``."""
    out = []
    for i, ch in enumerate(enum.__name__):
        if ch.isupper() and i and not enum.__name__[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _is_numeric(annotation: Any) -> bool:
    if annotation in (int, float, Decimal):
        return True
    if isinstance(annotation, type) and issubclass(annotation, bool):
        return False
    return any(_is_numeric(a) for a in typing.get_args(annotation) if a is not type(None))


def _example_at(example: Any, parts: list[str]) -> Any:
    value = example
    for part in parts:
        if part == "*":
            if not isinstance(value, list) or not value:
                return NO_EXAMPLE
            value = value[0]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return NO_EXAMPLE
    return value


def _rows(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any, bool, Any]]:
    from schemas.catalog import annotation_text

    for name, info in model.model_fields.items():
        path = prefix + name
        yield path, info, info.is_required(), annotation_text(model, name)
        for step, nested in nested_models(info.annotation):
            yield from _rows(nested, f"{path}.{step}." if step else f"{path}.")


def field_docs(name: str, model: type[BaseModel], example: Mapping[str, Any]) -> list[FieldDoc]:
    """The documented fields of one schema version, nested ones included, in model order."""
    table = FIELD_DOCS.get(name, {})
    docs = []
    for path, info, required, type_text in _rows(model):
        description_id, unit = table.get(path, ("", None))
        docs.append(
            FieldDoc(
                path=path,
                type=type_text,
                required=required,
                pii=pii_class_of(info).value,
                description=info.description or "",
                description_id=description_id,
                unit=unit,
                code_list=code_list_of(info.annotation, type_text),
                example=_example_at(example, path.split(".")),
                numeric=_is_numeric(info.annotation),
            )
        )
    return docs
