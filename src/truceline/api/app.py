"""The FastAPI application: ``create_app(store, agreement)``; ``truceline serve`` runs it with uvicorn.

- ``/api/v1``: the JSON API (docs/api.md): layers, rule families, findings, claims, sensors, coverage, aggregates,
  audit, review actions, ingest, tokens, bulletins;
- ``/ogc``: OGC API - Features (QGIS, GDAL);
- ``/docs``, ``/openapi.json``: the API's documentation;
- ``/``, ``/static``: the dashboard (signed in by ``POST /api/v1/session``, a cookie; never a token in a URL).

Every request passes the guards of :mod:`truceline.api.middleware` first: body size limits (413
before a body is read), the security headers, ``?token=`` refused.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from truceline import __version__
from truceline.agreement import EXAMPLES, Agreement, example_path, load_agreement
from truceline.api import bulletins, ledger, live, metrics, ogc, routes_data, routes_rules, routes_write, session, web
from truceline.api.context import ApiContext
from truceline.api.errors import install_handlers
from truceline.api.middleware import BodyLimit, SecurityHeaders, ServerSettings
from truceline.service.queries import AgreementLayers
from truceline.store.registry import data_dir_of, open_store

__all__ = ["create_app"]

_DESCRIPTION = """The HTTP API of truceline, a ceasefire monitoring mission's information system.

Authenticate with `Authorization: Bearer <token>` (`truceline token create`; never `?token=`, which is
refused), or, from the dashboard, with the session cookie of `POST /api/v1/session`. Roles: **admin**
(everything), **analyst** (read; review actions), **observer** (read; ingest), **liaison** (the
findings that concern its party; no sensors), and the **public** without a token (violations
rounded to 0.01 degree, agreement layers, bulletins). Writes without a valid token get 401, with a
role that may not 403. Errors are JSON `{"detail": ...}`.
"""


def _agreement(agreement: Agreement | str | Path) -> Agreement:
    if isinstance(agreement, Agreement):
        return agreement
    path = Path(agreement)
    if not path.exists() and str(agreement) in EXAMPLES:
        path = example_path(str(agreement))
    return load_agreement(path)


def create_app(
    store: str | Path,
    agreement: Agreement | str | Path = "default",
    web_dir: Path | None = None,
    bulletins_dir: Path | None = None,
    settings: ServerSettings | None = None,
) -> FastAPI:
    """Build the app over a store.

    Parameters
    ----------
    store : str or Path
        The store's URL (``sqlite:///srv/truceline``), or its SQLite data directory (created, and its
        schema brought up to date, if needed); see :mod:`truceline.store.registry`.
    agreement : Agreement, str or Path
        The agreement, a directory holding one, or a shipped example's name (``default``).
    web_dir : Path, optional
        The dashboard's folder (default: ``truceline/web`` in the package).
    bulletins_dir : Path, optional
        The published bulletins (default: ``bulletins`` in the store's data directory).
    settings : ServerSettings, optional
        Body size limits and the session's life (default: :meth:`ServerSettings.from_env`).

    Returns
    -------
    FastAPI

    Raises
    ------
    InvalidInput, RuntimeError
        For an unknown store URL scheme, a data directory that is a file, or a store newer than this
        truceline.
    ValueError
        (``InvalidInput`` is one) For a ``TRUCELINE_MAX_*`` setting that is not a positive integer.
    AgreementError
        For an invalid agreement.
    """
    url = str(store)
    open_store(url).close()  # creates the store, runs the migrations once, refuses a bad location
    if bulletins_dir is None:
        data = data_dir_of(url)
        bulletins_dir = None if data is None else data / "bulletins"
    agr = _agreement(agreement)
    app = FastAPI(
        title="truceline API",
        version=__version__,
        description=_DESCRIPTION,
        openapi_tags=[
            {"name": "findings", "description": "Incidents, violations, events, claims and verdicts, aggregates."},
            {"name": "network", "description": "Sensors, their health, coverage (mission only)."},
            {"name": "agreement", "description": "The agreement's layers."},
            {"name": "review", "description": "Analyst actions, audited."},
            {"name": "ingest", "description": "Observations in, with the CLI's validation."},
            {"name": "bulletins", "description": "Published daily bulletins."},
            {"name": "ledger", "description": "The transparency log: checkpoints, entries, proofs, keys."},
            {"name": "auth", "description": "Tokens and the caller."},
            {"name": "OGC API Features", "description": "For QGIS and GDAL."},
        ],
    )
    settings = settings or ServerSettings.from_env()
    app.state.ctx = ApiContext(url, bulletins_dir, agr, AgreementLayers(agr), web_dir or web.WEB_DIR, settings)
    install_handlers(app)
    app.add_middleware(BodyLimit, settings=settings)  # outside the error handlers: its 413 replaces their answer
    app.add_middleware(SecurityHeaders)  # outermost: on every response, the 413s and 500s included
    for module in (routes_data, routes_rules, routes_write, session, bulletins, ledger, live, metrics, ogc, web):
        app.include_router(module.router)
    web.mount_static(app, app.state.ctx.web_dir)
    return app
