"""An event whose arrivals come from two sources is never attributed; a clean one still is."""

from __future__ import annotations

import numpy as np

from tests.fusion.synth import lon_at, network, write_case
from truceline.agreement import load_agreement
from truceline.fusion.associate import AssocEvent, AssocParams
from truceline.fusion.inputs import load_inputs
from truceline.fusion.refine import refine
from truceline.fusion.run import FusionParams, build_records


def _records(tmp_path, make_agreement, members_of):
    sources = [(lon_at(-12.0), 47.9, 100.0, "launch"), (lon_at(-4.0), 48.15, 101.0, "launch")]
    labels = write_case(tmp_path / "in", network(), sources)
    inp = load_inputs(tmp_path / "in")
    by_source = {k: np.array([i for i, d in enumerate(inp.detections.ids) if labels[str(d)] == str(k)]) for k in (0, 1)}
    members = members_of(inp, by_source)
    x, y = inp.proj.forward(lon_at(-12.0), 47.9)
    event = AssocEvent(members, float(x), float(y), 100.0, 0.0, 0.0, 1.0, int(members[0]))
    ref = refine(inp, [event])
    return build_records(inp, load_agreement(make_agreement()), [event], ref, FusionParams(), AssocParams())["events"]


def test_a_clean_source_is_attributed(tmp_path, make_agreement):
    (ev,) = _records(tmp_path, make_agreement, lambda inp, src: src[0])
    assert ev.attribution.party is not None and ev.attribution.party.value == "UA"


def test_arrivals_of_two_sources_forced_into_one_stay_unattributed_with_the_reason(tmp_path, make_agreement):
    def mixed(inp, src):
        # Sensors of the southern half take source 0's arrival, the others source 1's: one arrival
        # per sensor, as an association would assemble them.
        south = inp.sensors.y[inp.det_sensor] < np.median(inp.sensors.y)
        a = [i for i in src[0] if south[i]]
        taken = set(inp.det_sensor[a].tolist())
        b = [i for i in src[1] if not south[i] and inp.det_sensor[i] not in taken]
        return np.array(a + b)

    (ev,) = _records(tmp_path, make_agreement, mixed)
    assert ev.attribution.party is None
    assert ev.attribution.evidence and ev.attribution.evidence[0].startswith("not attributed, one source doubtful:")


def test_the_variance_factor_is_the_run_s_and_never_below_one():
    """A day noisier than the stated model (every event's χ² doubled) gives a factor of ~2, so pure
    events pass the misfit test; one clean run gives 1; the few mixed events of a run do not move it."""
    import numpy as np
    from scipy.stats import chi2

    from truceline.fusion.mixed import variance_factor

    rng = np.random.default_rng(1)
    dof = rng.integers(5, 60, size=2000)
    pure = chi2.rvs(dof, random_state=rng)
    assert abs(variance_factor(2.0 * pure, dof) - 2.0) < 0.1
    assert variance_factor(0.5 * pure, dof) == 1.0
    mixed = pure.copy()
    mixed[:40] *= 20.0  # 2 % of the run mixed
    assert abs(variance_factor(mixed, dof) - variance_factor(pure, dof)) < 0.05
    assert variance_factor(np.zeros(3), np.zeros(3, dtype=np.int64)) == 1.0
