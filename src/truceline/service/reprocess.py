"""``truceline reprocess``: re-run the archive's windows over ``[since, until)``, fused on a Dask cluster.

When the algorithms improve, months of archive are processed again whether or not new data arrived.
Each window is the two steps of ``truceline process`` (:mod:`truceline.service.window`): the fusion,
a pure function of the window's records, fans out to Dask workers (:class:`DaskFanout`); the store
step (keep what no other window stored, adjudicate, carry the analysts' decisions over, replace the
window's rows in one transaction) runs in the driver, **in window order**, as the results come in.
The driver is the store's single writer and its only reader: the workers never touch the store (they
get the window's inputs and return its fused records), so a cluster needs nothing but truceline.

The result is that of a serial ``process`` from scratch over the same windows: a window set aside as
the duplicate of another window's event (:func:`truceline.service.window.keep`) looks only at
windows already redone by this reprocessing (or outside its range), never at the rows about to be
superseded. ``--cluster none`` runs the same steps in-process, one window after the other.

A reprocessing is a run (``what = "reprocess"``) whose parameters hold a digest of what it redoes
(range, processing parameters, agreement, truceline version): a run killed at any point leaves every
window either redone or untouched, and the next invocation with the same parameters skips the
windows a run of the same digest already wrote (unless new data made them dirty since), and says
how many. ``restart`` redoes them all (code changed without a version change). Quarantine is that of
``process``: a held window is left alone, a window that fails is held and the run goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import truceline
from truceline.agreement import Agreement
from truceline.core import Record
from truceline.core.errors import InvalidInput
from truceline.service.process import (
    ProcessParams,
    Progress,
    Reviews,
    _parameters,
    dirty,
    finish,
    held_scopes,
    process_window,
    store_window,
    stored_window_s,
    window_culprits,
    windows,
)
from truceline.service.quarantine import guard, hold_out_of_range, read
from truceline.service.window import WindowInputs, fuse_window, read_inputs, window_scope
from truceline.store.base import Store, from_us

#: What a fused window is (``{"events": [...], "incidents": [...]}``, None when it had nothing to fuse).
Fused = dict[str, list[Any]] | None


class Pending(Protocol):
    def result(self) -> Fused: ...


class Fanout(Protocol):
    """Where windows are fused: ``depth`` windows in flight at most, ``workers`` for the summary."""

    workers: int
    depth: int

    def share(self, sensors: list[Record], agreement: Agreement, params: ProcessParams) -> None: ...

    def submit(self, inputs: WindowInputs) -> Pending: ...

    def close(self) -> None: ...


@dataclass
class _Later:
    """A window fused in-process when its result is asked for (inside :func:`guard`, as ``process`` does)."""

    run: Callable[[], Fused]

    def result(self) -> Fused:
        return self.run()


class ClusterFailure(OSError):
    """The cluster failed a window (a worker died, the scheduler went away): no fault of the window's
    records, so the run stops (as for a failure of the store) instead of holding the window; run it
    again, it resumes."""


@dataclass
class _Remote:
    """A window fused on a Dask worker: its result, or the window's exception, or :class:`ClusterFailure`."""

    future: Any

    def result(self) -> Fused:
        from dask.distributed import CancelledError, KilledWorker
        from distributed.comm.core import CommClosedError

        try:
            return self.future.result()
        except (KilledWorker, CommClosedError, CancelledError) as exc:
            raise ClusterFailure(f"the Dask cluster failed: {type(exc).__name__}: {exc}") from exc


class Serial:
    """``--cluster none``: the windows fused in-process, one after the other (the baseline)."""

    workers = 0
    depth = 1

    def share(self, sensors: list[Record], agreement: Agreement, params: ProcessParams) -> None:
        self.args = (sensors, agreement, params)

    def submit(self, inputs: WindowInputs) -> Pending:
        return _Later(lambda: fuse_window(inputs, *self.args))

    def close(self) -> None:
        pass


def parse_cluster(spec: str) -> tuple[str, int | None]:
    """``none``, ``local``, ``local:N`` or a scheduler address (``tcp://host:port``, ``tls://``...) as
    ``(kind, workers)``: ``("none", None)``, ``("local", N or None)``, ``(address, None)``.

    Raises
    ------
    InvalidInput
        For anything else.
    """
    s = spec.strip()
    if s in ("none", "local"):
        return s, None
    if s.startswith("local:"):
        n = s.removeprefix("local:")
        if not n.isdigit() or not 1 <= int(n) <= 1024:
            raise InvalidInput(f"--cluster: {spec!r}: local:N takes a number of workers from 1 to 1024")
        return "local", int(n)
    scheme, sep, rest = s.partition("://")
    if sep and scheme in ("tcp", "tls", "inproc", "ucx", "ws", "wss") and rest and ":" in rest:
        return s, None
    raise InvalidInput(f"--cluster: {spec!r} is not none, local, local:N or a scheduler address (tcp://host:8786)")


