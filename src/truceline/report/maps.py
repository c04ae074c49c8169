"""Maps and the trend plot of the daily bulletin, drawn with matplotlib from the shipped layers.

Layers: Ukraine's oblasts (``truceline/data/ua_oblasts.geojson``, Crimea and Sevastopol inside
Ukraine as in the source), the agreement's line of contact in force, the areas each party
controls, the buffer zone (the line buffered by the agreement's half-width, in a local conformal
projection), sectors of responsibility and protected sites; on top, the day's findings by rule
family and, on the regional maps of the internal edition, the mission's sensors (the public edition
gives none: :func:`region_maps` draws sensors only when given them). Every map carries the neutral
note :data:`truceline.report.text.DISCLAIMER`, and reports what it drew (:class:`DrawnMap`: each
layer's name and the points of its point layers), so that a test can check an image's content
without reading its pixels.

Only matplotlib's object API is used (no ``pyplot``): no global state, safe in a server.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from numpy.typing import NDArray
from shapely.geometry import shape

from truceline.agreement import Agreement, LineVersion
from truceline.geo.projection import LocalProjection
from truceline.report.text import DISCLAIMER, FAMILY_COLOURS, region_name

__all__ = ["DrawnLayer", "DrawnMap", "MapPoints", "SensorPoints", "overview_map", "region_maps", "trend_plot"]

#: Resolution of the PNGs, dots per inch.
DPI = 150
#: Width of a map, inches (the A4 text width of the bulletin).
WIDTH_IN = 7.0
#: Least and most height of the map itself, inches (two landscape maps and their captions fit an A4 page).
MAP_HEIGHT_IN = (3.0, 6.2)
#: Most height of a regional map, inches (two of them and their captions fit an A4 page).
REGION_MAP_MAX_HEIGHT_IN = 3.8
_LEFT_IN, _LEGEND_IN, _BOTTOM_IN, _TOP_IN = 0.5, 2.0, 0.45, 0.3
#: Neutral tints of the controlled areas, in the agreement's party order.
AREA_TINTS = ("#e9e4d4", "#dcdfe6", "#e4dce6", "#dce6dc")
_SENSOR_OK, _SENSOR_DOWN = "#555555", "#c0392b"


@dataclass
class MapPoints:
    """The findings to draw: positions (already rounded in a public bulletin), family, region."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    family: NDArray[np.str_]
    region: NDArray[np.str_]


