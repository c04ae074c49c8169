"""Issue 18 item 3's figure: how much attribution changes when the band replaces the fixed margin.

1. Derives the agreements of ISW's combined layers of 2023-06-01 (``--preset isw``) and of the
   DeepStateMap export of 2023-05-22 (``--preset deepstate``) as ``line_sources.py`` does, and
   measures the disagreement band along the ISW line against the DeepState one
   (``truceline agreement reconcile``: ``measure_band``, pieces of ``BAND_STEP_KM``).
2. Picks two stretches of ``STRETCH_KM`` of the ISW line: the one where the sources disagree the most
   (highest mean band) and the one where they agree the most (lowest), at least ``APART_KM`` apart,
   and writes them as the agreement's two sectors (``sectors``: an agreement derived from an export
   has none; sectors change no attribution). That is **A_plain**; **A_band** is A_plain with the band
   written by ``write_band`` (``reconcile --out``): the two manifests differ only by the version's
   ``band`` key (checked).
3. Simulates one day on A_plain (a scenario written here: start 2023-06-02, the two sectors, the
   network and activity of ``scenarios/steady.yaml``), fuses it with A_plain and with A_band
   (``truceline fuse --agreement``), and compares the two runs event by event (same event ids:
   association and location do not read the agreement) and incident by incident, and grades both
   against the simulation's truth (``truceline score``: side of line, incidents' blame).

Writes ``benchmarks/results/band_attribution.json``, then renders ``.md`` and the blocks of
``benchmarks/README.md`` and ``docs/agreement.md`` from it (``figures.py``,
``figures_band_attribution.py``).

Run: ``.venv/bin/python benchmarks/band_attribution.py`` (``--keep DIR`` keeps the agreements,
the simulation and both fusions there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from figures import publish
from line_sources import BAND_STEP_KM, COUNTRY, OTHER, SOURCES

from truceline.agreement import band_km_at, load_agreement
from truceline.agreement.build import ControlOptions, SourceInfo, derive_agreement, load_country
from truceline.agreement.control import FILL_HOLES_KM2, Selection
from truceline.agreement.reconcile import Band, measure_band, read_source, write_band
from truceline.fusion.run import FusionParams, fuse
from truceline.geo.projection import LocalProjection
from truceline.io.geojson import write_features
from truceline.scoring.score import score_dirs
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
STRETCH_KM = 30
APART_KM = 100.0
SECTOR_HALF_WIDTH_KM = 2.0
START = "2023-06-02T00:00:00+03:00"
SEED = 1
#: The agreement sources: the ISW export gives the agreed line, DeepState the other one.
AGREED, OTHER_SOURCE = SOURCES[2], SOURCES[0]
STRETCHES = {"disagree": "B-DISAGREE", "agree": "B-AGREE"}


def derive(src: dict[str, Any], country: shapely.Geometry, out: Path) -> Path:
    """One export derived into an agreement directory with its preset (as ``line_sources.py`` does)."""
    day = dt.date.fromisoformat(src["date"])
    opts = ControlOptions(Selection.parse(preset=src["preset"]), FILL_HOLES_KM2)
    info = SourceInfo(src["id"], day, (f"{src['file']} (benchmark)",))
    return derive_agreement([(day, OTHER / src["file"])], country, out, source=info, options=opts).parent


def _runs(band: Band) -> list[list[int]]:
    """The band's pieces in runs of consecutive pieces (one run per part of the line)."""
    runs: list[list[int]] = []
    for i, seg in enumerate(band.segments):
        if (
            runs
            and shapely.get_coordinates(band.segments[i - 1])[-1].tolist() == shapely.get_coordinates(seg)[0].tolist()
        ):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def pick_stretches(band: Band) -> dict[str, list[int]]:
    """The pieces of the stretch of STRETCH_KM pieces with the highest mean band, and of the one with the
    lowest mean band at least APART_KM from it."""
    km = band.disagreement_km
    windows = [run[s : s + STRETCH_KM] for run in _runs(band) for s in range(len(run) - STRETCH_KM + 1)]
    if not windows:
        raise SystemExit(f"no part of the agreed line is {STRETCH_KM} pieces long")
    means = np.array([km[w].mean() for w in windows])
    wide = windows[int(np.argmax(means))]
    wide_geom = shapely.union_all([band.segments[i] for i in wide])
    proj = LocalProjection.for_bounds(shapely.union_all(list(band.segments)).bounds)
    wide_xy = proj.project_geometry(wide_geom)
    for k in np.argsort(means):
        w = windows[int(k)]
        far = shapely.distance(proj.project_geometry(shapely.union_all([band.segments[i] for i in w])), wide_xy)
        if far >= APART_KM * 1000.0:
            return {"disagree": wide, "agree": w}
    raise SystemExit(f"no stretch of {STRETCH_KM} pieces lies {APART_KM} km from the widest one")


