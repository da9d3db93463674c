"""Finding the table in a sheet: header row(s), column names, data rows, and where the data ends.

Rules, in the order they apply to a sheet (a CSV file is one sheet):

1. **Header row**: the first of the top ``header_search_rows`` rows with at least ``min_header_cells``
   non-empty cells, all of them text (not numbers or dates), more than half as wide as the widest of the
   five rows below it, a merged cell counting for each column it spans (so a title line or a
   "Kabupaten: | Bogor | Jawa Barat" line above the table is passed over), and, if
   ``required_columns`` are configured, yielding all of them. ``header_row`` forces the row.
2. **Second header row**: the next row is a sub-header when all its cells are text and at least one of
   them sits under a blank or horizontally merged header cell ("KORBAN" over "MD" | "LUKA"). Names are
   combined group-first: ``KORBAN MD``, ``KORBAN LUKA``; a column without a sub-label keeps its own name.
3. **Names** are normalised: accents dropped, lower case, every run of other characters -> ``_``
   (``NO. SKT/SK AHU`` -> ``no_skt_sk_ahu``); repeats get ``_2``, ``_3``; an unnamed column that holds
   data is called ``column_<n>`` (1-based position: a form's trailing unnamed 17th column is
   ``column_17``), an unnamed empty one is dropped.
4. **Data rows**: blank rows are skipped (trailing ``;;;;`` lines, spacing rows, and a numbered row whose
   other cells are all empty: a form line nobody filled in); a row repeating the
   header (page breaks in printed exports) is skipped; the first row whose first non-empty cell is a
   total ("JUMLAH", "TOTAL") or, on a row of at most ``footer_max_cells`` cells, a signature line
   ("Mengetahui", "Kepala Badan ...", "NIP. ...", "Cibinong, 31 Januari 2024", also with more text after
   the year) **ends the sheet**. ``total_patterns_extra`` / ``signature_patterns_extra`` add patterns to
   these defaults. Every row passed over is listed in ``Table.skipped`` with why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.sniff import UnreadableFile

Cell = str | int | Decimal | bool | None
Merge = tuple[int, int, int, int]  # min_row, min_col, max_row, max_col (1-based, as in Excel)
_NUMERIC = re.compile(r"[\d\s.,:/()+\-%]+")


@dataclass
class Table:
    """The data of one sheet: column names and ``(row number, {column: cell})`` rows (1-based rows)."""

    sheet: str | None
    columns: list[str]
    rows: list[tuple[int, dict[str, Cell]]]
    header_at: tuple[int, ...]
    ended_at: int | None = None
    blank_rows: int = 0
    repeated_headers: int = 0
    rows_after_end: int = 0
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """Rows passed over, ``(row number, why)``: title, blank, header, footer, signature, after_end."""


def normalise(name: str) -> str:
    """``"NO. SKT/SK AHU"`` -> ``"no_skt_sk_ahu"`` (ASCII, lower case, ``_`` between words)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", "_", ascii_name.casefold()).strip("_")


def is_text(cell: Cell) -> bool:
    """A label-like cell: a string that is not just digits, separators and signs."""
    return isinstance(cell, str) and not _NUMERIC.fullmatch(cell)


def filled(row: list[Cell]) -> list[int]:
    """Indexes of the non-empty cells of a row."""
    return [j for j, cell in enumerate(row) if cell is not None and cell != ""]


class _Footer:
    def __init__(self, rules: FileDropConfig) -> None:
        flags = re.IGNORECASE
        self.totals = [re.compile(p, flags) for p in [*rules.total_patterns, *rules.total_patterns_extra]]
        signatures = [*rules.signature_patterns, *rules.signature_patterns_extra]
        self.signatures = [re.compile(p, flags) for p in signatures]
        self.max_cells = rules.footer_max_cells

    def kind(self, row: list[Cell], cells: list[int]) -> str | None:
        """``footer`` (a totals row), ``signature`` (a short signature or place-date row), or None."""
        first = row[cells[0]]
        if not isinstance(first, str):
            return None
        text = " ".join(first.split())
        if any(p.match(text) for p in self.totals):
            return "footer"
        if len(cells) <= self.max_cells and any(p.match(text) for p in self.signatures):
            return "signature"
        return None

    def ends(self, row: list[Cell], cells: list[int]) -> bool:
        return self.kind(row, cells) is not None


def numbered_blank(row: list[Cell], cells: list[int], first_column: int) -> bool:
    """A row holding only its running number ("7" in the No. column, nothing else): a blank form line."""
    if len(cells) != 1 or cells[0] != first_column:
        return False
    cell = row[cells[0]]
    if isinstance(cell, bool):
        return False
    return isinstance(cell, int) or (isinstance(cell, str) and re.fullmatch(r"\d{1,6}\.?", cell) is not None)


