"""``truceline process``: fusion and adjudication over what is new in the store, window by window.

Time is cut into windows (one hour by default). A window is *dirty* when it has never been
processed or when observations timed inside it (or within ``overlap_s`` of its edges) arrived after
it was last processed. Each dirty window is fused with ``overlap_s`` of detections on either side
(so a round fired just before the edge keeps its arrivals), and keeps:

- the incidents that *start* in the window (a launch at 00:59:50 whose impact lands at 01:00:30 is
  the 00:00 window's), and every event of those incidents;
- an event already stored by another window (sharing most of its detections) is not stored again:
  the incident refers to the stored one.

The window's events, incidents and violations then replace the window's previous rows (superseded,
never deleted) in **one transaction**, together with the window's "seen up to" mark. A process
killed at any point therefore leaves every window either done or untouched, and the next run redoes
exactly the untouched ones. Claims are judged last, over everything processed so far.

Only the windows that hold data are visited (:func:`windows`): a lone record dated 2100 costs one
window, not the hundreds of thousands between it and the rest. Nothing stored stops a run
(:mod:`truceline.service.quarantine`): a record timed where no datetime reaches, or that no longer
decodes, is held in quarantine before it is used; a window that fails is run again without the
records the codebook refuses, and held itself (with the exception text) when it still fails; the run
goes on with the next window, and an analyst releases or rejects what was held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from truceline.adjudicate import Context, adjudicate
from truceline.adjudicate.claims import ClaimParams, assess_claims
from truceline.adjudicate.coverage import SensorNetwork, period_probability
from truceline.adjudicate.verification import verify_incidents
from truceline.agreement import Agreement
from truceline.core import Claim, Event, Incident, Record
from truceline.core.enums import WeaponClass
from truceline.core.errors import InvalidInput
from truceline.fusion.associate import AssocParams
from truceline.fusion.run import FusionParams
from truceline.service.quarantine import Culprit, detection_problems, guard, hold_out_of_range, read, read_derived
from truceline.service.window import (
    OBSERVER_MARGIN,
    US,
    Reviews,
    WindowInputs,
    carry_reviews,
    fuse_window,
    keep,
    read_inputs,
    window_scope,
)
from truceline.store.base import Store, from_us, to_us

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ProcessParams:
    """Windowing of incremental processing.

    ``window_s``: window length (s, divides a day); ``overlap_s``: detections fused beyond each
    edge (longer than the longest travel time plus time of flight that must be kept together);
    ``weather_margin_s``: weather reports read around a window; ``share_duplicate``: share of an
    event's detections that makes it the same event as one already stored.
    """

    window_s: int = 3600
    overlap_s: float = 240.0
    weather_margin_s: float = 7200.0
    share_duplicate: float = 0.5
    fusion: FusionParams = field(default_factory=FusionParams)
    assoc: AssocParams = field(default_factory=AssocParams)
    claims: ClaimParams = field(default_factory=ClaimParams)

    def __post_init__(self) -> None:
        if self.window_s <= 0 or 86_400 % self.window_s:
            raise InvalidInput(f"window_s: {self.window_s} must be > 0 and divide a day (86400 s)")
        if not 0 <= self.overlap_s < self.window_s:
            raise InvalidInput(f"overlap_s: {self.overlap_s} must be in [0, window_s)")


@dataclass
class ProcessSummary:
    """What a run did."""

    windows_total: int = 0
    windows_processed: list[str] = field(default_factory=list)
    events: int = 0
    incidents: int = 0
    violations: int = 0
    claims: int = 0
    processed_until: dt.datetime | None = None
    windows_quarantined: list[str] = field(default_factory=list)
    quarantined: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["processed_until"] = self.processed_until.isoformat() if self.processed_until else None
        return d


def windows(store: Store, params: ProcessParams, since: dt.datetime | None, until: dt.datetime | None) -> list[int]:
    """Start times (µs) of the windows holding data, limited to ``[since, until)``.

    A window holds data when detections fall in it or within ``overlap_s`` of its edges (what it
    fuses), observer reports within :data:`OBSERVER_MARGIN` of them, or any other observation in it
    (sensors and claims aside). Held (quarantined) records count for nothing. The windows come from
    the times that hold data, never from every window between the earliest and the latest time.
    """
    margins = {"detection": int(params.overlap_s * US), "observer_report": int(OBSERVER_MARGIN.total_seconds() * US)}
    lo = None if since is None else to_us(since)
    hi = None if until is None else to_us(until)
    return store.data_windows(params.window_s * US, margins, lo, hi)


def held_scopes(store: Store) -> dict[str, str]:
    """The processing scopes held in quarantine (a window that failed), with their state."""
    return {e.target_id: e.state for e in store.quarantine_entries(kind="scope") if e.held}


def dirty(store: Store, params: ProcessParams, w0: int) -> bool:
    """Whether the window starting at ``w0`` (µs) needs processing."""
    state = store.scope_state(window_scope(from_us(w0)))
    if state is None:
        return True
    ovl = int(params.overlap_s * US)
    w1 = w0 + params.window_s * US
    if store.max_seq_between(w0 - ovl, w1 + ovl) > state.seen_seq:
        return True
    # What a window reads beyond its overlap: weather around it, observer reports near its edges.
    wx = int(params.weather_margin_s * US)
    obs = int(OBSERVER_MARGIN.total_seconds() * US)
    return (
        store.max_seq_between(w0 - wx, w1 + wx, "weather_report") > state.seen_seq
        or store.max_seq_between(w0 - obs, w1 + obs, "observer_report") > state.seen_seq
    )


def _parameters(params: ProcessParams) -> dict[str, Any]:
    """The run's parameters as stored: fusion and association as they write themselves (fusion.json's keys)."""
    return {**asdict(params), "fusion": params.fusion.as_dict(), "assoc": params.assoc.as_dict()}


def process(
    store: Store,
    agreement: Agreement,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    params: ProcessParams | None = None,
    progress: Progress | None = None,
) -> ProcessSummary:
    """Process every dirty window in ``[since, until)``, then judge the claims (see the module docstring)."""
    params = params or ProcessParams()
    summary = ProcessSummary()
    hold_out_of_range(store)
    starts = windows(store, params, since, until)
    summary.windows_total = len(starts)
    held = held_scopes(store)
    todo = [w0 for w0 in starts if window_scope(from_us(w0)) not in held and dirty(store, params, w0)]
    sensors = read(store, "sensor")
    parameters = {"params": _parameters(params), "agreement": agreement.id}
    run_id = store.new_run("process", parameters, window_s=params.window_s) if todo else 0
    reviews = Reviews.read(store)
    for k, w0 in enumerate(todo):
        scope = window_scope(from_us(w0))
        counts = guard(
            store, scope, w0,
            lambda w0=w0: process_window(store, agreement, sensors, w0, params, run_id, reviews),  # type: ignore[misc]
            lambda w0=w0: window_culprits(store, sensors, w0, params),  # type: ignore[misc]
        )  # fmt: skip
        if counts is None:
            summary.windows_quarantined.append(scope)
            continue
        summary.windows_processed.append(scope)
        summary.events += counts[0]
        summary.incidents += counts[1]
        summary.violations += counts[2]
        if progress:
            progress("windows", (k + 1) / len(todo))
    summary.processed_until, summary.claims = finish(store, params, changed=bool(todo))
    summary.quarantined = len(store.quarantine_entries(state="quarantined"))
    return summary


def finish(store: Store, params: ProcessParams, changed: bool) -> tuple[dt.datetime | None, int]:
    """After the windows of a run: how far processing got (:func:`processed_until`) and the claims
    judged again (when windows ``changed``, now or in a run killed before it judged them)."""
    until = processed_until(store, params)
    states = store.scope_states()
    claims_run = states["claims"].run_id if "claims" in states else -1
    windows_run = max((st.run_id for k, st in states.items() if k.startswith("window:")), default=0)
    force = changed or windows_run > claims_run
    judged = guard(store, "claims", None, lambda: judge_claims(store, params, until, force=force),
                   lambda: claim_culprits(store, params, until))  # fmt: skip
    return until, judged or 0


def window_culprits(store: Store, sensors: list[Record], w0: int, params: ProcessParams) -> list[Culprit]:
    """The records of the window starting at ``w0`` to blame for its failure: the detections it fuses
    that the codebook refuses or whose sensor is unknown (observations are checked as they are read)."""
    ovl = int(params.overlap_s * US)
    table = store.detections(w0 - ovl, w0 + params.window_s * US + ovl)
    return detection_problems(table, [s.id for s in sensors])


def process_window(
    store: Store,
    agreement: Agreement,
    sensors: list[Record],
    w0: int,
    params: ProcessParams,
    run_id: int,
    reviews: Reviews | None = None,
    stale: frozenset[str] = frozenset(),
) -> tuple[int, int, int]:
    """Fuse and adjudicate one window and replace its rows atomically; return (events, incidents, violations).

    The two steps of :mod:`truceline.service.window`: read and fuse (:func:`fuse_window`, pure), then
    keep, adjudicate and store (:func:`store_window`). ``reviews``: the analysts' decisions (read from
    the audit trail when not given; a run reads them once); ``stale``: see :func:`store_window`.
    """
    inputs = read_inputs(store, sensors, w0, params)
    fused = fuse_window(inputs, sensors, agreement, params)
    return store_window(store, agreement, sensors, inputs, fused, params, run_id, reviews, stale)


def store_window(
    store: Store,
    agreement: Agreement,
    sensors: list[Record],
    inputs: WindowInputs,
    fused: dict[str, list[Any]] | None,
    params: ProcessParams,
    run_id: int,
    reviews: Reviews | None = None,
    stale: frozenset[str] = frozenset(),
) -> tuple[int, int, int]:
    """The store's step of a window, fused (``fused``, from ``inputs``): keep what no other window stored,
    adjudicate, carry the analysts' decisions over and replace the window's rows in one transaction.
    Windows go through it in order (it reads what the windows before stored). ``stale``: scopes whose
    stored events are not another window's (windows a reprocessing has still to redo)."""
    t0, t1 = inputs.t0, inputs.t1
    ovl = int(params.overlap_s * US)
    events: list[Event] = []
    incidents: list[Incident] = []
    cited: list[Event] = []
    if fused is not None:
        lo, hi = inputs.w0 - ovl, inputs.w1 + ovl
        events, incidents, cited = keep(store, fused, t0, t1, lo, hi, params.share_duplicate, stale)
    obs_margin = OBSERVER_MARGIN
    ctx = Context(
        agreement=agreement,
        events=[*events, *cited],
        incidents=incidents,
        sightings=read(store, "sighting", t0, t1),  # type: ignore[arg-type]
        restrictions=read(store, "freedom_of_movement_restriction", t0, t1),  # type: ignore[arg-type]
        status_reports=read(store, "sensor_status_report", t0, t1),  # type: ignore[arg-type]
        observer_reports=read(store, "observer_report", t0 - obs_margin, t1 + obs_margin),  # type: ignore[arg-type]
        sensors=sensors,  # type: ignore[arg-type]
        created_at=t1,
    )
    violations = adjudicate(ctx)
    incidents = verify_incidents(ctx)
    rows: list[tuple[str, Record, int]] = [("event", e, to_us(e.origin_time)) for e in events]
    rows += [("incident", i, to_us(i.window.start)) for i in incidents]
    rows += [("violation", v, to_us(v.time)) for v in violations]
    with store.transaction():
        rows = carry_reviews(store, reviews or Reviews.read(store), window_scope(t0), t0, t1, rows)
        store.replace_scope(window_scope(t0), run_id, rows, inputs.seen)
    return len(events), len(incidents), len(violations)


