"""Scenarios of the catalogue through ``truceline fuse`` and ``truceline score``, with regression thresholds.

Thresholds sit below the figures measured when fusion was written (docs/fusion.md) so that a
regression in association, location or attribution fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenarios import one_sector_day
from truceline.fusion.run import fuse
from truceline.scoring.score import score_dirs
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario

pytestmark = pytest.mark.slow

# Two sectors, six hours, the default weapon mix without MLRS ripples (see docs/fusion.md on
# ripple fire from one launcher, which association does not yet separate).
SCENARIO = one_sector_day(
    "fusion-catalogue",
    6,
    {
        "mortar_82mm": 0.15,
        "mortar_120mm": 0.25,
        "tank_125mm": 0.05,
        "howitzer_122mm": 0.2,
        "howitzer_152mm": 0.2,
        "howitzer_155mm": 0.05,
    },
    claims_per_party_per_day=None,
)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root: Path = tmp_path_factory.mktemp("fusecat")
    simulate(parse_scenario(SCENARIO), root / "sim")
    fuse(root / "sim", root / "out")
    return score_dirs(root / "sim", root / "out").to_dict()


def test_events_found_and_located(scored):
    ev = scored["events"]
    assert ev["n_truth_detectable"] >= 50
    assert ev["precision"] >= 0.75
    assert ev["recall_detectable"] >= 0.6
    assert ev["location_error_median_m"] <= 30.0
    assert 0.9 <= ev["ellipse_coverage"] <= 0.99
    assert ev["association_purity"] >= 0.93


def test_sides_and_blame(scored):
    side = scored["side_of_line"]
    # 0.973 when the source test came in (events not shown to be a source are not attributed).
    assert side["side_correct_beyond_2km"] >= 0.95
    assert side["wrong_party_rate"] <= 0.02
    inc = scored["incidents"]
    assert inc["correct_pairs"] >= 10
    assert inc["wrong_blame_rate"] <= 0.03


# Catalogue scenarios (24 h each): thresholds a little under the figures measured when fusion was
# written (docs/fusion.md), so that a regression shows. ``side_correct_beyond_2km`` is the share of
# matched true events more than 2 km from the line that are attributed to the right side: an event
# held back counts as not correct. Two tests hold events back: the one-source test (fusion/mixed.py)
# and, since issue 12's source test (fusion/evidence.py), any event whose odds of being a source
# against noise are below 0.99 is not attributed (a coincidence of arrivals would put a party's name
# on a place where nothing fired: 14-29 % of attributed events before, 0.6-4 % after, scripts/fusion_ab.py).
# Measured when the source test came in: steady 0.987, single_row 0.763, bad_weather 0.907, arrays
# 0.865 (the one-row day gives the weakest evidence: every event has a mirror image to weigh).
CATALOGUE_FLOORS = {
    "steady": {"f1": 0.68, "precision": 0.78, "location_error_median_m": 20.0, "side_correct_beyond_2km": 0.96},
    "single_row": {"f1": 0.45, "precision": 0.65, "location_error_median_m": 30.0, "side_correct_beyond_2km": 0.73},
    "bad_weather": {"f1": 0.57, "precision": 0.72, "location_error_median_m": 22.0, "side_correct_beyond_2km": 0.88},
    "arrays": {"f1": 0.68, "precision": 0.78, "location_error_median_m": 22.0, "side_correct_beyond_2km": 0.84},
}


@pytest.mark.parametrize("name", sorted(CATALOGUE_FLOORS))
def test_catalogue_scenario_through_fuse_and_score(name, tmp_path):
    from truceline.sim.scenario import load_scenario

    repo = Path(__file__).resolve().parents[2]
    simulate(load_scenario(repo / "scenarios" / f"{name}.yaml"), tmp_path / "sim")
    fuse(tmp_path / "sim", tmp_path / "out")
    card = score_dirs(tmp_path / "sim", tmp_path / "out").to_dict()
    ev, side, inc = card["events"], card["side_of_line"], card["incidents"]
    floor = CATALOGUE_FLOORS[name]
    assert ev["f1"] >= floor["f1"]
    assert ev["precision"] >= floor["precision"]
    assert ev["location_error_median_m"] <= floor["location_error_median_m"]
    assert side["side_correct_beyond_2km"] >= floor["side_correct_beyond_2km"]
    assert side["wrong_party_rate"] <= 0.01
    assert inc["wrong_blame_rate"] <= 0.03
