"""``truceline tak``: incidents and findings as Cursor on Target events, pushed to a TAK server or client.

What a role receives is what the API gives it (:func:`truceline.service.tak.role_messages`, through the
one redaction policy); docs/tak.md maps each field and says how to point ATAK, WinTAK or TAK Server at it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
    TIME_FORM,
    DataDir,
    StoreUrl,
    app,
    fail,
    load_agreement_option,
    open_store,
    parse_time,
    user_errors,
)

if TYPE_CHECKING:
    from truceline.service.cot import CotSettings

tak_app = typer.Typer(help="Cursor on Target: push incidents and findings to TAK (TCP, TLS, UDP).",
                      no_args_is_help=True)  # fmt: skip
app.add_typer(tak_app, name="tak")


def _settings(role: str, party: str | None, identity: str, stale_hours: float, releasable_to: str | None,
              group: str | None) -> CotSettings:  # fmt: skip
    from truceline.service.cot import CotSettings

    audience = f"liaison-{party}" if role == "liaison" else role
    marks = tuple(p.strip() for p in (releasable_to or "").split(",") if p.strip())
    try:
        return CotSettings(identity=identity, stale=dt.timedelta(hours=stale_hours), audience=audience,
                           releasable_to=marks, group=group)  # fmt: skip
    except (ValueError, OverflowError) as exc:
        raise fail(f"tak push: {exc}", 2) from None


@tak_app.command()
def push(
    role: Annotated[str, typer.Option(help="Whose view: public, liaison (with --party), observer, analyst, admin.")],
    to: Annotated[str | None, typer.Option(help="tcp://host:port, tls://host:port or udp://host:port.")] = None,
    party: Annotated[str | None, typer.Option(help="The party of a liaison view: UA or RU.")] = None,
    since: Annotated[str | None, typer.Option(help=f"Records from this time ({TIME_FORM}).")] = None,
    until: Annotated[str | None, typer.Option(help=f"Records before this time ({TIME_FORM}).")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="violation and/or incident (default both).")] = None,
    identity: Annotated[str, typer.Option(help="CoT identity: unknown (a-u-G) or neutral (a-n-G).")] = "unknown",
    stale_hours: Annotated[float, typer.Option("--stale-hours", help="An event is stale this long after it.")] = 6.0,
    releasable_to: Annotated[
        str | None, typer.Option(help="Contingents the stream is releasable to, comma-separated (e.g. UK,FR).")
    ] = None,
    group: Annotated[str | None, typer.Option(help="TAK team of the events (<__group name=...>).")] = None,
    cert: Annotated[Path | None, typer.Option(help="TLS client certificate (PEM).")] = None,
    key: Annotated[Path | None, typer.Option(help="Its private key (PEM).")] = None,
    ca: Annotated[Path | None, typer.Option(help="CA certificate(s) the server's must chain to (PEM).")] = None,
    check_hostname: Annotated[
        bool, typer.Option(help="TLS: the server's certificate must name the host (the chain is always checked).")
    ] = True,
    agreement: Annotated[
        str, typer.Option(help="Agreement directory or example name (a liaison's exact points).")
    ] = "default",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the XML instead of sending it.")] = False,
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Send one CoT event per record the role may see (violations, incidents) to --to, or print them.

    Exits 2 for bad options or a missing store, 1 for an invalid agreement or naming the target when sending
    fails after one reconnect.
    """
    from truceline.service import queries
    from truceline.service.tak import TakError, TlsFiles, parse_target, role_messages, send

    if to is None and not dry_run:
        raise fail("tak push: give --to URL, or --dry-run to print the events", 2)
    with user_errors(2):
        target = None if to is None else parse_target(to)
    try:
        view = queries.View.for_role(role, party)
    except ValueError as exc:
        raise fail(f"--role/--party: {exc}", 2) from None
    settings = _settings(role, party, identity, stale_hours, releasable_to, group)
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    ag = load_agreement_option(agreement)
    st = open_store(data, store)
    try:
        with user_errors(2):
            per_kind = role_messages(st, view, ag, start, end, tuple(kind or ("violation", "incident")), settings)
    finally:
        st.close()
    messages = [m for kind_messages in per_kind.values() for m in kind_messages]
    counts = ", ".join(f"{len(v)} {k}(s)" for k, v in per_kind.items())
    if dry_run or target is None:
        for m in messages:
            typer.echo(m.decode("utf-8"), nl=False)
        typer.echo(f"tak push: {counts} for {settings.audience} (dry run, nothing sent)", err=True)
        return
    try:
        with user_errors(2):
            sent = send(messages, target, TlsFiles(cert, key, ca, check_hostname))
    except TakError as exc:
        raise fail(f"tak push: failed: {exc}", 1) from None
    typer.echo(f"tak push: {sent} event(s) ({counts}) for {settings.audience} sent to {target}", err=True)
