"""The mutation fuzz campaign (scripts/fuzz.py) on a small sample, and the CSV/record parity it relies on."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.io.test_hostile_inputs import HEADER, LIMITS
from truceline.core import InputLimits, RecordError, parse_record
from truceline.io.records import DetectionBatch, read_any

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz.py"


@pytest.fixture(scope="module")
def fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("truceline_fuzz", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_sample_of_every_path_has_no_crash_no_silent_acceptance_no_loss(fuzz: ModuleType) -> None:
    result = fuzz.campaign(150, 120, seed=7, chunk=100)
    assert result["inputs"] >= 260
    assert {k.split(":")[0] for k in result["by_path"]} == {"files", "api"}
    counts = (result["crashes"], result["silent_acceptances"], result["good_records_lost"])
    assert counts == (0, 0, 0), result["examples"]


def test_the_campaign_catches_readers_more_lenient_than_the_mission(fuzz: ModuleType) -> None:
    # Readers without the time window take far-future and too-early times the oracle refuses:
    # the campaign must count them (it can fail).
    lenient = InputLimits(earliest=None, future_skew=None)
    result = fuzz.campaign(300, 0, seed=3, chunk=150, reader_limits=lenient)
    assert result["silent_acceptances"] > 0 and result["crashes"] == 0


def test_hypothesis_draws_values_for_every_path_and_encoding(fuzz: ModuleType) -> None:
    result = fuzz.campaign(0, 0, seed=11, n_hypothesis=60)
    drawn = {k for k in result["by_path"] if k.endswith("(hypothesis)")}
    assert drawn == {f"{p}:{e} (hypothesis)" for p in ("files", "api") for e in ("jsonl", "json", "csv")}
    assert result["inputs"] == sum(result["by_path"].values()) >= 30
    assert (result["crashes"], result["silent_acceptances"], result["good_records_lost"]) == (0, 0, 0), result


def test_the_cli_sample_exits_zero(fuzz: ModuleType) -> None:
    assert fuzz.main(["--sample", "60", "--seed", "5"]) == 0


# --------------------------------------------------------------------------- CSV and record parity

TRICKY_CELLS = ["", "0", "0.05", "1", "1.5", "-1", "nan", "NaN", "inf", "1e400", "1e-3", ".5", "5.", "1_0", " 2 ",
                "400", "359.9", "abc", "+1", "1e5"]  # fmt: skip
TRICKY_TIMES = ["2026-09-02T07:00:00Z", "2026-09-02T07:00:00.123456+00:00", "2026-09-02T10:00:00+03:00", "Z", "NaTZ",
                "2026-09-02", "2026-09-02T07:00:00", "0001-01-01T00:30:00+01:00", "2100-01-01T00:00:00Z",
                "9999-12-31T23:30:00-01:00", "2013-12-31T23:59:59Z", " 2026-09-02T07:00:00Z",
                "2026-09-05T12:00:01Z"]  # fmt: skip
cells = st.one_of(st.sampled_from(TRICKY_CELLS), st.text(alphabet="0123456789.eE+-naif ", max_size=6))
times = st.one_of(st.sampled_from(TRICKY_TIMES), st.text(alphabet="0123456789-T:Z+. ", max_size=26))
ids = st.one_of(st.sampled_from(["d1", "a..b", "d x", "d/1", "-d", "x" * 128, "x" * 129, "d.1", "D:1_a-b"]),
                st.text(alphabet="ab1.-_:/ \u200f\ufeff", min_size=0, max_size=5))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(rid=ids, when=times, sigma=cells, bearing=cells, bsigma=cells, amp=cells, launch=cells)
def test_csv_takes_exactly_what_the_record_takes(rid: str, when: str, sigma: str, bearing: str, bsigma: str,
                                                 amp: str, launch: str) -> None:  # fmt: skip
    line = ",".join(f'"{c}"' for c in (rid, "S1", when, sigma, bearing, bsigma, amp, launch, ""))
    batch = read_any(io.BytesIO(f"{HEADER}\n{line}\n".encode()), "detection", format="csv", name="p", limits=LIMITS)
    assert isinstance(batch, DetectionBatch)
    obj: dict[str, object] = {"id": rid, "sensor_id": "S1", "arrival_time": when}
    numbers = {"time_sigma_s": sigma, "bearing_deg": bearing, "bearing_sigma_deg": bsigma, "amplitude_pa": amp}
    record_ok = True
    for name, text in [*numbers.items(), ("launch", launch)]:
        if not text.strip():
            continue
        try:
            value = float(text)
        except ValueError:
            record_ok = False
            continue
        if "_" in text or "n" in text.lower() or "i" in text.lower():
            record_ok = False
        if name == "launch":
            obj["class_scores"] = {"launch": value}
        else:
            obj[name] = value
    try:
        parse_record("detection", obj, limits=LIMITS)
    except RecordError:
        record_ok = False
    assert (len(batch) == 1) == record_ok, (line, batch.problems)
