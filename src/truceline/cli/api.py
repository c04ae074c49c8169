"""The ``truceline`` commands of the HTTP API: ``serve`` and ``token create|list|revoke``."""

from __future__ import annotations

import json
import socket
from typing import Annotated

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
    EXIT_INVALID,
    EXIT_USAGE,
    DataDir,
    StoreUrl,
    agreement_path,
    app,
    fail,
    open_store,
    store_location,
    user_errors,
)

token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command()
def serve(
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    live: Annotated[
        bool, typer.Option("--live", help="Also fuse and adjudicate continuously as observations arrive.")
    ] = False,
    interval: Annotated[float, typer.Option(help="With --live: seconds between processing runs.", min=0.1)] = 10.0,
) -> None:
    """Serve the HTTP API (docs at /docs), OGC API Features (/ogc) and the dashboard (/); with --live, process
    new observations continuously too (the dashboard is pushed the changes; /api/v1/health gives the lag)."""
    import uvicorn

    from truceline.agreement import AgreementError
    from truceline.api import create_app

    _, location = store_location(data, store_url)
    open_store(data, store_url).close()  # a missing store is exit 2 here, not an empty store served
    path = agreement_path(agreement)
    try:
        application = create_app(location, path)
    except AgreementError as exc:
        raise fail(f"--agreement: {exc}", EXIT_INVALID) from None
    except (ValueError, RuntimeError, OSError) as exc:
        raise fail(f"serve: {exc}", EXIT_USAGE) from None
    sock = _listening_socket(host, port)  # before the banner: a busy port is said at once, with exit 2
    typer.echo(f"truceline API on http://{host}:{port}/ (docs /docs, OGC /ogc), store {location}", err=True)
    loop = None
    if live:
        from truceline.service.live import LiveProcessor

        loop = LiveProcessor(location, application.state.ctx.agreement, interval).start()
        typer.echo(f"live processing every {interval:g} s (status: GET /api/v1/health)", err=True)
    try:
        # open event streams (the dashboard's) are cut 5 s into a shutdown rather than waited for
        uvicorn.Server(uvicorn.Config(application, log_level="info", timeout_graceful_shutdown=5)).run(sockets=[sock])
    finally:
        if loop is not None:
            loop.stop()


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for the server; exit 2 naming the address when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise fail(f"--host {host}: {exc.strerror}", 2) from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise fail(
            f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); is another server running?", 2
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, analyst, observer or liaison.")],
    name: Annotated[str, typer.Option(help="Who holds it (the actor of its review actions).")],
    party: Annotated[str | None, typer.Option(help="The party of a liaison token: UA or RU.")] = None,
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the token and its record as JSON.")] = False,
) -> None:
    """Make a token and print it once (the store keeps only its SHA-256 hash)."""
    from truceline.service.tokens import create_token

    store = open_store(data, store_url, create=True)
    try:
        with user_errors(2):
            token, rec = create_token(store, role, name, party)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps({"token": token, "token_id": rec.token_id, "name": rec.name, "role": rec.role,
                               "party": rec.party}))  # fmt: skip
    else:
        typer.echo(token)
        typer.echo(f"{rec.token_id}: {rec.role} {rec.name}" + (f" ({rec.party})" if rec.party else "")
                   + " - keep the token now, it is not shown again", err=True)  # fmt: skip


@token_app.command("list")
def token_list(data: DataDir = DEFAULT_DATA, store_url: StoreUrl = None) -> None:
    """List the tokens (ids, names, roles; never the tokens)."""
    from truceline.service.tokens import list_tokens

    store = open_store(data, store_url)
    try:
        for t in list_tokens(store):
            state = f"revoked {t.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if t.revoked_at else "active"
            created = f"{t.created_at:%Y-%m-%dT%H:%M:%SZ}"
            typer.echo(f"{t.token_id}  {t.role:<8} {t.party or '-':<3} {t.name}  created {created}  {state}")
    finally:
        store.close()


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok-...), from `truceline token list`.")],
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
) -> None:
    """Revoke a token (it is kept, marked revoked, and authenticates nobody)."""
    from truceline.service.tokens import revoke_token

    store = open_store(data, store_url)
    try:
        with user_errors(1):
            rec = revoke_token(store, token_id)
    finally:
        store.close()
    typer.echo(f"revoked {rec.token_id} ({rec.role} {rec.name})")
