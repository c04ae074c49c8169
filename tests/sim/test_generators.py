"""Observer patrols, UAV sightings and the parties' claims: determinism, physics and truth labels."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from pyproj import Geod
from scipy.spatial import cKDTree

from truceline.agreement import Agreement, default_agreement
from truceline.agreement.families import FAMILIES as DECLARED
from truceline.agreement.families import FAMILY_IDS
from truceline.core import from_json_dict, to_json_dict
from truceline.core.enums import DistanceBand, ObservationMode, ViolationKind
from truceline.sim.activity import ROUND_LABELLERS, generate_rounds, label_rounds, round_labeller
from truceline.sim.claims import EXPECTED, ClaimOutput, simulate_claims
from truceline.sim.context import World, build_world
from truceline.sim.network import SensorNet, build_network
from truceline.sim.observers import PatrolOutput, simulate_patrols
from truceline.sim.scenario import Claims, Observers, Scenario, Uav, parse_scenario
from truceline.sim.sightings import SightingOutput, simulate_sightings
from truceline.sim.truth import FAMILIES, TruthEvents
from truceline.sim.weapons import CATALOGUE
from truceline.sim.zones import zones_at

GEOD = Geod(ellps="WGS84")
SEED = 11


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return parse_scenario(
        {
            "name": "t",
            "sectors": ["S3-DON-S"],
            "duration_h": 12,
            "activity": {"rounds_per_day": 1500},
            "observers": {"patrols_per_day": 80, "fom_restrictions_per_day": 40},
            "uav": {"sightings_per_day": 400, "in_zone_share": 0.3},
            "claims": {
                "per_party_per_day": 60,
                "mix": {"true": 0.2, "exaggerated": 0.2, "fabricated": 0.2, "blind_spot": 0.2, "false_flag": 0.2},
            },
        }
    )


@pytest.fixture(scope="module")
def world(scenario: Scenario, agreement: Agreement) -> World:
    return build_world(scenario, agreement)


@pytest.fixture(scope="module")
def net(world: World, scenario: Scenario) -> SensorNet:
    return build_network(world, scenario.network, np.random.default_rng(1))


def _truth_events(world: World, net: SensorNet, seed: int) -> TruthEvents:
    """True events from the activity model; a source counts as heard by the sensors within 20 km."""
    r = generate_rounds(world, world.scenario.activity, np.random.default_rng(seed))
    labels = label_rounds(world, r)
    n = len(r)

    def inter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty(2 * n, dtype=a.dtype)
        out[0::2], out[1::2] = a, b
        return out

    x, y = inter(r.launch_x, r.impact_x), inter(r.launch_y, r.impact_y)
    lon, lat = world.to_lonlat(x, y)
    side = np.empty(2 * n, dtype=object)
    side[0::2], side[1::2] = labels.launch.party_of(), labels.impact.party_of()
    tree = cKDTree(np.column_stack([net.x, net.y]))
    n_sensors = np.array([len(v) for v in tree.query_ball_point(np.column_stack([x, y]), r=20_000.0)])
    ids = np.empty(2 * n, dtype=object)
    ids[0::2] = [f"T-L-{i + 1:06d}" for i in range(n)]
    ids[1::2] = [f"T-I-{i + 1:06d}" for i in range(n)]
    return TruthEvents(
        id=ids.astype(str),
        incident_id=np.repeat(np.array([f"T-INC-{i + 1:06d}" for i in range(n)]), 2),
        kind=np.tile(np.array(["launch", "impact"]), n),
        t_s=inter(r.launch_t, r.impact_t),
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        party=np.repeat(r.party, 2),
        weapon=np.repeat(r.weapon, 2),
        weapon_class=np.repeat(np.array([CATALOGUE[w].weapon_class.value for w in r.weapon]), 2),
        side=side,
        signed_distance_km=inter(labels.launch.signed_distance_km, labels.impact.signed_distance_km),
        n_sensors=n_sensors,
    )


@pytest.fixture(scope="module")
def events(world: World, net: SensorNet) -> TruthEvents:
    return _truth_events(world, net, 2)


@pytest.fixture(scope="module")
def patrols(world: World, scenario: Scenario, events: TruthEvents) -> PatrolOutput:
    return simulate_patrols(world, scenario.observers, events, np.random.default_rng(SEED))


@pytest.fixture(scope="module")
def uav(world: World, scenario: Scenario) -> SightingOutput:
    return simulate_sightings(world, scenario.uav, np.random.default_rng(SEED))


@pytest.fixture(scope="module")
def claims(world: World, scenario: Scenario, events: TruthEvents, net: SensorNet) -> ClaimOutput:
    return simulate_claims(world, scenario.claims, events, net, np.random.default_rng(SEED))


def _dump(records: list) -> list[dict]:
    return [to_json_dict(r) for r in records]


def _roundtrip(records: list) -> None:
    """Every record survives the strict codec (the core validation of untrusted input)."""
    for r in records:
        assert from_json_dict(type(r), to_json_dict(r)) == r


def _geodist_km(lon0: float, lat0: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    _, _, d = GEOD.inv(np.full(np.size(lon), lon0), np.full(np.size(lon), lat0), lon, lat)
    return np.asarray(d) / 1000.0


# --------------------------------------------------------------------------- determinism


def test_patrols_are_deterministic_for_a_seed(world, scenario, events, patrols):
    again = simulate_patrols(world, scenario.observers, events, np.random.default_rng(SEED))
    other = simulate_patrols(world, scenario.observers, events, np.random.default_rng(SEED + 1))
    assert _dump(again.reports) == _dump(patrols.reports)
    assert _dump(again.restrictions) == _dump(patrols.restrictions)
    assert [v.to_json("t") for v in again.violations] == [v.to_json("t") for v in patrols.violations]
    assert _dump(other.reports) != _dump(patrols.reports)


def test_sightings_are_deterministic_for_a_seed(world, scenario, uav):
    again = simulate_sightings(world, scenario.uav, np.random.default_rng(SEED))
    other = simulate_sightings(world, scenario.uav, np.random.default_rng(SEED + 1))
    assert _dump(again.sightings) == _dump(uav.sightings)
    assert [v.to_json("t") for v in again.violations] == [v.to_json("t") for v in uav.violations]
    assert _dump(other.sightings) != _dump(uav.sightings)


def test_claims_are_deterministic_for_a_seed(world, scenario, events, net, claims):
    again = simulate_claims(world, scenario.claims, events, net, np.random.default_rng(SEED))
    other = simulate_claims(world, scenario.claims, events, net, np.random.default_rng(SEED + 1))
    assert _dump(again.claims) == _dump(claims.claims)
    assert [t.to_json() for t in again.truth] == [t.to_json() for t in claims.truth]
    assert _dump(other.claims) != _dump(claims.claims)


def test_every_record_passes_core_validation(patrols, uav, claims):
    assert patrols.reports and patrols.restrictions and uav.sightings and claims.claims
    for records in (patrols.reports, patrols.restrictions, uav.sightings, claims.claims):
        _roundtrip(records)
        assert len({r.id for r in records}) == len(records)
    for v in patrols.violations + uav.violations:
        assert v.family in FAMILIES


# --------------------------------------------------------------------------- round truth


def test_rounds_are_labelled_by_one_registered_labeller_per_family_of_fire(world):
    fire = [f.id for f in DECLARED if f.fire]
    assert list(ROUND_LABELLERS) == fire  # registered against the declared ids, in their order
    r = generate_rounds(world, world.scenario.activity, np.random.default_rng(SEED))
    labels = label_rounds(world, r)
    assert len(labels.families) == len(r) and list(labels.at_impact) == fire
    for fams in labels.families:  # each round's families in the declared order
        assert fams == sorted(fams, key=FAMILY_IDS.index) and set(fams) <= set(fire)
    # A round is fire across the line exactly when its launch and impact lie in two parties' areas.
    lp, ip = labels.launch.party_of(), labels.impact.party_of()
    across = (lp != None) & (ip != None) & (lp != ip)  # noqa: E711
    assert across.any() and across.tolist() == ["fire_across_line" in f for f in labels.families]
    assert any("buffer_zone" in f for f in labels.families)


def test_round_labellers_only_for_declared_families_of_fire(world, monkeypatch):
    with pytest.raises(ValueError, match="does not take its truth from rounds"):
        round_labeller("freedom_of_movement")
    with pytest.raises(KeyError, match="unknown rule family"):
        round_labeller("nope")
    monkeypatch.delitem(ROUND_LABELLERS, "protected_site")
    r = generate_rounds(world, world.scenario.activity, np.random.default_rng(SEED))
    with pytest.raises(RuntimeError, match="without a round labeller in the simulator: \\['protected_site'\\]"):
        label_rounds(world, r)


# --------------------------------------------------------------------------- observers


def test_patrols_stand_a_few_km_behind_the_line_on_both_sides(world, patrols):
    ps = patrols.patrols
    assert len(ps) > 10
    z = zones_at(world, np.array([p.x for p in ps]), np.array([p.y for p in ps]), np.array([p.start_s for p in ps]))
    assert list(z.party_of()) == [p.party for p in ps]
    assert {p.party for p in ps} == {"UA", "RU"}
    assert np.all(z.distance_km < 6.5)
    assert np.median(z.distance_km) > 1.5
    assert {p.nationality for p in ps} <= set(world.scenario.observers.nationalities)
    assert all(0 <= p.start_s < p.end_s <= world.duration_s for p in ps)


def test_reports_come_from_events_heard_during_the_patrol(patrols, events):
    by_id = {str(e): i for i, e in enumerate(events.id)}
    patrol = {p.id: p for p in patrols.patrols}
    cfg_r = 10.0
    assert len(patrols.reports) > 50
    for rep, tr in zip(patrols.reports, patrols.report_truth, strict=True):
        assert tr.report_id == rep.id
        p = patrol[rep.patrol_id]
        idx = np.array([by_id[e] for e in tr.event_ids])
        assert np.all((events.t_s[idx] >= p.start_s) & (events.t_s[idx] < p.end_s))
        assert np.all(_geodist_km(p.lon, p.lat, events.lon[idx], events.lat[idx]) <= cfg_r * 1.01)
        assert len(set(events.kind[idx])) == 1
        kind = str(events.kind[idx][0])
        expected = ViolationKind.EXPLOSION_OUTGOING if kind == "launch" else ViolationKind.EXPLOSION_IMPACT
        assert rep.kind in (expected, ViolationKind.EXPLOSION_UNDETERMINED)
        if rep.mode is ObservationMode.SAW:
            assert tr.distance_km <= 3.0
        assert rep.count.low <= rep.count.best <= rep.count.high
        assert rep.observer_nationality == p.nationality


def test_observer_directions_scatter_around_the_true_bearing(patrols, events):
    by_id = {str(e): i for i, e in enumerate(events.id)}
    errs = []
    for rep, tr in zip(patrols.reports, patrols.report_truth, strict=True):
        idx = np.array([by_id[e] for e in tr.event_ids])
        az, _, _ = GEOD.inv(
            np.full(idx.size, rep.observer_position.lon_deg),
            np.full(idx.size, rep.observer_position.lat_deg),
            events.lon[idx],
            events.lat[idx],
        )
        rad = np.radians(az)
        true = math.degrees(math.atan2(np.sin(rad).mean(), np.cos(rad).mean()))
        errs.append((rep.direction_deg - true + 180.0) % 360.0 - 180.0)
    e = np.array(errs)
    sigma = 20.0
    assert e.size > 50
    assert abs(e.mean()) < 3 * sigma / math.sqrt(e.size) + 1.0
    assert 0.75 * sigma < e.std() < 1.3 * sigma
    assert np.all(np.abs(e) < 5 * sigma)
    assert all(r.direction_sigma_deg == sigma for r in patrols.reports)


def _band(km: float) -> DistanceBand:
    for b in DistanceBand:
        lo, hi = b.bounds_km()
        if b is not DistanceBand.UNKNOWN and lo <= km < hi:
            return b
    raise AssertionError(km)


def test_distance_bands_are_mostly_right(patrols):
    pairs = zip(patrols.reports, patrols.report_truth, strict=True)
    right = [rep.distance_band is _band(tr.distance_km) for rep, tr in pairs]
    assert 0.5 < np.mean(right) < 0.98  # a 30 % factor error puts some in the wrong band


def test_exact_observers_get_distance_direction_and_count_right(world, scenario, events):
    cfg = scenario.observers.model_copy(update={"direction_sigma_deg": 0.0, "distance_error": 0.0, "count_error": 0.0})
    out = simulate_patrols(world, cfg, events, np.random.default_rng(3))
    assert out.reports
    for rep, tr in zip(out.reports, out.report_truth, strict=True):
        assert rep.distance_band is _band(tr.distance_km)
        assert abs((rep.direction_deg - tr.bearing_deg + 180.0) % 360.0 - 180.0) <= 0.06
        assert rep.count.best == tr.count == len(tr.event_ids)


def test_fom_restrictions_are_violations_of_the_controlling_party(world, patrols):
    rs, vs = patrols.restrictions, patrols.violations
    assert len(rs) > 5 and len(vs) == len(rs)
    lon = np.array([r.position.lon_deg for r in rs])
    lat = np.array([r.position.lat_deg for r in rs])
    x, y = world.to_xy(lon, lat)
    t = np.array([(r.time - world.start).total_seconds() for r in rs])
    party = zones_at(world, x, y, t).party_of()
    patrol_ids = {p.id for p in patrols.patrols}
    for r, v, p in zip(rs, vs, party, strict=True):
        assert v.family == "freedom_of_movement"
        assert v.source_ids == [r.id]
        assert r.restricting_party is not None
        assert r.restricting_party.value == v.party == p
        assert r.patrol_id in patrol_ids
    assert {v.party for v in vs} == {"UA", "RU"}


def test_no_restrictions_or_reports_without_patrols_and_events(world, scenario, events):
    cfg = scenario.observers.model_copy(update={"patrols_per_day": 0.0, "fom_restrictions_per_day": 0.0})
    out = simulate_patrols(world, cfg, events, np.random.default_rng(1))
    assert out.reports == [] and out.restrictions == [] and out.violations == []


# --------------------------------------------------------------------------- sightings


def test_sightings_inside_and_outside_their_withdrawal_zones(world, uav):
    tr = uav.truth
    assert len(tr) == len(uav.sightings) > 100
    km = world.agreement.withdrawal_km
    x = np.array([t.x for t in tr])
    y = np.array([t.y for t in tr])
    z = zones_at(world, x, y, np.array([t.t_s for t in tr]))
    for i, t in enumerate(tr):
        w = km[t.weapon_class]
        assert z.party_of()[i] == t.party == uav.sightings[i].party_assessed.value
        if t.in_zone:
            assert z.in_withdrawal[t.weapon_class][i] and z.distance_km[i] < 0.96 * w
        else:
            assert not z.in_withdrawal[t.weapon_class][i] and z.distance_km[i] > 1.04 * w
    share = np.mean([t.in_zone for t in tr])
    assert 0.2 < share < 0.4  # the scenario's in_zone_share is 0.3
    assert {t.weapon_class for t in tr} >= {"artillery_ge_100mm", "mlrs", "tank"}


def test_in_zone_sightings_are_the_withdrawal_violations(uav):
    inside = {t.sighting_id: t for t in uav.truth if t.in_zone}
    assert {v.source_ids[0] for v in uav.violations} == set(inside)
    for v in uav.violations:
        t = inside[v.source_ids[0]]
        assert v.family == "withdrawal_zone" and v.party == t.party
        assert (v.lon, v.lat) == (t.lon, t.lat)


def test_sighting_positions_carry_their_error(uav, scenario):
    sigma = scenario.uav.position_sigma_m
    lon = np.array([s.position.lon_deg for s in uav.sightings])
    lat = np.array([s.position.lat_deg for s in uav.sightings])
    tlon, tlat = np.array(uav.true_positions).T
    _, _, d = GEOD.inv(lon, lat, tlon, tlat)
    assert np.all(d < 6 * sigma)
    assert 0.7 * sigma * math.sqrt(2) < np.sqrt(np.mean(np.square(d))) < 1.3 * sigma * math.sqrt(2)
    for s in uav.sightings:
        assert s.platform.value == "uav" and s.geo_uncertainty.sigma_m == sigma and s.count.best >= 1


# --------------------------------------------------------------------------- claims


def _claim_xy(world: World, claim) -> tuple[float, float]:
    x, y = world.to_xy(np.array([claim.place.lon_deg]), np.array([claim.place.lat_deg]))
    return float(x[0]), float(y[0])


def _period_s(world: World, claim) -> tuple[float, float]:
    return (claim.period.start - world.start).total_seconds(), (claim.period.end - world.start).total_seconds()


def test_claims_cover_every_type_with_its_expected_verdict(claims):
    truth = {t.claim_id: t for t in claims.truth}
    assert [c.id for c in claims.claims] == [t.claim_id for t in claims.truth]
    assert {t.truth for t in claims.truth} == set(EXPECTED)
    for c in claims.claims:
        t = truth[c.id]
        assert t.expected_verdict == EXPECTED[t.truth]
        assert c.claimant in ("UA-MOD", "RU-MOD") and c.claimant_kind.value == "party"
        assert c.accused_party is not None and c.accused_party.value == t.accused_party
        assert c.claimant != f"{t.accused_party}-MOD"
        assert c.published_at > c.period.end
        assert c.text.strip()
    pub = [c.published_at for c in claims.claims]
    assert pub == sorted(pub)


def test_false_flags_are_contradicted_and_blame_the_wrong_party(world, claims, events):
    ff = [(c, t) for c, t in zip(claims.claims, claims.truth, strict=True) if t.truth == "false_flag"]
    assert ff
    for c, t in ff:
        assert t.expected_verdict == "contradicted"
        assert t.accused_party != t.actual_party
        assert c.claimant == f"{t.actual_party}-MOD"
        # Nothing the accused fired fell within 5 km in the period: it cannot be corroborated.
        t0, t1 = _period_s(world, c)
        sel = (events.kind == "impact") & (events.party == t.accused_party) & (events.t_s >= t0) & (events.t_s <= t1)
        d = _geodist_km(c.place.lon_deg, c.place.lat_deg, events.lon[sel], events.lat[sel])
        assert np.all(d > 5.0)
    assert all(t.expected_verdict != "corroborated" for t in claims.truth if t.truth == "false_flag")


def test_blind_spot_claims_are_far_from_every_sensor(world, claims, net):
    bs = [(c, d) for c, d in zip(claims.claims, claims.details, strict=True) if d.truth == "blind_spot"]
    assert bs
    assert not net.outages  # with every sensor working, blind means far from all of them
    for c, d in bs:
        assert _geodist_km(c.place.lon_deg, c.place.lat_deg, net.lon, net.lat).min() > 40.0
        x, y = _claim_xy(world, c)
        assert zones_at(world, np.array([x]), np.array([y]), np.array([d.t0_s])).party_of()[0] == d.party


def test_fabricated_claims_are_covered_and_quiet(world, claims, net, events):
    fab = [(c, d) for c, d in zip(claims.claims, claims.details, strict=True) if d.truth == "fabricated"]
    assert fab
    impacts = events.kind == "impact"
    for c, d in fab:
        assert np.sum(_geodist_km(c.place.lon_deg, c.place.lat_deg, net.lon, net.lat) <= 15.0) >= 5
        t0, t1 = _period_s(world, c)
        sel = impacts & (events.t_s >= t0) & (events.t_s <= t1)
        assert np.all(_geodist_km(c.place.lon_deg, c.place.lat_deg, events.lon[sel], events.lat[sel]) > 5.0)
        x, y = _claim_xy(world, c)
        assert zones_at(world, np.array([x]), np.array([y]), np.array([t0])).party_of()[0] == d.party


def test_true_and_exaggerated_claims_rest_on_real_impacts_by_the_accused(world, claims, events):
    by_id = {str(e): i for i, e in enumerate(events.id)}
    real = [
        (c, t, d)
        for c, t, d in zip(claims.claims, claims.truth, claims.details, strict=True)
        if t.truth in ("true", "exaggerated")
    ]
    assert real
    for c, t, d in real:
        idx = np.array([by_id[e] for e in d.event_ids])
        assert np.all(events.kind[idx] == "impact")
        assert t.accused_party == t.actual_party
        assert np.all(events.party[idx] == t.actual_party)
        assert all(s == d.party for s in events.side[idx])  # on the claimant's side
        t0, t1 = _period_s(world, c)
        assert np.all((events.t_s[idx] >= t0 - 1e-3) & (events.t_s[idx] <= t1 + 1e-3))
        assert 10 * 60 <= t1 - t0 <= 60 * 60 + 1
        assert _geodist_km(c.place.lon_deg, c.place.lat_deg, events.lon[idx], events.lat[idx]).min() < 6.0
        if t.truth == "true":
            assert c.count.best == idx.size
        else:
            assert c.count.best >= 3 * idx.size - 1


def test_claim_types_fall_back_when_they_cannot_be_made(world, events):
    # No sensors at all: nothing is fabricated-in-coverage or heard; every claim becomes a blind spot.
    empty = SensorNet(
        ids=[],
        x=np.zeros(0),
        y=np.zeros(0),
        lon=np.zeros(0),
        lat=np.zeros(0),
        clock_offset_s=np.zeros(0),
        clock_drift=np.zeros(0),
        has_bearing=False,
        bearing_sigma_deg=3.0,
        timing_sigma_s=0.05,
        contingent=[],
    )
    deaf = replace(events, n_sensors=np.zeros(len(events), dtype=np.int64))
    cfg = Claims(per_party_per_day=20, mix={"true": 1.0, "fabricated": 1.0, "false_flag": 1.0})
    out = simulate_claims(world, cfg, deaf, empty, np.random.default_rng(5))
    assert out.claims
    assert {t.truth for t in out.truth} == {"blind_spot"}
    assert {t.expected_verdict for t in out.truth} == {"unverifiable"}


def test_no_claims_when_the_rate_is_zero(world, events, net):
    out = simulate_claims(world, Claims(per_party_per_day=0), events, net, np.random.default_rng(5))
    assert out.claims == [] and out.truth == []


def test_default_sections_make_plausible_volumes(world, events, net):
    rng = np.random.default_rng(7)
    p = simulate_patrols(world, Observers(), events, rng)
    s = simulate_sightings(world, Uav(), rng)
    c = simulate_claims(world, Claims(), events, net, rng)
    # 12 h of the defaults: about 6 patrols, 15 sightings, 6 claims.
    assert 0 < len(p.patrols) < 20
    assert 3 < len(s.sightings) < 35
    assert 0 < len(c.claims) < 20


def test_silenced_over_merges_outages_and_respects_gaps():
    import numpy as np

    from truceline.core.enums import SensorHealth
    from truceline.sim.network import SensorNet

    z = np.zeros(1)
    net = SensorNet(
        ids=["a"],
        x=z,
        y=z,
        lon=z,
        lat=z,
        clock_offset_s=z,
        clock_drift=z,
        has_bearing=False,
        bearing_sigma_deg=3.0,
        timing_sigma_s=0.05,
        contingent=["FRA"],
    )
    net.outages += [
        (0, 100.0, 200.0, SensorHealth.JAMMED, "RU"),
        (0, 200.0, 300.0, SensorHealth.OUTAGE, None),
        (0, 310.0, 400.0, SensorHealth.JAMMED, "RU"),
        (0, 0.0, 1000.0, SensorHealth.DEGRADED, None),
    ]
    assert net.silenced_over(0, 120.0, 290.0)  # two touching outages cover it
    assert not net.silenced_over(0, 120.0, 350.0)  # back up from 300 to 310 s
    assert not net.silenced_over(0, 50.0, 150.0)  # working before 100 s (degraded still hears)
