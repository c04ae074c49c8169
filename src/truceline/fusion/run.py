"""``truceline fuse``: detections in, located, classified, paired and side-attributed events out.

Stages: read (:mod:`~truceline.fusion.inputs`), associate (:mod:`~truceline.fusion.associate`),
locate (:mod:`~truceline.fusion.refine`), classify launch / impact from the detections' class
scores, attribute the side (:mod:`~truceline.fusion.side`), pair (:mod:`~truceline.fusion.pairing`),
write ``events.jsonl`` and ``incidents.jsonl`` (docs/formats.md) and ``fusion.json`` (counts,
timings, parameters).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.agreement import EXAMPLES, Agreement, example_path, load_agreement
from truceline.core import (
    DEFAULT_NOISE,
    Attribution,
    Event,
    GeoUncertainty,
    NoiseModel,
    Position,
    Provenance,
)
from truceline.core.enums import AttributionLevel, EventKind, Party, WeaponClass
from truceline.fusion.associate import ALGORITHM, VERSION, AssocParams, associate_quiet
from truceline.fusion.evidence import Evidence, EvidenceParams, source_evidence
from truceline.fusion.incidents import AreaSide, MissionBlame, build_incidents, made_provenance
from truceline.fusion.inputs import FusionInput, grid_north_deg, load_inputs
from truceline.fusion.missions import Located
from truceline.fusion.mixed import SourceTest, single_source_test
from truceline.fusion.pairing import BALLISTICS, pair_events
from truceline.fusion.parts import associate_parts
from truceline.fusion.refine import Refined, merge_mirror_duplicates, refine, refine_merged
from truceline.fusion.side import blame_margin_km, first_party_probability, gross_error_mix
from truceline.fusion.untangle import untangle
from truceline.fusion.weather_fit import fit_weather
from truceline.io.jsonl import write_records

FloatArray = NDArray[np.float64]
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class FusionParams:
    """Everything after association (see ``docs/fusion.md``).

    ``noise`` is the run's :class:`~truceline.core.NoiseModel` (the association's too: a run
    refuses an :class:`AssocParams` with another one); the location takes its physical sound-speed
    sigma and path noise. ``fusion.json`` and provenance write its values flat (:meth:`as_dict`).
    """

    attribute_probability: float = 0.99
    kind_log_odds: float = 3.0
    lone_launch_log_odds: float = 8.0
    blame_margin_km: float = 2.0
    band_floor_km: float = 0.5
    weather_fit: bool = True
    gross_sigma_km: float = 1.5
    gross_rate: float = 0.01
    gross_rate_small: float = 0.05
    gross_support: int = 20
    crowd_m: float = 3000.0
    crowd_s: float = 60.0
    noise: NoiseModel = DEFAULT_NOISE
    pair_speed_tolerance: float = 0.06
    step_s: float = 600.0
    single_source_alpha: float = 0.001
    evidence: EvidenceParams = field(default_factory=EvidenceParams)

    def as_dict(self) -> dict[str, float | int]:
        """The parameters as ``fusion.json`` and provenance write them: the noise model's values flat,
        in the place and under the keys they have always had."""
        out: dict[str, float | int] = {}
        for f in fields(self):
            if f.name == "noise":
                out |= {
                    "sound_speed_sigma_ms": self.noise.sound_speed_sigma_ms,
                    "path_sigma_s": self.noise.path_sigma_s,
                    "path_fraction": self.noise.path_fraction,
                }
            elif f.name == "evidence":
                out |= {
                    "min_sensors": self.noise.min_sensors,
                    "evidence_min_sensors": self.noise.evidence_min_sensors,
                    "common_sound_speed_sigma_ms": self.noise.common_sound_speed_sigma_ms,
                    "common_wind_sigma_ms": self.noise.common_wind_sigma_ms,
                }
                out |= self.evidence.as_dict()
            else:
                out[f.name] = getattr(self, f.name)
        return out


@dataclass
class FuseSummary:
    """What a fusion run produced (also written to ``fusion.json``)."""

    out: Path
    counts: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    latency_s: dict[str, float] = field(default_factory=dict)


def _agreement_for(folder: Path, agreement: str | Path | None) -> Agreement:
    if agreement is not None:
        ref = str(agreement)
        return load_agreement(example_path(ref) if ref in EXAMPLES else Path(ref))
    if (folder / "agreement").is_dir():
        return load_agreement(folder / "agreement")
    return load_agreement(example_path("default"))


def kind_log_odds(inp: FusionInput, det: NDArray[np.int64], inlier: NDArray[np.bool_]) -> FloatArray:
    """Summed log-odds launch vs impact of each event's inlier detections (class scores as probabilities)."""
    d = np.where(det >= 0, det, 0)
    pl = np.clip(inp.detections.launch_score[d], 0.02, 0.98)
    pi = np.clip(inp.detections.impact_score[d], 0.02, 0.98)
    both = np.isfinite(pl) & np.isfinite(pi)
    lo = np.where(both, np.log(pl) - np.log(pi), 0.0)
    return np.where(inlier & (det >= 0), lo, 0.0).sum(axis=1)