class DaskFanout:
    """Windows fused on a Dask cluster: a LocalCluster (``local``: one single-threaded worker process
    per core, ``local:N``: N) or the scheduler at an address. Dask is imported here only."""

    def __init__(self, spec: str, connect_timeout_s: float = 10.0) -> None:
        from dask.distributed import Client, LocalCluster

        kind, n = parse_cluster(spec)
        if kind == "none":
            raise InvalidInput("--cluster none runs without Dask (Serial)")
        self.cluster = None
        try:
            if kind == "local":
                self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                self.client = Client(kind, timeout=f"{connect_timeout_s}s")
        except (OSError, TimeoutError) as exc:
            self.close()
            raise InvalidInput(f"--cluster: {spec}: cannot reach the scheduler: {exc}") from None
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)
        self.depth = 2 * self.workers + 2
        self.spec = spec

    def share(self, sensors: list[Record], agreement: Agreement, params: ProcessParams) -> None:
        """Send what every window uses once (the agreement without the zone engines a run caches on it)."""
        portable = dataclasses.replace(agreement)
        self.args = [self.client.scatter(x, broadcast=True) for x in (sensors, portable)] + [params]

    def submit(self, inputs: WindowInputs) -> Pending:
        return _Remote(self.client.submit(fuse_window, inputs, *self.args, pure=False))

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_fanout(spec: str, connect_timeout_s: float = 10.0) -> Fanout:
    """The :class:`Fanout` a ``--cluster`` names (raises :class:`InvalidInput` for a bad one)."""
    return Serial() if parse_cluster(spec)[0] == "none" else DaskFanout(spec, connect_timeout_s)


@dataclass
class ReprocessSummary:
    """What a reprocessing did."""

    windows_total: int = 0
    windows_reprocessed: list[str] = field(default_factory=list)
    skipped: int = 0
    held: int = 0
    windows_quarantined: list[str] = field(default_factory=list)
    events: int = 0
    incidents: int = 0
    violations: int = 0
    claims: int = 0
    processed_until: dt.datetime | None = None
    run_id: int = 0
    digest: str = ""
    workers: int = 0
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["processed_until"] = self.processed_until.isoformat() if self.processed_until else None
        return d