def write_sectors(agreement: Path, band: Band, stretches: dict[str, list[int]]) -> dict[str, Any]:
    """Add the stretches as the agreement's sectors (pieces buffered SECTOR_HALF_WIDTH_KM, flat ends); what each is."""
    proj = LocalProjection.for_bounds(shapely.union_all(list(band.segments)).bounds)
    feats, info = [], {}
    for key, pieces in stretches.items():
        line_xy = proj.project_geometry(shapely.line_merge(shapely.union_all([band.segments[i] for i in pieces])))
        poly = proj.unproject_geometry(shapely.buffer(line_xy, SECTOR_HALF_WIDTH_KM * 1000.0, cap_style="flat"))
        sid = STRETCHES[key]
        feats.append((poly, {"id": sid, "name": f"benchmark stretch: sources {key}", "contingent": "BENCH"}))
        km = band.disagreement_km[pieces]
        c = shapely.centroid(shapely.union_all([band.segments[i] for i in pieces]))
        info[key] = {
            "sector": sid,
            "pieces": len(pieces),
            "first_piece": pieces[0],
            "centre": {"lon": round(c.x, 4), "lat": round(c.y, 4)},
            "band_mean_km": round(float(km.mean()), 3),
            "band_median_km": round(float(np.median(km)), 3),
            "band_p90_km": round(float(np.percentile(km, 90)), 3),
            "band_max_km": round(float(km.max()), 3),
        }
    write_features(agreement / "layers" / "sectors_benchmark.geojson", feats)
    mpath = agreement / "agreement.yaml"
    manifest = yaml.safe_load(mpath.read_text(encoding="utf-8"))
    manifest["sectors"] = "layers/sectors_benchmark.geojson"
    mpath.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=10_000), encoding="utf-8")
    return info


def _without_band(manifest: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(manifest))
    for entry in out.get("lines") or []:
        entry.pop("band", None)
    return out


def agreements(work: Path) -> tuple[Path, Path, Band, dict[str, Any]]:
    """A_plain and A_band (see the module), the band, and the stretches simulated."""
    country = load_country(COUNTRY)
    isw = derive(AGREED, country, work / "isw")
    ds = derive(OTHER_SOURCE, country, work / "deepstate")
    band = measure_band(read_source(str(isw)), [read_source(str(ds))], BAND_STEP_KM)
    stretches = write_sectors(isw, band, pick_stretches(band))
    plain, with_band = work / "A_plain", work / "A_band"
    shutil.copytree(isw, plain)
    write_band(band, with_band)
    a, b = (yaml.safe_load((p / "agreement.yaml").read_text(encoding="utf-8")) for p in (plain, with_band))
    if _without_band(b) != a or "band" in json.dumps(a) or not any("band" in e for e in b["lines"]):
        raise SystemExit("A_band's manifest is not A_plain's plus the band")
    load_agreement(plain), load_agreement(with_band)
    return plain, with_band, band, stretches


