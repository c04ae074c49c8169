"""The scorer on hand-made truth and result folders.

The theatre: the line runs north-south along 35°E; UA holds the west, RU the east. Four
incidents, each a launch on the firing party's side and an impact across the line.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from truceline.core import ClaimAssessment, Event, Incident, Violation, from_json_dict, to_json_dict
from truceline.scoring.matching import ANY_KIND, match_points
from truceline.scoring.score import (
    ELLIPSE_CHI2_95,
    FAMILIES,
    Gates,
    Scorecard,
    ScoreInputError,
    read_truth,
    score_dirs,
)

GEOD = Geod(ellps="WGS84")
T0 = dt.datetime(2026, 9, 2, 3, 0, 0, tzinfo=dt.UTC)
PROV = {"algorithm": "test.fixture", "algorithm_version": "0", "created_at": "2026-09-02T05:00:00+00:00"}


def iso(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def km_from_line(lon: float, lat: float) -> float:
    """Signed distance to the 35°E line, km (+ on the UA/west side)."""
    _, _, d = GEOD.inv(lon, lat, 35.0, lat)
    return (d if lon < 35.0 else -d) / 1000.0


def shift(lon: float, lat: float, azimuth_deg: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth_deg, metres)
    return float(lon2), float(lat2)


def attribution(party: str | None) -> dict[str, Any]:
    if party is None:
        return {"level": "unattributed"}
    return {"level": "origin_area", "party": party, "probability": 0.99, "evidence": ["test ellipse"]}


# --------------------------------------------------------------------------- scenario


@dataclass
class TruthEv:
    id: str
    incident_id: str
    kind: str
    t_s: float
    lon: float
    lat: float
    party: str
    n_sensors: int = 4

    @property
    def side(self) -> str:
        return "UA" if self.lon < 35.0 else "RU"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "kind": self.kind,
            "time": iso(self.t_s),
            "lon": self.lon,
            "lat": self.lat,
            "party": self.party,
            "weapon": "howitzer_152mm",
            "weapon_class": "artillery_ge_100mm",
            "side": self.side,
            "signed_distance_km": km_from_line(self.lon, self.lat),
            "n_detections": self.n_sensors,
            "n_sensors": self.n_sensors,
            "detectable": self.n_sensors >= 3,
        }

    def detection_ids(self) -> list[str]:
        return [f"det-{self.id}-{k}" for k in range(self.n_sensors)]


# (incident, party, launch (t, lon, lat), impact (t, lon, lat))
INCIDENTS = [
    ("inc-1", "UA", (0.0, 34.90, 48.00), (40.0, 35.10, 48.00)),
    ("inc-2", "RU", (100.0, 35.20, 47.50), (160.0, 34.85, 47.50)),
    ("inc-3", "UA", (300.0, 34.80, 48.50), (330.0, 35.05, 48.50)),
    ("inc-4", "RU", (600.0, 35.15, 47.20), (650.0, 34.95, 47.20)),
]

CLAIMS = [
    ("clm-1", "true", "corroborated", "RU", "RU"),
    ("clm-2", "fabricated", "contradicted", "UA", None),
    ("clm-3", "false_flag", "contradicted", "UA", "RU"),
    ("clm-4", "blind_spot", "unverifiable", "RU", "RU"),
]


@dataclass
class Scenario:
    """A truth folder and a (by default perfect) result folder, written on demand."""

    root: Path
    events: list[TruthEv] = field(default_factory=list)

    def __post_init__(self) -> None:
        for inc_id, party, launch, impact in INCIDENTS:
            for kind, (t, lon, lat) in (("launch", launch), ("impact", impact)):
                self.events.append(TruthEv(f"{inc_id}-{kind}", inc_id, kind, t, lon, lat, party))

    @property
    def truth_dir(self) -> Path:
        return self.root / "truth"

    @property
    def result_dir(self) -> Path:
        return self.root / "result"

    def write_truth(self) -> None:
        t = self.truth_dir
        write_jsonl(t / "events.jsonl", (e.to_json() for e in self.events))
        write_jsonl(
            t / "incidents.jsonl",
            (
                {
                    "id": inc_id,
                    "party": party,
                    "weapon": "howitzer_152mm",
                    "weapon_class": "artillery_ge_100mm",
                    "launch_event_id": f"{inc_id}-launch",
                    "impact_event_id": f"{inc_id}-impact",
                    "salvo_id": None,
                    "violation_families": ["fire_across_line"],
                }
                for inc_id, party, _, _ in INCIDENTS
            ),
        )
        violations = [
            {
                "id": f"vio-{inc_id}",
                "family": "fire_across_line",
                "party": party,
                "time": iso(impact[0]),
                "lon": impact[1],
                "lat": impact[2],
                "incident_id": inc_id,
                "source_ids": [f"{inc_id}-impact"],
            }
            for inc_id, party, _, impact in INCIDENTS
        ]
        violations.append(
            {
                "id": "vio-buffer",
                "family": "buffer_zone",
                "party": "RU",
                "time": iso(2000.0),
                "lon": 35.03,
                "lat": 48.2,
                "incident_id": None,
                "source_ids": ["sgt-1"],
            }
        )
        write_jsonl(t / "violations.jsonl", violations)
        write_jsonl(
            t / "claims.jsonl",
            (
                {"claim_id": c, "truth": tr, "expected_verdict": ev, "accused_party": acc, "actual_party": act}
                for c, tr, ev, acc, act in CLAIMS
            ),
        )
        lines = ["detection_id,event_id"]
        for e in self.events:
            lines += [f"{d},{e.id}" for d in e.detection_ids()]
        lines.append("det-false-1,")
        (t / "detections.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # ----- results

    def result_event(
        self,
        e: TruthEv,
        *,
        rid: str | None = None,
        dlon: float = 0.0,
        dlat: float = 0.0,
        dt_s: float = 0.0,
        east_m: float = 0.0,
        kind: str | None = None,
        party: str | None = "side",
        sigma_m: float | None = 50.0,
        cov: list[list[float]] | None = None,
        detection_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        lon, lat = e.lon + dlon, e.lat + dlat
        if east_m:
            lon, lat = shift(lon, lat, 90.0, east_m)
        unc: dict[str, Any] = {"cov_en_m2": cov} if cov is not None else {"sigma_m": sigma_m}
        data = {
            "id": rid or f"r-{e.id}",
            "kind": kind or e.kind,
            "origin_time": iso(e.t_s + dt_s),
            "time_sigma_s": 0.05,
            "position": {"lon_deg": lon, "lat_deg": lat},
            "location_uncertainty": unc,
            "detection_ids": e.detection_ids() if detection_ids is None else detection_ids,
            "quality": 0.9,
            "attribution": attribution(e.side if party == "side" else party),
            "provenance": PROV,
        }
        return to_json_dict(from_json_dict(Event, data))

    def write_results(
        self,
        events: list[dict[str, Any]] | None = None,
        *,
        incidents: list[dict[str, Any]] | None = None,
        violations: list[dict[str, Any]] | None = None,
        verdicts: dict[str, str] | None = None,
    ) -> None:
        r = self.result_dir
        r.mkdir(parents=True, exist_ok=True)
        write_jsonl(r / "events.jsonl", events if events is not None else [self.result_event(e) for e in self.events])
        if incidents is None:
            incidents = [result_incident(inc_id, party) for inc_id, party, _, _ in INCIDENTS]
        write_jsonl(r / "incidents.jsonl", incidents)
        if violations is None:
            violations = [
                result_violation(f"rv-{inc_id}", "fire_across_line.impact", impact[0], impact[1], impact[2], party)
                for inc_id, party, _, impact in INCIDENTS
            ]
            violations.append(result_violation("rv-buffer", "buffer_zone.firing", 2030.0, 35.035, 48.2, "RU"))
        write_jsonl(r / "violations.jsonl", violations)
        if verdicts is None:
            verdicts = {c: ev for c, _, ev, _, _ in CLAIMS}
        write_jsonl(r / "claim_verdicts.jsonl", [result_verdict(c, v) for c, v in verdicts.items()])

    def score(self, gates: Gates | None = None) -> Scorecard:
        return score_dirs(self.truth_dir, self.result_dir, gates or Gates())


def result_incident(
    inc_id: str, party: str | None, launch: str | None = None, impact: str | None = None, rid: str | None = None
) -> dict[str, Any]:
    launch = launch or f"r-{inc_id}-launch"
    impact = impact or f"r-{inc_id}-impact"
    data = {
        "id": rid or f"r-{inc_id}",
        "event_ids": [launch, impact],
        "launch_event_id": launch,
        "impact_event_id": impact,
        "window": {"start": iso(0), "end": iso(700)},
        "attribution": attribution(party) if party is None else {"level": "party", "party": party, "evidence": ["x"]},
        "provenance": PROV,
    }
    return to_json_dict(from_json_dict(Incident, data))


def result_violation(rid: str, rule_id: str, t_s: float, lon: float, lat: float, party: str | None) -> dict[str, Any]:
    data = {
        "id": rid,
        "rule_id": rule_id,
        "rule_version": "1",
        "time": iso(t_s),
        "position": {"lon_deg": lon, "lat_deg": lat},
        "observation_ids": ["obs-1"],
        "attribution": attribution(party) if party is None else {"level": "party", "party": party, "evidence": ["x"]},
        "confidence": 0.9,
        "provenance": PROV,
    }
    return to_json_dict(from_json_dict(Violation, data))


def result_verdict(claim_id: str, verdict: str) -> dict[str, Any]:
    data = {
        "id": f"ca-{claim_id}",
        "claim_id": claim_id,
        "verdict": verdict,
        "rationale": "test",
        "provenance": PROV,
    }
    return to_json_dict(from_json_dict(ClaimAssessment, data))


@pytest.fixture
def scen(tmp_path: Path) -> Scenario:
    s = Scenario(tmp_path)
    s.write_truth()
    return s


# --------------------------------------------------------------------------- perfect result


def test_perfect_result_scores_one_everywhere(scen: Scenario) -> None:
    scen.write_results()
    card = scen.score()
    ev = card.events
    assert (ev.n_truth, ev.n_truth_detectable, ev.n_result, ev.matched) == (8, 8, 8, 8)
    assert ev.precision == ev.recall == ev.recall_detectable == ev.f1 == ev.f1_all == 1.0
    assert ev.location_error_median_m < 1e-3 and ev.location_error_p90_m < 1e-3
    assert ev.time_error_median_s < 1e-6
    assert ev.ellipse_coverage == 1.0
    assert ev.association_purity == 1.0 and ev.n_purity_events == 8

    side = card.side_of_line
    assert side.confusion["UA"] == {"UA": 4, "RU": 0, "unattributed": 0}
    assert side.confusion["RU"] == {"UA": 0, "RU": 4, "unattributed": 0}
    assert side.n_attributed == 8 and side.n_wrong_party == 0 and side.wrong_party_rate == 0.0
    assert side.n_beyond_2km == 8 and side.side_correct_beyond_2km == 1.0

    inc = card.incidents
    assert inc.correct_pairs == 4 and inc.pairing_precision == inc.pairing_recall == inc.pairing_f1 == 1.0
    assert inc.n_linked == 4 and inc.n_blamed == 4 and inc.n_wrong_blame == 0 and inc.wrong_blame_rate == 0.0
    assert inc.attribution_confusion["UA"]["UA"] == 2 and inc.attribution_confusion["RU"]["RU"] == 2

    vio = card.violations
    assert vio.overall.precision == vio.overall.recall == vio.overall.f1 == 1.0
    fams = {f.family: f for f in vio.families}
    assert [f.family for f in vio.families] == list(FAMILIES)
    assert fams["fire_across_line"].matched == 4 and fams["buffer_zone"].matched == 1
    assert fams["protected_site"].n_truth == 0 and math.isnan(fams["protected_site"].precision)
    assert vio.overall.wrong_party == 0

    cl = card.claims
    assert cl.accuracy == cl.accuracy_assessed == 1.0 and cl.n_correct == 4
    assert cl.false_flags_corroborated == 0
    assert cl.confusion["contradicted"]["contradicted"] == 2
    assert cl.by_truth["false_flag"]["contradicted"] == 1


def test_to_dict_is_json_safe_with_stable_keys(scen: Scenario, tmp_path: Path) -> None:
    scen.write_results()
    full = scen.score().to_dict()
    text = json.dumps(full, allow_nan=False)
    assert json.loads(text) == full
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    empty = score_dirs(scen.truth_dir, empty_dir).to_dict()
    json.dumps(empty, allow_nan=False)

    def keys(d: Any, prefix: str = "") -> set[str]:
        if not isinstance(d, dict):
            return set()
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            out |= keys(v, prefix + k + ".")
        return out

    assert keys(full) == keys(empty)
    assert set(full) == {"gates", "events", "side_of_line", "incidents", "missions", "violations", "claims", "notes"}
    assert full["gates"] == {
        "event_time_s": 2.0,
        "event_distance_km": 2.0,
        "violation_time_s": 120.0,
        "violation_distance_km": 3.0,
    }
    assert full["events"]["precision"] == 1.0
    assert full["violations"]["families"]["protected_site"]["precision"] is None


def test_markdown_has_one_table_per_section(scen: Scenario) -> None:
    scen.write_results()
    md = scen.score().to_markdown()
    for heading in ("## Events", "## Side-of-line attribution", "## Incidents", "## Violations", "## Claims"):
        assert heading in md
    assert "**False-flag claims corroborated: 0**" in md
    assert "| precision | 1.0000 |" in md
    assert "| fire_across_line | 4 | 4 | 4 | 1.0000 | 1.0000 | 1.0000 | 1.0000 | 0 |" in md


def test_truth_under_a_truth_subfolder_is_found(scen: Scenario) -> None:
    scen.write_results()
    assert score_dirs(scen.root, scen.result_dir).events.matched == 8


# --------------------------------------------------------------------------- location and gates


def test_result_shifted_1km_east_matches_under_2km_gate(scen: Scenario) -> None:
    scen.write_results([scen.result_event(e, east_m=1000.0, sigma_m=600.0) for e in scen.events])
    ev = scen.score().events
    assert ev.matched == 8
    assert ev.location_error_median_m == pytest.approx(1000.0, abs=2.0)
    assert ev.location_error_p90_m == pytest.approx(1000.0, abs=2.0)
    assert ev.ellipse_coverage == 1.0  # 95% radius 2.45 * 600 m = 1469 m


def test_result_shifted_1km_east_does_not_match_under_half_km_gate(scen: Scenario) -> None:
    scen.write_results([scen.result_event(e, east_m=1000.0) for e in scen.events])
    card = scen.score(Gates(event_distance_km=0.5))
    assert card.events.matched == 0
    assert card.events.precision == 0.0 and card.events.recall == 0.0 and card.events.f1 == 0.0
    assert math.isnan(card.events.location_error_median_m)
    assert card.to_dict()["events"]["location_error_median_m"] is None
    assert card.incidents.correct_pairs == 0


def test_time_gate(scen: Scenario) -> None:
    scen.write_results([scen.result_event(e, dt_s=1.5) for e in scen.events])
    assert scen.score().events.matched == 8
    assert scen.score().events.time_error_median_s == pytest.approx(1.5, abs=1e-6)
    assert scen.score(Gates(event_time_s=1.0)).events.matched == 0


def test_tiny_covariance_gives_zero_ellipse_coverage(scen: Scenario) -> None:
    scen.write_results([scen.result_event(e, east_m=1000.0, cov=[[100.0, 0.0], [0.0, 100.0]]) for e in scen.events])
    ev = scen.score().events
    assert ev.matched == 8 and ev.ellipse_coverage == 0.0


def test_ellipse_axes_are_east_and_north(scen: Scenario) -> None:
    # The truth lies 1 km west of each result: inside an east-west ellipse, outside a north-south one.
    along = [[600.0**2, 0.0], [0.0, 10.0**2]]
    across = [[10.0**2, 0.0], [0.0, 600.0**2]]
    scen.write_results([scen.result_event(e, east_m=1000.0, cov=along) for e in scen.events])
    assert scen.score().events.ellipse_coverage == 1.0
    scen.write_results([scen.result_event(e, east_m=1000.0, cov=across) for e in scen.events])
    assert scen.score().events.ellipse_coverage == 0.0


def test_ellipse_threshold_is_the_95_percent_chi_square() -> None:
    assert pytest.approx(5.991, abs=1e-3) == ELLIPSE_CHI2_95


def test_zero_sigma_covers_only_an_exact_position(scen: Scenario) -> None:
    scen.write_results([scen.result_event(e, sigma_m=0.0) for e in scen.events])
    assert scen.score().events.ellipse_coverage == 1.0
    scen.write_results([scen.result_event(e, sigma_m=0.0, east_m=5.0) for e in scen.events])
    assert scen.score().events.ellipse_coverage == 0.0


# --------------------------------------------------------------------------- kinds, precision, optimality


def test_kind_must_agree_unless_undetermined(scen: Scenario) -> None:
    flipped = {"launch": "impact", "impact": "launch"}
    scen.write_results([scen.result_event(e, kind=flipped[e.kind]) for e in scen.events])
    assert scen.score().events.matched == 0
    scen.write_results([scen.result_event(e, kind="undetermined") for e in scen.events])
    assert scen.score().events.matched == 8


def test_spurious_result_events_lower_precision_exactly(scen: Scenario) -> None:
    results = [scen.result_event(e) for e in scen.events]
    far = scen.events[0]
    results += [scen.result_event(far, rid=f"spurious-{k}", dlat=0.5 + 0.1 * k) for k in range(3)]
    scen.write_results(results)
    ev = scen.score().events
    assert (ev.n_result, ev.matched) == (11, 8)
    assert ev.precision == pytest.approx(8 / 11)
    assert ev.recall == 1.0
    assert ev.f1 == pytest.approx(2 * (8 / 11) / (8 / 11 + 1))


def test_missed_and_undetectable_events(scen: Scenario) -> None:
    scen.events[0].n_sensors = 2  # not detectable, and missed
    scen.write_truth()
    scen.write_results([scen.result_event(e) for e in scen.events[1:]])
    ev = scen.score().events
    assert (ev.n_truth, ev.n_truth_detectable, ev.matched, ev.matched_detectable) == (8, 7, 7, 7)
    assert ev.recall == pytest.approx(7 / 8) and ev.recall_detectable == 1.0
    assert ev.f1 == 1.0 and ev.f1_all == pytest.approx(2 * (7 / 8) / (1 + 7 / 8))


def test_matching_maximises_matches_where_greedy_nearest_would_not(scen: Scenario) -> None:
    # Truth A and B 1.9 km apart (east-west). r1 is 0.3 km from A, r2 1 km on A's other side
    # (2.9 km from B, outside the gate). Greedy nearest takes r1-A and leaves r2 and B unmatched.
    a = scen.events[0]
    b_lon, b_lat = shift(a.lon, a.lat, 90.0, 1900.0)
    b = TruthEv("extra-b", a.incident_id, a.kind, a.t_s, b_lon, b_lat, a.party)
    scen.events.append(b)
    scen.write_truth()
    results = [scen.result_event(e) for e in scen.events[1:-1]]
    results.append(scen.result_event(a, rid="r1", east_m=300.0))
    results.append(scen.result_event(a, rid="r2", east_m=-1000.0))
    scen.write_results(results)
    ev = scen.score().events
    assert ev.matched == 9 and ev.precision == 1.0 and ev.recall == 1.0
    # r2 -> A (1000 m), r1 -> B (1600 m)
    assert ev.location_error_p90_m > 1000.0


def test_matching_minimises_cost_where_greedy_nearest_would_not() -> None:
    # Truth at 0 and 1000 m east; results at 550 m and 1600 m. Greedy nearest pairs 550->1000
    # (450 m) then 1600->0 (1600 m): cost 2.76 (km²). Optimal: 550->0, 1600->1000: 0.66.
    lon0, lat0 = 35.0, 48.0
    t_lon = [lon0, shift(lon0, lat0, 90.0, 1000.0)[0]]
    r_lon = [shift(lon0, lat0, 90.0, 550.0)[0], shift(lon0, lat0, 90.0, 1600.0)[0]]
    m = match_points(
        [0.0, 0.0], r_lon, [lat0, lat0], [0.0, 0.0], t_lon, [lat0, lat0], time_gate_s=2.0, distance_gate_m=2000.0
    )
    assert m.result_index.tolist() == [0, 1]
    assert m.truth_index.tolist() == [0, 1]
    assert m.distance_m == pytest.approx([550.0, 600.0], abs=1.0)
    assert m.n_candidates == 4 and m.n_components == 1


def test_match_points_kinds_and_empty_inputs() -> None:
    m = match_points([], [], [], [0.0], [35.0], [48.0], time_gate_s=1.0, distance_gate_m=1000.0)
    assert len(m) == 0
    m = match_points(
        [0.0, 0.0, 0.0],
        [35.0, 35.0, 35.0],
        [48.0, 48.0, 48.0],
        [0.0, 0.0],
        [35.0, 35.0],
        [48.0, 48.0],
        time_gate_s=1.0,
        distance_gate_m=1000.0,
        result_kind=[1, 1, ANY_KIND],
        truth_kind=[0, 1],
    )
    pairs = sorted(zip(m.result_index.tolist(), m.truth_index.tolist(), strict=True))
    assert pairs in ([(0, 1), (2, 0)], [(1, 1), (2, 0)])
    with pytest.raises(ValueError, match="gates"):
        match_points([0.0], [35.0], [48.0], [0.0], [35.0], [48.0], time_gate_s=0.0, distance_gate_m=1.0)


def test_match_points_never_pairs_outside_either_gate() -> None:
    rng = np.random.default_rng(7)
    n = 400
    tt = rng.uniform(0, 200, n)
    tlon, tlat = rng.uniform(34.9, 35.1, n), rng.uniform(47.9, 48.1, n)
    rt = tt + rng.normal(0, 1.5, n)
    rlon, rlat = tlon + rng.normal(0, 0.02, n), tlat + rng.normal(0, 0.02, n)
    m = match_points(rt, rlon, rlat, tt, tlon, tlat, time_gate_s=2.0, distance_gate_m=2000.0)
    assert len(set(m.result_index.tolist())) == len(m) == len(set(m.truth_index.tolist()))
    assert np.all(np.abs(rt[m.result_index] - tt[m.truth_index]) <= 2.0)
    _, _, d = GEOD.inv(rlon[m.result_index], rlat[m.result_index], tlon[m.truth_index], tlat[m.truth_index])
    assert np.all(d <= 2000.0) and np.allclose(d, m.distance_m)


# --------------------------------------------------------------------------- side of line


def test_one_swapped_side_gives_its_confusion_cell(scen: Scenario) -> None:
    results = [scen.result_event(e) for e in scen.events]
    victim = scen.events[0]  # a UA launch
    assert victim.side == "UA"
    results[0] = scen.result_event(victim, party="RU")
    scen.write_results(results)
    side = scen.score().side_of_line
    assert side.confusion["UA"] == {"UA": 3, "RU": 1, "unattributed": 0}
    assert side.n_wrong_party == 1
    assert side.wrong_party_rate == pytest.approx(1 / 8)
    assert side.side_correct_beyond_2km == pytest.approx(7 / 8)


def test_unattributed_events_are_not_wrong(scen: Scenario) -> None:
    results = [scen.result_event(e, party=None) if i < 3 else scen.result_event(e) for i, e in enumerate(scen.events)]
    scen.write_results(results)
    side = scen.score().side_of_line
    assert sum(side.confusion[r]["unattributed"] for r in side.confusion) == 3
    assert side.n_attributed == 5 and side.n_wrong_party == 0 and side.wrong_party_rate == 0.0
    assert side.side_correct_beyond_2km == pytest.approx(5 / 8)  # unattributed is not correct


def test_no_attribution_at_all_gives_null_wrong_party_rate(scen: Scenario) -> None:
    scen.write_results([scen.result_event(e, party=None) for e in scen.events])
    card = scen.score()
    assert card.side_of_line.n_attributed == 0
    assert card.to_dict()["side_of_line"]["wrong_party_rate"] is None


# --------------------------------------------------------------------------- incidents


def test_mixed_up_pairs_and_wrong_blame(scen: Scenario) -> None:
    incidents = [
        result_incident("inc-1", "UA"),
        result_incident("inc-2", "UA"),  # correct pair, wrong blame (RU fired)
        # inc-3's launch with inc-4's impact: not a pair; links two truth incidents, so unlinked
        result_incident("inc-3", "UA", launch="r-inc-3-launch", impact="r-inc-4-impact", rid="r-mixed"),
        result_incident("inc-4", None, launch="r-inc-4-launch", impact="r-inc-3-impact", rid="r-mixed-2"),
    ]
    scen.write_results(incidents=incidents)
    inc = scen.score().incidents
    assert inc.n_truth_paired == 4 and inc.n_result_paired == 4
    assert inc.correct_pairs == 2
    assert inc.pairing_precision == 0.5 and inc.pairing_recall == 0.5
    assert inc.n_linked == 2 and inc.n_blamed == 2 and inc.n_wrong_blame == 1
    assert inc.wrong_blame_rate == 0.5
    assert inc.attribution_confusion["RU"]["UA"] == 1
    assert inc.n_blamed_unlinked == 1


def test_duplicate_result_incidents_count_once(scen: Scenario) -> None:
    incidents = [result_incident(i, p) for i, p, _, _ in INCIDENTS]
    incidents.append(result_incident("inc-1", "UA", rid="r-inc-1-again"))
    scen.write_results(incidents=incidents)
    inc = scen.score().incidents
    assert inc.correct_pairs == 4 and inc.pairing_recall == 1.0
    assert inc.pairing_precision == pytest.approx(4 / 5)


# --------------------------------------------------------------------------- violations


def test_violations_match_per_family_with_wrong_party(scen: Scenario) -> None:
    _, _, _, impact = INCIDENTS[0]
    violations = [
        result_violation("rv-1", "fire_across_line.impact", impact[0] + 60.0, impact[1], impact[2], "RU"),  # wrong
        result_violation("rv-2", "protected_site.strike", impact[0], impact[1], impact[2], "UA"),  # wrong family
        result_violation("rv-3", "buffer_zone.firing", 2000.0, 35.03, 48.2, None),  # matched, unattributed
        result_violation("rv-4", "buffer_zone.firing", 2200.0, 35.03, 48.2, "RU"),  # outside 120 s
    ]
    scen.write_results(violations=violations)
    vio = scen.score().violations
    fams = {f.family: f for f in vio.families}
    fire = fams["fire_across_line"]
    assert (fire.n_truth, fire.n_result, fire.matched, fire.wrong_party) == (4, 1, 1, 1)
    assert fire.precision == 1.0 and fire.recall == 0.25
    ps = fams["protected_site"]
    assert (ps.n_truth, ps.n_result, ps.matched, ps.precision) == (0, 1, 0, 0.0)
    buf = fams["buffer_zone"]
    assert (buf.n_result, buf.matched, buf.n_attributed, buf.wrong_party) == (2, 1, 0, 0)
    assert (vio.overall.n_truth, vio.overall.n_result, vio.overall.matched) == (5, 4, 2)
    assert vio.overall.precision == 0.5 and vio.overall.recall == pytest.approx(0.4)
    assert vio.overall.wrong_party == 1


def test_unknown_result_family_is_reported_not_dropped(scen: Scenario) -> None:
    scen.write_results(violations=[result_violation("rv-x", "mines.laid", 0.0, 35.0, 48.0, None)])
    vio = scen.score().violations
    assert vio.families[-1].family == "mines" and vio.families[-1].n_result == 1
    assert vio.overall.n_result == 1 and vio.overall.matched == 0


# --------------------------------------------------------------------------- claims


def test_false_flag_corroborated_is_counted_and_shown(scen: Scenario) -> None:
    verdicts = {c: ev for c, _, ev, _, _ in CLAIMS}
    verdicts["clm-3"] = "corroborated"
    del verdicts["clm-4"]
    verdicts["clm-unknown"] = "contradicted"
    scen.write_results(verdicts=verdicts)
    card = scen.score()
    cl = card.claims
    assert cl.false_flags_corroborated == 1 and cl.false_flag_corroborated_ids == ("clm-3",)
    assert cl.n_assessed == 3 and cl.n_correct == 2 and cl.n_unknown_claims == 1
    assert cl.accuracy == 0.5 and cl.accuracy_assessed == pytest.approx(2 / 3)
    assert cl.confusion["contradicted"]["corroborated"] == 1
    assert cl.confusion["unverifiable"]["missing"] == 1
    assert cl.by_truth["false_flag"]["corroborated"] == 1
    md = card.to_markdown()
    assert "**False-flag claims corroborated: 1** (must be 0: **FAIL**)" in md
    assert "clm-3" in md


# --------------------------------------------------------------------------- missing and bad input


def test_missing_result_files_give_null_precision(scen: Scenario) -> None:
    scen.result_dir.mkdir()
    card = scen.score()
    d = card.to_dict()
    assert card.events.has_results is False and card.events.n_result == 0
    assert d["events"]["precision"] is None and d["events"]["recall"] == 0.0
    assert d["events"]["f1"] is None
    assert d["incidents"]["has_results"] is False and d["incidents"]["pairing_precision"] is None
    assert d["violations"]["overall"]["precision"] is None
    assert d["claims"]["accuracy"] is None and d["claims"]["false_flags_corroborated"] == 0
    assert "result events.jsonl absent" in d["notes"]
    md = card.to_markdown()
    assert "_No result events (events.jsonl absent)._" in md
    assert "| precision | — |" in md


def test_missing_truth_sections_report_no_truth(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    write_jsonl(s.truth_dir / "events.jsonl", (e.to_json() for e in s.events))
    s.write_results()
    card = s.score()
    assert card.events.matched == 8 and card.events.has_detections is False
    assert math.isnan(card.events.association_purity)
    assert card.incidents.has_truth is False and math.isnan(card.incidents.pairing_precision)
    assert card.violations.has_truth is False and card.violations.overall.n_truth == 0
    assert card.claims.has_truth is False and card.claims.n_truth == 0
    md = card.to_markdown()
    assert "_No incident truth (incidents.jsonl absent)._" in md
    assert "_No claim truth (claims.jsonl absent)._" in md


def test_missing_truth_dir_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "result").mkdir()
    with pytest.raises(ScoreInputError, match="truth folder not found"):
        score_dirs(tmp_path / "nope", tmp_path / "result")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScoreInputError, match="events"):
        score_dirs(tmp_path / "empty", tmp_path / "result")


def test_malformed_result_line_names_file_line_and_field(scen: Scenario) -> None:
    results = [scen.result_event(e) for e in scen.events]
    results[2]["position"]["lat_deg"] = "48.5"
    scen.write_results(results)
    with pytest.raises(ScoreInputError) as info:
        scen.score()
    err = info.value
    assert err.path == scen.result_dir / "events.jsonl"
    assert err.line == 3 and err.field == "position.lat_deg"
    assert "events.jsonl, line 3, field 'position.lat_deg'" in str(err)


def test_result_line_that_is_not_json(scen: Scenario) -> None:
    scen.write_results()
    path = scen.result_dir / "violations.jsonl"
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(ScoreInputError, match=r"violations\.jsonl, line 6: invalid JSON"):
        scen.score()


def test_duplicate_verdict_for_a_claim_is_an_error(scen: Scenario) -> None:
    scen.write_results()
    path = scen.result_dir / "claim_verdicts.jsonl"
    extra = result_verdict("clm-1", "contradicted") | {"id": "ca-again"}
    path.write_text(path.read_text() + json.dumps(extra) + "\n")
    with pytest.raises(ScoreInputError) as info:
        scen.score()
    assert info.value.line == 5 and info.value.field == "claim_id"


@pytest.mark.parametrize(
    ("file", "line_no", "fld", "value", "reason"),
    [
        ("events.jsonl", 2, "kind", "explosion", "not one of"),
        ("events.jsonl", 1, "time", "2026-09-02T03:00:00", "no UTC offset"),
        ("events.jsonl", 4, "lat", 123.0, "not in"),
        ("events.jsonl", 3, "detectable", "yes", "true or false"),
        ("events.jsonl", 5, "n_sensors", 2.5, "non-negative integer"),
        ("incidents.jsonl", 2, "launch_event_id", "no-such-event", "not an event"),
        ("violations.jsonl", 1, "party", "XX", "not one of"),
        ("claims.jsonl", 3, "expected_verdict", "maybe", "not one of"),
        ("claims.jsonl", 2, "truth", None, "must not be null"),
    ],
)
def test_malformed_truth_line_names_file_line_and_field(
    scen: Scenario, file: str, line_no: int, fld: str, value: Any, reason: str
) -> None:
    path = scen.truth_dir / file
    rows = [json.loads(t) for t in path.read_text().splitlines()]
    rows[line_no - 1][fld] = value
    write_jsonl(path, rows)
    scen.write_results()
    with pytest.raises(ScoreInputError, match=reason) as info:
        scen.score()
    assert (info.value.path.name, info.value.line, info.value.field) == (file, line_no, fld)


def test_missing_truth_field_and_bad_detections_csv(scen: Scenario) -> None:
    path = scen.truth_dir / "events.jsonl"
    rows = [json.loads(t) for t in path.read_text().splitlines()]
    del rows[1]["signed_distance_km"]
    write_jsonl(path, rows)
    with pytest.raises(ScoreInputError, match="required field missing") as info:
        read_truth(scen.truth_dir)
    assert (info.value.line, info.value.field) == (2, "signed_distance_km")

    scen.write_truth()
    csv_path = scen.truth_dir / "detections.csv"
    csv_path.write_text(csv_path.read_text() + "det-x,evt-unknown\n")
    with pytest.raises(ScoreInputError) as info:
        read_truth(scen.truth_dir)
    assert (info.value.line, info.value.field) == (35, "event_id")


def test_gates_must_be_positive() -> None:
    with pytest.raises(ValueError, match="event_distance_km"):
        Gates(event_distance_km=0.0)
    with pytest.raises(ValueError, match="violation_time_s"):
        Gates(violation_time_s=math.inf)


# --------------------------------------------------------------------------- association purity


def test_association_purity(scen: Scenario) -> None:
    a, b = scen.events[0], scen.events[1]
    results = [scen.result_event(e) for e in scen.events]
    # a's event carries 2 of its own 4 detections, one of b's and the false one: purity 0.5
    results[0] = scen.result_event(a, detection_ids=[*a.detection_ids()[:2], b.detection_ids()[0], "det-false-1"])
    results[2] = scen.result_event(scen.events[2], detection_ids=[])  # no detections: not counted
    scen.write_results(results)
    ev = scen.score().events
    assert ev.n_purity_events == 7
    assert ev.association_purity == pytest.approx((0.5 + 6 * 1.0) / 7)


# --------------------------------------------------------------------------- volume


def test_ten_thousand_events(tmp_path: Path) -> None:
    """10,000 truth and 10,000 result events (a busy day on the whole front); timing is not asserted."""
    rng = np.random.default_rng(42)
    n = 10_000
    t = np.sort(rng.uniform(0.0, 86_400.0, n))
    lon, lat = rng.uniform(33.0, 37.0, n), rng.uniform(46.5, 49.5, n)
    kinds = np.where(np.arange(n) % 2 == 0, "launch", "impact")
    truth_rows = []
    for i in range(n):
        side = "UA" if lon[i] < 35.0 else "RU"
        truth_rows.append(
            {
                "id": f"e{i}",
                "incident_id": f"i{i // 2}",
                "kind": str(kinds[i]),
                "time": iso(float(t[i])),
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "party": side,
                "weapon": "mlrs_122mm",
                "weapon_class": "mlrs",
                "side": side,
                "signed_distance_km": (35.0 - float(lon[i])) * 74.0,
                "n_detections": 5,
                "n_sensors": 5,
                "detectable": True,
            }
        )
    write_jsonl(tmp_path / "truth" / "events.jsonl", truth_rows)
    east = rng.normal(0.0, 60.0, n)
    north = rng.normal(0.0, 60.0, n)
    rlon, rlat, _ = GEOD.fwd(lon, lat, np.degrees(np.arctan2(east, north)), np.hypot(east, north))
    rt = t + rng.normal(0.0, 0.05, n)
    result_rows = [
        {
            "id": f"r{i}",
            "kind": str(kinds[i]),
            "origin_time": iso(float(rt[i])),
            "time_sigma_s": 0.05,
            "position": {"lon_deg": float(rlon[i]), "lat_deg": float(rlat[i])},
            "location_uncertainty": {"sigma_m": 60.0},
            "quality": 0.9,
            "attribution": attribution("UA" if rlon[i] < 35.0 else "RU"),
            "provenance": PROV,
        }
        for i in range(n)
    ]
    write_jsonl(tmp_path / "result" / "events.jsonl", result_rows)
    card = score_dirs(tmp_path / "truth", tmp_path / "result")
    ev = card.events
    assert ev.n_truth == ev.n_result == n
    assert ev.recall > 0.99 and ev.precision > 0.99
    assert 50.0 < ev.location_error_median_m < 90.0  # Rayleigh median 1.177 sigma = 71 m
    assert 0.9 < ev.ellipse_coverage < 0.99
