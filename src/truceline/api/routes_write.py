"""Write endpoints of the JSON API (``/api/v1``): review actions, ingest, tokens.

Every write needs a valid token (401 without one) of a role that may (403 otherwise); the actor
of a review action is the token's name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from truceline.api.auth import StoreDep, allow
from truceline.api.errors import NotFound, Unprocessable
from truceline.api.models import MergeBody, ReviewBody, SplitBody, TokenBody
from truceline.core import to_json_dict
from truceline.service import queries, review, tokens
from truceline.service.queries.ingest import DEFAULT_FORMAT, body_formats
from truceline.service.tokens import Principal
from truceline.store.base import ApiToken

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

ReviewWho = Annotated[Principal, Depends(allow("review"))]
IngestWho = Annotated[Principal, Depends(allow("ingest"))]
TokensWho = Annotated[Principal, Depends(allow("tokens"))]

#: URL action -> review function.
_ACTIONS = {
    "confirm": review.confirm,
    "dismiss": review.dismiss,
    "inconclusive": review.mark_inconclusive,
    "request": review.request_verification,
}


# -- review ----------------------------------------------------------------------------------------
@router.post("/review/merge", tags=["review"], summary="Merge incidents into a new one; returns {created: [...]}")
def merge(body: MergeBody, store: StoreDep, who: ReviewWho) -> dict[str, Any]:
    inc = review.merge_incidents(store, body.ids, who.name, body.reason)
    return {"created": [to_json_dict(inc)]}


@router.post("/review/split", tags=["review"], summary="Split an incident, one new incident per group")
def split(body: SplitBody, store: StoreDep, who: ReviewWho) -> dict[str, Any]:
    made = review.split_incident(store, body.id, body.groups, who.name, body.reason)
    return {"created": [to_json_dict(i) for i in made]}


@router.post("/review/{kind}/{record_id}/{action}", tags=["review"],
             summary="confirm, dismiss, inconclusive, request or annotate a violation, incident or event; returns "
                     "the audit entry")  # fmt: skip
def act(kind: str, record_id: str, action: str, store: StoreDep, who: ReviewWho,
        body: Annotated[ReviewBody, Body()]) -> dict[str, Any]:  # fmt: skip
    if action == "annotate":
        text = body.text or body.reason
        if not text:
            raise Unprocessable("text: the note is required")
        entry = review.annotate(store, kind, record_id, who.name, text)
    elif action in _ACTIONS:
        if not body.reason:
            raise Unprocessable("reason: required")
        entry = _ACTIONS[action](store, kind, record_id, who.name, body.reason)
    else:
        raise NotFound(f"action {action!r}: not one of {', '.join([*_ACTIONS, 'annotate'])}")
    return queries.audit_json(entry)


# -- ingest ----------------------------------------------------------------------------------------
def _body_schema(fmt_name: str) -> dict[str, Any]:
    if fmt_name == DEFAULT_FORMAT:  # a JSON array of records
        return {"type": "array", "items": {"type": "object"}}
    return {"type": "string"}


_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "Records of the kind in the path: a JSON array (or {\"records\": [...]}), NDJSON "
        "(Content-Type: application/x-ndjson), or for detections CSV (text/csv).",
        # The media types the registry of formats reads observations from, the default first.
        "content": {f.media_types[0]: {"schema": _body_schema(f.name)} for f in body_formats()},
    }
}


@router.post("/ingest/{kind}", tags=["ingest"], openapi_extra=_INGEST_BODY,
             summary="Submit observations of one kind; 200 when all good, 422 when any was rejected (the good "
                     "ones are kept)")  # fmt: skip
async def ingest(kind: str, request: Request, store: StoreDep, who: IngestWho) -> JSONResponse:
    body = await request.body()
    # The mission's bounds of untrusted input: the app's (app.state.input_limits) if it sets them,
    # else the defaults, which `truceline ingest` applies too.
    limits = getattr(request.app.state, "input_limits", None)
    outcome = await run_in_threadpool(
        queries.ingest_body, store, kind, body, request.headers.get("content-type"), f"api:{who.name}", limits
    )
    return JSONResponse(outcome.to_dict(), status_code=200 if outcome.ok else 422)


# -- tokens ----------------------------------------------------------------------------------------
def _token_json(t: ApiToken) -> dict[str, Any]:
    return {
        "token_id": t.token_id,
        "name": t.name,
        "role": t.role,
        "party": t.party,
        "created_at": t.created_at.isoformat(),
        "revoked_at": None if t.revoked_at is None else t.revoked_at.isoformat(),
    }


@router.get("/tokens", tags=["auth"], summary="Every token (never the tokens themselves)")
def list_tokens(store: StoreDep, who: TokensWho) -> list[dict[str, Any]]:
    return [_token_json(t) for t in tokens.list_tokens(store)]


@router.post("/tokens", tags=["auth"], status_code=201, summary="Make a token; it is shown once, in `token`")
def create_token(body: TokenBody, store: StoreDep, who: TokensWho) -> dict[str, Any]:
    token, record = tokens.create_token(store, body.role, body.name, body.party)
    return {"token": token, **_token_json(record)}


@router.delete("/tokens/{token_id}", tags=["auth"], summary="Revoke a token (kept, never deleted)")
def revoke_token(token_id: str, store: StoreDep, who: TokensWho) -> dict[str, Any]:
    return _token_json(tokens.revoke_token(store, token_id))
