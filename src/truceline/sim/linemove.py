"""Move the line mid-scenario: write an agreement with an extra dated version."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import shapely
import yaml

from truceline.agreement import Agreement, load_agreement
from truceline.geo.derive import LineDeriver, polygonal
from truceline.geo.projection import LocalProjection
from truceline.io.geojson import write_features
from truceline.sim.scenario import LineMove


def copy_agreement(agreement: Agreement, out: Path) -> Path:
    """Copy the agreement's directory to ``out`` (what the simulation ran against)."""
    if agreement.path is None:
        raise ValueError("the agreement has no directory to copy")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(agreement.path, out)
    return out


def apply_line_moves(agreement: Agreement, moves: list[LineMove], start: dt.datetime, out: Path) -> Agreement:
    """Copy the agreement to ``out`` and add one line version per move; return it loaded.

    Each move grows the advancing party's area by ``advance_km`` inside the named sector (the
    other party's area shrinks by as much) and derives the new line from the new areas.
    """
    copy_agreement(agreement, out)
    manifest_path = out / "agreement.yaml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    version = agreement.line_at(start)
    areas = dict(version.areas)
    country = shapely.union_all(list(areas.values()))
    proj = LocalProjection.for_bounds(country.bounds)
    deriver = LineDeriver(country)
    sectors = {s.id: s for s in agreement.sectors}
    for k, move in enumerate(sorted(moves, key=lambda m: m.at_h)):
        if move.sector not in sectors:
            raise ValueError(f"line_moves[{k}].sector: unknown sector {move.sector!r}; have {sorted(sectors)}")
        other = next(p for p in areas if p != move.party)
        grown = shapely.buffer(proj.project_geometry(areas[move.party]), move.advance_km * 1000.0, quad_segs=4)
        gain = polygonal(shapely.intersection(proj.unproject_geometry(grown), sectors[move.sector].geometry))
        gain = polygonal(shapely.intersection(gain, areas[other]))
        areas[move.party] = polygonal(shapely.union(areas[move.party], gain))
        areas[other] = polygonal(shapely.difference(areas[other], gain))
        controlling = "RU" if "RU" in areas else move.party
        line = deriver.derive(areas[controlling]).line
        when = start + dt.timedelta(hours=move.at_h)
        tag = f"move{k + 1}"
        rels = {}
        write_features(out / "layers" / f"line_{tag}.geojson", [(line, {"version": tag})])
        for party, geom in areas.items():
            rels[party] = f"layers/area_{party}_{tag}.geojson"
            write_features(out / rels[party], [(geom, {"party": party, "version": tag})])
        manifest["lines"].append(
            {
                "id": f"{version.id}-{tag}",
                "valid_from": when.isoformat(),
                "line": f"layers/line_{tag}.geojson",
                "controlled_areas": rels,
                "source": f"simulated move: {move.party} advances {move.advance_km} km in {move.sector}",
            }
        )
    manifest_path.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_agreement(out)