def stored_window_s(store: Store) -> int | None:
    """The window length (s) stored with the newest run that processed a window (None when none has)."""
    states = [st for scope, st in store.scope_states().items() if scope.startswith("window:") and st.window_s]
    return max(states, key=lambda st: st.run_id).window_s if states else None


def stored_params(store: Store) -> ProcessParams:
    """The windowing the store was processed with: the window length of :func:`stored_window_s` (the
    default when no window is processed), the other settings their defaults (the overlap, if the
    window is no longer than it, half the window)."""
    window_s = stored_window_s(store)
    default = ProcessParams()
    if window_s is None or window_s == default.window_s:
        return default
    return ProcessParams(window_s=window_s, overlap_s=min(default.overlap_s, window_s / 2))


def processed_until(store: Store, params: ProcessParams | None = None) -> dt.datetime | None:
    """End of the contiguous run of clean windows from the first window with data: the start of the
    first window still to do (or held in quarantine), or the end of the last window with data when
    none is; None when the first is still to do. Windows holding no data are clean; a window an
    analyst rejected from quarantine counts as done.

    ``params``: the windowing to judge by (a run's own); by default :func:`stored_params`, the one
    the store was processed with.
    """
    if params is None:
        params = stored_params(store)
    held = held_scopes(store)
    end = None
    for w0 in windows(store, params, None, None):
        state = held.get(window_scope(from_us(w0)))
        if state != "rejected" and (state is not None or dirty(store, params, w0)):
            return None if end is None else from_us(w0)
        end = from_us(w0 + params.window_s * US)
    return end


