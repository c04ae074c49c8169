"""The named bundles of arrays the compiled association works on (Numba takes named tuples).

The kernels of :mod:`truceline.fusion.kernels`, :mod:`truceline.fusion.hypotheses` and
:mod:`truceline.fusion.seeding` take a few of these instead of long lists of positional arrays:

- :class:`Sensors`: where the sensors are (fixed per network);
- :class:`Weather`: sound speed and wind by region and time (fixed per run);
- :class:`Tables`: the candidate source points of each sensor, their neighbours and lag bins
  (:func:`truceline.fusion.tables.build_tables`, fixed per network);
- :class:`Detections`: every detection delivered so far: sensor, time, sigma, weather there;
- :class:`Arrivals`: the index of the detections that have arrived, by sensor, and which event
  holds each one (rebuilt by each ``Associator.advance``);
- :class:`Events`: the growing event store the kernels write;
- :class:`Entries`: the decisions due, in their one global order;

plus the parameter vector ``prm`` (float64, indexed by the ``P_*`` constants of
:mod:`truceline.fusion.kernels`, units there). Arrays inside a bundle may be written by the kernels
(``Arrivals.claimed`` and every array of ``Events``); the bundles themselves are immutable.

Times are seconds from the fusion epoch; positions are metres in the projected frame (grid east,
grid north); a projected metre is ``1/k`` true metres, ``k`` the projection's scale factor.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from truceline.fusion.weather import WeatherTable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Sensors(NamedTuple):
    """The sensor network, one entry per sensor index ``s`` (``S`` sensors).

    Attributes
    ----------
    x, y : (S,) float64
        Sensor position, projected metres (grid east, grid north).
    k : (S,) float64
        The projection's scale factor at the sensor (dimensionless, ~1): an effective sound speed in
        m/s times ``k`` is a speed in projected metres per second.
    """

    x: FloatArray
    y: FloatArray
    k: FloatArray


class Weather(NamedTuple):
    """Sound speed and wind by region at knot times, for :func:`~truceline.fusion.kernels.weather_at`.

    The compiled copy of a :class:`~truceline.fusion.weather.WeatherTable` (same fields, same
    meaning): nearest region by a raster, linear in time between consecutive knots, a knot time
    listed twice being a step.

    Attributes
    ----------
    times_s : (T,) float64
        Knot times, s from the fusion epoch, non-decreasing.
    c : (T, R) float64
        Sound speed of region ``r`` at each knot, m/s.
    u, v : (T, R) float64
        Wind towards grid east and grid north, m/s.
    raster : (NY, NX) int64
        Region index of each raster cell.
    x0, y0 : float
        Projected position of the raster's south-west corner, m.
    cell_m : float
        Raster cell size, projected m.
    """

    times_s: FloatArray
    c: FloatArray
    u: FloatArray
    v: FloatArray
    raster: IntArray
    x0: float
    y0: float
    cell_m: float

    @classmethod
    def of(cls, table: WeatherTable) -> Weather:
        """The bundle of a weather table (contiguous float64 / int64 arrays, float scalars)."""
        return cls(
            np.ascontiguousarray(table.times_s, dtype=np.float64),
            np.ascontiguousarray(table.c, dtype=np.float64),
            np.ascontiguousarray(table.u, dtype=np.float64),
            np.ascontiguousarray(table.v, dtype=np.float64),
            np.ascontiguousarray(table.raster, dtype=np.int64),
            float(table.x0),
            float(table.y0),
            float(table.cell_m),
        )


class Tables(NamedTuple):
    """Where association looks for new sources, per sensor network (built by ``build_tables``).

    A sensor's *candidate points* are the grid points for which it is one of the nearest sensors;
    they are grouped per sensor in *lag bins* by how long after the first arrival their last
    neighbour hears them (see :mod:`truceline.fusion.tables`). ``S`` sensors, ``C`` candidates,
    ``L`` neighbours per candidate.

    Attributes
    ----------
    n_bins : int
        Lag bins per sensor.
    sb_ptr : (S * n_bins + 1,) int64
        Candidates of sensor ``s``, bin ``b`` are ``sb_ptr[s*n_bins+b] : sb_ptr[s*n_bins+b+1]``.
    cand_x, cand_y : (C,) float64
        Candidate points, projected m.
    cand_nb : (C, L) int64
        The candidate's nearest other sensors (sensor indices), nearest first.
    bin_lag_m : (S, n_bins) float64
        Largest lag distance of the bin's candidates, projected m (0 for an empty bin): the bin is
        due that distance (at the slowest sound speed) after the detection.
    near_ptr, near_idx : (S + 1,), (N,) int64
        Sensors within ``region_radius_m + gather_radius_m`` of sensor ``s`` (itself included):
        ``near_idx[near_ptr[s] : near_ptr[s+1]]``, ascending.
    ub_ptr, ub_sens : (S * n_bins + 1,), (U,) int64
        For each sensor and bin (indexed as ``sb_ptr``), every neighbour sensor of its candidates.
    ub_lo_m, ub_hi_m : (U,) float64
        That neighbour's least and greatest extra distance ``d_l - d_s`` over the bin's candidates,
        projected m: a quick test that a bin can match anything.
    """

    n_bins: int
    sb_ptr: IntArray
    cand_x: FloatArray
    cand_y: FloatArray
    cand_nb: IntArray
    bin_lag_m: FloatArray
    near_ptr: IntArray
    near_idx: IntArray
    ub_ptr: IntArray
    ub_sens: IntArray
    ub_lo_m: FloatArray
    ub_hi_m: FloatArray

    @property
    def n_candidates(self) -> int:
        return int(self.cand_x.size)


class Detections(NamedTuple):
    """Every detection delivered so far (index ``j`` in push order, ``N`` of them).

    Which event holds a detection is in :class:`Arrivals` (``claimed``).

    Attributes
    ----------
    sens : (N,) int64
        Sensor index.
    t : (N,) float64
        Arrival time, s from the fusion epoch.
    sig : (N,) float64
        The sensor's timing sigma (clock and picking), s.
    c : (N,) float64
        Sound speed at the sensor at the arrival time, m/s (the seed's first guess of the weather).
    u, v : (N,) float64
        Wind towards grid east and grid north there and then, m/s.
    follow : (N,) int64
        1 for a *follower* (it comes less than ``train_gap_s`` after the previous arrival at its
        sensor: a later round of a ripple), else 0.
    """

    sens: IntArray
    t: FloatArray
    sig: FloatArray
    c: FloatArray
    u: FloatArray
    v: FloatArray
    follow: IntArray


class Arrivals(NamedTuple):
    """What the lookups search: the detections that have arrived, by sensor, and who holds each one.

    Kept apart from :class:`Detections` because the innermost lookups
    (:func:`~truceline.fusion.kernels.nearest_free`, called millions of times) need only these
    four arrays, and Numba copies every field of a bundle into each call.

    Attributes
    ----------
    w_ptr : (S + 1,) int64
        Sensor ``s``'s detections that arrived after the current look-back are
        ``w_ptr[s] : w_ptr[s+1]`` of ``w_time`` and ``w_id``.
    w_time : (W,) float64
        Their arrival times, s, ascending per sensor.
    w_id : (W,) int64
        Their detection indices ``j``.
    claimed : (N,) int64
        For every detection ``j``: -1 free, -2 a free follower (``-1 - follow``), else the index of
        the event holding it. Written by the kernels.
    """

    w_ptr: IntArray
    w_time: FloatArray
    w_id: IntArray
    claimed: IntArray


class Events(NamedTuple):
    """The event store (index ``e``, capacity ``E``: the arrays' length; the kernels stop when it is full).

    An event with ``n[e] == 0`` was emptied and is not reported.

    Attributes
    ----------
    x, y : (E,) float64
        Source position, projected m.
    t0 : (E,) float64
        Origin time, s from the fusion epoch.
    cov : (E, 3, 3) float64
        Covariance of ``(x, y, t0)`` from the last solution (m², m·s, s²).
    n : (E,) int64
        Number of member arrivals.
    mem : (E, MAXM) int64
        Member detection indices ``j`` (one per sensor), -1 beyond ``n[e]``.
    k : (E,) float64
        Scale factor of the projection used for the event (its seed sensor's).
    q : (E,) float64
        χ² per degree of freedom of the last solution.
    created : (E,) float64
        Time of the entry that created the event, s.
    seed : (E,) int64
        The detection that seeded it.
    last : (E,) float64
        The latest arrival among its members when created, s.
    """

    x: FloatArray
    y: FloatArray
    t0: FloatArray
    cov: FloatArray
    n: IntArray
    mem: IntArray
    k: FloatArray
    q: FloatArray
    created: FloatArray
    seed: IntArray
    last: FloatArray


class Entries(NamedTuple):
    """The decisions due, in their one global order (by time, then detection, then bin).

    Attributes
    ----------
    time : (Q,) float64
        When the entry is due, s: when the bin's last neighbour could have heard the detection.
        Only detections that arrived by then are seen.
    det : (Q,) int64
        The detection ``j`` tried.
    bin : (Q,) int32
        The lag bin of its sensor's candidate points searched.
    """

    time: FloatArray
    det: IntArray
    bin: NDArray[np.int32]
