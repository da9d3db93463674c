"""Recognising a dropped file: its format by magic bytes, a CSV's text encoding and its delimiter.

Nothing here ever puts file content into an error message: reasons and details name the rule that
failed, so a report in ``failed/`` can be shared without leaking a NIK or a name.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections import Counter
from typing import Literal

from hub.errors import RecordError

Format = Literal["csv", "xlsx"]
DELIMITERS = (";", ",", "\t", "|")
_SNIFF_LINES = 50


class UnreadableFile(RecordError):
    """The whole file cannot be read as a table; ``reason`` is a stable code for the failure report.

    Codes: ``empty_file``, ``too_large``, ``unsupported_format``, ``corrupt_xlsx``, ``undecodable``,
    ``no_header``. The message says which rule failed and never quotes a cell.
    """

    reason = "file_unreadable"


def detect_format(data: bytes, filename: str) -> Format:
    """``xlsx`` or ``csv`` by content (the extension only decides how a broken file is described)."""
    if not data.strip():
        raise UnreadableFile("the file is empty", reason="empty_file")
    looks_xlsx = filename.lower().endswith((".xlsx", ".xlsm"))
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise UnreadableFile(
                "the ZIP container of the workbook is damaged", reason="corrupt_xlsx"
            ) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            raise UnreadableFile("OpenDocument spreadsheets are not supported: save as .xlsx",
                                 reason="unsupported_format")  # fmt: skip
        raise UnreadableFile("a ZIP archive that is not an XLSX workbook", reason="unsupported_format")
    if looks_xlsx:
        raise UnreadableFile("named .xlsx but not an XLSX workbook (no ZIP container)", reason="corrupt_xlsx")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("legacy .xls (OLE2) workbooks are not supported: save as .xlsx",
                             reason="unsupported_format")  # fmt: skip
    if data.startswith(b"%PDF"):
        raise UnreadableFile("a PDF document, not a table", reason="unsupported_format")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
        raise UnreadableFile("an HTML/XML document saved with a table extension: export as CSV or XLSX",
                             reason="unsupported_format")  # fmt: skip
    return "csv"


def decode_text(data: bytes, forced: str | None = None) -> tuple[str, str]:
    """The text of a CSV file and the encoding used.

    Order: a forced encoding; a BOM (UTF-8, UTF-16); strict UTF-8; strict Windows-1252 (what Excel on
    Indonesian Windows writes for "CSV"); Latin-1 as a last resort, which cannot fail. NUL characters in
    the result mean a binary file.
    """
    if forced is not None:
        try:
            text, used = data.decode(forced), forced
        except (UnicodeDecodeError, LookupError):
            raise UnreadableFile(f"the file is not valid {forced}", reason="undecodable") from None
    elif data.startswith(codecs.BOM_UTF8):
        text, used = _strict(data[3:], "utf-8"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, used = _strict(data, "utf-16"), "utf-16"
    else:
        for candidate in ("utf-8", "cp1252", "latin-1"):
            try:
                text, used = data.decode(candidate), candidate
                break
            except UnicodeDecodeError:
                continue
    if "\x00" in text:
        raise UnreadableFile("binary content (NUL bytes), not a text table", reason="unsupported_format")
    return text, used


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UnreadableFile(f"a {encoding} byte-order mark but invalid {encoding} text",
                             reason="undecodable") from None  # fmt: skip


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the most of the first lines into the same number (>1) of fields.

    Title lines above a table and commas inside text (``Jl. Raya, No. 5``) give uneven counts for the
    wrong candidate, so consistency beats frequency. Ties go to the wider table, then to ``;`` first
    (the Indonesian Excel default, where ``,`` is the decimal separator).
    """
    lines = [line for line in text.splitlines()[:_SNIFF_LINES] if line.strip()]
    sample = "\n".join(lines)
    best, best_score = ";", (0, 0)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if len(row) > 1]
        if not widths:
            continue
        width, lines_with_width = Counter(widths).most_common(1)[0]
        score = (lines_with_width, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best
