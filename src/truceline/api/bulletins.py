"""Published daily bulletins (``/api/v1/bulletins``): whatever ``truceline report`` wrote.

``truceline report --date D`` writes the mission-internal edition to ``DATA_DIR/bulletins/D/`` and
``--public`` the public edition (what the redaction policy, :mod:`truceline.service.redaction`, gives the
public: positions to 0.01 degree, no sensors or sensor health, no evidence ids, public ids) to
``DATA_DIR/bulletins/D-public/`` (``bulletin.html``, ``bulletin.pdf``, ``findings.geojson``, CSV...).
Who reads which: the public and liaison officers only the public edition; the mission's roles
(admin, analyst, observer) both, the internal one by default.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from truceline.api.auth import allow
from truceline.api.context import CtxDep
from truceline.api.errors import BadRequest, Forbidden, NotFound, Unauthorized
from truceline.service.tokens import Principal

__all__ = ["EDITIONS", "FORMATS", "router"]

router = APIRouter(prefix="/api/v1/bulletins", tags=["bulletins"])
BulletinsWho = Annotated[Principal, Depends(allow("bulletins"))]
Edition = Annotated[str | None, Query(description="public or internal (default: internal for the mission's roles, "
                                                  "public for everyone else).")]  # fmt: skip

#: Edition -> folder suffix.
EDITIONS = {"internal": "", "public": "-public"}
#: ``?format=`` -> file suffix.
FORMATS = {"html": ".html", "pdf": ".pdf", "geojson": ".geojson", "csv": ".csv", "json": ".json"}
_MEDIA = {".geojson": "application/geo+json", ".csv": "text/csv; charset=utf-8", ".html": "text/html; charset=utf-8"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MISSION = ("admin", "analyst", "observer")


def _editions(who: Principal) -> tuple[str, ...]:
    """Editions ``who`` may read, the default first."""
    return ("internal", "public") if who.role in _MISSION else ("public",)


def _folder(root: Path | None, date: str, edition: str | None, who: Principal) -> Path:
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise BadRequest(f"date: {date!r} is not a date YYYY-MM-DD") from None
    allowed = _editions(who)
    if edition is not None and edition not in EDITIONS:
        raise BadRequest(f"edition: {edition!r} is not one of {', '.join(EDITIONS)}")
    if edition is not None and edition not in allowed:
        why = f"edition: the {edition} edition is for the mission's roles (admin, analyst, observer)"
        raise Unauthorized(why) if who.is_public else Forbidden(why)
    for ed in (edition,) if edition is not None else allowed:
        folder = None if root is None else root / f"{date}{EDITIONS[ed]}"
        if folder is not None and folder.is_dir():
            return folder
    raise NotFound(f"bulletin {date}: not published" + (f" ({edition} edition)" if edition else ""))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and _NAME.match(p.name))


def _pick(folder: Path, suffix: str) -> Path | None:
    """The file of a format: ``bulletin.<suffix>``, else ``findings.<suffix>``, else the first such file."""
    for stem in ("bulletin", "findings"):
        if (p := folder / f"{stem}{suffix}").is_file():
            return p
    return next((folder / n for n in _files(folder) if n.endswith(suffix)), None)


def _send(path: Path) -> FileResponse:
    media = _MEDIA.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media)


@router.get("", summary="Published bulletins the caller may read, newest first: [{date, edition, files, href}]")
def list_bulletins(request: Request, ctx: CtxDep, who: BulletinsWho) -> list[dict[str, Any]]:
    root = ctx.bulletins_dir
    if root is None or not root.is_dir():
        return []
    out = []
    allowed = _editions(who)
    for d in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
        date, _, rest = d.name.partition("-public") if d.name.endswith("-public") else (d.name, "", "")
        edition = "public" if d.name.endswith("-public") else "internal"
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            continue
        if rest or edition not in allowed:
            continue
        href = str(request.url_for("get_bulletin", date=date).include_query_params(edition=edition))
        out.append({"date": date, "edition": edition, "files": _files(d), "href": href})
    return out


@router.get("/{date}", summary="The bulletin of a day (HTML; ?format=pdf|geojson|csv|json, ?edition=)")
def get_bulletin(
    date: str,
    ctx: CtxDep,
    who: BulletinsWho,
    edition: Edition = None,
    format: Annotated[str, Query(description="html, pdf, geojson, csv or json.")] = "html",
) -> FileResponse:
    if format not in FORMATS:
        raise BadRequest(f"format: {format!r} is not one of {', '.join(FORMATS)}")
    folder = _folder(ctx.bulletins_dir, date, edition, who)
    path = _pick(folder, FORMATS[format])
    if path is None:
        raise NotFound(f"bulletin {date}: no {format} published")
    return _send(path)


@router.get("/{date}/{name}", summary="One file of a day's bulletin folder (?edition=)")
def get_bulletin_file(date: str, name: str, ctx: CtxDep, who: BulletinsWho, edition: Edition = None) -> FileResponse:
    folder = _folder(ctx.bulletins_dir, date, edition, who)
    if not _NAME.match(name) or not (folder / name).is_file():
        raise NotFound(f"bulletin {date}: no file {name!r}")
    return _send(folder / name)
