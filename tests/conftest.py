"""Shared fixtures: the real data beside the checkout, and small hand-made agreements."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
import yaml

from truceline.io.geojson import write_features

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$TRUCELINE_SHARED_DATA``); missing data fails the test, never skips."""
    path = Path(os.environ.get("TRUCELINE_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "frontline").is_dir():
        pytest.fail(f"real data not found at {path}; set TRUCELINE_SHARED_DATA")
    return path


#: A toy theatre: the line runs north-south along 35°E from 47°N to 49°N; UA holds the west box,
#: RU the east box. Both boxes span 33-37°E, 46.5-49.5°N.
TOY_LINE = shapely.LineString([(35.0, 47.0), (35.0, 48.0), (35.0, 49.0)])
TOY_UA = shapely.Polygon([(33, 46.5), (35, 46.5), (35, 47), (35, 48), (35, 49), (35, 49.5), (33, 49.5)])
TOY_RU = shapely.Polygon([(35, 46.5), (37, 46.5), (37, 49.5), (35, 49.5), (35, 49), (35, 48), (35, 47)])


def toy_manifest() -> dict[str, Any]:
    return {
        "truceline_agreement": 1,
        "id": "toy",
        "title": "Toy agreement",
        "version": "1",
        "effective_from": "2026-01-01T00:00:00+00:00",
        "parties": [{"id": "UA", "name": "Ukraine"}, {"id": "RU", "name": "Russian Federation"}],
        "buffer_zone_km": 7.5,
        "withdrawal_km": {"artillery_ge_100mm": 25, "mlrs": 35, "tank": 15},
        "lines": [
            {
                "id": "v1",
                "valid_from": "2026-01-01T00:00:00+00:00",
                "line": "layers/line_v1.geojson",
                "controlled_areas": {"UA": "layers/ua_v1.geojson", "RU": "layers/ru_v1.geojson"},
            },
        ],
        "protected_sites": "layers/sites.geojson",
        "sectors": "layers/sectors.geojson",
        "disengagement_areas": "layers/diseng.geojson",
        "ceasefire_windows": [
            {
                "id": "w1",
                "name": "Repair window",
                "start": "2026-02-01T06:00:00+02:00",
                "end": "2026-02-01T18:00:00+02:00",
                "sites": ["site-a"],
            },
        ],
    }


def write_toy_layers(root: Path) -> None:
    layers = root / "layers"
    write_features(layers / "line_v1.geojson", [(TOY_LINE, {})])
    write_features(layers / "ua_v1.geojson", [(TOY_UA, {})])
    write_features(layers / "ru_v1.geojson", [(TOY_RU, {})])
    write_features(
        layers / "sites.geojson",
        [
            (
                shapely.Point(34.9, 48.0),
                {"id": "site-a", "name": "Water station A", "category": "water", "radius_km": 3},
            ),
            (
                shapely.Point(35.5, 47.5),
                {"id": "site-b", "name": "Power station B", "category": "power", "radius_km": 2},
            ),
        ],
    )
    write_features(
        layers / "sectors.geojson",
        [
            (shapely.box(33, 46.5, 37, 48), {"id": "S-SOUTH", "name": "South", "contingent": "FRA"}),
            (shapely.box(33, 48, 37, 49.5), {"id": "S-NORTH", "name": "North", "contingent": "GBR"}),
        ],
    )
    write_features(
        layers / "diseng.geojson",
        [
            (shapely.box(34.95, 48.45, 35.05, 48.55), {"id": "da-1", "name": "Disengagement area 1"}),
        ],
    )


@pytest.fixture
def make_agreement(tmp_path: Path) -> Callable[..., Path]:
    """Write the toy agreement, with ``edit(manifest, root)`` applied first; return its directory."""

    def build(edit: Callable[[dict[str, Any], Path], None] | None = None) -> Path:
        root = tmp_path / "agreement"
        write_toy_layers(root)
        manifest = toy_manifest()
        if edit is not None:
            edit(manifest, root)
        (root / "agreement.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        return root

    return build
