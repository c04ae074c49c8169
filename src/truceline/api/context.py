"""What the API's routes share: the data directory, the agreement and its layers, the web folder."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from truceline.agreement import Agreement
from truceline.service.queries import AgreementLayers

__all__ = ["ApiContext", "CtxDep", "get_ctx"]


@dataclass
class ApiContext:
    """Settings and caches of one app (``app.state.ctx``).

    Attributes
    ----------
    data_dir : Path
        The store's data directory; bulletins are read from ``data_dir / "bulletins"``.
    agreement : Agreement
        The agreement served (layers, sectors).
    layers : AgreementLayers
        Its layers, built once.
    web_dir : Path
        The dashboard's static files (``index.html``, ``app.js``, ``style.css``).
    """

    data_dir: Path
    agreement: Agreement
    layers: AgreementLayers
    web_dir: Path
    cache: dict[Any, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def bulletins_dir(self) -> Path:
        return self.data_dir / "bulletins"


def get_ctx(request: Request) -> ApiContext:
    """The app's context."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[ApiContext, Depends(get_ctx)]
