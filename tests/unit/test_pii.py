"""Personal data helpers: redaction, masking, NIK tokens and structure, PII field marks."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import BaseModel

from schemas.pii import (
    MASK,
    NikTokenizer,
    PiiClass,
    check_nik_structure,
    mask_mapping,
    mask_value,
    pii_field,
    pii_map,
    pii_paths,
    redact_text,
)

NIK = "3201010101800099"
KEY = b"unit-test-key-0123456789abcdef"


# --- redaction -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "NIK 3201010101800099 melapor",
        "NIK 3201 0101 0180 0099 melapor",
        "NIK 3201-0101-0180-0099 melapor",
        "NIK 32.01.01.010180.0099 melapor",
        "NIK:3201010101800099.",
    ],
)
def test_redact_nik_variants(text: str) -> None:
    """Plain and grouped (space, dash, dot) 16-digit runs become [NIK]."""
    out = redact_text(text)
    assert "[NIK]" in out
    assert not any(ch.isdigit() for ch in out)


@pytest.mark.parametrize(
    "phone",
    [
        "0812-3456-7890",
        "081234560001",
        "0813 1111 2222",
        "+62 812-3456-7890",
        "+6281234567890",
        "6281234567890",
    ],
)
def test_redact_phone_variants(phone: str) -> None:
    """Indonesian mobile numbers in local, +62 and 62 forms become [TELEPON]."""
    assert redact_text(f"hubungi {phone} segera") == "hubungi [TELEPON] segera"


@pytest.mark.parametrize(
    "text",
    [
        "Kerugian Rp 15.000.000 pada 25/01/2024 pukul 14.30",
        "Nomor SKT 01-00-00/0123/VI/2021, 243 peserta, kode 32.01.01.1010",
        "Koordinat -0.9512, 122.7890",
    ],
)
def test_redact_leaves_ordinary_numbers(text: str) -> None:
    """Money, dates, times, region codes and coordinates are not redacted."""
    assert redact_text(text) == text


def test_redact_does_not_cut_longer_digit_runs() -> None:
    """A 17-digit run is not a NIK: it stays (no partial match inside it)."""
    assert redact_text("rekening 12345678901234567") == "rekening 12345678901234567"


# --- masking ---------------------------------------------------------------------------------------


def test_mask_raw_record_by_key_names() -> None:
    """Personal-looking keys are masked in a raw record, case-insensitively; others are redacted."""
    raw = {
        "id_laporan": "117",
        "pelapor_nama": "Asep",
        "PELAPOR_NIK": NIK,
        "pelapor_hp": "0812-3456-7890",
        "NAMA ORMAS": "Gerakan Pemuda",
        "Email": "asep@example.id",
        "kronologis": f"Sdr. Budi (NIK {NIK}) HP 0812-3456-7890",
        "kerugian": "Rp 15.000.000,-",
        "korban_md": 0,
        "pelapor_kosong": "",
    }
    masked = mask_mapping(raw)
    assert masked["pelapor_nama"] == masked["PELAPOR_NIK"] == masked["pelapor_hp"] == MASK
    assert masked["NAMA ORMAS"] == masked["Email"] == MASK
    assert masked["kronologis"] == "Sdr. Budi (NIK [NIK]) HP [TELEPON]"
    assert masked["kerugian"] == "Rp 15.000.000,-"
    assert masked["korban_md"] == 0 and masked["id_laporan"] == "117"
    assert masked["pelapor_kosong"] == ""
    assert raw["pelapor_nama"] == "Asep"  # a copy: the original is untouched


def test_mask_nested_dicts_lists_and_declared_paths() -> None:
    """Nested mappings and lists are followed; pii_keys match by name or by dotted path."""
    raw = {
        "laporan": {"lokasi": {"kab": "Kab. Banggai"}, "pelapor": {"x": 1}, "catatan": [f"nik {NIK}"]},
        "pengurus": [{"jabatan": "ketua", "nik_token": "nik1_" + "a" * 32, "ttd": "Dedi"}],
        "ktp_angka": int(NIK),
        NIK: "as a key",
    }
    masked = mask_mapping(raw, {"pengurus.*.ttd"})
    assert masked["laporan"]["lokasi"] == {"kab": "Kab. Banggai"}
    assert masked["laporan"]["pelapor"] == MASK
    assert masked["laporan"]["catatan"] == ["nik [NIK]"]
    assert masked["pengurus"] == [{"jabatan": "ketua", "nik_token": MASK, "ttd": MASK}]
    assert masked["ktp_angka"] == MASK
    assert "[NIK]" in masked and NIK not in repr(masked)


def test_mask_value_handles_scalars_and_integers_shaped_like_nik() -> None:
    """mask_value redacts strings, replaces 16-digit integers and leaves other scalars."""
    assert mask_value(int(NIK)) == "[NIK]"
    assert mask_value([1, None, True, f"x{NIK}"]) == [1, None, True, "x[NIK]"]


# --- tokens and NIK structure ----------------------------------------------------------------------


def test_tokenizer_is_deterministic_and_keyed() -> None:
    """The same key gives the same token; another key gives another; the format is nik1_ + 32 hex."""
    a, b = NikTokenizer(KEY), NikTokenizer(KEY, key_id="k2")
    other = NikTokenizer(b"another-key-0123456789abcdefghij")
    token = a.tokenize(NIK)
    assert token == b.tokenize(NIK) != other.tokenize(NIK)
    assert token == "nik1_" + hmac.new(KEY, NIK.encode(), hashlib.sha256).hexdigest()[:32]
    assert a.tokenize("3201054506750099") != token


def test_tokenizer_hides_key_and_refuses_bad_input() -> None:
    """repr shows only the key id; a non-NIK or an empty key raises without echoing values."""
    tok = NikTokenizer(KEY, key_id="prod-2024")
    assert "prod-2024" in repr(tok) and KEY.decode() not in repr(tok)
    with pytest.raises(ValueError) as exc:
        tok.tokenize("12345")
    assert "12345" not in str(exc.value)
    with pytest.raises(ValueError):
        NikTokenizer(b"")


def test_passport_tokens_differ_from_nik_tokens() -> None:
    """Passport tokens are case-insensitive, prefixed psp1_ and separated from NIK tokens."""
    tok = NikTokenizer(KEY)
    assert tok.tokenize_passport("pa1234567") == tok.tokenize_passport(" PA1234567 ")
    token = tok.tokenize_passport("A1234567")
    assert token.startswith("psp1_")
    assert token[5:] != hmac.new(KEY, b"A1234567", hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize(
    ("nik", "rule"),
    [
        (NIK, None),
        ("3201054506750099", None),
        ("9601010101800099", None),
        ("1001010101800099", "nik_region"),
        ("3201016101800099", None),  # day 61: 21 January 1980, a woman
        ("3201017201800099", "nik_birth_date"),  # day 72: 32 January
        ("3201010101800000", "nik_format"),
        ("32010101018000", "nik_format"),
    ],
)
def test_check_nik_structure(nik: str, rule: str | None) -> None:
    """check_nik_structure names the broken rule or returns None."""
    assert check_nik_structure(nik) == rule


# --- field marks -----------------------------------------------------------------------------------


class _Anggota(BaseModel):
    jabatan: str
    nama: str = pii_field(PiiClass.PERSONAL, description="Name")
    nik_token: str | None = pii_field(PiiClass.PERSONAL, default=None, description="Token")


class _Kasus(BaseModel):
    judul: str
    kronologi: str = pii_field(PiiClass.SPECIFIC, description="Chronology")
    ketua: _Anggota | None = None
    pengurus: list[_Anggota] = []
    per_wilayah: dict[str, list[_Anggota]] = {}


def test_pii_paths_walk_nested_models_lists_and_dicts() -> None:
    """pii_paths lists marked fields with '*' for collection items, in field order."""
    assert pii_paths(_Kasus) == (
        "kronologi",
        "ketua.nama",
        "ketua.nik_token",
        "pengurus.*.nama",
        "pengurus.*.nik_token",
        "per_wilayah.*.*.nama",
        "per_wilayah.*.*.nik_token",
    )
    assert pii_map(_Kasus)["kronologi"] is PiiClass.SPECIFIC


def test_pii_field_marks_json_schema() -> None:
    """A marked field carries x-pii in the JSON schema; its default is kept."""
    schema = _Anggota.model_json_schema()
    assert schema["properties"]["nama"]["x-pii"] == "personal"
    assert "x-pii" not in schema["properties"]["jabatan"]
    assert _Anggota(jabatan="ketua", nama="x").nik_token is None


def test_uuids_are_not_niks() -> None:
    """A UUID whose hex groups hold 16 digits in a row is not redacted or refused; a NIK next to it is."""
    from schemas.pii import contains_nik, redact_text

    uuid_text = "event 74ba91b8-fb69-4672-9807-536648dcca70 diterima"
    assert redact_text(uuid_text) == uuid_text
    assert not contains_nik(uuid_text)
    mixed = uuid_text + " pelapor 3201010101800099"
    assert contains_nik(mixed)
    assert redact_text(mixed) == uuid_text + " pelapor [NIK]"


def test_free_text_keys_are_shown_redacted_not_masked() -> None:
    """Asked for (``as_stored``), a schema's free text (uraian) is shown as the sink stores it; other
    personal keys stay ``***``, even when a key is both free text by name and personal by a part of it.
    The stored preview keeps free text masked: a redacted description may still name people."""
    from hub.quarantine.entry import as_stored, free_text_keys, preview
    from hub.trust.pii import catalogue_pii_keys

    assert {"uraian", "kronologi", "rekomendasi"} <= free_text_keys()
    assert "nama" not in free_text_keys() and "alamat_sekretariat" not in free_text_keys()
    raw = {
        "uraian": f"Sdr. Budi (NIK {NIK}) HP 0812-3456-7890",
        "nama": "Budi",
        "laporan": {"kronologi": NIK},
    }
    assert preview(raw, catalogue_pii_keys())["uraian"] == MASK
    shown = as_stored(raw, catalogue_pii_keys())
    assert shown["uraian"] == "Sdr. Budi (NIK [NIK]) HP [TELEPON]"
    assert shown["nama"] == MASK and shown["laporan"] == {"kronologi": "[NIK]"}
    assert mask_mapping(raw, catalogue_pii_keys())["uraian"] == MASK  # without free_text: as before