@dataclass
class SensorPoints:
    """The sensors to draw and whether each was unavailable at the end of the day."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    down: NDArray[np.bool_]


@dataclass(frozen=True)
class DrawnLayer:
    """A layer a map drew: ``areas``, ``buffer``, ``oblasts``, ``sectors``, ``line``, ``sites``,
    ``findings:<family>``, ``sensors``, ``sensors_unavailable``; the points drawn for a point layer."""

    name: str
    lon: tuple[float, ...] = ()
    lat: tuple[float, ...] = ()


@dataclass(frozen=True)
class DrawnMap:
    """A map written: its PNG, its region (None: the overview), caption, and the layers it drew."""

    path: Path
    region: str | None
    caption: str
    layers: tuple[DrawnLayer, ...]

    @property
    def layer_names(self) -> list[str]:
        """The names of the layers drawn, in drawing order."""
        return [layer.name for layer in self.layers]


def _drawn(name: str, lon: NDArray[np.float64] | Sequence[float] = (), lat: NDArray[np.float64] | Sequence[float] = (),
           ) -> DrawnLayer:  # fmt: skip
    return DrawnLayer(name, tuple(float(x) for x in lon), tuple(float(y) for y in lat))


@lru_cache(maxsize=1)
def oblast_layer() -> tuple[tuple[str, ...], tuple[shapely.Geometry, ...]]:
    """Names and geometries of the packaged oblast layer (loaded once)."""
    doc = json.loads(files("truceline").joinpath("data", "ua_oblasts.geojson").read_text(encoding="utf-8"))
    names = tuple(str(f["properties"]["name"]) for f in doc["features"])
    return names, tuple(shape(f["geometry"]) for f in doc["features"])


_BUFFERS: dict[tuple[str, str, float], shapely.Geometry] = {}


def buffer_zone(agreement: Agreement, line: LineVersion) -> shapely.Geometry:
    """The buffer zone of a line version: the line buffered by ``buffer_zone_km`` (geodesically, km)."""
    key = (agreement.id, line.id, float(agreement.buffer_zone_km))
    if key not in _BUFFERS:
        proj = LocalProjection.for_bounds(line.line.bounds)
        g = proj.project_geometry(shapely.simplify(line.line, 0.002), max_edge_deg=0.05)
        zone = shapely.buffer(g, agreement.buffer_zone_km * 1000.0, quad_segs=4)
        _BUFFERS[key] = proj.unproject_geometry(shapely.simplify(zone, 100.0))
    return _BUFFERS[key]


def _patch(geom: shapely.Geometry, **kw: Any) -> PathPatch | None:
    """A matplotlib patch of a (multi)polygon, holes included; None when empty."""
    verts: list[NDArray[np.float64]] = []
    codes: list[NDArray[np.uint8]] = []
    for poly in shapely.get_parts(shapely.get_parts(geom)):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords, dtype=np.float64)
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return PathPatch(MplPath(np.concatenate(verts), np.concatenate(codes)), **kw)


def _lines(ax: Axes, geom: shapely.Geometry, **kw: Any) -> None:
    for part in shapely.get_parts(geom):
        if part.geom_type in ("LineString", "LinearRing"):
            xy = np.asarray(part.coords)
            ax.plot(xy[:, 0], xy[:, 1], **kw)
        elif part.geom_type == "Polygon":
            _lines(ax, part.exterior, **kw)


def _band(ax: Axes, line: LineVersion, box: shapely.Geometry, drawn: list[DrawnLayer], handles: list[Artist]) -> None:
    """Where sources disagree about the line (its band, when the agreement gives one): a translucent stroke
    under the line, wider where the disagreement is larger (1 km ~ 1.5 pt, at most 9 pt)."""
    band = line.band
    if band is None or not band.segments:
        return
    shown = False
    for g, km in zip(band.segments, band.disagreement_km, strict=True):
        part = shapely.clip_by_rect(g, *box.bounds)
        if not part.is_empty:
            _lines(ax, part, color="#d0782a", alpha=0.35, lw=min(9.0, 1.0 + 1.5 * km), solid_capstyle="butt", zorder=4)
            shown = True
    if shown:
        drawn.append(_drawn("band"))
        handles.append(Line2D([], [], color="#d0782a", alpha=0.35, lw=5, label="Sources disagree (band)"))


def _extent(lon: Sequence[float], lat: Sequence[float], pad: float, min_span: float) -> tuple[float, ...]:
    w, e, s, n = min(lon), max(lon), min(lat), max(lat)
    cx, cy = (w + e) / 2, (s + n) / 2
    hx = max((e - w) / 2 + pad, min_span / 2)
    hy = max((n - s) / 2 + pad, min_span / 2 * math.cos(math.radians(cy)))
    return cx - hx, cx + hx, cy - hy, cy + hy


def _map_figure(
    extent: tuple[float, ...], max_height_in: float = MAP_HEIGHT_IN[1]
) -> tuple[Figure, Axes, tuple[float, ...]]:
    """A figure and map axes placed by hand (inches), the map left and the legend column right,
    and the extent widened to fill the axes box at the true aspect.

    The axes box follows the extent's shape within :data:`MAP_HEIGHT_IN` (at most ``max_height_in``
    high); the extent then grows
    in the short direction to fill the box, so no part of the figure is blank and nothing is clipped.
    """
    w, e, s, n = extent
    aspect = (n - s) / ((e - w) * math.cos(math.radians((s + n) / 2)))
    ax_w = WIDTH_IN - _LEFT_IN - _LEGEND_IN
    ax_h = min(max(ax_w * aspect, MAP_HEIGHT_IN[0]), max_height_in)
    fig_h = ax_h + _BOTTOM_IN + _TOP_IN
    fig = Figure(figsize=(WIDTH_IN, fig_h))
    ax = fig.add_axes((_LEFT_IN / WIDTH_IN, _BOTTOM_IN / fig_h, ax_w / WIDTH_IN, ax_h / fig_h))
    cos = math.cos(math.radians((s + n) / 2))
    cx, cy, half_w, half_h = (w + e) / 2, (s + n) / 2, (e - w) / 2, (n - s) / 2
    box = ax_h / ax_w
    if half_h / (half_w * cos) < box:
        half_h = box * half_w * cos
    else:
        half_w = half_h / (box * cos)
    return fig, ax, (cx - half_w, cx + half_w, cy - half_h, cy + half_h)


def _scale_bar(ax: Axes, extent: tuple[float, ...]) -> None:
    w, e, s, n = extent
    km_per_deg = 111.32 * math.cos(math.radians((s + n) / 2))
    span_km = (e - w) * km_per_deg
    length = next(x for x in (200, 100, 50, 20, 10, 5, 2, 1) if x <= span_km / 4) if span_km >= 4 else 1
    x0, y0 = w + (e - w) * 0.04, s + (n - s) * 0.04
    ax.plot([x0, x0 + length / km_per_deg], [y0, y0], color="black", lw=2.5, solid_capstyle="butt", zorder=9)
    ax.text(x0, y0 + (n - s) * 0.015, f"{length} km", fontsize=7, zorder=9)


def _base(
    ax: Axes, agreement: Agreement, line: LineVersion | None, extent: tuple[float, ...], labels: bool,
    drawn: list[DrawnLayer],
) -> list[Artist]:
    """Draw the layers under the points (protected sites named when ``labels``), each named in ``drawn``;
    return legend handles."""
    w, e, s, n = extent
    box = shapely.box(w - 0.5, s - 0.5, e + 0.5, n + 0.5)
    handles: list[Artist] = []
    ax.set_facecolor("#f4f8fb")
    if line is not None:
        for k, party in enumerate(agreement.parties):
            area = line.areas.get(party)
            if area is None:
                continue
            p = _patch(
                shapely.clip_by_rect(area, *box.bounds),
                facecolor=AREA_TINTS[k % len(AREA_TINTS)],
                edgecolor="none",
                zorder=1,
            )
            if p is not None:
                ax.add_patch(p)
                drawn.append(_drawn(f"areas:{party}"))
                handles.append(Patch(facecolor=AREA_TINTS[k % len(AREA_TINTS)], label=f"Area controlled by {party}"))
        zone = shapely.clip_by_rect(buffer_zone(agreement, line), *box.bounds)
        p = _patch(zone, facecolor="#f5c542", alpha=0.25, edgecolor="#b8860b", lw=0.4, zorder=2)
        if p is not None:
            ax.add_patch(p)
            drawn.append(_drawn("buffer"))
            handles.append(
                Patch(facecolor="#f5c542", alpha=0.4, label=f"Buffer zone ({agreement.buffer_zone_km:g} km)")
            )
    _, geoms = oblast_layer()
    for g in geoms:
        if shapely.intersects(g, box):
            _lines(ax, shapely.clip_by_rect(g.boundary, *box.bounds), color="#8a8a8a", lw=0.5, zorder=3)
    drawn.append(_drawn("oblasts"))
    handles.append(Line2D([], [], color="#8a8a8a", lw=0.6, label="Oblast boundary"))
    for sec in agreement.sectors:
        if shapely.intersects(sec.geometry, box):
            _lines(
                ax,
                shapely.clip_by_rect(sec.geometry.boundary, *box.bounds),
                color="#2c5f8a",
                lw=0.7,
                ls=(0, (4, 2)),
                zorder=4,
            )
            c = sec.geometry.representative_point()
            if w < c.x < e and s < c.y < n:
                ax.text(c.x, c.y, sec.id, fontsize=6.5, color="#2c5f8a", ha="center", zorder=8)
    if agreement.sectors:
        drawn.append(_drawn("sectors"))
        handles.append(Line2D([], [], color="#2c5f8a", lw=0.8, ls=(0, (4, 2)), label="Sector of responsibility"))
    if line is not None:
        _band(ax, line, box, drawn, handles)
        _lines(ax, shapely.clip_by_rect(line.line, *box.bounds), color="#222222", lw=1.1, zorder=5)
        drawn.append(_drawn("line"))
        handles.append(Line2D([], [], color="#222222", lw=1.2, label=f"Line of contact ({line.id})"))
    sites = [p for p in agreement.protected_sites if w < p.lon < e and s < p.lat < n]
    if sites:
        ax.scatter(
            [p.lon for p in sites],
            [p.lat for p in sites],
            marker="^",
            s=28,
            c="#6a3d9a",
            edgecolors="white",
            linewidths=0.5,
            zorder=7,
        )
        drawn.append(_drawn("sites", [p.lon for p in sites], [p.lat for p in sites]))
        handles.append(Line2D([], [], marker="^", color="#6a3d9a", ls="", label="Protected site"))
        if labels:
            for site in sites:
                dy = (n - s) * 0.012
                ax.text(site.lon, site.lat + dy, site.name, fontsize=5.5, color="#6a3d9a", ha="center", zorder=8)
    return handles


def _points(ax: Axes, pts: MapPoints, sel: NDArray[np.bool_], size: float, drawn: list[DrawnLayer]) -> list[Artist]:
    handles: list[Artist] = []
    fams = sorted(set(pts.family[sel].tolist()), key=lambda f: (-int((pts.family[sel] == f).sum()), f))
    for fam in fams:
        m = sel & (pts.family == fam)
        colour = FAMILY_COLOURS.get(fam, "#7f7f7f")
        ax.scatter(pts.lon[m], pts.lat[m], s=size, c=colour, alpha=0.7, linewidths=0, zorder=6)
        drawn.append(_drawn(f"findings:{fam}", pts.lon[m], pts.lat[m]))
        handles.append(
            Line2D([], [], marker="o", color=colour, ls="", ms=4, label=f"{fam.replace('_', ' ')} ({int(m.sum()):,})")
        )
    return handles


def _finish(fig: Figure, ax: Axes, extent: tuple[float, ...], title: str, handles: list[Artist], path: Path) -> Path:
    w, e, s, n = extent
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_aspect(1.0 / math.cos(math.radians((s + n) / 2)), adjustable="box")
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9, loc="left")
    _scale_bar(ax, extent)
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1 - (_LEGEND_IN - 0.1) / WIDTH_IN, 1 - _TOP_IN / fig.get_figheight()),
        fontsize=6.5,
        frameon=False,
    )
    fig.text(0.01, 0.012, DISCLAIMER, fontsize=5.5, color="#555555")
    fig.savefig(path, dpi=DPI)
    return path


def overview_map(path: Path, agreement: Agreement, line: LineVersion | None, pts: MapPoints, title: str) -> DrawnMap:
    """The whole line with the day's findings by rule family.

    Parameters
    ----------
    path : Path
        PNG to write.
    agreement : Agreement
    line : LineVersion or None
        The line version in force (None draws no line, areas or buffer).
    pts : MapPoints
        The findings.
    title : str
    """
    lon: list[float] = list(pts.lon)
    lat: list[float] = list(pts.lat)
    if line is not None:
        w, s, e, n = line.line.bounds
        lon += [w, e]
        lat += [s, n]
    if not lon:
        w, s, e, n = shapely.total_bounds(oblast_layer()[1])
        lon, lat = [w, e], [s, n]
    extent = _extent(lon, lat, pad=0.4, min_span=2.0)
    fig, ax, extent = _map_figure(extent)
    drawn: list[DrawnLayer] = []
    handles = _base(ax, agreement, line, extent, labels=False, drawn=drawn)
    handles += _points(ax, pts, np.ones(pts.lon.size, dtype=bool), size=4.0, drawn=drawn)
    return DrawnMap(_finish(fig, ax, extent, title, handles, path), None, title, tuple(drawn))


def region_maps(
    out: Path,
    agreement: Agreement,
    line: LineVersion | None,
    pts: MapPoints,
    sensors: SensorPoints | None,
    max_maps: int = 4,
) -> list[DrawnMap]:
    """One map per region with findings (the busiest first, at most ``max_maps``); the sensors drawn
    only when given (None: none, as for the public edition)."""
    out.mkdir(parents=True, exist_ok=True)
    regions, counts = np.unique(pts.region, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    made = []
    for i in order[:max_maps]:
        reg = str(regions[i])
        sel = pts.region == reg
        extent = _extent(pts.lon[sel].tolist(), pts.lat[sel].tolist(), pad=0.12, min_span=0.8)
        fig, ax, extent = _map_figure(extent, REGION_MAP_MAX_HEIGHT_IN)
        drawn: list[DrawnLayer] = []
        handles = _base(ax, agreement, line, extent, labels=True, drawn=drawn)
        if sensors is not None:
            handles += _sensors(ax, sensors, extent, drawn)
        handles += _points(ax, pts, sel, size=7.0, drawn=drawn)
        slug = "".join(ch if ch.isalnum() else "-" for ch in reg.lower()).strip("-")
        title = f"{region_name(reg)}: {int(sel.sum()):,} findings"
        path = _finish(fig, ax, extent, title, handles, out / f"region-{slug}.png")
        made.append(DrawnMap(path, reg, title, tuple(drawn)))
    return made


def _sensors(ax: Axes, sensors: SensorPoints, extent: tuple[float, ...], drawn: list[DrawnLayer]) -> list[Artist]:
    """Draw the sensors in the extent, those unavailable in red; return legend handles."""
    w, e, s, n = extent
    handles: list[Artist] = []
    inside = (sensors.lon > w) & (sensors.lon < e) & (sensors.lat > s) & (sensors.lat < n)
    for down, colour, label, name in ((False, _SENSOR_OK, "Sensor", "sensors"),
                                      (True, _SENSOR_DOWN, "Sensor unavailable", "sensors_unavailable")):  # fmt: skip
        m = inside & (sensors.down == down)
        if m.any():
            ax.scatter(sensors.lon[m], sensors.lat[m], marker="+", s=10, c=colour, linewidths=0.6, zorder=6)
            drawn.append(_drawn(name, sensors.lon[m], sensors.lat[m]))
            handles.append(Line2D([], [], marker="+", color=colour, ls="", label=label))
    return handles


def trend_plot(
    path: Path,
    days: Sequence[dt.date],
    tallies: Sequence[tuple[int, int]],
    findings: Mapping[str, Sequence[int]],
    has_data: Sequence[bool] | None = None,
) -> Path:
    """Daily counts over the last reporting days: ceasefire violations (top), findings by family (bottom).

    Parameters
    ----------
    path : Path
        PNG to write.
    days : sequence of date
        Reporting days, oldest first.
    tallies : sequence of (int, int)
        Ceasefire violations and explosions per day.
    findings : dict of str to sequence of int
        Findings per day for each rule family.
    has_data : sequence of bool, optional
        Per day, whether the store holds data for it; days without are marked "no data".
    """
    fig = Figure(figsize=(WIDTH_IN, 4.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(days))
    total = np.array([t[0] for t in tallies])
    boom = np.array([t[1] for t in tallies])
    top.bar(x, total, color="#b0b7c3", label="Ceasefire violations")
    top.bar(x, boom, color="#4a5a70", width=0.5, label="of which explosions")
    top.set_ylabel("count", fontsize=7)
    top.set_title("Ceasefire violations per reporting day", fontsize=8, loc="left")
    top.legend(fontsize=6.5, frameon=False, loc="upper left")
    base = np.zeros(len(days))
    for fam, vals in sorted(findings.items(), key=lambda kv: -sum(kv[1])):
        v = np.asarray(vals, dtype=float)
        bottom.bar(x, v, bottom=base, color=FAMILY_COLOURS.get(fam, "#7f7f7f"), label=fam.replace("_", " "))
        base += v
    bottom.set_ylabel("count", fontsize=7)
    bottom.set_title("Findings per reporting day, by rule family", fontsize=8, loc="left")
    if findings:
        bottom.legend(fontsize=6.5, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bottom.set_xticks(x, [f"{d:%d %b}" for d in days])
    for i, ok in enumerate(has_data if has_data is not None else [True] * len(days)):
        if not ok:
            for a in (top, bottom):
                a.text(
                    i,
                    0,
                    "no data",
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=6.5,
                    color="#888888",
                    transform=a.get_xaxis_transform(),
                )
    for a in (top, bottom):
        a.tick_params(labelsize=7)
        a.spines[["top", "right"]].set_visible(False)
    fig.savefig(path, dpi=DPI)
    return path