def _agreement_digest(agreement: Agreement) -> str:
    h = hashlib.sha256(f"{agreement.id}\0{agreement.version}".encode())
    root = Path(agreement.path) if agreement.path is not None else None
    if root is not None and root.exists():
        for p in sorted(root.rglob("*") if root.is_dir() else [root]):
            if p.is_file():
                h.update(str(p.relative_to(root) if root.is_dir() else p.name).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def digest(agreement: Agreement, since: dt.datetime, until: dt.datetime, params: ProcessParams) -> str:
    """What identifies a reprocessing (the same digest, the same windows to redo): range, parameters,
    agreement (its files) and truceline's version."""
    what = {
        "since": since.astimezone(dt.UTC).isoformat(),
        "until": until.astimezone(dt.UTC).isoformat(),
        "params": _parameters(params),
        "agreement": _agreement_digest(agreement),
        "truceline": truceline.__version__,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:32]


def runs_of(store: Store, key: str) -> set[int]:
    """The reprocessing runs of digest ``key`` (killed or not)."""
    out = set()
    for row in store.table_rows("runs"):
        run_id, what, parameters = row[0], row[1], row[3]
        p = json.loads(parameters) if isinstance(parameters, str) else (parameters or {})
        if what == "reprocess" and (p.get("reprocess") or {}).get("digest") == key:
            out.add(int(run_id))
    return out


def plan(store: Store, starts: list[int], params: ProcessParams, key: str, restart: bool) -> tuple[list[int], int, int]:
    """The windows to redo among ``starts``, and how many are skipped as done by a run of digest ``key``
    (and not dirty since) and as held in quarantine."""
    held = held_scopes(store)
    done_by = set() if restart else runs_of(store, key)
    states = store.scope_states()
    todo: list[int] = []
    skipped = n_held = 0
    for w0 in starts:
        scope = window_scope(from_us(w0))
        st = states.get(scope)
        if scope in held:
            n_held += 1
        elif st is not None and st.run_id in done_by and not dirty(store, params, w0):
            skipped += 1
        else:
            todo.append(w0)
    return todo, skipped, n_held


def reprocess(
    store: Store,
    agreement: Agreement,
    since: dt.datetime,
    until: dt.datetime,
    params: ProcessParams | None = None,
    cluster: str | Fanout = "none",
    *,
    restart: bool = False,
    progress: Progress | None = None,
    connect_timeout_s: float = 10.0,
) -> ReprocessSummary:
    """Redo every window holding data in ``[since, until)`` (see the module docstring), then judge the
    claims. ``cluster``: a ``--cluster`` spec (:func:`parse_cluster`, opened when a window is to redo
    and closed after) or a :class:`Fanout` already open (left open); ``connect_timeout_s``: how long to
    wait for a scheduler's address to answer.

    Raises
    ------
    InvalidInput
        For ``until`` not after ``since``, a window length other than the store's (the windows of another
        length would stay current beside the new ones), a bad cluster spec or a scheduler that does not
        answer.
    """
    t_start = time.monotonic()
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("--since and --until need a timezone")
    if until <= since:
        raise InvalidInput(f"--until {until.isoformat()} is not after --since {since.isoformat()}")
    if isinstance(cluster, str):
        parse_cluster(cluster)
    params = params or ProcessParams()
    stored = stored_window_s(store)
    if stored is not None and stored != params.window_s:
        raise InvalidInput(
            f"--window-s {params.window_s}: the store's windows are {stored} s (re-windowing is not reprocessing)"
        )
    key = digest(agreement, since, until, params)
    hold_out_of_range(store)
    starts = windows(store, params, since, until)
    todo, skipped, held = plan(store, starts, params, key, restart)
    s = ReprocessSummary(windows_total=len(starts), skipped=skipped, held=held, digest=key)
    if todo:
        # Before the run: a cluster that cannot be reached writes nothing.
        fan = open_fanout(cluster, connect_timeout_s) if isinstance(cluster, str) else cluster
        try:
            sensors = read(store, "sensor")
            span = {"digest": key, "since": since.isoformat(), "until": until.isoformat(), "restart": restart}
            parameters = {"params": _parameters(params), "agreement": agreement.id, "reprocess": span}
            s.run_id = store.new_run("reprocess", parameters, window_s=params.window_s)
            s.workers = fan.workers
            fan.share(sensors, agreement, params)
            _drive(store, fan, agreement, sensors, todo, params, s, progress)
        finally:
            if isinstance(cluster, str):
                fan.close()
    s.processed_until, s.claims = finish(store, params, changed=bool(todo))
    s.wall_s = time.monotonic() - t_start
    return s


def _drive(
    store: Store,
    fan: Fanout,
    agreement: Agreement,
    sensors: list[Record],
    todo: list[int],
    params: ProcessParams,
    s: ReprocessSummary,
    progress: Progress | None,
) -> None:
    """Fuse ``todo`` on ``fan`` (``fan.depth`` windows ahead) and store them in window order."""
    stale = {window_scope(from_us(w0)) for w0 in todo}
    reviews = Reviews.read(store)
    queue: deque[tuple[int, WindowInputs, Pending]] = deque()
    ahead = iter(todo)
    for k in range(len(todo)):
        while len(queue) < fan.depth and (w := next(ahead, None)) is not None:
            inputs = read_inputs(store, sensors, w, params)
            queue.append((w, inputs, fan.submit(inputs)))
        w0, inputs, pending = queue.popleft()
        scope = window_scope(from_us(w0))
        attempts = 0

        def run(inputs: WindowInputs = inputs, pending: Pending = pending, w0: int = w0) -> tuple[int, int, int]:
            nonlocal attempts
            attempts += 1
            if attempts > 1:  # again, without the records just held: as process does, in-process
                return process_window(store, agreement, sensors, w0, params, s.run_id, reviews, frozenset(stale))
            fused = pending.result()
            return store_window(store, agreement, sensors, inputs, fused, params, s.run_id, reviews, frozenset(stale))

        counts = guard(store, scope, w0, run, lambda w0=w0: window_culprits(store, sensors, w0, params))  # type: ignore[misc]
        if attempts > 1:  # records were held: the windows read ahead may hold them, read them again
            for _ in range(len(queue)):
                w = queue.popleft()[0]
                inputs = read_inputs(store, sensors, w, params)
                queue.append((w, inputs, fan.submit(inputs)))
        if counts is None:
            s.windows_quarantined.append(scope)
        else:
            stale.discard(scope)
            s.windows_reprocessed.append(scope)
            s.events += counts[0]
            s.incidents += counts[1]
            s.violations += counts[2]
        if progress:
            progress("windows", (k + 1) / len(todo))
