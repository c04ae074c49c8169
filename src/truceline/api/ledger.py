"""The transparency log over HTTP (``/api/v1/ledger``): checkpoints, entries, proofs and the log's keys.

Everything here is for everybody, the public included (``auth.PERMISSIONS["ledger"]``): the log exists so
that the parties can check what the mission publishes. Its entries hold nothing a role may not see: file
hashes of the bulletins and analysts' decisions by public id (:mod:`truceline.service.ledger_decisions`).
The answers are what ``truceline ledger checkpoint|prove|keys`` print, so a party checks them with
``truceline verify`` or ``scripts/verify_bulletin.py`` offline. The keys served here are a convenience:
a party pins the mission's key from the agreement or another channel it trusts, never from the server
whose signatures it checks (docs/ledger.md, "Key management").
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from truceline.api.auth import allow
from truceline.api.context import CtxDep
from truceline.api.errors import BadRequest, NotFound
from truceline.ledger import Log, key_state
from truceline.ledger.note import unverified_checkpoint
from truceline.ledger.publish import consistency_doc, inclusion_doc
from truceline.service.keys import key_home_of_url
from truceline.service.tokens import Principal

__all__ = ["MAX_ENTRIES", "router"]

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
LedgerWho = Annotated[Principal, Depends(allow("ledger"))]
NOTE = "text/plain; charset=utf-8"
#: The most entries one request returns.
MAX_ENTRIES = 1000


def _log(ctx: Any) -> Log:
    home = key_home_of_url(ctx.store_url)
    if home is None or not Log.exists(home):
        raise NotFound("ledger: this store keeps no transparency log (truceline ledger keygen makes one)")
    return Log.open(home)


@router.get("", summary="The log: origin, size, latest checkpoint and where to get proofs")
def ledger_summary(ctx: CtxDep, who: LedgerWho) -> dict[str, Any]:
    log = _log(ctx)
    note = log.latest_checkpoint()
    size = unverified_checkpoint(note).size if note else 0
    return {
        "origin": log.origin,
        "size": size,
        "checkpoint": note,
        "links": {
            "checkpoint": "/api/v1/ledger/checkpoint",
            "keys": "/api/v1/ledger/keys",
            "entries": "/api/v1/ledger/entries?start=0",
            "inclusion": "/api/v1/ledger/proof/inclusion?index=N",
            "consistency": "/api/v1/ledger/proof/consistency?old=M&new=N",
        },
    }


@router.get(
    "/checkpoint",
    summary="A signed checkpoint (C2SP signed note, with any witnesses' cosignatures): the latest, or ?size=",
    response_class=PlainTextResponse,
)
def get_checkpoint(
    ctx: CtxDep, who: LedgerWho, size: Annotated[int | None, Query(ge=0, description="The log size.")] = None
) -> PlainTextResponse:
    log = _log(ctx)
    note = log.latest_checkpoint() if size is None else log.checkpoint_at(size)
    if note is None:
        raise NotFound("ledger: no checkpoint signed" + ("" if size is None else f" at size {size}"))
    return PlainTextResponse(note, media_type=NOTE)


@router.get("/keys", summary="The log's verifier keys: signing, retired, revoked", response_class=PlainTextResponse)
def get_keys(ctx: CtxDep, who: LedgerWho) -> PlainTextResponse:
    state = key_state(_log(ctx))
    lines = ["# the log's verifier keys; pin them from a channel you trust, not from this answer"]
    lines += [f"# signing\n{state.active.vkey}"] if state.active else []
    lines += [f"# retired\n{v.vkey}" for v in state.retired]
    lines += [f"# revoked (do not pin): {v.vkey}" for v in state.revoked]
    return PlainTextResponse("\n".join(lines) + "\n", media_type=NOTE)


@router.get("/entries", summary="Entries start.. (at most 1000): their exact bytes, the leaves' data")
def get_entries(
    ctx: CtxDep,
    who: LedgerWho,
    start: Annotated[int, Query(ge=0, description="The first entry's index.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES, description="How many at most.")] = 100,
) -> dict[str, Any]:
    log = _log(ctx)
    entries = [raw.decode("utf-8") for raw in itertools.islice(log.entries(), start, start + limit)]
    nxt = start + len(entries)
    return {"start": start, "size": log.size, "entries": entries, "next": nxt if nxt < log.size else None}


@router.get("/proof/inclusion", summary="An entry, the latest checkpoint and the entry's inclusion path")
def get_inclusion(
    ctx: CtxDep, who: LedgerWho, index: Annotated[int, Query(ge=0, description="The entry's index.")]
) -> dict[str, Any]:
    try:
        return inclusion_doc(_log(ctx), index)
    except IndexError as exc:
        raise NotFound(f"index: {exc}") from None


@router.get("/proof/consistency", summary="The proof that the log at size old is a prefix of the log at new")
def get_consistency(
    ctx: CtxDep,
    who: LedgerWho,
    old: Annotated[int, Query(ge=0, description="The older size.")],
    new: Annotated[int | None, Query(ge=0, description="The newer size (default: the log's).")] = None,
) -> dict[str, Any]:
    log = _log(ctx)
    try:
        return consistency_doc(log, old, log.size if new is None else new)
    except IndexError as exc:
        raise BadRequest(f"old, new: {exc}") from None
