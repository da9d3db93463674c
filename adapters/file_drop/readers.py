"""Reading a dropped file into tables: CSV (any common encoding and delimiter) and XLSX (every sheet).

Cells come out as ``str`` (stripped, never empty: an empty cell is ``None``), ``int``, ``Decimal`` (a
non-integral spreadsheet number, exact to its shortest decimal form; never ``float``) or ``bool``. Dates
of a spreadsheet become ISO strings (``2024-01-25``, or ``2024-01-25T14:30:00`` with a time), the same
shape a mapping meets in CSV files. CSV cells stay text: Indonesian numbers (``1.234.567,50``) are left
to the mapping's parsers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.sniff import UnreadableFile, decode_text, detect_delimiter, detect_format
from adapters.file_drop.table import Cell, Merge, Table, build_table


@dataclass
class ParsedFile:
    """What a file held: its format, the text encoding and delimiter (CSV) and one table per sheet."""

    format: str
    tables: list[Table]
    encoding: str | None = None
    delimiter: str | None = None


def read_file(data: bytes, filename: str, rules: FileDropConfig) -> ParsedFile:
    """Parse a whole file; ``UnreadableFile`` (with a reason code) if it is not a readable table."""
    if detect_format(data, filename) == "xlsx":
        return ParsedFile("xlsx", _tables(_xlsx_sheets(data, rules), rules))
    text, encoding = decode_text(data, rules.encoding)
    delimiter = rules.delimiter or detect_delimiter(text)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows: list[list[Cell]] = [[_text_cell(c) for c in row] for row in reader]
    except csv.Error as exc:  # e.g. a field beyond the csv module's size limit: not a sane table
        raise UnreadableFile(f"malformed CSV ({exc})", reason="unsupported_format") from None
    return ParsedFile("csv", _tables([(None, rows, [])], rules), encoding, delimiter)


def _tables(
    sheets: list[tuple[str | None, list[list[Cell]], list[Merge]]], rules: FileDropConfig
) -> list[Table]:
    tables = [t for name, rows, merges in sheets if (t := build_table(name, rows, merges, rules)) is not None]
    if not tables:
        raise UnreadableFile("no sheet holds any data", reason="no_header")
    return tables


def _text_cell(value: str) -> Cell:
    value = value.strip()
    return value or None


def _xlsx_cell(value: Any) -> Cell:
    if value is None or isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, float):
        # Excel keeps every number as a double; integral ones (counts, NIKs below 2**53) are ints.
        return int(value) if value.is_integer() and abs(value) < 2**53 else Decimal(repr(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return _text_cell(str(value))


def _xlsx_sheets(
    data: bytes, rules: FileDropConfig
) -> list[tuple[str | None, list[list[Cell]], list[Merge]]]:
    import openpyxl  # imported here: only XLSX drops pay for it

    try:
        # Full mode (not read_only): merged ranges are only known there. openpyxl parses the XML with
        # defusedxml when it is installed (it is), so a hostile workbook cannot expand entities.
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
        raise UnreadableFile(f"the workbook cannot be opened ({type(exc).__name__})",
                             reason="corrupt_xlsx") from None  # fmt: skip
    pattern = re.compile(rules.sheet_pattern, re.IGNORECASE) if rules.sheet_pattern else None
    out: list[tuple[str | None, list[list[Cell]], list[Merge]]] = []
    for ws in book.worksheets:
        if not hasattr(ws, "iter_rows") or (ws.sheet_state != "visible" and not rules.include_hidden_sheets):
            continue
        if rules.sheets is not None and ws.title not in rules.sheets:
            continue
        if pattern is not None and not pattern.search(ws.title):
            continue
        rows = [[_xlsx_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        merges = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
        out.append((ws.title, rows, merges))
    if not out:
        chosen = rules.sheets is not None or pattern is not None
        why = "no sheet matches the configured sheets or sheet_pattern" if chosen else "no visible sheet"
        raise UnreadableFile(why, reason="no_header")
    return out
