"""One window of ``truceline process``, in two steps: what it reads and fuses, and what it keeps.

:func:`read_inputs` reads what a window fuses from the store (its detections with the overlap, the
weather around it, the sensors' health reports); :func:`fuse_window` fuses them, a pure function of
its arguments (picklable in and out: ``truceline reprocess`` runs it on Dask workers, which never
touch the store). What the fused records become is the store's business, in window order
(:func:`truceline.service.process.store_window`): :func:`keep` sets aside what another window
stored already, :func:`carry_reviews` keeps the analysts' decisions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from truceline.agreement import Agreement
from truceline.core import Event, Incident, Record, evolve
from truceline.fusion.inputs import inputs_from_records
from truceline.fusion.run import fuse_input
from truceline.io.detections import DetectionTable
from truceline.service.quarantine import read, read_derived
from truceline.store.base import Store, from_us

if TYPE_CHECKING:
    from truceline.service.process import ProcessParams

US = 1_000_000
#: Observer reports read around a window (a patrol hears a round minutes after it is fired).
OBSERVER_MARGIN = dt.timedelta(minutes=10)
#: How far back a window reads the sensors' health reports.
STATUS_LOOKBACK = dt.timedelta(days=30)
#: Audit actions that set a status an analyst decided (kept when a window is reprocessed).
REVIEW_ACTIONS = frozenset({"confirm", "dismiss", "mark_inconclusive", "carry_over_review"})


def window_scope(start: dt.datetime) -> str:
    return f"window:{start.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True)
class WindowInputs:
    """What a window fuses, as read from the store: its detections with ``overlap_s`` on either side,
    the weather within ``weather_margin_s``, the health reports of :data:`STATUS_LOOKBACK` (empty
    when there is nothing to fuse), and ``seen``: the store's last sequence number before reading."""

    w0: int
    w1: int
    seen: int
    table: DetectionTable
    weather: list[Record]
    status: list[Record]

    @property
    def t0(self) -> dt.datetime:
        return from_us(self.w0)

    @property
    def t1(self) -> dt.datetime:
        return from_us(self.w1)


def read_inputs(store: Store, sensors: list[Record], w0: int, params: ProcessParams) -> WindowInputs:
    """What the window starting at ``w0`` (µs) fuses (:class:`WindowInputs`)."""
    seen = store.last_seq()
    w1 = w0 + params.window_s * US
    ovl = int(params.overlap_s * US)
    t0, t1 = from_us(w0), from_us(w1)
    table = store.detections(w0 - ovl, w1 + ovl)
    weather: list[Record] = []
    status: list[Record] = []
    if len(table) and sensors:
        margin = dt.timedelta(seconds=params.weather_margin_s)
        weather = read(store, "weather_report", t0 - margin, t1 + margin)
        # Health reports of the last STATUS_LOOKBACK: a sensor out of service longer than that and
        # still silent is found dead by its silence (fusion/evidence.py).
        status = read(store, "sensor_status_report", t0 - STATUS_LOOKBACK, t1 + margin)
    return WindowInputs(w0, w1, seen, table, weather, status)


def fuse_window(
    inputs: WindowInputs, sensors: list[Record], agreement: Agreement, params: ProcessParams
) -> dict[str, list[Any]] | None:
    """The window's fused records (``{"events": [...], "incidents": [...]}``), None when it has nothing
    to fuse. Pure: reads nothing but its arguments (what a Dask worker runs)."""
    if not (len(inputs.table) and sensors):
        return None
    inp = inputs_from_records(sensors, inputs.table, inputs.weather, source="store", status=inputs.status)  # type: ignore[arg-type]
    records, _ = fuse_input(inp, agreement, params.assoc, params.fusion, tag=f"{inputs.t0:%d%H%M}-")
    return records


@dataclass(frozen=True)
class Reviews:
    """What analysts decided, from the audit trail: ids whose status they set, and incidents they merged
    or split away (id -> (action, what replaced it))."""

    reviewed: frozenset[str]
    replaced: dict[str, tuple[str, Any]]

    @classmethod
    def read(cls, store: Store) -> Reviews:
        reviewed, replaced = set(), {}
        for e in store.audit():
            if e.action in REVIEW_ACTIONS:
                reviewed.add(e.target_id)
            elif e.action in ("merge", "split") and e.after:
                into = e.after.get("merged_into") or e.after.get("split_into")
                if into:
                    replaced[e.target_id] = (e.action, into)
        return cls(frozenset(reviewed), replaced)


