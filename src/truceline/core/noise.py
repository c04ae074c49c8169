"""The noise and detection model of an acoustic arrival, shared by association, location and coverage.

One :class:`NoiseModel` says how wrong an arrival time can be and how many sensors must hear a
source for it to count as detected. The association (``truceline.fusion.associate``), the final
location (``truceline.fusion.refine``) and the coverage map (``truceline.adjudicate.coverage``) all
take it, so that changing one of these values changes every stage that depends on it. It lives in
the codebook layer so that fusion and adjudication can both import it without importing each
other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NoiseModel:
    """Physical noise of an arrival time and the detection requirement (units in the names).

    An arrival heard ``travel_s`` after the source fired, at effective speed ``v`` (m/s), has the
    variance (:meth:`arrival_variance`)::

        σ_t² + path_sigma_s² + (path_fraction · travel_s)² + (travel_s · sound_speed_sigma_ms / v)²

    ``σ_t`` being the sensor's own timing sigma (clock and picking, carried by each detection).

    Attributes
    ----------
    path_sigma_s : float
        Jitter of a path's travel time that does not grow with its length (turbulence near the
        source and the sensor), s (0.02).
    path_fraction : float
        Part of the travel time added as sigma (turbulence and unresolved weather along the path
        grow with its length): 0.001, i.e. 30 ms on a 30 s path.
    sound_speed_sigma_ms : float
        Uncertainty of the effective sound speed the weather gives along a path, m/s (0.5): its
        effect on the arrival is ``travel_s · σ_c / v``. This is the physical value the final
        location uses for its calibrated ellipses; the association searches with a narrower
        tolerance derived from it (``AssocParams.search_sound_speed_scale``).
    min_sensors : int
        Sensors that make a source reported on their number alone (6): coverage is the probability
        that at least this many sensors hear.
    common_sound_speed_sigma_ms, common_wind_sigma_ms : float
        Error of the weather report shared by every path of one event (its region and hour are off
        together), m/s: the effective sound speed (0.5, about 1 °C) and each wind component (1.0).
        It moves all of an event's arrivals together, so no residual shows it; the location adds
        the solution's sensitivity to it to the covariance (``truceline.fusion.locate``).
    evidence_min_sensors : int
        Fewest inlier sensors of an event at all (4): an event with fewer than ``min_sensors`` is
        reported only when its weight of evidence against noise carries it
        (``truceline.fusion.evidence``). Taken as at most ``min_sensors``.
    """

    path_sigma_s: float = 0.02
    path_fraction: float = 0.001
    sound_speed_sigma_ms: float = 0.5
    min_sensors: int = 6
    evidence_min_sensors: int = 4
    common_sound_speed_sigma_ms: float = 0.5
    common_wind_sigma_ms: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "path_sigma_s",
            "path_fraction",
            "sound_speed_sigma_ms",
            "common_sound_speed_sigma_ms",
            "common_wind_sigma_ms",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
                raise ValueError(f"{name}: must be a finite number >= 0 (got {v!r})")
        if isinstance(v := self.min_sensors, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"min_sensors: must be an integer >= 1 (got {v!r})")
        v = self.evidence_min_sensors
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"evidence_min_sensors: must be an integer >= 1 (got {v!r})")

    def timing_sigma_s(self, sensor_sigma_s: ArrayLike, travel_s: ArrayLike) -> FloatArray:
        """Sigma of an arrival from the sensor's timing and the part growing with the travel time, s.

        ``sqrt(σ_t² + (path_fraction · travel_s)²)``: the per-arrival part of
        :meth:`arrival_variance` (the location adds ``path_sigma_s`` and the sound-speed term).
        """
        return np.sqrt(np.asarray(sensor_sigma_s) ** 2 + (self.path_fraction * np.asarray(travel_s)) ** 2)

    def arrival_variance(
        self,
        sensor_sigma_s: ArrayLike,
        travel_s: ArrayLike,
        speed_ms: ArrayLike,
        sound_speed_sigma_ms: float | None = None,
    ) -> FloatArray:
        """Variance of an arrival time (s²); see the class docstring.

        Parameters
        ----------
        sensor_sigma_s : array_like
            The sensor's own timing sigma, s.
        travel_s : array_like
            Travel time from the source, s.
        speed_ms : array_like
            Effective speed along the path (sound speed plus the wind along it), m/s.
        sound_speed_sigma_ms : float, optional
            A sound-speed sigma other than the model's (the association's search tolerance).
        """
        sc = self.sound_speed_sigma_ms if sound_speed_sigma_ms is None else sound_speed_sigma_ms
        tt = np.asarray(travel_s, dtype=np.float64)
        return (
            np.asarray(sensor_sigma_s) ** 2
            + self.path_sigma_s**2
            + (self.path_fraction * tt) ** 2
            + (tt * sc / np.asarray(speed_ms)) ** 2
        )


DEFAULT_NOISE = NoiseModel()
"""The default model: what association, location and coverage use unless given another."""


#: How much higher a ``degraded`` sensor's detection threshold is than a healthy one's, dB: the
#: coverage model's (``DetectionModel.degraded_penalty_db``) and fusion's source test's default.
DEGRADED_PENALTY_DB = 10.0

#: Absorption of sound in air, dB/km: the coverage model's (``DetectionModel``) and fusion's
#: detection law's (``truceline.fusion.loudness``) default.
ABSORPTION_DB_PER_KM = 0.01


def path_loss_db(distance_m: ArrayLike, absorption_db_per_km: float = ABSORPTION_DB_PER_KM) -> FloatArray:
    """Loss of level from 1 m to ``distance_m`` (spherical spreading and absorption), dB.

    ``20 log10(d) + absorption · d / 1000``, the distance floored at 1 m: a source of level ``L`` at 1 m
    is received at ``L - path_loss_db(d)``. Coverage and fusion's detection law both use it.
    """
    d = np.maximum(np.asarray(distance_m, dtype=np.float64), 1.0)
    return 20.0 * np.log10(d) + absorption_db_per_km * d / 1000.0
