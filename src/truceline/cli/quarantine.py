"""``truceline quarantine``: the records (and windows) processing held out, and an analyst's decision on each."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from truceline.cli.common import DEFAULT_DATA, DataDir, StoreUrl, app, fail, open_store, user_errors
from truceline.store.base import QuarantineEntry, Store, from_us

quarantine_app = typer.Typer(
    help="Records and windows held out of processing: list them, release (use again) or reject (keep out).",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

Actor = Annotated[str, typer.Option(help="Who decides (analyst id).")]
Reason = Annotated[str, typer.Option(help="Why: what was checked.")]


def _time(entry: QuarantineEntry) -> str:
    t = entry.time_us
    if t is None:
        return "-"
    try:
        return f"{from_us(t):%Y-%m-%dT%H:%M:%SZ}"
    except (OverflowError, ValueError):
        return f"{t}us"


def _line(e: QuarantineEntry) -> str:
    decided = f" | {e.state} by {e.decided_by}: {e.decision}" if e.decided_by else ""
    return f"{e.qid}\t{e.kind}\t{e.target_id}\t{_time(e)}\t{e.at:%Y-%m-%dT%H:%M:%SZ}\t{e.state}\t{e.reason}{decided}"


def _row(e: QuarantineEntry) -> dict[str, object]:
    return {
        "qid": e.qid, "kind": e.kind, "id": e.target_id, "time_us": e.time_us, "time": _time(e),
        "quarantined_at": e.at.isoformat(), "reason": e.reason, "state": e.state, "decided_by": e.decided_by,
        "decision": e.decision, "decided_at": None if e.decided_at is None else e.decided_at.isoformat(),
    }  # fmt: skip


@quarantine_app.command("list")
def quarantine_list(
    state: Annotated[str | None, typer.Option(help="Only this state: quarantined, released or rejected.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (`scope` for windows, or a record kind).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
) -> None:
    """Every entry: id, kind, record id (or window), its time, when held, state, reason (and the decision)."""
    from truceline.service.quarantine import entries

    store = open_store(data, store_url)
    try:
        with user_errors(2):
            rows = entries(store, state, kind)
    finally:
        store.close()
    if as_json:
        for e in rows:
            typer.echo(json.dumps(_row(e), ensure_ascii=False))
        return
    typer.echo("qid\tkind\tid\ttime\tquarantined_at\tstate\treason")
    for e in rows:
        typer.echo(_line(e))


Qids = Annotated[
    list[int] | None,
    typer.Argument(help="Quarantine entry ids (the first column of `quarantine list`).", show_default=False),
]
All = Annotated[bool, typer.Option("--all", help="Every entry still held (narrowed by --kind and --match).")]
Kind = Annotated[
    str | None, typer.Option(help="With --all: only entries of this kind (`scope` for windows, or a record kind).")
]
Match = Annotated[
    str | None, typer.Option(help="With --all: only entries whose reason holds this text (case-insensitive).")
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm a decision on several entries.")]


def _selected(store: Store, qids: list[int] | None, every: bool, kind: str | None, match: str | None) -> list[int]:
    """The entries a decision is about: the ids given, or with ``--all`` every held entry selected."""
    from truceline.service.quarantine import held_entries

    if qids and every:
        raise fail("give entry ids or --all, not both", 2)
    if not qids and not every:
        raise fail("give entry ids, or --all (with --kind / --match to narrow it)", 2)
    if (kind is not None or match is not None) and not every:
        raise fail("--kind and --match select with --all", 2)
    if qids:
        return list(dict.fromkeys(qids))
    with user_errors(2):
        return [e.qid for e in held_entries(store, kind, match)]


def _decide(decision: str, qids: list[int] | None, every: bool, kind: str | None, match: str | None, yes: bool,
            actor: str, reason: str, data: Path, store_url: str | None) -> None:  # fmt: skip
    from truceline.service.quarantine import decide_many

    store = open_store(data, store_url)
    try:
        chosen = _selected(store, qids, every, kind, match)
        if not chosen:
            typer.echo("no entry selected: nothing decided", err=True)
            return
        if len(chosen) > 1 and not yes:
            kinds = Counter(e.kind for q in chosen if (e := store.quarantine_entry(q)) is not None)
            what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            typer.confirm(f"{decision} {len(chosen)} entries ({what})?", abort=True, err=True)
        with user_errors(1):
            done = decide_many(store, chosen, decision, actor, reason)
    finally:
        store.close()
    for entry in done:
        typer.echo(_line(entry))
    typer.echo(f"{decision}d {len(done)} entr{'y' if len(done) == 1 else 'ies'} (each audited)", err=True)


@quarantine_app.command("release")
def quarantine_release(actor: Actor, reason: Reason, qids: Qids = None, every: All = False,
                       kind: Kind = None, match: Match = None, yes: Yes = False, data: DataDir = DEFAULT_DATA,
                       store_url: StoreUrl = None) -> None:  # fmt: skip
    """Release entries: the records (or windows) are used again by the next `truceline process` (audited,
    each). Several at once with ids, or `--all` (narrowed by `--kind`, `--match`): asks to confirm the
    count unless `--yes`; all are decided or none."""
    _decide("release", qids, every, kind, match, yes, actor, reason, data, store_url)


@quarantine_app.command("reject")
def quarantine_reject(actor: Actor, reason: Reason, qids: Qids = None, every: All = False,
                      kind: Kind = None, match: Match = None, yes: Yes = False, data: DataDir = DEFAULT_DATA,
                      store_url: StoreUrl = None) -> None:  # fmt: skip
    """Reject entries: kept out of processing for good (audited, each; the raw records stay stored).
    Selected as `release` selects them."""
    _decide("reject", qids, every, kind, match, yes, actor, reason, data, store_url)