def scenario(plain: Path) -> dict[str, Any]:
    """One day on the two stretches, network and activity as ``scenarios/steady.yaml``."""
    steady = yaml.safe_load((ROOT / "scenarios" / "steady.yaml").read_text(encoding="utf-8"))
    return {
        "scenario": 1,
        "name": "band_attribution",
        "description": "One steady day on the stretches of the 2023-06-01 ISW line where ISW and DeepState "
        "disagree the most and agree the most (benchmarks/band_attribution.py).",
        "agreement": str(plain),
        "start": START,
        "seed": SEED,
        "sectors": list(STRETCHES.values()),
        "activity": steady.get("activity", {}),
        **{k: steady[k] for k in ("network", "weather", "propagation") if k in steady},
    }


# --- comparing the two runs --------------------------------------------------------------------------------


def _records(path: Path) -> dict[str, dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh) if r}


def _party(rec: dict[str, Any]) -> str | None:
    return (rec.get("attribution") or {}).get("party")


def changes(plain: dict[str, dict[str, Any]], band: dict[str, dict[str, Any]], ids: list[str]) -> dict[str, Any]:
    """How the attribution (party or none) of the records ``ids`` (in both runs) changes from plain to band."""
    kinds: Counter[str] = Counter()
    for i in ids:
        a, b = _party(plain[i]), _party(band[i])
        if a == b:
            continue
        kinds[
            "attributed_to_unattributed" if b is None else "unattributed_to_attributed" if a is None else "flipped"
        ] += 1
    n = len(ids)
    share = {k: (round(kinds[k] / n, 4) if n else None) for k in CHANGE_KINDS}
    changed = sum(kinds.values())
    return {
        "n": n,
        "attributed_plain": sum(_party(plain[i]) is not None for i in ids),
        "attributed_band": sum(_party(band[i]) is not None for i in ids),
        "changed": changed,
        "changed_share": round(changed / n, 4) if n else None,
        "by_kind": {k: kinds[k] for k in CHANGE_KINDS},
        "share_by_kind": share,
    }


CHANGE_KINDS = ("attributed_to_unattributed", "unattributed_to_attributed", "flipped")


def _point(rec: dict[str, Any]) -> dict[str, Any]:
    """An event's position; an incident's launch area, else its impact area."""
    if "position" in rec:
        return rec["position"] or {}
    area = rec.get("launch_area") or rec.get("impact_area") or {}
    return area.get("position") or {}


