"""A long run associated in parts of time, side by side on the machine's cores.

Association is sequential within a stream (each decision sees the events before it), but sources
more than a few minutes apart share no arrival: a day is cut into parts of ``AssocParams.part_s``
(6 h), each associated on its own (:func:`~truceline.fusion.associate.associate`, the compiled loop
releases the GIL so parts run in threads) over its own detections plus ``overlap_s`` either side, so
that every source whose origin lies in a part has all its arrivals there and the part starts warm.
The parts are then stitched (:func:`stitch`):

1. each part keeps the events whose origin time lies in its own span;
2. an arrival two kept events hold (a source near a seam, solved on both sides) stays with the event
   that has more members (then the earlier part); an event left with fewer than the floor of
   sensors is dropped;
3. an event a part found outside its span is kept only when it shares no arrival with a kept event
   and duplicates none (the other part could not make it).

The cut depends on the data's time span and ``part_s`` only, never on the number of cores, so a
run gives the same events on any machine; ``workers`` only says how many parts run at once.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from truceline.fusion.associate import AssocEvent, AssocParams, associate
from truceline.fusion.inputs import SensorTable, WeatherTable

__all__ = ["associate_parts", "cut", "default_workers", "stitch"]


def default_workers() -> int:
    """The cores this process may use (``TRUCELINE_WORKERS`` overrides)."""
    env = os.environ.get("TRUCELINE_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def cut(t_min: float, t_max: float, part_s: float) -> list[tuple[float, float]]:
    """The own spans ``[lo, hi)`` of the parts of ``[t_min, t_max]``: equal parts of at most ``part_s``
    (one part when the span is shorter; the first starts at -inf and the last ends at +inf)."""
    span = t_max - t_min
    n = max(1, math.ceil(span / part_s)) if part_s > 0 and math.isfinite(part_s) else 1
    edges = [t_min + span * i / n for i in range(n + 1)]
    edges[0], edges[-1] = -math.inf, math.inf
    return list(itertools.pairwise(edges))


def associate_parts(
    sensors: SensorTable,
    weather: WeatherTable,
    det_sensor: np.ndarray,
    det_t: np.ndarray,
    det_sigma: np.ndarray,
    params: AssocParams | None = None,
    step_s: float = np.inf,
    progress: Callable[[float], None] | None = None,
    workers: int | None = None,
) -> list[AssocEvent]:
    """:func:`~truceline.fusion.associate.associate` in parts of time (see the module docstring).

    Members index the given detection arrays. With one part this is ``associate`` itself.
    """
    params = params or AssocParams()
    if det_t.size == 0:
        return []
    spans = cut(float(det_t.min()), float(det_t.max()), params.part_s)
    if len(spans) == 1:
        return associate(sensors, weather, det_sensor, det_t, det_sigma, params, step_s, progress)
    overlap = params.part_overlap_s
    done = [0.0] * len(spans)
    lock = threading.Lock()

    def one(i: int) -> list[AssocEvent]:
        lo, hi = spans[i]
        idx = np.flatnonzero((det_t >= lo - overlap) & (det_t < hi + overlap))

        def tick(f: float) -> None:
            if progress is not None:
                with lock:
                    done[i] = f
                    progress(sum(done) / len(done))

        found = associate(
            sensors, weather, det_sensor[idx], det_t[idx], det_sigma[idx], params, step_s, tick if progress else None
        )
        for e in found:
            e.members = idx[e.members]
        return found

    n_workers = max(1, min(workers or default_workers(), len(spans)))
    if n_workers == 1:
        results = [one(i) for i in range(len(spans))]
    else:
        with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="associate") as pool:
            results = list(pool.map(one, range(len(spans))))
    return stitch(results, spans, params)


def stitch(results: list[list[AssocEvent]], spans: list[tuple[float, float]], params: AssocParams) -> list[AssocEvent]:
    """One list of events from the parts' (see the module docstring); sorted by origin time."""
    floor = params.noise.min_sensors
    kept: list[AssocEvent] = []
    strays: list[AssocEvent] = []
    for found, (lo, hi) in zip(results, spans, strict=True):
        for e in found:
            (kept if lo <= e.t0 < hi else strays).append(e)
    # 2. An arrival held twice stays with the larger event (then the earlier part: stable sort).
    kept.sort(key=lambda e: -e.members.size)
    holder: dict[int, int] = {}
    out: list[AssocEvent] = []
    for e in kept:
        mine = np.array([m for m in e.members.tolist() if m not in holder], np.int64)
        if mine.size < floor:
            continue
        e.members = mine
        for m in mine.tolist():
            holder[m] = len(out)
        out.append(e)
    # 3. Strays no kept event explains.
    strays.sort(key=lambda e: -e.members.size)
    for e in strays:
        if any(m in holder for m in e.members.tolist()) or _duplicates_one(e, out, params):
            continue
        for m in e.members.tolist():
            holder[m] = len(out)
        out.append(e)
    out.sort(key=lambda e: (e.t0, e.x, e.y))
    return out


def _duplicates_one(e: AssocEvent, events: list[AssocEvent], params: AssocParams) -> bool:
    """Whether a known event lies within ``duplicate_s`` and ``duplicate_m`` of ``e``."""
    return any(
        abs(o.t0 - e.t0) < params.duplicate_s and math.hypot(o.x - e.x, o.y - e.y) < params.duplicate_m for o in events
    )
