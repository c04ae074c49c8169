"""The structure of a bulletin and of its exports, as compared with the golden file.

What is compared is the shape, not the day's numbers: headings in order, table captions and
column headers, the output files, and the exports' schemas. Names that depend on which regions,
kinds or rule families the day happens to have are replaced by placeholders and their repeats
collapsed, so the golden file changes when the bulletin's design does, not when the data does.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from truceline.adjudicate.aggregates import oblast_names
from truceline.agreement.families import FAMILIES
from truceline.report.text import KIND_LABELS, region_name

_REGIONS = sorted({region_name(n) for n in oblast_names()} | {region_name("outside")}, key=len, reverse=True)
_KINDS = {plural.capitalize() for _, plural in KIND_LABELS.values()}
_FAMILIES = {f.short for f in FAMILIES}
_REGION_RE = re.compile("|".join(re.escape(r) for r in _REGIONS))


class _Walker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []
        self._tag: str | None = None
        self._text: list[str] = []
        self._table: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag in ("h1", "h2", "h3", "h4", "th") or (tag == "p" and cls == "caption"):
            self._tag, self._text = tag if tag != "p" else "caption", []
        elif tag == "img":
            self.items.append({"figure": True})
        elif tag == "table" and "data" in cls:
            self._table = {"columns": []}

    def handle_endtag(self, tag: str) -> None:
        if self._tag is None:
            if tag == "table" and self._table is not None:
                self.items.append({"table": self._table["columns"]})
                self._table = None
            return
        if tag == self._tag or (self._tag == "caption" and tag == "p"):
            text = " ".join("".join(self._text).split())
            if self._tag == "th":
                if self._table is not None:
                    self._table["columns"].append(text)
            elif self._tag == "caption":
                self.items.append({"caption": text})
            else:
                self.items.append({self._tag: text})
            self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag is not None:
            self._text.append(data)


def _norm(text: str) -> str:
    return _REGION_RE.sub("{region}", text)


def _norm_columns(cols: list[str]) -> list[str]:
    out: list[str] = []
    for c in cols:
        c = "{kind}" if c in _KINDS else "{family}" if c in _FAMILIES else _norm(c)
        if not (out and out[-1] == c and c.startswith("{")):
            out.append(c)
    return out


def html_structure(html: str) -> list[Any]:
    """Headings, captions, table columns and figures of the bulletin, in document order, normalised."""
    w = _Walker()
    w.feed(html)
    items: list[Any] = []
    for it in w.items:
        if "table" in it:
            items.append({"table": _norm_columns(it["table"])})
        elif "figure" in it:
            items.append("figure")
        else:
            ((k, v),) = it.items()
            items.append({k: _norm(v)})
    # Collapse repeated blocks (one region's sub-section after another, one map after another).
    out: list[Any] = []
    i = 0
    while i < len(items):
        for size in range(6, 0, -1):
            block = items[i : i + size]
            if len(block) == size and out[-size:] == block and size <= len(out):
                i += size
                break
        else:
            out.append(items[i])
            i += 1
    return out


def output_files(folder: Path) -> list[str]:
    """Files of a bulletin folder, regional maps normalised."""
    names = {
        re.sub(r"^maps/region-.*\.png$", "maps/region-{region}.png", str(p.relative_to(folder)))
        for p in folder.rglob("*")
        if p.is_file()
    }
    return sorted(names)


def export_schemas(folder: Path) -> dict[str, Any]:
    """Columns, geometry types and CRS of the four exports."""
    with (folder / "findings.csv").open(encoding="utf-8") as fh:
        csv_cols = next(csv.reader(fh))
    gj = json.loads((folder / "findings.geojson").read_text(encoding="utf-8"))
    feats = gj["features"]
    table = pq.read_table(folder / "findings.parquet")
    geo = json.loads(table.schema.metadata[b"geo"])
    col = geo["columns"][geo["primary_column"]]
    kml = ET.parse(folder / "findings.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    first = kml.find(".//k:Placemark", ns)
    return {
        "csv": {"columns": csv_cols},
        "geojson": {
            "type": gj["type"],
            "members": sorted(k for k in gj if k != "features"),
            "geometry_types": sorted({f["geometry"]["type"] for f in feats}),
            "properties": list(feats[0]["properties"]) if feats else [],
        },
        "geoparquet": {
            "columns": [f"{f.name}: {f.type}" for f in table.schema],
            "version": geo["version"],
            "primary_column": geo["primary_column"],
            "encoding": col["encoding"],
            "geometry_types": col["geometry_types"],
            "crs": col["crs"].get("id"),
        },
        "kml": {
            "root": kml.tag,
            "placemark_data": [d.get("name") for d in first.findall(".//k:Data", ns)] if first is not None else [],
            "geometry": [c.tag.split("}")[1] for c in first if c.tag.endswith("Point")] if first is not None else [],
        },
    }
