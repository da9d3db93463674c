"""Config of the ``file_drop`` source: where files arrive, how tables are found, how rows are named."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Rows whose first non-empty cell matches one of these end a sheet's data. Totals rows may carry numbers
# in many columns; signature lines are short, so those patterns count only on rows with few cells
# (``footer_max_cells``). Matched case-insensitively at the start of the stripped cell text.
TOTAL_PATTERNS = [r"(sub\s*)?jumlah\b", r"(sub\s*|grand\s*)?total\b", r"rekapitulasi\b"]
SIGNATURE_PATTERNS = [
    r"mengetahui\b",
    r"menyetujui\b",
    r"disetujui\b",
    r"dibuat oleh\b",
    r"kepala\b",
    r"sekretaris\b",
    r"kabid\b",
    r"kasubbid\b",
    r"pl[th]\.?\s",
    r"a\.\s?n\.?\s",
    r"u\.b\.?\s",
    r"nip\b",
    r"pembina\b",
    r"penata\b",
    r"catatan\s*:",
    r"keterangan\s*:",
    r"sumber\s*:",
    # "Cibinong, 31 Januari 2024": the place-and-date line above a signature, also when more follows on
    # the same line ("Manokwari, 5 Maret 2024 - Kepala Badan Kesbangpol").
    r"[a-z .'-]{3,40},\s*\d{1,2}\s+[a-z]{3,12}\s+\d{4}\b",
]


class FileDropConfig(BaseModel):
    """Settings of one watched folder."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="The inbox folder that regional staff (or an export job) drop files into")
    done_dir: Path | None = Field(None, description="Where fully confirmed files go; default <path>/done")
    failed_dir: Path | None = Field(
        None, description="Where unreadable files go, each with <name>.report.json; default <path>/failed"
    )
    patterns: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description="Glob patterns of files to pick up; anything picked up that is not CSV/XLSX is failed "
        "with a report (hidden files, ~$ lock files, *.tmp and *.part are always ignored)",
    )
    poll_interval_s: float = Field(5.0, gt=0, le=3600, description="Pause between folder scans")
    settle_s: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="A file is read only once unmodified this long (copy done)",
    )
    batch_size: int = Field(500, ge=1, le=10_000, description="Rows per SourceBatch (one commit each)")
    max_file_bytes: int = Field(
        50 * 1024 * 1024, ge=1024, description="Larger files are failed with reason too_large"
    )
    encoding: str | None = Field(
        None,
        description="Force a CSV encoding; default detects UTF-8 (BOM or not), UTF-16, Windows-1252",
    )
    delimiter: Literal[";", ",", "\t", "|"] | None = Field(
        None, description="Force the CSV delimiter; default detects ';', ',', tab or '|'"
    )
    header_row: int | None = Field(
        None, ge=1, le=1000, description="1-based row of the (first) header row; default: detected"
    )
    header_rows: Literal[1, 2] | None = Field(
        None, description="Header rows per table (2: group over sub-headers); default: detected"
    )
    header_search_rows: int = Field(30, ge=1, le=1000, description="How many top rows may hold the header")
    min_header_cells: int = Field(3, ge=1, le=100, description="Non-empty text cells a header row needs")
    required_columns: list[str] = Field(
        default_factory=list,
        description="Normalised column names the header must contain (makes detection strict)",
    )
    sheets: list[str] | None = Field(None, description="XLSX: read only these sheets (by name)")
    sheet_pattern: str | None = Field(
        None, description="XLSX: read only sheets whose name matches this regex (case-insensitive)"
    )
    include_hidden_sheets: bool = Field(False, description="XLSX: also read hidden sheets")
    total_patterns: list[str] = Field(
        default_factory=lambda: list(TOTAL_PATTERNS),
        description="Regexes: a row whose first non-empty cell matches ends the sheet's data (totals)",
    )
    signature_patterns: list[str] = Field(
        default_factory=lambda: list(SIGNATURE_PATTERNS),
        description="Regexes: a short row whose first non-empty cell matches ends the sheet's data",
    )
    total_patterns_extra: list[str] = Field(
        default_factory=list,
        description="More total regexes, added to total_patterns (keep the defaults, add your own)",
    )
    signature_patterns_extra: list[str] = Field(
        default_factory=list,
        description="More signature regexes, added to signature_patterns (keep the defaults, add your own)",
    )
    footer_max_cells: int = Field(
        3, ge=1, le=50, description="A signature/place-date row has at most this many non-empty cells"
    )
    id_columns: list[str] = Field(
        default_factory=list,
        description="Normalised columns whose values (joined by '/') are the source record id; "
        "empty: <file digest>/<sheet>/<row>",
    )
    id_per_sheet: bool = Field(
        False, description="Prefix the id with the sheet name (workbooks whose numbering restarts per sheet)"
    )
    revision_column: str | None = Field(
        None,
        description="Normalised column holding the row's revision (an integer, or a date/time read as "
        "epoch ms); default: the file's modification time in ms, fixed per file digest",
    )
    meta_keys: bool = Field(
        False,
        description="Add _file, _sheet and _row to every raw record (e.g. the month from the sheet name; "
        "a strict mapping must then map or ignore them)",
    )
    stop_when_idle: bool = Field(
        False, description="End after a scan finds nothing to do (one-shot runs, tests)"
    )

    @field_validator(
        "total_patterns", "signature_patterns", "total_patterns_extra", "signature_patterns_extra"
    )
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regex: {exc}") from None
        return value

    @field_validator("sheet_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regex: {exc}") from None
        return value

    @property
    def done_path(self) -> Path:
        """The folder for fully confirmed files."""
        return self.done_dir or self.path / "done"

    @property
    def failed_path(self) -> Path:
        """The folder for unreadable files and their reports."""
        return self.failed_dir or self.path / "failed"