def carry_reviews(
    store: Store, reviews: Reviews, scope: str, t0: dt.datetime, t1: dt.datetime, rows: list[tuple[str, Record, int]]
) -> list[tuple[str, Record, int]]:
    """Keep analysts' decisions on the findings a reprocessed window finds again (same id), audited:
    statuses carry over, and incidents an analyst merged or split stay replaced by the result."""
    replaced, reviewed_ids = reviews.replaced, reviews.reviewed
    if replaced:
        kept = []
        for kind, rec, t_us in rows:
            if kind == "incident" and rec.id in replaced:
                action, into = replaced[rec.id]
                store.append_audit(
                    "system:process", "carry_over_review", kind, rec.id,
                    f"{scope} reprocessed: the incident stays replaced by the analyst's {action}",
                    None, {"replaced_by": into},
                )  # fmt: skip
                continue
            kept.append((kind, rec, t_us))
        rows = kept
    if not reviewed_ids:
        return rows
    margin = dt.timedelta(hours=1)
    old = {
        (d.kind, d.record.id): d.status
        for kind in ("incident", "violation")
        for d in read_derived(store, kind, t0 - margin, t1 + margin)
        if d.scope == scope and d.record.id in reviewed_ids and d.status is not None
    }
    out = []
    for kind, rec, t_us in rows:
        status = old.get((kind, rec.id))
        auto = getattr(rec, "status", None)
        if status is not None and auto is not None and status != auto.value:
            store.append_audit(
                "system:process", "carry_over_review", kind, rec.id,
                f"{scope} reprocessed: the analyst's decision is kept on the same finding",
                {"status": auto.value}, {"status": status},
            )  # fmt: skip
            rec = evolve(rec, status=status)
        out.append((kind, rec, t_us))
    return out


def _event_refs(inc: Incident) -> list[str]:
    return list(dict.fromkeys([*inc.event_ids, *(i for i in (inc.launch_event_id, inc.impact_event_id) if i)]))


def _stored_events(
    store: Store, own_scope: str, lo: dt.datetime, hi: dt.datetime, stale: frozenset[str]
) -> dict[str, Event]:
    """The current events other windows stored between ``lo`` and ``hi``, less those of ``stale`` scopes."""
    margin = dt.timedelta(minutes=5)
    return {
        d.record.id: d.record  # type: ignore[misc]
        for d in read_derived(store, "event", lo - margin, hi + margin)
        if d.scope != own_scope and d.scope not in stale
    }


def keep(
    store: Store,
    records: dict[str, list[Any]],
    t0: dt.datetime,
    t1: dt.datetime,
    lo_us: int,
    hi_us: int,
    share: float,
    stale: frozenset[str] = frozenset(),
) -> tuple[list[Event], list[Incident], list[Event]]:
    """The window's own incidents and their events, and the events stored by other windows that they
    refer to instead of storing an event twice. ``stale``: scopes whose stored events do not count
    (windows a reprocessing has yet to redo: a serial run from scratch has not stored them yet)."""
    events: dict[str, Event] = {e.id: e for e in records["events"]}
    mine = [i for i in records["incidents"] if t0 <= i.window.start < t1]
    others = _stored_events(store, window_scope(t0), from_us(lo_us), from_us(hi_us), stale)
    owner: dict[str, str] = {}
    for o in others.values():
        for det in o.detection_ids:
            owner[det] = o.id
    remap: dict[str, str] = {}
    for e in events.values():
        hits = [owner[d] for d in e.detection_ids if d in owner]
        if hits and len(hits) >= share * max(len(e.detection_ids), 1):
            remap[e.id] = max(set(hits), key=hits.count)
    kept_inc: list[Incident] = []
    kept_ev: dict[str, Event] = {}
    for inc in mine:
        refs = _event_refs(inc)
        if refs and all(r in remap for r in refs):
            continue  # entirely another window's: it has it
        if any(r in remap for r in refs):
            inc = evolve(
                inc,
                event_ids=tuple(dict.fromkeys(remap.get(r, r) for r in inc.event_ids)),
                launch_event_id=remap.get(inc.launch_event_id or "", inc.launch_event_id),
                impact_event_id=remap.get(inc.impact_event_id or "", inc.impact_event_id),
            )
        kept_inc.append(inc)
        for r in refs:
            if r not in remap and r in events:
                kept_ev[r] = events[r]
    cited = {r: others[r] for inc in kept_inc for r in _event_refs(inc) if r in others}
    return sorted(kept_ev.values(), key=lambda e: (e.origin_time, e.id)), kept_inc, list(cited.values())
