"""Live operations over HTTP: ``GET /api/v1/stream`` pushes changes to the dashboard (Server-Sent Events),
``GET /api/v1/health`` says whether the service answers and, to the mission's roles, how far behind the
processing is.

The stream sends ``event: changes`` with ``{"seq": N}`` (the number ``GET /api/v1/changes`` gives) when
anything the API shows changed, a comment line every 15 s to keep proxies from closing it, and ends
after ``stream_max_s`` (:class:`~truceline.api.middleware.ServerSettings`); the browser's EventSource
reconnects by itself (``retry: 3000``), and each reconnection checks the caller's access again. What to
reload is the client's business, through the same redacted collections as ever: the stream carries no
record, so it needs no redaction of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from truceline.api.auth import StoreDep, allow
from truceline.api.context import CtxDep
from truceline.service.keys import key_home_of_url
from truceline.service.live import read_status
from truceline.service.process import processed_until
from truceline.service.queries import change_seq
from truceline.service.tokens import Principal
from truceline.store.registry import open_store

__all__ = ["HEARTBEAT_S", "router"]

router = APIRouter(prefix="/api/v1", tags=["dashboard"])
StreamWho = Annotated[Principal, Depends(allow("changes"))]
HealthWho = Annotated[Principal, Depends(allow("health"))]
#: Seconds between keep-alive comments on an idle stream.
HEARTBEAT_S = 15.0
_MISSION = ("admin", "analyst", "observer")


def _seq(url: str) -> int:
    store = open_store(url)
    try:
        return change_seq(store)
    finally:
        store.close()


def _shared_seq(ctx: Any) -> int:
    """The change counter, read from the store at most once per ``stream_poll_s`` for all open streams (each
    dashboard holds one: the store is not asked once per stream)."""
    bucket = int(time.monotonic() / ctx.settings.stream_poll_s)
    with ctx.lock:
        hit = ctx.cache.get(("stream-seq",))
    if hit is not None and hit[0] == bucket:
        return int(hit[1])
    seq = _seq(ctx.store_url)
    with ctx.lock:
        ctx.cache[("stream-seq",)] = (bucket, seq)
    return seq


@router.get(
    "/stream",
    summary="Server-Sent Events: `changes` with {seq} whenever what the API shows changes (reconnects itself)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(request: Request, ctx: CtxDep, who: StreamWho) -> StreamingResponse:
    settings = ctx.settings

    async def events() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        last: int | None = None
        t0 = beat = time.monotonic()
        while time.monotonic() - t0 < settings.stream_max_s:
            if await request.is_disconnected():
                return
            seq = await run_in_threadpool(_shared_seq, ctx)
            if seq != last:
                yield f"event: changes\nid: {seq}\ndata: {json.dumps({'seq': seq})}\n\n"
                last, beat = seq, time.monotonic()
            elif time.monotonic() - beat >= HEARTBEAT_S:
                yield ": keep-alive\n\n"
                beat = time.monotonic()
            await asyncio.sleep(settings.stream_poll_s)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/health", summary="The service answers; to the mission's roles, the processing lag and the live loop")
def health(store: StoreDep, ctx: CtxDep, who: HealthWho) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    out: dict[str, Any] = {"status": "ok", "time": now.isoformat(timespec="seconds").replace("+00:00", "Z")}
    if who.role not in _MISSION:  # the processing state is the mission's (as the metrics are)
        return out
    until = processed_until(store)
    live = read_status(key_home_of_url(ctx.store_url))
    out["processing"] = {
        "processed_until": None if until is None else until.isoformat().replace("+00:00", "Z"),
        "lag_s": None if until is None else round(max(0.0, (now - until).total_seconds()), 1),
        "live": live,
    }
    if live is not None and live.get("error"):
        out["status"] = "degraded"
    return out
