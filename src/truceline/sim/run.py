"""``truceline simulate``: a deterministic day on the line, observations and ground truth."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from truceline.agreement import EXAMPLES, Agreement, example_path, load_agreement
from truceline.core import Position, Sensor, SensorKind, SensorStatusReport, WeatherReport
from truceline.core.enums import SensorHealth
from truceline.io.jsonl import write_records
from truceline.sim.activity import Rounds, generate_rounds, label_rounds
from truceline.sim.context import World, build_world
from truceline.sim.linemove import apply_line_moves, copy_agreement
from truceline.sim.network import SensorNet, build_network
from truceline.sim.output import iso_times, write_detections, write_json
from truceline.sim.propagation import Detections, Sources, detect
from truceline.sim.scenario import Scenario
from truceline.sim.truth import TruthEvents, TruthViolation
from truceline.sim.weapons import CATALOGUE
from truceline.sim.weather import WeatherField, build_weather

if TYPE_CHECKING:
    from truceline.sim.claims import ClaimOutput
    from truceline.sim.observers import PatrolOutput
    from truceline.sim.sightings import SightingOutput

Progress = Callable[[str], None]


@dataclass
class SimSummary:
    """What a simulation produced (also written to ``manifest.json``)."""

    out: Path
    counts: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def resolve_agreement(ref: str, base: Path | None) -> Agreement:
    """An example name, or a path (relative to the scenario file's folder)."""
    if ref in EXAMPLES:
        return load_agreement(example_path(ref))
    p = Path(ref)
    if not p.is_absolute() and base is not None:
        p = base / p
    return load_agreement(p)


def simulate(
    scenario: Scenario,
    out: str | Path,
    seed: int | None = None,
    base_dir: Path | None = None,
    fmt: str = "csv",
    progress: Progress | None = None,
) -> SimSummary:
    """Run a scenario and write ``out/observations``, ``out/truth``, ``out/agreement``, ``out/manifest.json``.

    Deterministic for a seed (the scenario's unless ``seed`` is given).
    """
    say = progress or (lambda _: None)
    seed = scenario.seed if seed is None else seed
    out = Path(out)
    summary = SimSummary(out)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        summary.timings_s[name] = round(now - clock, 3)
        clock = now

    obs, truth_dir = out / "observations", out / "truth"
    obs.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    say("agreement")
    agreement = _agreement(scenario, base_dir, out / "agreement")
    world = build_world(scenario, agreement)
    r_net, r_wx, r_act, r_prop, r_obs, r_uav, r_claims = np.random.default_rng(seed).spawn(7)
    lap("agreement")
    say("network and weather")
    net = build_network(world, scenario.network, r_net)
    weather = build_weather(world, scenario.weather, r_wx)
    lap("network_weather")
    say("activity")
    rounds = generate_rounds(world, scenario.activity, r_act)
    labels = label_rounds(world, rounds)
    lap("activity")
    say("propagation")
    src = _sources(world, rounds)
    det = detect(src, net, weather, scenario.propagation, world.duration_s, r_prop)
    lap("propagation")
    say("observers, UAV, claims")
    events = _truth_events(world, rounds, labels, src, det)
    from truceline.sim.claims import simulate_claims
    from truceline.sim.observers import simulate_patrols
    from truceline.sim.sightings import simulate_sightings

    patrols = simulate_patrols(world, scenario.observers, events, r_obs)
    uav = simulate_sightings(world, scenario.uav, r_uav)
    claims = simulate_claims(world, scenario.claims, events, net, r_claims)
    lap("observers_uav_claims")
    say("writing")
    violations = _round_violations(events, rounds, labels) + _interference(world, net)
    violations += patrols.violations + uav.violations
    c = summary.counts
    c.update(_write_observations(obs, truth_dir, world, net, weather, det, scenario, fmt, patrols, uav, claims))
    c.update(_write_truth(truth_dir, world, rounds, labels, events, violations, claims))
    (out / "scenario.yaml").write_text(
        yaml.safe_dump({**scenario.model_dump(mode="json"), "seed": seed}, sort_keys=False), encoding="utf-8"
    )
    lap("writing")
    write_json(
        out / "manifest.json",
        {
            "scenario": scenario.name,
            "seed": seed,
            "agreement": agreement.id,
            "start": world.start.isoformat(),
            "end": world.time(world.duration_s).isoformat(),
            "detections_format": fmt,
            "counts": c,
            "timings_s": summary.timings_s,
            "truth_is_for_the_scorer_only": True,
        },
    )
    return summary


def _agreement(scenario: Scenario, base_dir: Path | None, out: Path) -> Agreement:
    """The scenario's agreement, written to ``out``: copied, or with the scenario's line moves applied."""
    agreement = resolve_agreement(scenario.agreement, base_dir)
    start = scenario.start.astimezone(dt.UTC)
    if scenario.line_moves:
        return apply_line_moves(agreement, scenario.line_moves, start, out)
    copy_agreement(agreement, out)
    return load_agreement(out)


def _write_observations(
    obs: Path,
    truth_dir: Path,
    world: World,
    net: SensorNet,
    weather: WeatherField,
    det: Detections,
    scenario: Scenario,
    fmt: str,
    patrols: PatrolOutput,
    uav: SightingOutput,
    claims: ClaimOutput,
) -> dict[str, int]:
    """Write what the mission receives (``observations/``); return the count per kind."""
    c: dict[str, int] = {}
    c["sensors"] = write_records(obs / "sensors.jsonl", _sensor_records(world, net, scenario))
    c["sensor_status_reports"] = write_records(obs / "sensor_status.jsonl", _status_records(world, net))
    c["weather_reports"] = write_records(obs / "weather.jsonl", _weather_records(world, weather))
    c["detections"], c["false_detections"] = _write_detections(world, net, det, obs / "detections", fmt, truth_dir)
    c["observer_reports"] = write_records(obs / "observer_reports.jsonl", patrols.reports)
    c["fom_restrictions"] = write_records(obs / "fom_restrictions.jsonl", patrols.restrictions)
    c["sightings"] = write_records(obs / "sightings.jsonl", uav.sightings)
    c["claims"] = write_records(obs / "claims.jsonl", claims.claims)
    return c


def _write_truth(
    truth_dir: Path,
    world: World,
    rounds: Rounds,
    labels: Any,
    events: TruthEvents,
    violations: list[TruthViolation],
    claims: ClaimOutput,
) -> dict[str, int]:
    """Write the ground truth (``truth/``, for the scorer only); return the count per kind."""
    c: dict[str, int] = {}
    c["rounds"] = len(rounds)
    c["truth_events"] = write_records(truth_dir / "events.jsonl", _event_rows(world, events))
    c["truth_detectable_events"] = int(events.detectable.sum())
    c["truth_incidents"] = write_records(truth_dir / "incidents.jsonl", _incident_rows(events, rounds, labels))
    t_iso = iso_times(world.start, np.array([v.t_s for v in violations]))
    c["truth_violations"] = write_records(
        truth_dir / "violations.jsonl", (v.to_json(str(t)) for v, t in zip(violations, t_iso, strict=True))
    )
    write_records(truth_dir / "claims.jsonl", (t.to_json() for t in claims.truth))
    return c


def _sources(world: World, r: Rounds) -> Sources:
    n = len(r)
    t = np.empty(2 * n)
    x = np.empty(2 * n)
    y = np.empty(2 * n)
    lvl = np.empty(2 * n)
    t[0::2], t[1::2] = r.launch_t, r.impact_t
    x[0::2], x[1::2] = r.launch_x, r.impact_x
    y[0::2], y[1::2] = r.launch_y, r.impact_y
    lvl[0::2], lvl[1::2] = r.launch_db, r.impact_db
    lon, lat = world.to_lonlat(x, y)
    is_launch = np.zeros(2 * n, dtype=bool)
    is_launch[0::2] = True
    return Sources(t, x, y, lon, lat, lvl, is_launch)


def _truth_events(world: World, r: Rounds, labels: Any, src: Sources, det: Detections) -> TruthEvents:
    n = len(r)
    true = det.source >= 0
    n_net = int(det.sensor.max()) + 1 if det.sensor.size else 1
    pairs = np.unique(det.source[true] * n_net + det.sensor[true])
    n_sensors = np.bincount(pairs // n_net, minlength=2 * n).astype(np.int64)
    inc = np.array([f"T-INC-{i + 1:06d}" for i in range(n)])
    ids = np.empty(2 * n, dtype=object)
    ids[0::2] = [f"T-L-{i + 1:06d}" for i in range(n)]
    ids[1::2] = [f"T-I-{i + 1:06d}" for i in range(n)]
    side = np.empty(2 * n, dtype=object)
    side[0::2], side[1::2] = labels.launch.party_of(), labels.impact.party_of()
    sd = np.empty(2 * n)
    sd[0::2], sd[1::2] = labels.launch.signed_distance_km, labels.impact.signed_distance_km
    wclass = np.array([CATALOGUE[w].weapon_class.value for w in r.weapon])
    return TruthEvents(
        id=ids.astype(str),
        incident_id=np.repeat(inc, 2),
        kind=np.tile(np.array(["launch", "impact"]), n),
        t_s=src.t,
        x=src.x,
        y=src.y,
        lon=src.lon,
        lat=src.lat,
        party=np.repeat(r.party, 2),
        weapon=np.repeat(r.weapon, 2),
        weapon_class=np.repeat(wclass, 2),
        side=side,
        signed_distance_km=sd,
        n_sensors=n_sensors,
    )


def _round_violations(ev: TruthEvents, r: Rounds, labels: Any) -> list[TruthViolation]:
    out: list[TruthViolation] = []
    for i, fams in enumerate(labels.families):
        for fam in fams:
            e = 2 * i + 1 if labels.at_impact[fam][i] else 2 * i
            # A window is broken when the round is fired (the window is judged at the launch time),
            # wherever the round lands.
            when = 2 * i if fam == "ceasefire_window" else e
            out.append(
                TruthViolation(
                    id=f"T-V-{fam}-{i + 1:06d}",
                    family=fam,
                    party=str(r.party[i]),
                    t_s=float(ev.t_s[when]),
                    lon=float(ev.lon[e]),
                    lat=float(ev.lat[e]),
                    incident_id=str(ev.incident_id[e]),
                    source_ids=[str(ev.id[2 * i]), str(ev.id[2 * i + 1])],
                )
            )
    return out


def _interference(world: World, net: SensorNet) -> list[TruthViolation]:
    out = []
    for k, (i, start, _, health, party) in enumerate(net.outages):
        if health in (SensorHealth.JAMMED, SensorHealth.DESTROYED):
            out.append(
                TruthViolation(
                    id=f"T-V-interference-{k + 1:05d}",
                    family="monitoring_interference",
                    party=party,
                    t_s=start,
                    lon=float(net.lon[i]),
                    lat=float(net.lat[i]),
                    source_ids=[net.ids[i]],
                )
            )
    return out


def _sensor_records(world: World, net: SensorNet, scenario: Scenario) -> list[Sensor]:
    kind = SensorKind.ACOUSTIC_ARRAY if net.has_bearing else SensorKind.ACOUSTIC
    installed = world.start - dt.timedelta(days=7)
    return [
        Sensor(
            id=net.ids[i],
            kind=kind,
            position=Position(lon_deg=round(float(net.lon[i]), 7), lat_deg=round(float(net.lat[i]), 7)),
            elevation_m=0.0,
            clock_sigma_ms=max(scenario.network.clock_offset_sigma_ms, 0.1),
            has_bearing=net.has_bearing,
            bearing_sigma_deg=net.bearing_sigma_deg if net.has_bearing else None,
            contingent=net.contingent[i],
            installed_at=installed,
        )
        for i in range(len(net))
    ]


def _status_records(world: World, net: SensorNet) -> list[SensorStatusReport]:
    out = []
    for k, (i, start, end, health, party) in enumerate(net.outages):
        who = f" attributed to {party}" if party else ""
        out.append(
            SensorStatusReport(
                id=f"sst-{k + 1:05d}-a",
                sensor_id=net.ids[i],
                time=world.time(start),
                health=health,
                reason=f"{health.value}{who}",
            )
        )
        if health is not SensorHealth.DESTROYED and end < world.duration_s:
            out.append(
                SensorStatusReport(
                    id=f"sst-{k + 1:05d}-b", sensor_id=net.ids[i], time=world.time(end), health=SensorHealth.OK
                )
            )
    return sorted(out, key=lambda s: (s.time, s.id))


#: The simulator's weather reports are samples of a field that changes smoothly between the hours
#: (sim/weather.py interpolates it linearly), so each says it describes its instant, not the hour
#: after it: fusion then interpolates between two samples, as it must (it holds a report for the
#: period the report claims; a report claiming the hour would be a step the field does not have).
SAMPLE_VALID_FOR_S = 1.0


def _weather_records(world: World, wx: WeatherField) -> list[WeatherReport]:
    cx, cy = wx.cell_centres()
    lon, lat = world.to_lonlat(cx, cy)
    out = []
    for h in range(wx.temperature_c.shape[0]):
        for c in range(cx.size):
            out.append(
                WeatherReport(
                    id=f"wx-{h:03d}-{c:04d}",
                    time=world.time(h * 3600.0),
                    valid_for_s=SAMPLE_VALID_FOR_S,
                    position=Position(lon_deg=round(float(lon[c]), 5), lat_deg=round(float(lat[c]), 5)),
                    region_radius_km=wx.cell_m / 2000.0 * np.sqrt(2.0),
                    temperature_c=round(float(wx.temperature_c[h, c]), 2),
                    wind_u_ms=round(float(wx.wind_u[h, c]), 2),
                    wind_v_ms=round(float(wx.wind_v[h, c]), 2),
                )
            )
    return out


def _write_detections(
    world: World, net: SensorNet, det: Detections, path: Path, fmt: str, truth_dir: Path
) -> tuple[int, int]:
    order = np.argsort(det.arrival_s, kind="stable")
    n = order.size
    ids = [f"det-{i + 1:07d}" for i in range(n)]
    sensor_ids = np.array(net.ids, dtype=object)[det.sensor[order]].tolist()
    bearing = np.mod(np.round(det.bearing_deg[order], 2), 360.0)
    write_detections(
        path,
        fmt,
        ids,
        sensor_ids,
        iso_times(world.start, det.arrival_s[order]),
        net.timing_sigma_s,
        bearing,
        net.bearing_sigma_deg if net.has_bearing else None,
        det.amplitude_pa[order],
        det.launch_score[order],
    )
    src = det.source[order]
    event_id = [f"T-{'L' if k % 2 == 0 else 'I'}-{k // 2 + 1:06d}" if k >= 0 else "" for k in src.tolist()]
    with (truth_dir / "detections.csv").open("w", encoding="utf-8") as fh:
        fh.write("detection_id,event_id\n")
        fh.writelines(f"{a},{b}\n" for a, b in zip(ids, event_id, strict=True))
    return n, int((src < 0).sum())


def _event_rows(world: World, ev: TruthEvents) -> list[dict[str, Any]]:
    times = iso_times(world.start, ev.t_s)
    return [
        {
            "id": str(ev.id[i]),
            "incident_id": str(ev.incident_id[i]),
            "kind": str(ev.kind[i]),
            "time": str(times[i]),
            "lon": round(float(ev.lon[i]), 7),
            "lat": round(float(ev.lat[i]), 7),
            "party": str(ev.party[i]),
            "weapon": str(ev.weapon[i]),
            "weapon_class": str(ev.weapon_class[i]),
            "side": ev.side[i],
            "signed_distance_km": None
            if np.isnan(ev.signed_distance_km[i])
            else round(float(ev.signed_distance_km[i]), 4),
            "n_sensors": int(ev.n_sensors[i]),
            "detectable": bool(ev.n_sensors[i] >= 3),
        }
        for i in range(len(ev))
    ]


def _incident_rows(ev: TruthEvents, r: Rounds, labels: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": str(ev.incident_id[2 * i]),
            "party": str(r.party[i]),
            "weapon": str(r.weapon[i]),
            "weapon_class": str(ev.weapon_class[2 * i]),
            "launch_event_id": str(ev.id[2 * i]),
            "impact_event_id": str(ev.id[2 * i + 1]),
            "salvo_id": f"T-M-{int(r.mission[i]) + 1:06d}",
            "training": bool(r.training[i]),
            "violation_families": labels.families[i],
        }
        for i in range(len(r))
    ]
