"""Fixtures of the dashboard's browser tests: a processed store, tokens, a live server, Chromium.

The server is the real API (``truceline.api.app:create_app``) under uvicorn in a background thread,
on a free port of 127.0.0.1, over a store built from a short simulated scenario. Part of the
scenario's detections is held back, so that a test can send them later through the ingest endpoint
and process them while the page is open ("new incidents appear without reloading").

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright (never a downloaded browser):
when it is missing the tests fail, saying how to install it (``scripts/install_system_deps.sh``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.scenarios import one_sector_day
from truceline.agreement import load_agreement
from truceline.service.ingest import ingest_files
from truceline.service.process import process
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario
from truceline.store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Two hours of one sector: some hundred incidents, ~15 s to simulate, ingest and process.
SCENARIO = one_sector_day("dashboard", 2)
#: Detections arriving at or after this time are held back for the live-refresh step.
HOLD_BACK_FROM = "2026-09-01T22:35:00"


@dataclass
class LiveServer:
    """The running API: its URL, data folder, agreement, tokens and the held-back detections."""

    url: str
    data: Path
    agreement: Path
    analyst_token: str
    analyst_name: str
    admin_token: str
    held_back_csv: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _split_detections(src: Path, early: Path, late: Path) -> int:
    """Write the detections before :data:`HOLD_BACK_FROM` to ``early``, the rest to ``late``."""
    header, *rows = src.read_text(encoding="utf-8").splitlines()
    col = header.split(",").index("arrival_time")
    keep = [r for r in rows if r.split(",")[col] < HOLD_BACK_FROM]
    held = [r for r in rows if r.split(",")[col] >= HOLD_BACK_FROM]
    early.write_text("\n".join([header, *keep]) + "\n", encoding="utf-8")
    late.write_text("\n".join([header, *held]) + "\n", encoding="utf-8")
    return len(held)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    from truceline.api.app import create_app
    from truceline.ledger import keygen
    from truceline.service.tokens import create_token

    root = tmp_path_factory.mktemp("dashboard")
    sim = root / "sim"
    simulate(parse_scenario(SCENARIO), sim)
    obs = sim / "observations"
    (root / "early").mkdir()
    early, late = root / "early" / "detections.csv", root / "held_back_detections.csv"
    assert _split_detections(obs / "detections.csv", early, late) > 50
    data, agreement = root / "data", sim / "agreement"
    store = SQLiteStore(data)
    try:
        rep = ingest_files(store, [p for p in obs.iterdir() if p.name != "detections.csv"] + [early])
        assert rep.ok, rep
        summary = process(store, load_agreement(agreement))
        assert summary.incidents > 10, summary
        analyst_token, _ = create_token(store, "analyst", "anna.analyst")
        admin_token, _ = create_token(store, "admin", "ops.admin")
    finally:
        store.close()
    keygen(data, "mission.example/ledger")  # a transparency log: the top bar shows its checkpoint

    port = _free_port()
    app = create_app(data, agreement)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="dashboard-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the API server did not start within 30 s")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", data, agreement, analyst_token, "anna.analyst", admin_token, late)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the dashboard tests drive Debian's chromium. "
            "Install it with `scripts/install_system_deps.sh` (make test runs it first)."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package `playwright` is missing: `.venv/bin/pip install playwright` (dev extra)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Where the screenshots go (``tests/web/artifacts``; kept after the run, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