def judge_claims(store: Store, params: ProcessParams, until: dt.datetime | None, force: bool = True) -> int:
    """Judge every claim against everything processed (when windows or claims changed); supersede the
    previous verdicts. Returns the number of claims judged."""
    claims: list[Claim] = read(store, "claim")  # type: ignore[assignment]
    state = store.scope_state("claims")
    newest = store.last_seq()
    if not claims or (not force and state is not None and state.seen_seq >= store.max_seq("claim")):
        return 0
    verdicts = _verdicts(store, claims, params, until)
    run_id = store.new_run("claims", {"claims": asdict(params.claims)})
    store.replace_scope("claims", run_id, [("claim_assessment", v, to_us(c.period.start)) for v, c in
                                           zip(verdicts, claims, strict=True)], newest)  # fmt: skip
    return len(verdicts)


def claim_culprits(store: Store, params: ProcessParams, until: dt.datetime | None) -> list[Culprit]:
    """The claims that cannot be judged on their own (what to blame when the judgement fails)."""
    out: list[Culprit] = []
    for c in read(store, "claim"):
        try:
            _verdicts(store, [c], params, until)  # type: ignore[list-item]
        except Exception as exc:  # this claim's failure, named
            out.append(("claim", c.id, to_us(c.period.start), f"{type(exc).__name__}: {exc}"[:300]))  # type: ignore[attr-defined]
    return out


def _verdicts(store: Store, claims: list[Claim], params: ProcessParams, until: dt.datetime | None) -> list[Any]:
    """The verdicts on ``claims`` against the processed events and incidents around them."""
    t_lo = min(c.period.start for c in claims) - dt.timedelta(hours=1)
    t_hi = max(c.period.end for c in claims) + dt.timedelta(hours=1)
    events: list[Event] = [d.record for d in read_derived(store, "event", t_lo, t_hi)]  # type: ignore[misc]
    incidents: list[Incident] = [d.record for d in read_derived(store, "incident", t_lo - dt.timedelta(hours=1), t_hi)]  # type: ignore[misc]
    net = SensorNetwork.from_records(read(store, "sensor"), read(store, "sensor_status_report"))  # type: ignore[arg-type]

    def coverage(c: Claim) -> float:
        assert c.place is not None
        wc = c.weapon_class or WeaponClass.UNKNOWN
        p = period_probability(net, [c.place.lon_deg], [c.place.lat_deg], c.period.start, c.period.end, wc)
        return float(np.asarray(p).ravel()[0])

    return assess_claims(claims, events, incidents, coverage, until, params.claims, created_at=until)
