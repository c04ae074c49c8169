"""The peer associator of the fusion benchmark: PyOcto 0.2.2 on a simulated day's detections.

PyOcto (Münchmeyer 2024, https://github.com/yetinam/pyocto) is a seismic phase associator: it
splits space-time into an octree of cells, keeps the cells whose picks are consistent with a
source inside them, and at ``min_node_size`` locates a candidate event and gathers the picks that
fit it. Here every acoustic detection is a ``P`` pick travelling at the speed of sound, with a
homogeneous (0-D) velocity model; S picks do not exist and are not asked for.

``run_pyocto(sim_dir, out_dir)`` reads ``observations/sensors.jsonl``, ``detections.csv`` and
``weather.jsonl`` of a ``truceline simulate`` run, associates, and writes ``out_dir/events.jsonl``
(codebook ``Event`` records, kind ``undetermined``) that ``truceline score --truth SIM_DIR
--result OUT_DIR`` grades. Command line::

    .venv/bin/python benchmarks/peer_pyocto.py SIM_DIR OUT_DIR [--cell-km 1] [--set KEY=VALUE ...]

Settings (every one can be overridden by keyword; :data:`DEFAULTS` holds the values and
``settings_for`` the derived ones). They are the best of the variants tried on the ``small`` load
(see ``TRIED``); PyOcto's defaults are for earthquakes (P at 5-8 km/s, stations tens of km
apart) and do badly here.

- Sound speed: ``c = 331.3 * sqrt(1 + T/273.15)`` m/s at the mean temperature of all of
  ``weather.jsonl``, one value for the day and the whole domain (PyOcto's 0-D model has a single
  speed; it knows neither wind nor the hourly and regional temperature changes, which is the
  peer's honest handicap: a 4 m/s wind is up to ±1.2 % of the speed, up to ±2.5 s at 70 km; a
  launch examined had residuals of about ±1 s at 55-75 km at its true position).
- Time unit (``octree_speed_km_s`` = 5): PyOcto's octree splits the longest of a cell's x, y, z
  and *5 km/s x its duration* (hard-wired in its C++ ``Volume::maxw``), i.e. it balances space and
  time for seismic speeds. At 0.34 km/s that splits time ~15x finer than the arrival windows need
  (10 s -> 3.5 s for an hour of the small load). So PyOcto is given times in units of
  ``c / 5 km/s`` seconds (sound then travels at 5 km per unit) and every time setting is
  converted; times and residuals are converted back. This changes nothing but the order and
  depth of the splits.
- ``min_node_size`` = ``cell_km`` = 1 km: the search cell at which PyOcto stops splitting and
  builds a candidate event. A cell's arrival window at a sensor spans its duration, its width over
  ``c`` (1.4 km -> 4 s) and twice the tolerance; it must be shorter than the 4-12 s between the
  rounds of a fire mission, or a candidate mixes rounds. 2 km gave F1 0.31, 1 km 0.40.
- ``min_node_size_location`` = 0.25 km: the location search stops at cells this small (position
  quantised to ~0.1 km, well inside the scorer's 2 km gate).
- ``location_split_depth`` = 8, ``location_split_return`` = 6 (PyOcto: 6 and 4): PyOcto's
  location is a greedy descent from the whole domain; with its defaults it stalls in side minima
  (an isolated 43-sensor launch located 4.5 km and 12 s off; with 8/6, 0.6 km and 0.9 s, the 0-D
  model's best). PyOcto's guide: raise them when locations are poor.
- ``tolerance`` (of the velocity model) = 0.5 s: slack added to a cell's travel-time window
  before a pick counts as inside it. Wider (1.5 s) mixes rounds and is slower.
- ``pick_match_tolerance`` = 1.5 s (PyOcto's default): the largest residual with which a pick is
  gathered into a located event; it has to absorb the 0-D model's weather error at long range.
- ``association_cutoff_distance`` = 30 km: sensors farther from a cell do not decide whether a
  source can be in it (they still join the event when their arrival fits: the location cutoff is
  infinite, as PyOcto's ``VelocityModel0D`` sets it; a 30 km location cutoff, ``_Model0D``, left
  far picks to form spurious events). With 80 km (the sensors' hearing range) a 3 h window did not
  finish in 280 s, with 30 km in 150 s. A source within the network has ~20 sensors within 30 km.
- ``time_before`` = travel time over the association cutoff + 10 s (~99 s): PyOcto's overlap
  between its time slices (its guide: the longest travel time that matters). Candidates are found
  from sensors within the cutoff only; 247 s (the 80 km hearing range) gave F1 0.38 against 0.40.
- ``n_picks`` = ``n_p_picks`` = 4, ``n_s_picks`` = ``n_p_and_s_picks`` = 0: an event needs four
  detections at four sensors (three fix position and origin time; the fourth guards against
  chance alignments). Higher was not faster (fewer events consume picks, so more cells stay
  alive) and, filtering the 4-pick result, would raise F1 by at most ~0.05 (at 6).
- ``min_interevent_time`` = 0.1 s: PyOcto drops the later of two events closer than this in
  time *anywhere in the domain*; its default (3 s, for earthquakes) would merge unrelated shots
  hundreds of km apart on the whole line. Duplicates from overlapping time slices are still removed
  by ``max_pick_overlap`` (default 4 shared picks).
- ``min_pick_fraction`` = 0.25, ``refinement_iterations`` = 3, ``time_slicing`` = 1200 s: PyOcto's
  defaults. ``n_threads`` = 2 (the target machine has 2 cores).
- Domain: the sensors' bounding box grown by ``margin_km`` (20 km: sources lie up to ~25 km
  from the line, the sensors ±8 km), depth 0-0 km (sources and sensors on the ground), in
  PyOcto's transverse Mercator centred on it (``from_area``; over the whole line's ~6.5° of
  longitude its scale error is < 0.1 %).

A day of up to ~1M detections goes to PyOcto at once: PyOcto itself cuts time into
``time_slicing`` blocks, each extended ``time_before`` back so that an event near a block's start
keeps all its arrivals, associates the blocks on ``n_threads`` threads and removes the duplicates
of the overlaps (events sharing more than ``max_pick_overlap`` picks keep the one with more
picks). No chunking outside PyOcto is needed.

Each event is written with ``location_uncertainty.sigma_m`` = :data:`SIGMA_M` (a stated value,
see there), ``time_sigma_s`` = :data:`TIME_SIGMA_S`, the associated detection ids, the sensors,
the RMS of PyOcto's residuals, and provenance ``peer.pyocto`` with every setting.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyocto
from pyproj import Transformer

from truceline.core import Event, GeoUncertainty, Position, Provenance
from truceline.core.enums import EventKind
from truceline.io.jsonl import read_objects, write_records

ALGORITHM = "peer.pyocto"
#: Stated isotropic location uncertainty (1 σ per axis), m. From the small load: PyOcto's median
#: location error of matched events there is ~0.7 km; a 2-D normal with σ per axis has its median
#: radial error at 1.18 σ, so σ ≈ 600 m. Stated, not estimated per event.
SIGMA_M = 600.0
#: Stated origin-time uncertainty, s (median |error| ~0.45 s on the small load = 0.67 σ).
TIME_SIGMA_S = 0.7
#: Settings that do not depend on the data (see the module docstring for each).
DEFAULTS: dict[str, Any] = {
    "min_node_size_location": 0.25,
    "tolerance": 0.5,
    "pick_match_tolerance": 1.5,
    "association_cutoff_distance": 30.0,
    "location_cutoff_distance": None,
    "n_picks": 4,
    "n_p_picks": 4,
    "n_s_picks": 0,
    "n_p_and_s_picks": 0,
    "min_interevent_time": 0.1,
    "max_pick_overlap": 4,
    "min_pick_fraction": 0.25,
    "refinement_iterations": 3,
    "location_split_depth": 8,
    "location_split_return": 6,
    "time_slicing": 1200.0,
    "n_threads": 2,
    "margin_km": 20.0,
    "octree_speed_km_s": 5.0,
}
#: Variants tried on the ``small`` load (seed 1, 24 h, 533 detectable events, 18,400 detections;
#: this machine, 2 cores): changes from :data:`DEFAULTS`, event F1 (scorer defaults), wall time of
#: ``associate``. More variants on 3 h and 6 h cuts of the load chose the direction (see the
#: module docstring).
TRIED: tuple[tuple[str, float, float], ...] = (
    ("cell 2 km, tolerance 1.5 s, cutoff 80 km, location split 6/4 (PyOcto's)", 0.258, 540.0),
    ("cell 2 km (tolerance 0.5 s, cutoff 30 km, split 8/6)", 0.305, 405.0),
    ("time_before 247 s (80 km hearing range) instead of 99 s", 0.382, 294.0),
    ("DEFAULTS (cell 1 km)", 0.405, 381.0),
)
#: Settings that go to the velocity model rather than the associator, or only to the domain.
_MODEL_KEYS = ("tolerance", "association_cutoff_distance", "location_cutoff_distance")
_LOCAL_KEYS = ("margin_km", "sound_speed_m_s", "mean_temperature_c", "octree_speed_km_s")
#: Associator settings in seconds, converted to PyOcto's time unit.
_TIME_KEYS = ("pick_match_tolerance", "min_interevent_time", "time_slicing")


class _Model0D(pyocto.VelocityModel0D):
    """PyOcto's homogeneous model with its location cutoff exposed.

    ``VelocityModel0D.to_cpp`` always passes an infinite ``location_cutoff_distance`` to the C++
    model, which has the parameter: beyond it a station has no travel time, so its picks are
    neither gathered into an event nor used to locate it.
    """

    def __init__(
        self,
        velocity: float,
        tolerance: float,
        association_cutoff_distance: float,
        location_cutoff_distance: float | None,
    ) -> None:
        super().__init__(velocity, velocity, tolerance, association_cutoff_distance)
        self.location_cutoff_distance = location_cutoff_distance

    def to_cpp(self, stations: list[Any]) -> Any:
        """The C++ model, with both cutoffs (None: infinite)."""
        loc = 1e9 if self.location_cutoff_distance is None else float(self.location_cutoff_distance)
        model = pyocto.backend.VelocityModel0D(
            float(self.p_velocity),
            float(self.s_velocity),
            float(self.tolerance),
            float(self.association_cutoff_distance),
            loc,
        )
        for station in stations:
            model.add_station(station)
        return model


def sound_speed_ms(temperature_c: float) -> float:
    """Speed of sound in dry air, m/s: ``331.3 * sqrt(1 + T/273.15)``."""
    return 331.3 * math.sqrt(1.0 + temperature_c / 273.15)


def read_inputs(sim_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Sensors, detections and mean temperature of a simulation's ``observations/``.

    Returns
    -------
    sensors : DataFrame
        ``id``, ``latitude``, ``longitude``, ``elevation`` (m).
    detections : DataFrame
        ``id``, ``station`` (sensor id), ``time`` (POSIX seconds, float), ``phase`` (``"P"``).
    mean_temperature_c : float
        Mean of ``temperature_c`` over every weather report.
    """
    obs = Path(sim_dir) / "observations"
    rows = [obj for _, obj in read_objects(obs / "sensors.jsonl")]
    sensors = pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "latitude": [r["position"]["lat_deg"] for r in rows],
            "longitude": [r["position"]["lon_deg"] for r in rows],
            "elevation": [float(r.get("elevation_m") or 0.0) for r in rows],
        }
    )
    det = pd.read_csv(obs / "detections.csv", usecols=["id", "sensor_id", "arrival_time"], dtype=str)
    t = pd.to_datetime(det["arrival_time"], format="ISO8601", utc=True)
    seconds = (t - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
    picks = pd.DataFrame(
        {"id": det["id"], "station": det["sensor_id"], "time": seconds.to_numpy(np.float64), "phase": "P"}
    )
    temps = [obj["temperature_c"] for _, obj in read_objects(obs / "weather.jsonl")]
    return sensors, picks, float(np.mean(temps)) if temps else 12.0


def settings_for(sensors: pd.DataFrame, mean_temperature_c: float, cell_km: float, **overrides: Any) -> dict[str, Any]:
    """Every setting of a run: :data:`DEFAULTS`, the data-derived ones, then ``overrides``."""
    unknown = set(overrides) - set(DEFAULTS) - {"time_before", "sound_speed_m_s"}
    if unknown:
        raise KeyError(f"unknown PyOcto setting(s): {sorted(unknown)}")
    s: dict[str, Any] = {**DEFAULTS, "min_node_size": float(cell_km)}
    s["mean_temperature_c"] = round(mean_temperature_c, 3)
    s["sound_speed_m_s"] = round(sound_speed_ms(mean_temperature_c), 3)
    s.update({k: v for k, v in overrides.items() if k != "time_before"})
    c_kms = s["sound_speed_m_s"] / 1000.0
    s["time_before"] = float(overrides.get("time_before", math.ceil(s["association_cutoff_distance"] / c_kms) + 10.0))
    return s


def build_associator(sensors: pd.DataFrame, s: dict[str, Any]) -> tuple[pyocto.OctoAssociator, pd.DataFrame, float]:
    """The associator for settings ``s``, the sensors in its local coordinates (x, y, z in km) and the time scale.

    PyOcto sees times in units of ``1 / time_scale`` seconds (``time_scale = c / octree_speed_km_s``),
    so that sound travels at ``octree_speed_km_s`` in its units; every time setting is converted.
    """
    c_kms = s["sound_speed_m_s"] / 1000.0
    k = c_kms / s["octree_speed_km_s"]
    model = _Model0D(
        c_kms / k,  # P and S speed (S unused: there are no S picks)
        tolerance=s["tolerance"] * k,
        association_cutoff_distance=s["association_cutoff_distance"],
        location_cutoff_distance=s["location_cutoff_distance"],
    )
    # Grow the sensors' bounding box by margin_km (degrees of latitude / of longitude at its middle).
    lat0 = float(sensors["latitude"].mean())
    dlat = s["margin_km"] / 111.2
    dlon = s["margin_km"] / (111.2 * math.cos(math.radians(lat0)))
    kwargs = {k2: v for k2, v in s.items() if k2 not in _MODEL_KEYS + _LOCAL_KEYS and k2 != "time_before"}
    for key in _TIME_KEYS:
        kwargs[key] = s[key] * k
    assoc = pyocto.OctoAssociator.from_area(
        lat=(float(sensors["latitude"].min()) - dlat, float(sensors["latitude"].max()) + dlat),
        lon=(float(sensors["longitude"].min()) - dlon, float(sensors["longitude"].max()) + dlon),
        zlim=(0.0, 0.0),
        velocity_model=model,
        time_before=s["time_before"] * k,
        **kwargs,
    )
    stations = assoc.transform_stations(sensors.copy())
    return assoc, stations, k


def _events(
    assoc: pyocto.OctoAssociator, events: pd.DataFrame, assignments: pd.DataFrame, s: dict[str, Any]
) -> list[Event]:
    """PyOcto's events and pick assignments as codebook ``Event`` records."""
    if events.empty:
        return []
    to_lonlat = Transformer.from_crs(assoc.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(events["x"].to_numpy(), events["y"].to_numpy())  # x, y in km: the CRS is in km
    groups = {int(k): g for k, g in assignments.groupby("event_idx")}
    params = {k: (float(v) if isinstance(v, float) else v) for k, v in s.items()}
    version = getattr(pyocto, "__version__", "unknown")
    made = dt.datetime.fromtimestamp(float(events["time"].max()), dt.UTC)
    prov = Provenance(algorithm=ALGORITHM, algorithm_version=version, parameters=params, created_at=made)
    out = []
    order = np.argsort(events["time"].to_numpy(), kind="stable")
    for n, i in enumerate(order):
        row = events.iloc[i]
        g = groups.get(int(row["idx"]))
        det_ids: tuple[str, ...] = ()
        sensor_ids: tuple[str, ...] = ()
        rms = None
        if g is not None and len(g):
            det_ids = tuple(dict.fromkeys(g["id"].astype(str)))
            sensor_ids = tuple(dict.fromkeys(g["station"].astype(str)))
            rms = float(np.sqrt(np.mean(np.square(g["residual"].to_numpy(np.float64)))))
        out.append(
            Event(
                id=f"pyocto-{n + 1:07d}",
                kind=EventKind.UNDETERMINED,
                origin_time=dt.datetime.fromtimestamp(float(row["time"]), dt.UTC),
                time_sigma_s=TIME_SIGMA_S,
                position=Position(lon_deg=float(lon[i]), lat_deg=float(lat[i])),
                location_uncertainty=GeoUncertainty(sigma_m=SIGMA_M),
                detection_ids=det_ids,
                sensor_ids=sensor_ids,
                residual_rms_s=rms,
                quality=0.5,  # PyOcto gives no quality measure: 0.5 = not assessed
                provenance=prov,
            )
        )
    return out


def run_pyocto(sim_dir: str | Path, out_dir: str | Path, cell_km: float = 1.0, **overrides: Any) -> dict[str, Any]:
    """Associate a simulation's detections with PyOcto and write ``out_dir/events.jsonl``.

    Parameters
    ----------
    sim_dir : path
        A ``truceline simulate`` output folder (``observations/`` is read; ``truth/`` is not).
    out_dir : path
        Where ``events.jsonl`` goes.
    cell_km : float
        PyOcto's ``min_node_size``, km.
    **overrides
        Any key of :data:`DEFAULTS`, ``time_before`` or ``sound_speed_m_s``.

    Returns
    -------
    dict
        ``settings`` (every setting used), ``wall_s`` (``associate`` alone: no reading, projecting
        or writing), ``n_events``, ``n_detections``, ``n_associated`` (detections in events),
        ``read_s`` and ``write_s``.
    """
    t0 = time.perf_counter()
    sensors, picks, temp = read_inputs(sim_dir)
    s = settings_for(sensors, temp, cell_km, **overrides)
    assoc, stations, k = build_associator(sensors, s)
    t_ref = float(np.floor(picks["time"].min())) if len(picks) else 0.0
    scaled = picks.assign(time=(picks["time"] - t_ref) * k)
    read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    if len(scaled):
        events, assignments = assoc.associate(scaled, stations)
    else:  # PyOcto's C++ core reads the first pick unchecked
        events, assignments = pd.DataFrame(), pd.DataFrame(columns=["event_idx", "pick_idx", "residual"])
    wall = time.perf_counter() - t1
    t2 = time.perf_counter()
    if len(events):
        events = events.assign(time=events["time"] / k + t_ref)
        assignments = assignments.assign(residual=assignments["residual"] / k)
    records = _events(assoc, events, assignments, s)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = write_records(out / "events.jsonl", records)
    write_s = time.perf_counter() - t2
    return {
        "settings": s,
        "wall_s": round(wall, 3),
        "n_events": n,
        "n_detections": len(picks),
        "n_associated": len(assignments),
        "read_s": round(read_s, 3),
        "write_s": round(write_s, 3),
    }


def _value(text: str) -> Any:
    """A ``--set`` value: JSON if it parses (numbers, true/false), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    """``peer_pyocto.py SIM_DIR OUT_DIR [--cell-km 1] [--set KEY=VALUE ...]``: run and print the summary as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sim_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--cell-km", type=float, default=1.0, help="PyOcto min_node_size, km (default 1)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting")
    args = ap.parse_args()
    overrides = {}
    for item in args.set:
        key, _, val = item.partition("=")
        overrides[key] = _value(val)
    print(json.dumps(run_pyocto(args.sim_dir, args.out_dir, args.cell_km, **overrides), indent=2))


if __name__ == "__main__":
    main()
