"""What the API's routes share: the store's URL, the bulletins folder, the agreement and its layers, the web folder."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from truceline.agreement import Agreement
from truceline.api.middleware import ServerSettings
from truceline.service.queries import AgreementLayers

__all__ = ["ApiContext", "CtxDep", "get_ctx"]


@dataclass
class ApiContext:
    """Settings and caches of one app (``app.state.ctx``).

    Attributes
    ----------
    store_url : str
        The store's URL (:func:`truceline.store.open_store`), opened once per request.
    bulletins_dir : Path or None
        Where ``truceline report`` publishes the bulletins (``DATA_DIR/bulletins``); None when the
        store is not kept in a data directory and no folder was given (no bulletins are served).
    agreement : Agreement
        The agreement served (layers, sectors).
    layers : AgreementLayers
        Its layers, built once.
    web_dir : Path
        The dashboard's static files (``index.html``, ``app.js``, ``style.css``).
    settings : ServerSettings
        Body size limits and the session's life.
    """

    store_url: str
    bulletins_dir: Path | None
    agreement: Agreement
    layers: AgreementLayers
    web_dir: Path
    settings: ServerSettings = field(default_factory=ServerSettings)
    cache: dict[Any, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def get_ctx(request: Request) -> ApiContext:
    """The app's context."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[ApiContext, Depends(get_ctx)]
