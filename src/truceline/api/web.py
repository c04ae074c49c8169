"""The dashboard: ``/`` serves ``truceline/web/index.html``, ``/static/`` the rest of ``truceline/web``,
``/static/leaflet/`` Leaflet from the ``xstatic-leaflet`` package (no tile server, nothing fetched
from outside)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from truceline.api.context import CtxDep

__all__ = ["WEB_DIR", "mount_static", "router"]

#: The dashboard's static files (written by the dashboard; may be absent).
WEB_DIR = Path(__file__).resolve().parents[1] / "web"

router = APIRouter(include_in_schema=False)

_FALLBACK = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>truceline</title></head>
<body><h1>truceline</h1><p>The dashboard is not installed. The API: <a href="/docs">/docs</a>,
OGC API Features: <a href="/ogc">/ogc</a>.</p></body></html>"""


@router.get("/")
def index(ctx: CtxDep) -> Response:
    page = ctx.web_dir / "index.html"
    if page.is_file():
        return FileResponse(page, media_type="text/html; charset=utf-8")
    return HTMLResponse(_FALLBACK)


def mount_static(app: FastAPI, web_dir: Path) -> None:
    """Mount Leaflet at ``/static/leaflet`` (first, so it wins) and ``web_dir``, where it exists, at ``/static``."""
    import xstatic.pkg.leaflet as leaflet

    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    if web_dir.is_dir():
        app.mount("/static", StaticFiles(directory=web_dir), name="static")
