"""Read endpoints of the JSON API (``/api/v1``): layers, findings, claims, sensors, coverage, aggregates.

Thin: each route checks the role (:func:`truceline.api.auth.allow`), parses its parameters and
calls :mod:`truceline.service.queries`, which filters, pages and redacts for the caller's view.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from truceline.api.auth import StoreDep, allow, view_of
from truceline.api.context import CtxDep
from truceline.api.errors import NotFound
from truceline.api.responses import GeoJSONResponse, collection_body, page_links
from truceline.service import queries
from truceline.service.queries import Filters, parse_filters, parse_time
from truceline.service.tokens import Principal

__all__ = ["CollectionQuery", "router"]

router = APIRouter(prefix="/api/v1")


class CollectionQuery:
    """The common filters of the collection endpoints (see ``docs/api.md``)."""

    def __init__(
        self,
        start: Annotated[str | None, Query(description="From this ISO time with zone (inclusive).")] = None,
        end: Annotated[str | None, Query(description="Before this ISO time with zone.")] = None,
        bbox: Annotated[str | None, Query(description="lon0,lat0,lon1,lat1 (degrees, WGS84).")] = None,
        status: Annotated[str | None, Query(description="Current status(es), comma-separated.")] = None,
        party: Annotated[str | None, Query(description="UA, RU or unattributed (comma-separated).")] = None,
        kind: Annotated[str | None, Query(description="Rule family (violations), weapon class (incidents), "
                                                       "event kind (events), violation kind (claims).")] = None,
        sector: Annotated[str | None, Query(description="Sector id(s) of the agreement.")] = None,
        limit: Annotated[int, Query(ge=1, description="Page size (at most 10000).")] = queries.DEFAULT_LIMIT,
        offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
    ) -> None:  # fmt: skip
        self.text = {"start": start, "end": end, "bbox": bbox, "status": status, "party": party, "kind": kind,
                     "sector": sector}  # fmt: skip
        self.limit, self.offset = limit, offset

    def filters(self) -> Filters:
        """The parsed filters (``QueryError`` -> 400)."""
        return parse_filters(**self.text, limit=self.limit, offset=self.offset)


Q = Annotated[CollectionQuery, Depends()]
At = Annotated[str | None, Query(description="ISO time with zone (default: the newest data in the store).")]


# The caller, once its role is checked for the action (one alias per action, for the type checker).
LayersWho = Annotated[Principal, Depends(allow("layers"))]
IncidentsWho = Annotated[Principal, Depends(allow("incidents"))]
ViolationsWho = Annotated[Principal, Depends(allow("violations"))]
EventsWho = Annotated[Principal, Depends(allow("events"))]
ClaimsWho = Annotated[Principal, Depends(allow("claims"))]
AggregatesWho = Annotated[Principal, Depends(allow("aggregates"))]
SensorsWho = Annotated[Principal, Depends(allow("sensors"))]
CoverageWho = Annotated[Principal, Depends(allow("coverage"))]
AuditWho = Annotated[Principal, Depends(allow("audit"))]
ChangesWho = Annotated[Principal, Depends(allow("changes"))]
WhoamiWho = Annotated[Principal, Depends(allow("whoami"))]


# -- agreement --------------------------------------------------------------------------------------
@router.get("/agreement", tags=["agreement"], summary="The agreement served: parties, line versions, sectors, sites")
def agreement(ctx: CtxDep, who: LayersWho) -> dict[str, Any]:
    a = ctx.agreement
    return {
        "id": a.id,
        "title": a.title,
        "version": a.version,
        "effective_from": a.effective_from.isoformat(),
        "parties": a.parties,
        "buffer_zone_km": a.buffer_zone_km,
        "withdrawal_km": a.withdrawal_km,
        "versions": [{"id": v.id, "valid_from": v.valid_from.isoformat(),
                      "valid_to": None if v.valid_to is None else v.valid_to.isoformat()} for v in a.versions],
        "sectors": [{"id": s.id, "name": s.name, "contingent": s.contingent} for s in a.sectors],
        "bbox": list(ctx.layers.extent),
        "layers": list(queries.LAYERS),
    }  # fmt: skip


@router.get("/layers", tags=["agreement"], summary="Names of the agreement layers")
def layers(who: LayersWho) -> list[str]:
    return list(queries.LAYERS)


@router.get("/layers/{name}", tags=["agreement"], response_class=GeoJSONResponse,
            summary="An agreement layer as GeoJSON (line, areas and buffer: the version in force at ?at=)")  # fmt: skip
def layer(name: str, ctx: CtxDep, who: LayersWho, at: At = None) -> dict[str, Any]:
    return ctx.layers.geojson(name, parse_time(at, "at"))


# -- findings -------------------------------------------------------------------------------------
@router.get("/incidents", tags=["findings"], response_class=GeoJSONResponse,
            summary="Incidents (liaison: those attributed to its party)")  # fmt: skip
def incidents(request: Request, q: Q, store: StoreDep, ctx: CtxDep, who: IncidentsWho) -> Any:
    return collection_body(request, queries.incidents(store, q.filters(), view_of(who), ctx.agreement))


@router.get("/incidents/{incident_id}", tags=["findings"],
            summary="An incident with its events, its violations and (analyst, admin) its audit trail")  # fmt: skip
def incident(incident_id: str, store: StoreDep, ctx: CtxDep, who: IncidentsWho) -> dict[str, Any]:
    found = queries.incident_detail(store, incident_id, view_of(who), who.role in ("admin", "analyst"), ctx.agreement)
    if found is None:
        raise NotFound(f"incident {incident_id!r}: not found")
    return found


@router.get("/violations", tags=["findings"], response_class=GeoJSONResponse,
            summary="Violations (public: positions rounded to 0.01 degree, no evidence ids)")  # fmt: skip
def violations(request: Request, q: Q, store: StoreDep, ctx: CtxDep, who: ViolationsWho) -> Any:
    return collection_body(request, queries.violations(store, q.filters(), view_of(who), ctx.agreement))


@router.get("/events", tags=["findings"], response_class=GeoJSONResponse, summary="Located events")
def events(request: Request, q: Q, store: StoreDep, ctx: CtxDep, who: EventsWho) -> Any:
    return collection_body(request, queries.events(store, q.filters(), view_of(who), ctx.agreement))


@router.get("/claims", tags=["findings"],
            summary="Claims with their verdicts: a list of {claim, verdict}; paging in the Link and X-Total-Count "
                    "headers")  # fmt: skip
def claims(request: Request, response: Response, q: Q, store: StoreDep, ctx: CtxDep,
           who: ClaimsWho) -> list[dict[str, Any]]:  # fmt: skip
    page = queries.claims(store, q.filters(), view_of(who), ctx.agreement)
    links = [lk for lk in page_links(request, page, "application/json") if lk["rel"] != "self"]
    if links:
        response.headers["Link"] = ", ".join(f'<{lk["href"]}>; rel="{lk["rel"]}"' for lk in links)
    response.headers["X-Total-Count"] = str(page.number_matched)
    return page.items


@router.get("/aggregates", tags=["findings"], summary="Counts of violations per day, sector, oblast, family, party...")
def aggregates(
    q: Q,
    store: StoreDep,
    ctx: CtxDep,
    who: AggregatesWho,
    by: Annotated[str, Query(description="Comma-separated keys: day,sector,oblast,family,rule,kind,weapon,party,"
                                         "level,status.")] = "day,sector,family,party",
    cutoff: Annotated[str, Query(description="Daily cut-off HH:MM, local time.")] = "19:30",
    tz: Annotated[str, Query(description="Time zone of the cut-off.")] = "Europe/Kyiv",
) -> dict[str, Any]:  # fmt: skip
    keys = [k.strip() for k in by.split(",") if k.strip()]
    return queries.aggregates(store, q.filters(), view_of(who), ctx.agreement, keys, cutoff, tz)


# -- monitoring network ---------------------------------------------------------------------------
@router.get("/sensors", tags=["network"], response_class=GeoJSONResponse,
            summary="Sensors with their health at ?at= (status: health; kind: sensor kind)")  # fmt: skip
def sensors(request: Request, q: Q, store: StoreDep, ctx: CtxDep, who: SensorsWho, at: At = None) -> Any:
    page = queries.sensors(store, q.filters(), view_of(who), parse_time(at, "at"), ctx.agreement)
    return collection_body(request, page)


@router.get("/coverage", tags=["network"], response_class=GeoJSONResponse,
            summary="Coverage grid: P(at least 6 sensors hear a weapon class), cells as GeoJSON")  # fmt: skip
def coverage(
    store: StoreDep,
    who: CoverageWho,
    at: At = None,
    weapon_class: Annotated[str, Query(description="Codebook weapon class.")] = "artillery_ge_100mm",
    kind: Annotated[str, Query(description="impact or launch.")] = "impact",
    cell_km: Annotated[float, Query(ge=1.0, le=100.0, description="Cell size, km.")] = 5.0,
    bbox: Annotated[str | None, Query(description="lon0,lat0,lon1,lat1 (default: the network's extent).")] = None,
    min_probability: Annotated[float, Query(ge=0.0, le=1.0, description="Cells below are left out.")] = 0.01,
) -> dict[str, Any]:
    box = parse_filters(bbox=bbox).bbox
    return queries.coverage(store, parse_time(at, "at"), weapon_class, kind, cell_km, box, min_probability,
                            view_of(who))


# -- audit, changes, caller ------------------------------------------------------------------------
@router.get("/audit/{record_id}", tags=["review"], summary="The audit trail of a record, oldest first")
def audit(record_id: str, store: StoreDep, who: AuditWho) -> list[dict[str, Any]]:
    return queries.audit_entries(store, record_id)


@router.get("/changes", tags=["dashboard"], summary="A change counter for live refresh: {seq, changed, incidents, "
                                                   "violations}")  # fmt: skip
def changes(
    store: StoreDep,
    ctx: CtxDep,
    who: ChangesWho,
    since: Annotated[int | None, Query(ge=0, description="The seq of the last call.")] = None,
) -> dict[str, Any]:
    seq = queries.change_seq(store)
    view = view_of(who)
    key = ("changes", seq, view)
    with ctx.lock:
        counts = ctx.cache.get(key)
    if counts is None:
        f = Filters(limit=1)
        counts = {
            "incidents": None if view.public else queries.incidents(store, f, view, ctx.agreement).number_matched,
            "violations": queries.violations(store, f, view, ctx.agreement).number_matched,
        }
        with ctx.lock:
            ctx.cache = {k: v for k, v in ctx.cache.items() if not (k[0] == "changes" and k[1] != seq)}
            ctx.cache[key] = counts
    return {"seq": seq, "changed": since is None or seq != since, **counts}


@router.get("/whoami", tags=["auth"], summary="The caller's role, name and (liaison) party")
def whoami(who: WhoamiWho) -> dict[str, Any]:
    return {"role": who.role, "name": who.name, "party": who.party, "token_id": who.token_id}
