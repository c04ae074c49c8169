"""The bulletin as data: sections of paragraphs, tables and figures, rendered by a template.

The section builders (:mod:`truceline.report.sections`) fill these plain objects from the day's
data; the Jinja2 template only lays them out, so every number printed is computed here, from the
store, and the structure a golden test compares is the structure of this model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Bulletin", "Figure", "Section", "Table"]


@dataclass
class Table:
    """A table of the bulletin.

    Attributes
    ----------
    caption : str
        Shown above the table.
    columns : list of str
        Column headers.
    rows : list of list
        Cell values (str or numbers), one list per row, as many cells as columns.
    numeric : list of bool
        Per column, right-align (numbers); computed from the first row when not given.
    total : list or None
        A totals row, set apart in bold.
    note : str
        A line under the table (e.g. "20 of 57 shown; all are in findings.csv").
    css : str
        Extra CSS class (``"small"`` for wide tables).
    """

    caption: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    total: list[Any] | None = None
    note: str = ""
    css: str = ""

    def __post_init__(self) -> None:
        for i, r in enumerate(self.rows):
            if len(r) != len(self.columns):
                raise ValueError(f"table {self.caption!r}: row {i} has {len(r)} cells for {len(self.columns)} columns")
        if not self.numeric:
            first = self.rows[0] if self.rows else [""] * len(self.columns)
            self.numeric = [isinstance(v, int | float) and not isinstance(v, bool) for v in first]


@dataclass
class Figure:
    """An image of the bulletin (a map or a plot).

    Attributes
    ----------
    path : str
        Path of the PNG relative to the bulletin's folder (``maps/overview.png``).
    data_uri : str
        The same PNG as a ``data:`` URI, so the HTML is self-contained.
    caption : str
        Shown under the image.
    """

    path: str
    data_uri: str
    caption: str


@dataclass
class Section:
    """A section (``h2``) or sub-section (``h3``) of the bulletin.

    Attributes
    ----------
    id : str
        Anchor id, stable across days (``summary``, ``regions``...).
    title : str
        Heading.
    paragraphs : list of str
        Plain-text paragraphs (escaped by the template).
    tables : list of Table
    figures : list of Figure
    subsections : list of Section
        Rendered after the section's own content, one level down.
    """

    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class Bulletin:
    """A daily bulletin.

    Attributes
    ----------
    id : str
        The bulletin's id, e.g. ``bulletin-2026-09-02-internal``.
    title : str
        Title line.
    subtitle : str
        "Based on information received as of 19:30 (Kyiv time), 2 September 2026".
    marking : str
        Handling marking (``MISSION INTERNAL`` or ``PUBLIC``).
    metadata : list of (str, str)
        Bulletin id, period, data cut-off, generation time, software and agreement versions...
    sections : list of Section
    disclaimer : str
        The neutral note on boundaries, printed under the maps and in the footer.
    """

    id: str
    title: str
    subtitle: str
    marking: str
    metadata: list[tuple[str, str]]
    sections: list[Section]
    disclaimer: str