def build_table(
    sheet: str | None, rows: list[list[Cell]], merges: list[Merge], rules: FileDropConfig
) -> Table | None:
    """The table of one sheet, or None for a sheet with no content at all; ``UnreadableFile`` when it
    has content but no header row can be found."""
    if not any(filled(r) for r in rows):
        return None
    width = max(len(r) for r in rows)
    grid = [list(r) + [None] * (width - len(r)) for r in rows]
    footer = _Footer(rules)
    header = _find_header(sheet, grid, merges, rules, footer)
    top, names_from = header
    first_data = top + names_from
    raw_names = _combine(grid, top, names_from, merges)
    data: list[tuple[int, list[Cell]]] = []
    table = Table(sheet, [], [], tuple(range(top + 1, first_data + 1)))
    table.skipped += [(idx + 1, "title") for idx in range(top) if filled(grid[idx])]
    table.skipped += [(idx + 1, "header") for idx in range(top, first_data)]
    header_key = [normalise(c) if isinstance(c, str) else c for c in grid[top]]
    first_column = min(filled(grid[top]) + [j for j, n in enumerate(raw_names) if n])
    for idx in range(first_data, len(grid)):
        row = grid[idx]
        cells = filled(row)
        if not cells or (len(raw_names) > 1 and numbered_blank(row, cells, first_column)):
            table.blank_rows += 1
            table.skipped.append((idx + 1, "blank"))
            continue
        kind = footer.kind(row, cells)
        if kind is not None:
            table.ended_at = idx + 1
            table.skipped.append((idx + 1, kind))
            rest = grid[idx + 1 :]
            table.rows_after_end = _data_like_after(rest, len(raw_names))
            for offset, later in enumerate(rest, start=idx + 2):
                if filled(later):
                    table.skipped.append((offset, footer.kind(later, filled(later)) or "after_end"))
            break
        if [normalise(c) if isinstance(c, str) else c for c in row] == header_key:
            table.repeated_headers += 1
            table.skipped.append((idx + 1, "header"))
            continue
        data.append((idx + 1, row))
    table.columns, keep = _names(raw_names, data)
    table.rows = [(n, {table.columns[i]: row[j] for i, j in enumerate(keep)}) for n, row in data]
    return table


def _find_header(
    sheet: str | None, grid: list[list[Cell]], merges: list[Merge], rules: FileDropConfig, footer: _Footer
) -> tuple[int, int]:
    """(index of the first header row, number of header rows)."""
    if rules.header_row is not None:
        top = rules.header_row - 1
        if top >= len(grid) or not filled(grid[top]):
            raise UnreadableFile(f"the configured header row {rules.header_row} is empty{_in(sheet)}",
                                 reason="no_header")  # fmt: skip
        return top, rules.header_rows or _header_height(grid, top, merges, footer)
    limit = min(rules.header_search_rows, len(grid))
    required = set(rules.required_columns)
    for top in range(limit):
        cells = filled(grid[top])
        if len(cells) < rules.min_header_cells or not all(is_text(grid[top][j]) for j in cells):
            continue
        # Merged header cells count for every column they span (a group label over three sub-columns).
        spread = {col for col, first in _merged_across(merges, top + 1).items() if first in cells}
        below = [len(filled(r)) for r in grid[top + 1 : top + 6]]
        if len(set(cells) | spread) * 2 <= max(below, default=0):
            continue  # a title or "Kabupaten: | Bogor | Jawa Barat" line above a wider table
        height = rules.header_rows or _header_height(grid, top, merges, footer)
        if required and not required <= {normalise(n) for n in _combine(grid, top, height, merges) if n}:
            continue
        return top, height
    need = f"{rules.min_header_cells} or more text cells"
    if required:
        need += " and the required columns"
    raise UnreadableFile(f"no header row in the first {limit} rows{_in(sheet)} ({need})", reason="no_header")


def _in(sheet: str | None) -> str:
    return "" if sheet is None else f" of sheet {sheet!r}"


def _merged_across(merges: list[Merge], row_number: int) -> dict[int, int]:
    """For a row: column index -> index of the first column of the horizontal merge covering it."""
    covered: dict[int, int] = {}
    for min_row, min_col, max_row, max_col in merges:
        if min_row <= row_number <= max_row and max_col > min_col:
            for col in range(min_col, max_col + 1):
                covered[col - 1] = min_col - 1
    return covered


def _header_height(grid: list[list[Cell]], top: int, merges: list[Merge], footer: _Footer) -> int:
    if top + 1 >= len(grid):
        return 1
    below = grid[top + 1]
    cells = filled(below)
    if not cells or not all(is_text(below[j]) for j in cells) or footer.ends(below, cells):
        return 1
    merged = _merged_across(merges, top + 1)
    under_group = any(grid[top][j] is None or j in merged for j in cells)
    return 2 if under_group else 1


def _combine(grid: list[list[Cell]], top: int, height: int, merges: list[Merge]) -> list[str | None]:
    """One raw name per column: the group label (merged or spread over blanks) before the sub-label."""
    head = list(grid[top])
    for col, first in _merged_across(merges, top + 1).items():
        head[col] = head[first]
    if height == 1:
        return [str(c) if c is not None else None for c in head]
    sub = grid[top + 1]
    names: list[str | None] = []
    group: Cell = None
    for j, label in enumerate(head):
        if label is not None:
            group = label if sub[j] is not None else None
        elif sub[j] is None:
            group = None  # a blank gap ends a group spread over blank cells
        else:
            label = group
        parts = [str(p) for p in (label, sub[j]) if p is not None]
        if len(parts) == 2 and normalise(parts[0]) == normalise(parts[1]):
            parts = parts[:1]  # a vertical merge repeated in both rows
        names.append(" ".join(parts) or None)
    return names


def _names(raw: list[str | None], data: list[tuple[int, list[Cell]]]) -> tuple[list[str], list[int]]:
    """Final unique names and the column indexes they come from (empty unnamed columns dropped)."""
    names: list[str] = []
    keep: list[int] = []
    seen: dict[str, int] = {}
    for j, label in enumerate(raw):
        name = normalise(label) if label else ""
        if not name:
            if not any(row[j] is not None for _, row in data):
                continue
            name = f"column_{j + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
        keep.append(j)
    return names, keep


def _data_like_after(rest: list[list[Cell]], columns: int) -> int:
    """Rows below the end of the data that look like data (a number first, most columns filled)."""
    count = 0
    for row in rest:
        cells = filled(row)
        if cells and len(cells) * 2 >= columns and not is_text(row[cells[0]]):
            count += 1
    return count
