"""``truceline review``: analysts' decisions on findings, each audited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from truceline.cli.common import DEFAULT_DATA, EXIT_NOT_FOUND, DataDir, StoreUrl, app, fail, open_store, user_errors

review_app = typer.Typer(help="Analyst review: confirm, dismiss, mark inconclusive, annotate, merge, split.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(review_app, name="review")


Actor = Annotated[str, typer.Option(help="Who acts (analyst id).")]
Reason = Annotated[str, typer.Option(help="Why: the sources checked, the judgement.")]
Kind = Annotated[str, typer.Argument(help="violation, incident or event.")]
RecordIdArg = Annotated[str, typer.Argument(help="Record id.")]


def _review(action: str, data: Path, store_url: str | None, *args: object) -> None:
    from truceline.service import review

    store = open_store(data, store_url)
    try:
        with user_errors(1):
            entry = getattr(review, action)(store, *args)
    finally:
        store.close()
    if isinstance(entry, list):
        typer.echo("created " + ", ".join(i.id for i in entry))
    elif hasattr(entry, "action"):
        typer.echo(f"#{entry.seq} {entry.at:%Y-%m-%dT%H:%M:%SZ} {entry.actor} {entry.action} {entry.target_kind} "
                   f"{entry.target_id}: {entry.before} -> {entry.after}")  # fmt: skip
    else:
        typer.echo(f"created {entry.id}")


def _status_command(name: str, action: str, doc: str) -> None:
    """Register ``truceline review NAME KIND ID --actor --reason`` calling ``service.review.ACTION``."""

    def command(kind: Kind, record_id: RecordIdArg, actor: Actor, reason: Reason,
                data: DataDir = DEFAULT_DATA, store_url: StoreUrl = None) -> None:  # fmt: skip
        _review(action, data, store_url, kind, record_id, actor, reason)

    command.__doc__ = doc
    review_app.command(name)(command)


for _name, _action, _doc in (
    ("confirm", "confirm", "Confirm after review: status verified."),
    ("dismiss", "dismiss", "Dismiss after review: status refuted."),
    ("inconclusive", "mark_inconclusive", "Mark inconclusive after review."),
    ("request", "request_verification", "Request verification (e.g. a patrol to the site); the status is unchanged."),
):
    _status_command(_name, _action, _doc)


@review_app.command("annotate")
def review_annotate(
    kind: Kind,
    record_id: RecordIdArg,
    actor: Actor,
    text: Annotated[str, typer.Option(help="The note.")],
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
) -> None:
    """Add a note to a record (audit only)."""
    _review("annotate", data, store_url, kind, record_id, actor, text)


@review_app.command("merge")
def review_merge(ids: Annotated[list[str], typer.Argument(help="Incident ids to merge.")], actor: Actor,
                 reason: Reason, data: DataDir = DEFAULT_DATA, store_url: StoreUrl = None) -> None:  # fmt: skip
    """Merge incidents into a new one (the old ones are superseded, not deleted)."""
    _review("merge_incidents", data, store_url, ids, actor, reason)


@review_app.command("split")
def review_split(incident_id: RecordIdArg, actor: Actor, reason: Reason,
                 group: Annotated[list[str], typer.Option(help="Comma-separated event ids of one new incident.")],
                 data: DataDir = DEFAULT_DATA, store_url: StoreUrl = None) -> None:  # fmt: skip
    """Split an incident into new ones, one per --group (covering all its events)."""
    _review("split_incident", data, store_url, incident_id, [g.split(",") for g in group], actor, reason)


@review_app.command("history")
def review_history(record_id: RecordIdArg, data: DataDir = DEFAULT_DATA, store_url: StoreUrl = None) -> None:
    """The audit trail of a record: who, when, what, why, before and after."""
    from truceline.service.review import history

    store = open_store(data, store_url)
    try:
        entries = history(store, record_id)
        if not entries and all(store.get_derived(k, record_id) is None for k in ("violation", "incident", "event")):
            raise fail(f"{record_id}: not found (no violation, incident or event, and no audit entry)", EXIT_NOT_FOUND)
        for e in entries:
            typer.echo(f"#{e.seq} {e.at:%Y-%m-%dT%H:%M:%SZ} {e.actor} {e.action}: {e.reason} | {e.before} -> {e.after}")
    finally:
        store.close()
