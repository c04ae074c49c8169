"""One noise and detection model (truceline.core.NoiseModel) for association and location.

The association's kernels and the location compute an arrival's variance each in their own way
(compiled, or split between refine and locate); these tests hold both to the model's formula, and
hold the settings the run writes (``fusion.json``, provenance) to the keys and values they have
always had.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from tests.fusion.synth import lon_at, network, write_case
from truceline.core import NoiseModel
from truceline.fusion import kernels as K
from truceline.fusion.associate import AssocParams
from truceline.fusion.bundles import Sensors, Weather
from truceline.fusion.evidence import EvidenceParams
from truceline.fusion.inputs import load_inputs
from truceline.fusion.locate import _variance
from truceline.fusion.loudness import LoudnessParams
from truceline.fusion.refine import _input
from truceline.fusion.run import FusionParams, fuse_input

# The parameters fusion.json and every record's provenance carry, in their order (byte-identical output).
ASSOC_KEYS = ["grid_m", "region_radius_m", "region_rank", "n_neighbours", "lag_step_m", "gather_radius_m",
              "coarse_tol_s", "fine_tol_s", "gate_sigmas", "gate_max_s", "min_seed", "min_stations", "path_sigma_s",
              "path_fraction", "sound_speed_sigma_ms", "back_s", "max_chi2_dof", "duplicate_s", "duplicate_m",
              "train_gap_s", "same_round_s", "repeat_share", "nearest_n", "nearest_min", "repeat_window_s",
              "mirror_until_n", "clear_ratio", "quiet_min_seed", "quiet_duplicate_s", "part_s",
              "part_overlap_s"]  # fmt: skip
FUSION_KEYS = ["attribute_probability", "kind_log_odds", "lone_launch_log_odds", "blame_margin_km", "band_floor_km",
               "weather_fit",
               "gross_sigma_km",
               "gross_rate", "gross_rate_small", "gross_support", "crowd_m", "crowd_s", "sound_speed_sigma_ms",
               "path_sigma_s", "path_fraction", "pair_speed_tolerance", "step_s", "single_source_alpha",
               "min_sensors", "evidence_min_sensors", "common_sound_speed_sigma_ms", "common_wind_sigma_ms",
               *(f"evidence_{f.name}" for f in fields(EvidenceParams) if f.name != "loudness"),
               *(f"loudness_{f.name}" for f in fields(LoudnessParams))]  # fmt: skip
ODD = NoiseModel(path_sigma_s=0.05, path_fraction=0.01, sound_speed_sigma_ms=2.0, min_sensors=4)


def test_written_parameters_keep_their_keys_order_and_values() -> None:
    a, f = AssocParams().as_dict(), FusionParams().as_dict()
    assert list(a) == ASSOC_KEYS and list(f) == FUSION_KEYS
    assert (a["min_stations"], a["path_sigma_s"], a["path_fraction"]) == (6, 0.02, 0.001)
    assert a["sound_speed_sigma_ms"] == 0.3 and repr(a["sound_speed_sigma_ms"]) == "0.3"  # the search sigma
    assert (f["sound_speed_sigma_ms"], f["path_sigma_s"], f["path_fraction"]) == (0.5, 0.02, 0.001)  # the physics
    assert type(a["min_stations"]) is int


def test_the_kernels_get_the_model_and_the_search_sigma() -> None:
    prm = AssocParams().vector()
    assert prm[K.P_MIN_STATIONS] == 6 and prm[K.P_PATH_SIGMA] == 0.02 and prm[K.P_PATH_FRAC] == 0.001
    assert prm[K.P_SIGMA_C] == 0.3  # exactly: 0.6 x the physical 0.5
    odd = AssocParams(noise=ODD)
    prm = odd.vector()
    assert (prm[K.P_MIN_STATIONS], prm[K.P_PATH_SIGMA], prm[K.P_PATH_FRAC]) == (4, 0.05, 0.01)
    assert prm[K.P_SIGMA_C] == pytest.approx(1.2) == odd.search_sound_speed_sigma_ms
    assert odd.as_dict()["min_stations"] == 4 and odd.as_dict()["sound_speed_sigma_ms"] == pytest.approx(1.2)
    assert FusionParams(noise=ODD).as_dict()["sound_speed_sigma_ms"] == 2.0


def test_kernel_variance_is_the_model_s_with_the_search_sigma() -> None:
    c = 340.0
    wx = Weather(np.zeros(1), np.full((1, 1), c), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1), np.int64), 0.0,
                 0.0, 1e6)  # fmt: skip
    net = Sensors(np.array([12_000.0]), np.array([-5_000.0]), np.ones(1))
    for params in (AssocParams(), AssocParams(noise=ODD)):
        pred, sd, dist = K.predict(0.0, 0.0, 10.0, np.zeros((3, 3)), 0, 1.0, 0.07, net, wx, params.vector())
        tt = dist / c
        assert pred == pytest.approx(10.0 + tt, rel=1e-12)
        want = params.noise.arrival_variance(0.07, tt, c, params.search_sound_speed_sigma_ms)
        assert sd**2 == pytest.approx(float(want), rel=1e-12)


def test_location_variance_is_the_model_s_physical_one(tmp_path) -> None:
    write_case(tmp_path, network(), [(lon_at(-12.0), 48.0, 100.0, "launch")])
    inp = load_inputs(tmp_path / "observations")
    det = np.arange(min(8, len(inp.detections)))[None, :]
    x0, y0, t0 = np.array([inp.sensors.x.mean() - 4000.0]), np.array([inp.sensors.y.mean()]), np.array([100.0])
    for noise in (NoiseModel(), ODD):
        li, _ = _input(inp, det, x0, y0, t0, noise)
        assert (li.sigma_c, li.path_sigma_s) == (noise.sound_speed_sigma_ms, noise.path_sigma_s)
        d = np.hypot(li.sx - x0[:, None], li.sy - y0[:, None])
        v = li.c  # no wind in the toy weather
        travel = d / v
        assert np.all(li.sigma_t == noise.timing_sigma_s(inp.detections.time_sigma_s[det], travel))
        want = noise.arrival_variance(inp.detections.time_sigma_s[det], travel, v)
        np.testing.assert_allclose(_variance(li, d, v), want, rtol=1e-12)


def test_a_run_has_one_noise_model(tmp_path, make_agreement) -> None:
    from truceline.agreement import load_agreement

    write_case(tmp_path, network(), [(lon_at(-12.0), 48.0, 100.0, "launch")])
    inp, agr = load_inputs(tmp_path / "observations"), load_agreement(make_agreement())
    with pytest.raises(ValueError, match="one noise model"):
        fuse_input(inp, agr, AssocParams(noise=ODD), FusionParams())
    records, _ = fuse_input(inp, agr, AssocParams(noise=ODD), FusionParams(noise=ODD))
    (ev,) = records["events"]
    assert ev.provenance.parameters["assoc_min_stations"] == 4 and ev.provenance.parameters["path_sigma_s"] == 0.05
