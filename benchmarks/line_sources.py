"""Issue 18 item 1's figures: the line derived from real exports, against an independent derivation.

Derives the line of contact (``truceline.agreement.control.read_control`` then
``truceline.geo.derive.LineDeriver``, as ``truceline agreement derive`` does) from:

- the raw DeepStateMap export of 2023-05-22 (all layers), with ``--preset deepstate`` and, to show
  what the selection prevents, with every feature;
- ISW's combined layers of 2023-06-01 with ``--preset isw``;
- the DeepState daily snapshot nearest those dates (cyterat; the first is 2024-07-08, 13 months
  later: the front moved in between, so distances to it mix real change and source error).

Each derived line is compared with an independent one (the daily snapshot; for the two 2023
sources also each other, 10 days apart): the line is sampled every 250 m and each sample's
distance to the other line measured (median, p90, max, share within 1 km). **Phantom** line is
the part farther than 1 km from the other line *and* inside the other derivation's controlled
area (behind its front): line no front runs along, such as the edges of slivers between layers.

Each derived line is also measured against its own source (``line_sources_own.py``): the boundary
of the very union ``read_control`` returned (same selection, repairs and hole filling), vertex by
vertex, with the line lying more than 1 km from it (phantom) and the Hausdorff distance to the
boundary's part facing the other party.

Item 2 and 4's figures: the disagreement band (``truceline agreement reconcile``, pieces of
``BAND_STEP_KM`` along the agreed line) between the two 2023 exports each way, and the findings of
``truceline agreement validate``'s checks (default thresholds) on the agreements derived from the two
exports and on the shipped examples.

Writes ``benchmarks/results/line_sources.json``, then renders ``.md`` and the block of
``docs/agreement.md`` from it (``figures.py``, ``figures_line_sources.py``).

Run: ``.venv/bin/python benchmarks/line_sources.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from figures import publish
from line_sources_own import NEAR_KM, own_boundary

from truceline.agreement import example_path
from truceline.agreement.build import ControlOptions, SourceInfo, collect_snapshots, derive_agreement, load_country
from truceline.agreement.checks import FAR_KM, SLIVER_KM2, SLIVER_WIDTH_M, check_agreement
from truceline.agreement.control import FILL_HOLES_KM2, Selection, implausible, read_control
from truceline.agreement.reconcile import measure_band, read_source
from truceline.geo.derive import Derivation, LineDeriver
from truceline.geo.measure import area_km2

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("TRUCELINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
OTHER = DATA / "frontline" / "other_sources"
DAILY = DATA / "frontline" / "deepstate_daily"
COUNTRY = DATA / "admin" / "ua_oblasts_minregion_2020.geojson"
STEP_M = 250.0
PHANTOM_KM = 1.0
BAND_STEP_KM = 1.0

SOURCES: list[dict[str, Any]] = [
    {
        "id": "deepstate-raw-preset",
        "file": "deepstate_20230522T095119Z_1684749079.geojson.gz",
        "date": "2023-05-22",
        "preset": "deepstate",
    },
    {
        "id": "deepstate-raw-all-layers",
        "file": "deepstate_20230522T095119Z_1684749079.geojson.gz",
        "date": "2023-05-22",
        "preset": None,
    },
    {"id": "isw-preset", "file": "isw_combined_20230601.geojson.gz", "date": "2023-06-01", "preset": "isw"},
]


def derive(deriver: LineDeriver, path: Path, preset: str | None, fill: float) -> tuple[Derivation, dict[str, Any]]:
    """The derivation of one file with one preset, and what reading it did (``vs_own``: against its own source)."""
    t = time.perf_counter()
    read = read_control(path, Selection.parse(preset=preset), fill)
    d = deriver.derive(read.geometry)
    info = {
        "features": read.total,
        "selected": read.selected,
        "used": read.used,
        "repaired": len(read.repairs),
        "skipped": {why: len(who) for why, who in read.skipped.items()},
        "holes_filled": len(read.filled_km2),
        "holes_filled_km2": round(sum(read.filled_km2), 4),
        "holes_filled_edge_km": round(read.filled_edge_km, 1),
        "line_km": round(d.line_length_km, 1),
        "area_km2": round(area_km2(d.controlled)),
        "seconds": round(time.perf_counter() - t, 2),
    }
    t = time.perf_counter()
    info["vs_own"] = own_boundary(deriver, d, read.geometry) | {"seconds": round(time.perf_counter() - t, 2)}
    return d, info


def compare(deriver: LineDeriver, d: Derivation, ref: Derivation) -> dict[str, Any]:
    """Distances of ``d``'s line (sampled every STEP_M) to ``ref``'s line; phantom line behind ``ref``'s front."""
    proj = deriver.projection
    line = proj.project_geometry(d.line)
    other = proj.project_geometry(ref.line)
    behind = proj.project_geometry(ref.controlled)
    shapely.prepare(behind)
    pts, seg_len = [], []
    for part in shapely.get_parts(line):
        n = max(int(part.length // STEP_M), 1)
        pts += [part.interpolate(i * part.length / n) for i in range(n + 1)]
        seg_len += [part.length / n / 1000.0] * (n + 1)
    samples = np.array([(p.x, p.y) for p in pts])
    dist_km = shapely.distance(shapely.points(samples), other) / 1000.0
    inside = shapely.contains_xy(behind, samples[:, 0], samples[:, 1])
    phantom = (dist_km > PHANTOM_KM) & inside
    return {
        "samples": int(dist_km.size),
        "median_km": round(float(np.median(dist_km)), 2),
        "p90_km": round(float(np.percentile(dist_km, 90)), 2),
        "max_km": round(float(dist_km.max()), 1),
        "within_1km": round(float(np.mean(dist_km <= 1.0)), 3),
        "phantom_km": round(float(np.sum(np.array(seg_len)[phantom])), 1),
        "phantom_max_depth_km": round(float(dist_km[phantom].max()), 1) if phantom.any() else 0.0,
        "hausdorff_km": round(shapely.hausdorff_distance(line, other) / 1000.0, 1),
    }


def findings(path: Path) -> dict[str, Any]:
    """``validate``'s checks on one agreement: per check, the count, the total and the largest finding."""
    t = time.perf_counter()
    found = check_agreement(path)
    out: dict[str, Any] = {}
    for check in ("overlap", "sliver", "far_line"):
        fs = sorted((f for f in found if f.check == check), key=lambda f: -f.value)
        out[check] = {
            "count": len(fs),
            "total": round(sum(f.value for f in fs), 4),
            "largest": None if not fs else {k: fs[0].as_dict()[k] for k in ("layer", "feature", "lon", "lat", "value")},
        }
    out["seconds"] = round(time.perf_counter() - t, 2)
    return out


def band_and_checks(country: Any) -> dict[str, Any]:
    """Derive the two 2023 exports into agreements, measure the band each way, check the agreements."""
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for s in (SOURCES[0], SOURCES[2]):
            opts = ControlOptions(Selection.parse(preset=s["preset"]), FILL_HOLES_KM2)
            src = SourceInfo(s["id"], dt.date.fromisoformat(s["date"]), (f"{s['file']} (benchmark)",))
            snap = [(dt.date.fromisoformat(s["date"]), OTHER / s["file"])]
            dirs[s["id"]] = derive_agreement(snap, country, Path(tmp) / s["id"], source=src, options=opts).parent
        ds, isw = read_source(str(dirs["deepstate-raw-preset"])), read_source(str(dirs["isw-preset"]))
        bands = {}
        for ref, other in ((isw, ds), (ds, isw)):
            t = time.perf_counter()
            summary = measure_band(ref, [other], BAND_STEP_KM).summary()
            summary["seconds"] = round(time.perf_counter() - t, 2)
            bands[f"{ref.name} vs {other.name}"] = summary
            print("band", ref.name, summary["median_km"], summary["p90_km"], flush=True)
        checks = {f"derived {k}": findings(d) for k, d in dirs.items()}
    checks |= {f"shipped example {n}": findings(example_path(n)) for n in ("default", "minsk2015")}
    thresholds = {"sliver_km2": SLIVER_KM2, "sliver_width_m": SLIVER_WIDTH_M, "far_km": FAR_KM}
    return {"band_step_km": BAND_STEP_KM, "bands": bands, "checks": checks, "check_thresholds": thresholds}


def main() -> None:
    country = load_country(COUNTRY)
    deriver = LineDeriver(country)
    dates = [dt.date.fromisoformat(s["date"]) for s in SOURCES]
    daily = collect_snapshots([DAILY])
    day, snap = min(daily, key=lambda x: min(abs((x[0] - d).days) for d in dates))
    ref, ref_info = derive(deriver, snap, None, FILL_HOLES_KM2)
    ref_info.update({"id": "deepstate-daily", "file": snap.name, "date": day.isoformat(), "preset": None})
    rows, derived = [ref_info], {}
    for s in SOURCES:
        d, info = derive(deriver, OTHER / s["file"], s["preset"], FILL_HOLES_KM2)
        derived[s["id"]] = d
        info.update(s)
        info["implausible"] = implausible(dt.date.fromisoformat(s["date"]), info["line_km"], info["area_km2"])
        info["vs_daily"] = compare(deriver, d, ref)
        rows.append(info)
        print(s["id"], info["line_km"], info["area_km2"], info["vs_daily"], info["vs_own"], flush=True)
    unfilled, unfilled_info = derive(deriver, OTHER / SOURCES[0]["file"], "deepstate", 0.0)
    cross = {
        "deepstate-raw-preset vs isw-preset": compare(deriver, derived["deepstate-raw-preset"], derived["isw-preset"]),
        "isw-preset vs deepstate-raw-preset": compare(deriver, derived["isw-preset"], derived["deepstate-raw-preset"]),
        "deepstate-raw-preset unfilled vs isw-preset": compare(deriver, unfilled, derived["isw-preset"]),
    }
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "fill_holes_km2": FILL_HOLES_KM2,
        "step_m": STEP_M,
        "phantom_km": PHANTOM_KM,
        "own_near_km": NEAR_KM,
        "reference": {"file": snap.name, "date": day.isoformat()},
        "sources": rows,
        "unfilled_deepstate_preset": unfilled_info,
        "cross": cross,
        **band_and_checks(country),
    }
    print(publish("line_sources", result))


if __name__ == "__main__":
    main()
