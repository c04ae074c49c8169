"""Event ids name an event by its earliest detection, not by its rank in the window (fusion/run.py): an
event found again when its window is fused with more data keeps its id, whatever was found before it."""

from __future__ import annotations

import datetime as dt

from truceline.fusion.run import _event_ids

T = dt.datetime(2026, 9, 2, 14, 32, 5, tzinfo=dt.UTC)


def test_an_event_keeps_its_id_when_events_are_found_before_it() -> None:
    first = _event_ids([T], "021400-", [["d-0042", "d-0017"]])
    later = _event_ids([T - dt.timedelta(seconds=40), T], "021400-", [["d-0003"], ["d-0017", "d-0042", "d-0050"]])
    assert later[1] == first[0]  # a new event before it and a late detection joined it: same id
    assert later[0] != later[1] and first[0].startswith("ev-20260902T143205-021400-")


def test_ids_are_unique_even_when_digests_clash() -> None:
    ids = _event_ids([T, T], "t-", [["same"], ["same"]])  # cannot happen (a detection is one event's), yet
    assert len(set(ids)) == 2
