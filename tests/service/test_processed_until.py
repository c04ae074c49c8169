"""How far a store is processed, judged by the window length stored with its processing runs.

A bulletin says its counts may be incomplete when the store's processing does not reach the end of
the reporting day; a store processed in 2 h windows must not be judged by the default 1 h ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from truceline.agreement import Agreement, default_agreement
from truceline.core import Sighting, WeatherReport, evolve
from truceline.core.examples import example_records
from truceline.report import BulletinOptions, build_bulletin
from truceline.service.process import ProcessParams, process, processed_until, stored_params, stored_window_s
from truceline.store import Store

DAY = "2026-09-02"  # the reporting day: 2026-09-01T16:30Z to 2026-09-02T16:30Z (19:30 Kyiv, summer time)
T0 = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)
NOTE = "processing does not cover the whole reporting period"


def weather(k: int, hours: float) -> WeatherReport:
    wx = example_records()["weather_report"]
    return evolve(wx, id=f"wx-{k}", time=T0 + dt.timedelta(hours=hours))  # type: ignore[return-value]


def late_sighting(hours: float) -> Sighting:
    """A sighting that arrives after the processing (only its own window reads it, unlike weather)."""
    sgt = example_records()["sighting"]
    return evolve(sgt, id="sgt-late", time=T0 + dt.timedelta(hours=hours))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture
def store(store: Store) -> Store:
    """Observations every 2 h from 2026-09-01T12:00Z to 2026-09-02T18:00Z, around the whole reporting day
    (on each backend asked for, tests/backends.py)."""
    store.add_records("weather_report", [weather(k, 2 * k) for k in range(16)])
    return store


def test_window_length_is_stored_with_the_run(store: Store, agreement: Agreement) -> None:
    assert stored_window_s(store) is None and stored_params(store) == ProcessParams()
    process(store, agreement, params=ProcessParams(window_s=7200))
    states = store.scope_states()
    assert {st.window_s for k, st in states.items() if k.startswith("window:")} == {7200}
    assert stored_window_s(store) == 7200 and stored_params(store).window_s == 7200


@pytest.mark.parametrize("window_s", [3600, 7200, 10800])
def test_processed_until_follows_the_stored_window(store: Store, agreement: Agreement, window_s: int) -> None:
    summary = process(store, agreement, params=ProcessParams(window_s=window_s))
    w = dt.timedelta(seconds=window_s)
    last = T0 + dt.timedelta(hours=30)  # the newest observation, 2026-09-02T18:00Z
    end = T0 + ((last - T0) // w + 1) * w  # the end of the window holding it
    assert summary.processed_until == end
    assert processed_until(store) == end  # what the bulletin reads, without the run's parameters


def test_late_data_stops_processed_until_at_its_window(store: Store, agreement: Agreement) -> None:
    process(store, agreement, params=ProcessParams(window_s=7200))
    store.add_records("sighting", [late_sighting(9.5)])  # late, into the 20:00-22:00 window of 09-01
    assert processed_until(store) == T0 + dt.timedelta(hours=8)


def _summary(store: Store, agreement: Agreement, out: Path) -> tuple[dt.datetime | None, str]:
    res = build_bulletin(store, agreement, DAY, out, BulletinOptions(pdf=False))
    summary = next(s for s in res.bulletin.sections if s.id == "summary")
    return res.data.processed_until, " ".join(summary.paragraphs)


def test_bulletin_of_a_store_processed_in_2h_windows(store: Store, agreement: Agreement, tmp_path: Path) -> None:
    process(store, agreement, params=ProcessParams(window_s=7200))
    until, text = _summary(store, agreement, tmp_path / "complete")
    assert until == dt.datetime(2026, 9, 2, 20, tzinfo=dt.UTC)
    assert NOTE not in text
    store.add_records("sighting", [late_sighting(9.5)])  # a window inside the day is dirty again
    until, text = _summary(store, agreement, tmp_path / "incomplete")
    assert until == dt.datetime(2026, 9, 1, 20, tzinfo=dt.UTC)
    assert NOTE in text and "incomplete" in text