def _lonlat(records: dict[str, dict[str, Any]], ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    pts = [_point(records[i]) for i in ids]
    lon = np.array([q.get("lon_deg", np.nan) for q in pts], dtype=float)
    return lon, np.array([q.get("lat_deg", np.nan) for q in pts], dtype=float)


def stretch_of(agreement: Path, lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """The stretch (key of STRETCHES) whose sector lies nearest each point."""
    a = load_agreement(agreement)
    by_id = {s.id: s.geometry for s in a.sectors}
    proj = LocalProjection.for_bounds(shapely.union_all(list(by_id.values())).bounds)
    keys = list(STRETCHES)
    polys = [proj.project_geometry(by_id[STRETCHES[k]]) for k in keys]
    x, y = proj.forward(np.nan_to_num(lon), np.nan_to_num(lat))
    pts = shapely.points(x, y)
    dist = np.column_stack([shapely.distance(pts, p) for p in polys])
    return [keys[int(j)] for j in np.argmin(dist, axis=1)]


def compare(work: Path, band_dir: Path) -> dict[str, Any]:
    """Events and incidents of the two fusions compared, in all and per stretch."""
    out: dict[str, Any] = {}
    for what in ("events", "incidents"):
        p, b = (_records(work / run / f"{what}.jsonl") for run in ("fuse_plain", "fuse_band"))
        ids = sorted(set(p) & set(b))
        where = stretch_of(band_dir, *_lonlat(p, ids))
        out[what] = {
            "plain": len(p),
            "band": len(b),
            "in_both": len(ids),
            "all": changes(p, b, ids),
            "by_stretch": {k: changes(p, b, [i for i, s in zip(ids, where, strict=True) if s == k]) for k in STRETCHES},
        }
    return out


def _stats(km: np.ndarray) -> dict[str, Any]:
    if km.size == 0:
        return {"n": 0, "median_km": None, "p90_km": None, "within_2km": None}
    return {
        "n": int(km.size),
        "median_km": round(float(np.median(km)), 3),
        "p90_km": round(float(np.percentile(km, 90)), 3),
        "within_2km": round(float(np.mean(km < 2.0)), 3),
    }


def band_at_events(sim: Path, band_dir: Path) -> dict[str, Any]:
    """The band (disagreement_km of the nearest piece) where the simulated events are: in all and per stretch."""
    truth = list(_records(sim / "truth" / "events.jsonl").values())
    lon = np.array([t["lon"] for t in truth], dtype=float)
    lat = np.array([t["lat"] for t in truth], dtype=float)
    times = [dt.datetime.fromisoformat(t["time"]) for t in truth]
    km = band_km_at(load_agreement(band_dir), lon, lat, times)
    where = np.array(stretch_of(band_dir, lon, lat))
    return {"all": _stats(km), "by_stretch": {k: _stats(km[where == k]) for k in STRETCHES}}


SIDE_KEYS = ("n_matched", "n_attributed", "n_wrong_party", "wrong_party_rate", "n_beyond_2km",
             "n_correct_beyond_2km", "side_correct_beyond_2km")  # fmt: skip
INCIDENT_KEYS = ("n_truth", "n_result", "n_linked", "n_blamed", "n_wrong_blame", "wrong_blame_rate")


def grade(sim: Path, result: Path) -> dict[str, Any]:
    """``truceline score --truth SIM --result RESULT --json``: the side-of-line and incidents sections."""
    card = score_dirs(sim, result).to_dict()
    return {
        "side_of_line": {k: card["side_of_line"].get(k) for k in SIDE_KEYS},
        "incidents": {k: card["incidents"].get(k) for k in INCIDENT_KEYS},
        "events": {k: card["events"].get(k) for k in ("n_truth", "n_result", "matched", "f1")},
    }


def run(work: Path) -> dict[str, Any]:
    """Everything measured, in ``work``."""
    t0 = time.perf_counter()
    plain, with_band, band, stretches = agreements(work)
    t_agr = time.perf_counter() - t0
    doc = scenario(plain)
    (work / "scenario.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    sim = work / "sim"
    t = time.perf_counter()
    sim_summary = simulate(parse_scenario(doc, str(work / "scenario.yaml")), sim)
    t_sim = time.perf_counter() - t
    fusions, seconds = {}, {"agreements": round(t_agr, 1), "simulate": round(t_sim, 1)}
    for name, agr in (("plain", plain), ("band", with_band)):
        t = time.perf_counter()
        summary = fuse(sim, work / f"fuse_{name}", agreement=agr)
        seconds[f"fuse_{name}"] = round(time.perf_counter() - t, 1)
        print("fused", name, summary.counts, flush=True)
        fusions[name] = {"counts": summary.counts, **grade(sim, work / f"fuse_{name}")}
    params = FusionParams()
    return {
        "band_step_km": BAND_STEP_KM,
        "band_sources": {
            "agreed": AGREED["id"],
            "agreed_date": AGREED["date"],
            "other": OTHER_SOURCE["id"],
            "other_date": OTHER_SOURCE["date"],
        },
        "band_whole_line": {k: v for k, v in band.summary().items() if k != "by_source"},
        "stretch_km": STRETCH_KM,
        "apart_km": APART_KM,
        "stretches": stretches,
        "fixed_margin_km": params.blame_margin_km,
        "band_floor_km": params.band_floor_km,
        "scenario": {k: v for k, v in doc.items() if k not in ("agreement", "description")},
        "simulated": sim_summary.counts,
        "band_at_events": band_at_events(sim, with_band),
        "fusions": fusions,
        "compare": compare(work, with_band),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="work in this directory (kept) instead of a temporary one")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        args.keep.mkdir(parents=True)
        measured = run(args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            measured = run(Path(tmp))
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        **measured,
        "wall_s": round(time.perf_counter() - t, 1),
    }
    print(publish("band_attribution", result))


if __name__ == "__main__":
    main()
