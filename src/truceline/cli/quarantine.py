"""``truceline quarantine``: the records (and windows) processing held out, and an analyst's decision on each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from truceline.cli.common import DEFAULT_DATA, DataDir, StoreUrl, app, open_store, user_errors
from truceline.store.base import QuarantineEntry, from_us

quarantine_app = typer.Typer(
    help="Records and windows held out of processing: list them, release (use again) or reject (keep out).",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

Actor = Annotated[str, typer.Option(help="Who decides (analyst id).")]
Reason = Annotated[str, typer.Option(help="Why: what was checked.")]
Qid = Annotated[int, typer.Argument(help="Quarantine entry id (the first column of `quarantine list`).")]


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
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
) -> None:
    """Every entry: id, kind, record id (or window), its time, when held, state, reason (and the decision)."""
    from truceline.service.quarantine import entries

    store = open_store(data, store_url)
    try:
        with user_errors(2):
            rows = entries(store, state)
    finally:
        store.close()
    if as_json:
        for e in rows:
            typer.echo(json.dumps(_row(e), ensure_ascii=False))
        return
    typer.echo("qid\tkind\tid\ttime\tquarantined_at\tstate\treason")
    for e in rows:
        typer.echo(_line(e))


def _decide(action: str, qid: int, actor: str, reason: str, data: Path, store_url: str | None) -> None:
    from truceline.service import quarantine

    store = open_store(data, store_url)
    try:
        with user_errors(1):
            entry = getattr(quarantine, action)(store, qid, actor, reason)
    finally:
        store.close()
    typer.echo(_line(entry))


@quarantine_app.command("release")
def quarantine_release(qid: Qid, actor: Actor, reason: Reason, data: DataDir = DEFAULT_DATA,
                       store_url: StoreUrl = None) -> None:  # fmt: skip
    """Release an entry: the record (or window) is used again by the next `truceline process` (audited)."""
    _decide("release", qid, actor, reason, data, store_url)


@quarantine_app.command("reject")
def quarantine_reject(qid: Qid, actor: Actor, reason: Reason, data: DataDir = DEFAULT_DATA,
                      store_url: StoreUrl = None) -> None:  # fmt: skip
    """Reject an entry: kept out of processing for good (audited; the raw record stays stored)."""
    _decide("reject", qid, actor, reason, data, store_url)
