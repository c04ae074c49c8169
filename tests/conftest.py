"""Shared fixtures: the real data beside the checkout, small hand-made agreements, and stores on every
backend asked for (``--store-backends``, see tests/backends.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
import yaml

from tests import backends
from truceline.io.geojson import write_features
from truceline.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-backends",
        default=None,
        help="store backends the store and service tests run on, comma-separated: sqlite,postgis "
        "(default sqlite, and postgis when TRUCELINE_TEST_PG_URL is set; postgis not answering fails)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a store once per backend asked for; ``sqlite_only`` tests on SQLite alone,
    ``postgis_only`` ones on PostGIS alone (skipped, saying so, when it was not asked for)."""
    if "backend" not in metafunc.fixturenames:
        return
    names = backends.requested(metafunc.config)
    if metafunc.definition.get_closest_marker("sqlite_only"):
        names = ["sqlite"]
    elif metafunc.definition.get_closest_marker("postgis_only"):
        if "postgis" not in names:
            reason = "postgis not asked for (--store-backends=sqlite,postgis or TRUCELINE_TEST_PG_URL)"
            metafunc.parametrize("backend", [pytest.param("postgis", marks=pytest.mark.skip(reason=reason))])
            return
        names = ["postgis"]
    metafunc.parametrize("backend", names)


@pytest.fixture(scope="session", autouse=True)
def _config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The keys of a server store (service/keys.py) go under ``XDG_CONFIG_HOME``: a folder of the test
    session's, never the user's ``~/.config``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        mp.delenv("TRUCELINE_SECRETS_DIR", raising=False)
        yield


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostGIS test database (TRUCELINE_TEST_PG_URL); fails every test that needs it when it does not answer."""
    url = backends.pg_url()
    backends.check_pg(url)
    return url


@pytest.fixture
def new_store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """``new_store_url(name)``: where a new empty store of ``backend`` lives: the data directory ``tmp_path /
    name``, or a schema of its own in the PostGIS test database (dropped after the test)."""
    with contextlib.ExitStack() as stack:

        def make(name: str) -> str:
            if backend == "sqlite":
                return str(tmp_path / name)
            return stack.enter_context(backends.pg_schema(request.getfixturevalue("pg_url")))

        yield make


@pytest.fixture
def store_url(new_store_url: Callable[[str], str]) -> str:
    """Where a new empty store of ``backend`` lives (on SQLite, the data directory ``tmp_path / "data"``)."""
    return new_store_url("data")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A new empty store on each backend asked for."""
    s = open_store(store_url)
    yield s
    s.close()


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
