"""Attribution that respects the line's band (issue 18, item 3): where sources disagree about the line,
an event inside the disagreement stays unattributed and the blame margin is the band, not a fixed 2 km."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tests.fusion.synth import lon_at, network, write_case
from truceline.agreement import band_km_at, load_agreement
from truceline.core import Event, Incident, parse_record
from truceline.fusion.run import fuse
from truceline.io.jsonl import read_objects

SOUTH = (lon_at(-3.0), 47.75, 100.0, "launch")  # 3 km inside UA, where the sources differ by 4 km
NORTH = (lon_at(-1.2), 48.25, 400.0, "launch")  # 1.2 km inside UA, where they differ by 0.2 km


def _with_band(manifest: dict[str, Any], root: Path) -> None:
    band = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"disagreement_km": 4.0},
             "geometry": {"type": "LineString", "coordinates": [[35.0, 47.0], [35.0, 48.0]]}},
            {"type": "Feature", "properties": {"disagreement_km": 0.2},
             "geometry": {"type": "LineString", "coordinates": [[35.0, 48.0], [35.0, 49.0]]}},
        ],
    }  # fmt: skip
    (root / "layers" / "band_v1.geojson").write_text(json.dumps(band), encoding="utf-8")
    manifest["lines"][0]["band"] = {"file": "layers/band_v1.geojson", "sources": ["source A", "source B"]}


def test_the_band_is_read_at_the_piece_nearest_each_point(make_agreement):
    banded = load_agreement(make_agreement(_with_band))
    t = [banded.effective_from] * 3
    got = band_km_at(banded, [SOUTH[0], NORTH[0], 36.0], [SOUTH[1], NORTH[1], 48.9], t)
    assert np.allclose(got, [4.0, 0.2, 0.2])
    plain = load_agreement(make_agreement())
    assert np.allclose(band_km_at(plain, [SOUTH[0]], [SOUTH[1]], t[:1]), [0.0])


def _fused(tmp_path: Path, agreement: Path, name: str) -> tuple[list[Event], list[Incident]]:
    fuse(tmp_path / "in", tmp_path / name, agreement=agreement)
    events = [parse_record(Event, o) for _, o in read_objects(tmp_path / name / "events.jsonl")]
    incidents = [parse_record(Incident, o) for _, o in read_objects(tmp_path / name / "incidents.jsonl")]
    return sorted(events, key=lambda e: e.origin_time), incidents


def test_an_event_inside_the_band_stays_unattributed_and_the_margin_is_the_band(tmp_path, make_agreement):
    write_case(tmp_path / "in", network(), [SOUTH, NORTH])
    (south, north), incs = _fused(tmp_path, make_agreement(_with_band), "banded")
    blamed = {i.launch_event_id: i.attribution.party for i in incs}
    # 3 km inside, where the sources differ by 4 km: the side is undetermined, nobody is blamed.
    assert south.attribution.party is None and blamed[south.id] is None
    # 1.2 km inside, where they agree to 0.2 km: attributed, and the launch blamed (margin 0.5 km, the floor).
    assert north.attribution.party is not None and north.attribution.party.value == "UA"
    assert blamed[north.id] is not None and blamed[north.id].value == "UA"
    # The same rounds against the same line without a band: the fixed 2 km margin decides instead.
    (south0, north0), incs0 = _fused(tmp_path, make_agreement(), "plain")
    blamed0 = {i.launch_event_id: i.attribution.party for i in incs0}
    assert south0.attribution.party is not None and blamed0[south0.id] is not None
    assert north0.attribution.party is not None and blamed0[north0.id] is None


def test_the_api_serves_the_band_as_a_layer_for_the_dashboard(tmp_path, make_agreement):
    from fastapi.testclient import TestClient

    from truceline.api import create_app

    with TestClient(create_app(tmp_path / "data", load_agreement(make_agreement(_with_band)))) as client:
        body = client.get("/api/v1/layers/band").json()
    assert sorted(f["properties"]["disagreement_km"] for f in body["features"]) == [0.2, 4.0]
    assert all(f["properties"]["sources"] == ["source A", "source B"] for f in body["features"])


def test_the_bulletin_map_draws_the_band_under_the_line(tmp_path, make_agreement):
    from truceline.report.maps import MapPoints, overview_map

    pts = MapPoints(np.array([SOUTH[0]]), np.array([SOUTH[1]]), np.array(["fire_across_line"]), np.array(["x"]))
    for edit, expect in ((_with_band, True), (None, False)):
        agreement = load_agreement(make_agreement(edit))
        drawn = overview_map(tmp_path / f"map-{expect}.png", agreement, agreement.versions[0], pts, "test")
        assert ("band" in drawn.layer_names) is expect
        assert "line" in drawn.layer_names and (tmp_path / f"map-{expect}.png").stat().st_size > 0
