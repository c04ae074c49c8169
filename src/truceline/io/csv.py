"""CSV (``.csv``): UTF-8, a header row, comma separators, ``\\n`` line ends; flat rows of columns.

Rows are mappings of column -> value; an absent value (None) is an empty cell. Detections in CSV
are read in bulk by :mod:`truceline.io.detections` (columns with NumPy); this module reads and
writes plain rows (the bulletin's findings, any table). Registered as ``csv`` in
:mod:`truceline.io.formats`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from truceline.io.streams import Source, Target, source_name, text_lines, text_target

__all__ = ["first_object", "read_rows", "write_rows"]


def write_rows(target: Target, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> int:
    """Write rows as CSV with a header row; return the number of rows.

    Parameters
    ----------
    target : str, PathLike or stream
        A path (its folder is made) or an open stream.
    rows : iterable of mapping
        One mapping per row; None is written as an empty cell.
    columns : sequence of str, optional
        The columns, in order (default: the keys of the first row). A row with a key not in
        ``columns`` raises ``ValueError``.
    """
    rows = list(rows)
    names = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    with text_target(target, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=names, lineterminator="\n")
        w.writeheader()
        w.writerows({k: ("" if val is None else val) for k, val in r.items()} for r in rows)
    return len(rows)


def read_rows(source: Source, name: str | None = None) -> list[dict[str, str]]:
    """The rows of a CSV file as mappings of column -> text (a byte order mark is dropped).

    Raises
    ------
    ValueError
        ``FILE:LINE: <row>: ... — N cells, header has M`` for a row of the wrong width.
    """
    name = source_name(source, name)
    with text_lines(source, encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return []
        out: list[dict[str, str]] = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                reason = f"{len(row)} cells, header has {len(header)}"
                raise ValueError(f"{name}:{reader.line_num}: <row>: {','.join(row)!r} — {reason}")
            out.append(dict(zip(header, row, strict=True)))
    return out


def first_object(source: Source) -> dict[str, Any] | None:
    """The header of a CSV file as the keys of a mapping (for telling the file's kind), or None."""
    with text_lines(source, encoding="utf-8-sig", errors="replace") as fh:
        header = next(csv.reader(fh), None)
    return dict.fromkeys(header, "") if header else None
