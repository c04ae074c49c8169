"""A small simulated day, ingested and processed once for the report tests.

Four hours of one Donetsk sector from 00:00 Kyiv time on 2 September 2026 (reporting day
2026-09-02, which runs from 19:30 on 1 September), with claims, sightings, restrictions and
sensors jammed for an hour (attributed to RU in the status reports) and some destroyed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenarios import SECTOR, one_sector_day
from truceline.agreement import Agreement, load_agreement
from truceline.service.ingest import ingest_files
from truceline.service.process import process
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario
from truceline.store import SQLiteStore

DAY = "2026-09-02"

SCENARIO = one_sector_day(
    "report",
    4,
    {"mortar_120mm": 0.3, "howitzer_122mm": 0.2, "howitzer_152mm": 0.2, "mlrs_122mm": 0.3},
    network={
        "outages": [
            {"sector": SECTOR, "start_h": 1, "end_h": 2, "health": "jammed", "share": 0.3, "party": "RU"},
            {"sector": SECTOR, "start_h": 3, "end_h": 4, "health": "destroyed", "share": 0.05},
        ]
    },
    observers={"fom_restrictions_per_day": 18},
    uav={"sightings_per_day": 90, "in_zone_share": 0.5},
)


@pytest.fixture(scope="session")
def report_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(data_dir, agreement_dir)`` of the simulated, ingested and processed day (read-only for tests)."""
    root = tmp_path_factory.mktemp("report")
    simulate(parse_scenario(SCENARIO), root / "sim")
    store = SQLiteStore(root / "data")
    try:
        rep = ingest_files(store, [root / "sim"])
        assert rep.ok
        process(store, load_agreement(root / "sim" / "agreement"))
    finally:
        store.close()
    return root / "data", root / "sim" / "agreement"


@pytest.fixture(scope="session")
def report_agreement(report_world: tuple[Path, Path]) -> Agreement:
    return load_agreement(report_world[1])
