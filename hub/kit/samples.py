"""Reading a sample file into raw records, as a source adapter would hand them to the mapping.

JSON: an array of objects, an object with a ``data`` list (a REST page), a captured push
(``{"headers": ..., "body": {...}}``: the body is the record) or one object; ``records`` picks a dotted
path instead. NDJSON: one object per line. JSON numbers with a fraction become ``Decimal`` (exact money).
CSV: UTF-8 (with or without BOM), else Windows-1252; ``;``, ``,`` or tab, whichever the header line holds
most of; the first non-empty row is the header; empty rows are skipped. XLSX: the first (or named)
sheet, the same header rule, cell values as openpyxl reads them (dates as ``datetime``).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.errors import ConfigError
from hub.mapping.paths import MISSING, get_path

Record = dict[str, Any]


def read_sample(path: Path, *, records: str | None = None, sheet: str | None = None) -> list[Record]:
    """The raw records in ``path``; ``ConfigError`` when the file cannot be read as a sample."""
    if not path.is_file():
        raise ConfigError("sample file not found", key=str(path))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv(path.read_bytes())
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path, sheet)
    return _json(path.read_bytes(), records, ndjson=suffix in (".ndjson", ".jsonl"))


def decode(data: bytes) -> str:
    """Text of a file: UTF-8 (a BOM is dropped), else Windows-1252 (old Excel exports)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _json(data: bytes, records: str | None, *, ndjson: bool) -> list[Record]:
    text = decode(data)
    if not ndjson:
        try:
            document = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise ConfigError(f"the sample is not valid JSON (line {exc.lineno})") from None
            ndjson = True
    if ndjson:
        try:
            document = [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the sample is not valid NDJSON ({exc.msg})") from None
    if records is not None:
        document = get_path(document, records)
        if document is MISSING:
            raise ConfigError("no such path in the sample", key=records)
    elif isinstance(document, dict) and isinstance(document.get("data"), list):
        document = document["data"]
    elif isinstance(document, dict) and isinstance(document.get("body"), dict) and "headers" in document:
        document = document["body"]
    items = document if isinstance(document, list) else [document]
    if not all(isinstance(item, dict) for item in items):
        raise ConfigError("every record of a JSON sample must be an object")
    return items


def _table(rows: list[list[Any]]) -> list[Record]:
    """Records from rows: the first non-empty row is the header; empty rows are skipped."""
    filled = [r for r in rows if any(c not in (None, "") and str(c).strip() for c in r)]
    if not filled:
        return []
    header = [str(c).strip() if c is not None else "" for c in filled[0]]
    names: list[str] = []
    for position, name in enumerate(header, start=1):
        name = name or f"column_{position}"
        names.append(name if name not in names else f"{name}_{position}")
    return [dict(zip(names, [*row, *[None] * (len(names) - len(row))], strict=False)) for row in filled[1:]]


def _csv(data: bytes) -> list[Record]:
    text = decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first.count)
    return _table(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))


def _xlsx(path: Path, sheet: str | None) -> list[Record]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken workbook
        raise ConfigError(f"cannot read the workbook ({type(exc).__name__})", key=str(path)) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ConfigError(f"no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})", key=str(path))
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        return _table([list(row) for row in worksheet.iter_rows(values_only=True)])
    finally:
        book.close()
