"""``truceline reprocess``: the archive redone on Dask gives what a serial ``process`` from scratch gives.

One small simulated day (3 h, one sector, half-hour windows) is simulated once and its reference
(``process`` from scratch on a store of its own) computed once; one LocalCluster of two workers
serves the module. Each store test runs on every store backend asked for (tests/backends.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.scenarios import one_sector_day
from truceline.agreement import load_agreement
from truceline.cli import app
from truceline.core.codec import to_json_dict
from truceline.service.ingest import ingest_files
from truceline.service.process import ProcessParams, process
from truceline.service.reprocess import DaskFanout, digest, reprocess, runs_of
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario
from truceline.store import Store, open_store

pytestmark = pytest.mark.slow

SCENARIO = one_sector_day("reprocess", 3)
PARAMS = ProcessParams(window_s=1800)
SINCE = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 9, 3, tzinfo=dt.UTC)
SPAN = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--window-s", "1800"]
KINDS = ("event", "incident", "violation", "claim_assessment")


@pytest.fixture(scope="module")
def sim_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reprocess") / "sim"
    simulate(parse_scenario(SCENARIO), root)
    return root


def current(store: Store) -> list[tuple[Any, ...]]:
    """The current derived records as canonical JSON, ids, scopes and statuses included."""
    return sorted(
        (kind, d.record.id, d.scope, d.status, json.dumps(to_json_dict(d.record), sort_keys=True))
        for kind in KINDS
        for d in store.derived(kind)
    )


@pytest.fixture(scope="module")
def expected(sim_day: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """``process`` from scratch on a store of its own."""
    store = open_store(str(tmp_path_factory.mktemp("reference") / "data"))
    try:
        ingest_files(store, [sim_day])
        process(store, load_agreement(sim_day / "agreement"), params=PARAMS)
        return current(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskFanout]:
    fan = DaskFanout("local:2")
    yield fan
    fan.close()


def processed(sim_day: Path, store: Store) -> None:
    """The simulated day stored and processed (what an archive is before it is reprocessed)."""
    ingest_files(store, [sim_day])
    process(store, load_agreement(sim_day / "agreement"), params=PARAMS)


def _numba_cache() -> tuple[int, int]:
    """Cache hits and misses of truceline's compiled kernels in this process."""
    import gc

    from numba.core.dispatcher import Dispatcher

    hits = misses = 0
    for o in gc.get_objects():
        if isinstance(o, Dispatcher) and o.py_func.__module__.startswith("truceline"):
            hits += sum(o.stats.cache_hits.values())
            misses += sum(o.stats.cache_misses.values())
    return hits, misses


def test_reprocess_serial_and_on_dask_equal_process_from_scratch(
    sim_day: Path, store: Store, expected: list[tuple[Any, ...]], cluster: DaskFanout
) -> None:
    processed(sim_day, store)
    agr = load_agreement(sim_day / "agreement")
    old = len(store.derived("event", include_superseded=True))
    serial = reprocess(store, agr, SINCE, UNTIL, PARAMS, "none")
    assert serial.windows_total == len(serial.windows_reprocessed) >= 6 and serial.skipped == 0
    assert serial.workers == 0 and serial.claims > 0 and serial.windows_quarantined == []
    assert current(store) == expected
    assert len(store.derived("event", include_superseded=True)) == old + len(store.derived("event"))  # kept
    again = reprocess(store, agr, SINCE, UNTIL, PARAMS, cluster)  # the same parameters: all done already
    assert again.skipped == again.windows_total and again.windows_reprocessed == [] and again.run_id == 0
    on_dask = reprocess(store, agr, SINCE, UNTIL, PARAMS, cluster, restart=True)
    assert on_dask.workers == 2 and on_dask.windows_reprocessed == serial.windows_reprocessed
    counts = [(r.events, r.incidents, r.violations) for r in (serial, on_dask)]
    assert counts[0] == counts[1]
    assert current(store) == expected
    # The workers loaded the compiled kernels from numba's cache, never compiled them again.
    assert all(misses == 0 for _, misses in cluster.client.run(_numba_cache).values())


def _run_cli(url: str, agreement: Path, *args: str) -> subprocess.Popen[bytes]:
    code = "from truceline.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "reprocess", "--agreement", str(agreement), *SPAN, *args],
        env={**os.environ, "TRUCELINE_STORE": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_killed_reprocess_resumes_to_the_same_result(
    sim_day: Path, store_url: str, expected: list[tuple[Any, ...]], cluster: DaskFanout
) -> None:
    store = open_store(store_url)
    processed(sim_day, store)
    agr = load_agreement(sim_day / "agreement")
    key = digest(agr, SINCE, UNTIL, PARAMS)
    total = len(store.scope_states()) - 1  # less the claims
    store.close()
    proc = _run_cli(store_url, sim_day / "agreement", "--cluster", "none")
    done, deadline = 0, time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and not done:
        s = open_store(store_url)
        runs = runs_of(s, key)
        done = sum(st.run_id in runs for st in s.scope_states().values())
        s.close()
        if done:
            proc.send_signal(signal.SIGKILL)
        time.sleep(0.05)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and 1 <= done < total
    store = open_store(store_url)
    try:
        resumed = reprocess(store, agr, SINCE, UNTIL, PARAMS, cluster)
        assert resumed.skipped >= done and resumed.skipped + len(resumed.windows_reprocessed) == total
        assert current(store) == expected
    finally:
        store.close()
    proc = _run_cli(store_url, sim_day / "agreement", "--cluster", "none")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert f"0 of {total} window(s) reprocessed" in out.decode() and f"{total} skipped" in out.decode()


def test_an_analysts_decision_survives_reprocessing(sim_day: Path, store: Store, cluster: DaskFanout) -> None:
    from truceline.service.review import confirm, history

    processed(sim_day, store)
    agr = load_agreement(sim_day / "agreement")
    v = next(d for d in store.derived("violation") if d.status != "verified")
    confirm(store, "violation", v.record.id, "analyst-1", "crater and fragments seen by patrol P-3")
    reprocess(store, agr, SINCE, UNTIL, PARAMS, cluster)
    now = store.get_derived("violation", v.record.id)
    assert now is not None and now.superseded_by is None and now.status == "verified"
    assert now.run_id != v.run_id
    assert [e.action for e in history(store, v.record.id)] == ["confirm", "carry_over_review"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-09-02T00:00:00Z", "--until", "2026-09-01T00:00:00Z"], "is not after --since"),
        (["--since", "2026-09-01T00:00:00", "--until", "2026-09-02T00:00:00Z"], "has no timezone"),
        (["--cluster", "ftp://scheduler:8786"], "is not none, local, local:N or a scheduler address"),
        (["--cluster", "local:0"], "local:N takes a number of workers"),
        (["--cluster", "tcp://127.0.0.1:1", "--connect-timeout", "0.5"], "cannot reach the scheduler"),
        (["--window-s", "7"], "must be > 0 and divide a day"),
    ],
)
def test_bad_arguments_exit_2_saying_why(
    sim_day: Path, new_store_url: Callable[[str], str], args: list[str], message: str
) -> None:
    url = new_store_url("data")
    store = open_store(url)
    ingest_files(store, [sim_day / "observations"])
    store.close()
    span = [] if "--since" in args else ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]
    agreement = ["--agreement", str(sim_day / "agreement")]
    res = CliRunner().invoke(app, ["reprocess", *span, *args, *agreement, "--store", url])
    assert res.exit_code == 2, res.output
    assert message in res.output
    store = open_store(url)
    try:
        assert store.scope_states() == {}  # nothing run, nothing written
    finally:
        store.close()