def fuse(
    folder: str | Path,
    out: str | Path,
    agreement: str | Path | None = None,
    assoc: AssocParams | None = None,
    params: FusionParams | None = None,
    progress: Progress | None = None,
) -> FuseSummary:
    """Fuse the observations in ``folder`` and write the results to ``out``."""
    folder, out = Path(folder), Path(out)
    assoc = assoc or AssocParams()
    params = params or FusionParams()
    summary = FuseSummary(out)
    t = time.perf_counter()
    inp = load_inputs(folder)
    agr = _agreement_for(folder, agreement)
    summary.timings_s["read"] = time.perf_counter() - t
    records, events = fuse_input(inp, agr, assoc, params, progress, summary.timings_s)
    out.mkdir(parents=True, exist_ok=True)
    summary.counts["detections"] = len(inp.detections)
    summary.counts["events"] = write_records(out / "events.jsonl", records["events"])
    summary.counts["incidents"] = write_records(out / "incidents.jsonl", records["incidents"])
    summary.counts["paired"] = sum(1 for i in records["incidents"] if i.launch_event_id and i.impact_event_id)
    summary.counts["associated_detections"] = int(sum(e.members.size for e in events))
    lat = np.array([e.created_s - e.last_needed_s for e in events])
    if lat.size:
        summary.latency_s = {
            "median": float(np.median(lat)),
            "p90": float(np.quantile(lat, 0.9)),
            "max": float(lat.max()),
        }
    manifest = {
        "source": str(folder),
        "counts": summary.counts,
        "timings_s": {k: round(v, 3) for k, v in summary.timings_s.items()},
        "latency_s": summary.latency_s,
        "association": {"algorithm": ALGORITHM, "version": VERSION, "parameters": assoc.as_dict()},
        "fusion": params.as_dict(),
    }
    (out / "fusion.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return summary


def fuse_input(
    inp: FusionInput,
    agr: Agreement,
    assoc: AssocParams | None = None,
    params: FusionParams | None = None,
    progress: Progress | None = None,
    timings_s: dict[str, float] | None = None,
    tag: str = "",
) -> tuple[dict[str, list[Any]], list[Any]]:
    """Associate, locate, attribute and pair an in-memory input (the core of :func:`fuse`).

    Returns the records (``{"events": [...], "incidents": [...]}``) and the associated events
    (with their creation and last-needed times, for latency figures). ``tag`` goes into every
    event id (``ev-<origin time>-<tag><n>``) so that runs over different windows cannot collide.
    """
    assoc = assoc or AssocParams()
    params = params or FusionParams()
    if assoc.noise != params.noise:
        raise ValueError(f"assoc.noise {assoc.noise} and params.noise {params.noise} differ: a run has one noise model")
    timings_s = {} if timings_s is None else timings_s
    t = time.perf_counter()
    events = associate_parts(
        inp.sensors,
        inp.weather,
        inp.det_sensor,
        inp.det_t,
        inp.detections.time_sigma_s,
        assoc,
        params.step_s,
        (lambda f: progress("associate", f)) if progress else None,
    )
    timings_s["associate"] = time.perf_counter() - t
    t = time.perf_counter()
    events += associate_quiet(
        inp.sensors,
        inp.weather,
        inp.det_sensor,
        inp.det_t,
        inp.detections.time_sigma_s,
        events,
        assoc,
        params.step_s,
        associate_parts,
    )
    timings_s["associate_quiet"] = time.perf_counter() - t
    t = time.perf_counter()
    ref = refine(inp, events, params.noise)
    merged = merge_mirror_duplicates(inp, events, ref, noise=params.noise)
    if merged is not None:
        events, ref = merged.events, refine_merged(inp, ref, merged, params.noise)
    if params.weather_fit and events:
        inp, ref, _ = fit_weather(inp, events, ref, params.noise)
    timings_s["locate"] = time.perf_counter() - t
    t = time.perf_counter()
    evidence = source_evidence(inp, ref, params.noise, params.evidence, np.array([e.quiet for e in events], bool))
    ref = ref.with_mirror_weight(evidence.p_mirror)
    keep = np.flatnonzero(evidence.accept)
    if keep.size < len(events):
        events, ref = [events[i] for i in keep], ref.take(keep)
    timings_s["evidence"] = time.perf_counter() - t
    t = time.perf_counter()
    if events:
        lo = kind_log_odds(inp, ref.det, ref.fit.inlier)
        kinds = np.where(lo > params.kind_log_odds, 0, np.where(lo < -params.kind_log_odds, 1, 2))
        events, ref = untangle(inp, events, ref, kinds, params.noise)
    timings_s["untangle"] = time.perf_counter() - t
    t = time.perf_counter()
    records = build_records(inp, agr, events, ref, params, assoc, tag, evidence.take(keep))
    timings_s["attribute_and_pair"] = time.perf_counter() - t
    return records, events


def _rotation(inp: FusionInput, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    lon, lat = inp.proj.inverse(x, y)
    th = np.radians(grid_north_deg(inp.proj, lon, lat))
    return np.cos(th), np.sin(th)


def build_records(
    inp: FusionInput,
    agr: Agreement,
    events: list[Any],
    ref: Refined,
    params: FusionParams,
    assoc: AssocParams,
    tag: str = "",
    evidence: Evidence | None = None,
) -> dict[str, list[Any]]:
    """Event and incident records from the refined solutions. ``evidence`` (one row per event, the
    source test of :mod:`truceline.fusion.evidence`) goes into each event's provenance, and an event
    it does not show to be a source is not attributed to a party: a coincidence of arrivals from
    elsewhere would put a party's name on a place where nothing fired."""
    fit = ref.fit
    n = fit.x.size
    if n == 0:
        return {"events": [], "incidents": []}
    times = [inp.time_of(t) for t in fit.t0]
    cov = fit.cov_xy
    pm = ref.p_mirror
    p_first, dist_km = _side_probability(inp, agr, ref, times, params)
    parties = list(agr.parties)
    lo = kind_log_odds(inp, ref.det, fit.inlier)
    one_source = single_source_test(inp, ref, params.noise, params.single_source_alpha)
    kinds = np.where(lo > params.kind_log_odds, 0, np.where(lo < -params.kind_log_odds, 1, 2))
    # Position covariance in metres east/north: rotate grid axes to true, divide by k².
    cr, sr = _rotation(inp, fit.x, fit.y)
    rot = np.stack([np.stack([cr, -sr], -1), np.stack([sr, cr], -1)], -2)
    cov_en = rot @ cov @ np.transpose(rot, (0, 2, 1)) / (ref.k**2)[:, None, None]
    lon, lat = inp.proj.inverse(fit.x, fit.y)
    sigma_pos = np.sqrt(np.maximum(np.linalg.eigvalsh(cov)[:, -1], 0.0))
    pairs = pair_events(kinds == 0, kinds == 1, fit.t0, fit.x, fit.y, sigma_pos, params.pair_speed_tolerance)
    weapon = np.full(n, -1, np.int64)
    weapon[pairs.launch] = pairs.ballistic
    weapon[pairs.impact] = pairs.ballistic
    made = inp.time_of(float(np.nanmax(fit.t0)))
    prov_params = _provenance_parameters(assoc, params)
    ids = _event_ids(times, tag, [inp.detections.ids[ref.det[i][ref.det[i] >= 0]] for i in range(n)])
    out_events = []
    for i in range(n):
        dets = ref.det[i][ref.det[i] >= 0]
        used = ref.det[i][(ref.det[i] >= 0) & fit.inlier[i]]
        det_ids = tuple(inp.detections.ids[dets].tolist())
        sensors = tuple(dict.fromkeys(inp.sensors.ids[s] for s in inp.det_sensor[used]))
        wclass = BALLISTICS[weapon[i]].weapon_class if weapon[i] >= 0 else WeaponClass.UNKNOWN
        out_events.append(
            Event(
                id=ids[i],
                kind=(EventKind.LAUNCH, EventKind.IMPACT, EventKind.UNDETERMINED)[kinds[i]],
                origin_time=times[i],
                time_sigma_s=float(math.sqrt(max(fit.cov[i, 2, 2], 0.0))),
                position=Position(lon_deg=float(lon[i]), lat_deg=float(lat[i])),
                location_uncertainty=GeoUncertainty.from_covariance(_psd(cov_en[i])),
                weapon_class=wclass,
                detection_ids=det_ids,
                sensor_ids=sensors,
                residual_rms_s=float(fit.residual_rms_s[i]),
                quality=float(_quality(fit.chi2_dof[i], len(sensors), pm[i])),
                attribution=_attribution(i, p_first, dist_km, pm, parties, params, len(sensors), one_source, evidence),
                provenance=Provenance(
                    algorithm=ALGORITHM + "+fusion.locate.tdoa",
                    algorithm_version=VERSION,
                    parameters=prov_params
                    if evidence is None
                    else {**prov_params, "source_log_odds": round(float(evidence.log_odds[i]), 2)},
                    inputs=det_ids,
                    created_at=made,
                ),
            )
        )
    located = Located(kinds, fit.x, fit.y, fit.t0, cov, ref.det, inp.det_sensor, inp.det_t, _sensor_xy(inp))
    prov = made_provenance(made, VERSION, prov_params)
    blame = _blame(inp, agr, params, (lo, dist_km, kinds), fit, times)
    incidents = build_incidents(out_events, located, pairs, blame, _to_geo(inp, ref), prov)
    return {"events": out_events, "incidents": incidents}


def _blame(
    inp: FusionInput,
    agr: Agreement,
    params: FusionParams,
    judged: tuple[FloatArray, FloatArray, NDArray[np.int64]],
    fit: Any,
    times: list[dt.datetime],
) -> MissionBlame:
    """What an incident's blame needs (``judged``: each event's launch log odds, signed distance to the line,
    kind). A lone launch blames its side only when the launch signature is unambiguous (an impact taken
    for a launch would blame the victim), and never within the line's own uncertainty of it: the sources'
    band where the agreement gives one, else ``blame_margin_km``; a fire mission's launch area must agree too."""
    lo, dist_km, kinds = judged
    sure_launch = lo > params.lone_launch_log_odds
    margin = blame_margin_km(agr, inp.proj, fit.x, fit.y, times, params.blame_margin_km, params.band_floor_km)
    deep = np.abs(np.nan_to_num(dist_km, nan=0.0)) >= margin
    return MissionBlame(sure_launch & deep & (kinds == 0), _area_side(inp, agr, params), params.attribute_probability,
                        tuple(agr.parties))  # fmt: skip


def _sensor_xy(inp: FusionInput) -> FloatArray:
    """The sensors' grid positions, ``(n, 2)`` metres."""
    return np.column_stack([inp.sensors.x, inp.sensors.y])


def _area_side(inp: FusionInput, agr: Agreement, params: FusionParams) -> AreaSide:
    """A fire mission's launch area judged as a point: P(first party) and the signed distance (km) of its
    centre with its ellipse, mixed with the chance of a gross mislocation a crowded event has (a mission
    is crowded by definition)."""

    def side(x: float, y: float, cov: FloatArray, t0: float) -> tuple[float, float, float]:
        t, xa, ya = [inp.time_of(t0)], np.array([x]), np.array([y])
        p0, d = first_party_probability(agr, inp.proj, t, xa, ya, cov[None])
        p = gross_error_mix(p0, d, np.array([params.gross_rate_small]), params.gross_sigma_km)
        margin = blame_margin_km(agr, inp.proj, xa, ya, t, params.blame_margin_km, params.band_floor_km)
        return float(p[0]), float(d[0]), float(margin[0])

    return side


def _to_geo(inp: FusionInput, ref: Refined) -> Callable[[float, float, FloatArray], tuple[float, float, FloatArray]]:
    """Grid point and covariance (grid m²) -> lon, lat and covariance east/north in m² (a fire mission's areas)."""
    k_scale = float(np.median(ref.k)) if ref.k.size else 1.0

    def to_geo(x: float, y: float, c: FloatArray) -> tuple[float, float, FloatArray]:
        lon, lat = inp.proj.inverse(np.array([x]), np.array([y]))
        cr, sr = _rotation(inp, np.array([x]), np.array([y]))
        r = np.array([[cr[0], -sr[0]], [sr[0], cr[0]]])
        return float(lon[0]), float(lat[0]), r @ c @ r.T / k_scale**2

    return to_geo


def _attribution(
    i: int,
    p_first: FloatArray,
    dist_km: FloatArray,
    pm: FloatArray,
    parties: list[str],
    params: FusionParams,
    n_sensors: int,
    one_source: SourceTest,
    evidence: Evidence | None,
) -> Attribution:
    """Event ``i``'s side, unless it may be two sources or may be no source at all (then why not)."""
    if one_source.doubtful[i]:
        return Attribution(evidence=(f"not attributed, one source doubtful: {one_source.reason[i]}",))
    why = evidence.doubt(i, params.evidence) if evidence is not None else None
    if why is not None:
        return Attribution(evidence=(why,))
    return _side_attribution(p_first[i], dist_km[i], pm[i], parties, params, n_sensors)


def _side_probability(
    inp: FusionInput, agr: Agreement, ref: Refined, times: list[dt.datetime], params: FusionParams
) -> tuple[FloatArray, FloatArray]:
    """P(first party) of each event and its signed distance to the line, km: the fit's probability,
    mixed with its mirror image's and with the chance of a gross mislocation."""
    fit, pm = ref.fit, ref.p_mirror
    p0, dist_km = first_party_probability(agr, inp.proj, times, fit.x, fit.y, fit.cov_xy)
    pm_first, _ = first_party_probability(agr, inp.proj, times, ref.mirror.x, ref.mirror.y, ref.mirror.cov_xy)
    p_first = np.where(pm > 0, (1 - pm) * p0 + pm * np.nan_to_num(pm_first, nan=0.5), p0)
    # An event can be grossly mislocated despite a small ellipse (arrivals of neighbouring rounds in
    # it): mix in that chance, larger for events few sensors heard.
    n_sensors = (fit.inlier & (ref.det >= 0)).sum(axis=1)
    crowded = _crowded(fit.x, fit.y, fit.t0, params.crowd_m, params.crowd_s)
    p_gross = np.where((n_sensors < params.gross_support) | crowded, params.gross_rate_small, params.gross_rate)
    return gross_error_mix(p_first, dist_km, p_gross, params.gross_sigma_km), dist_km


def _provenance_parameters(assoc: AssocParams, params: FusionParams) -> dict[str, float | int]:
    """Every numeric setting of the run, for the records' provenance (association ones as ``assoc_*``)."""
    return {"assoc_" + k: v for k, v in assoc.as_dict().items() if isinstance(v, int | float)} | {
        k: v for k, v in params.as_dict().items() if isinstance(v, int | float)
    }


def _crowded(x: FloatArray, y: FloatArray, t0: FloatArray, within_m: float, within_s: float) -> NDArray[np.bool_]:
    """Events with another one within ``within_m`` and ``within_s`` (salvos, ripples: where arrivals of
    neighbouring rounds can end up in the wrong event)."""
    if x.size < 2:
        return np.zeros(x.size, dtype=bool)
    scale = within_m / within_s
    pts = np.column_stack([x, y, t0 * scale])
    counts = cKDTree(pts).query_ball_point(pts, r=within_m * np.sqrt(2), return_length=True)
    return np.asarray(counts) > 1


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


def _event_ids(times: list[dt.datetime], tag: str, det_ids: list[Any]) -> list[str]:
    """Events' ids: ``ev-`` + origin time + the window's tag + a digest of the event's earliest detection id.

    The digest, not the event's rank in the window, names it, so an event keeps its id when its window is
    fused again with more data (live processing re-fuses the filling window every run; a rank shifts with
    every event found before it, and the dashboard and TAK would see the event vanish and come back under
    another id). A detection belongs to one event of a window, so the digests differ; the rank is appended
    in the (astronomically rare) case of a clash, keeping ids unique.
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, (t, dets) in enumerate(zip(times, det_ids, strict=True)):
        anchor = min((str(d) for d in dets), default=str(i))
        eid = f"ev-{_stamp(t)}-{tag}{hashlib.sha256(anchor.encode()).hexdigest()[:12]}"
        if eid in seen:
            eid = f"{eid}-{i:05d}"
        seen.add(eid)
        out.append(eid)
    return out


def _psd(c: FloatArray) -> FloatArray:
    c = 0.5 * (c + c.T)
    w, v = np.linalg.eigh(c)
    return (v * np.maximum(w, 1e-6)) @ v.T


def _quality(chi2: float, n: int, p_mirror: float) -> float:
    fit = 1.0 / (1.0 + max(chi2 - 1.0, 0.0)) if math.isfinite(chi2) else 0.5
    support = min(1.0, n / 12.0)
    return max(0.0, min(1.0, fit * support * (1.0 - p_mirror)))


def _side_attribution(
    p_first: float, dist_km: float, p_mirror: float, parties: list[str], params: FusionParams, n: int
) -> Attribution:
    if not math.isfinite(p_first):
        return Attribution()
    for party, p in ((parties[0], p_first), (parties[1], 1.0 - p_first)):
        if p >= params.attribute_probability:
            return Attribution(
                level=AttributionLevel.ORIGIN_AREA,
                party=Party(party),
                probability=float(p),
                evidence=(
                    f"located from {n} sensors {abs(dist_km):.2f} km inside {party}'s area; "
                    f"P(side)={p:.4f}, P(mirror)={p_mirror:.3f}",
                ),
            )
    return Attribution()
