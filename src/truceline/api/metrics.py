"""``GET /api/v1/metrics``: the operations centre's Prometheus metrics (text format 0.0.4).

Readable by the roles that read the sensor network's health (the figures reveal it): the mission's
roles, never a liaison officer or the public. The figures are :mod:`truceline.service.metrics`'s: the
store's, and the MQTT listener's from its stats file in the store's data directory
(``DATA_DIR/mqtt-listener.json``, written by ``truceline listen``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from truceline.api.auth import StoreDep, allow
from truceline.api.context import CtxDep
from truceline.service.metrics import CONTENT_TYPE, STATS_FILE, metrics_text, read_listener_stats
from truceline.service.tokens import Principal
from truceline.store.registry import data_dir_of

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

# The metrics reveal the network's health and the processing lag: the mission's roles (auth.PERMISSIONS "metrics").
MetricsWho = Annotated[Principal, Depends(allow("metrics"))]


@router.get(
    "/metrics",
    tags=["network"],
    summary="Prometheus metrics: ingest, quarantine, processing lag, events per minute, sensors, the MQTT listener",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text exposition format 0.0.4."}},
)
def metrics(who: MetricsWho, store: StoreDep, ctx: CtxDep) -> Response:
    """The metrics as Prometheus text (see docs/api.md, "Metrics")."""
    folder = data_dir_of(ctx.store_url)
    listener = None if folder is None else read_listener_stats(folder / STATS_FILE)
    return Response(metrics_text(store, listener=listener, cache=ctx.cache), media_type=CONTENT_TYPE)
