"""Stores by URL: the one place that knows which backend a URL names.

The API and the CLI open their store with :func:`open_store` and are typed against the
:class:`~truceline.store.base.Store` protocol, never a backend. A URL is ``SCHEME://LOCATION``;
anything without ``://`` is a bare path, the SQLite data directory (what ``--data DIR`` has
always meant).

======================  ==================================================================
URL                     store
======================  ==================================================================
``DIR`` (a bare path)   the SQLite store in data directory ``DIR`` (``:memory:`` for tests)
``sqlite://DIR``        the same: ``sqlite:///srv/truceline`` (absolute),
                        ``sqlite://truceline-data`` (relative to the working directory)
``postgresql://...``    the PostGIS store in a PostgreSQL database
                        (``postgresql://USER:PASSWORD@HOST:PORT/DATABASE``; ``postgres://`` too):
                        :class:`~truceline.store.postgis.PostGISStore`, kept in no folder
======================  ==================================================================

A backend registers its scheme with :func:`register`; an unknown scheme is refused with
:class:`~truceline.core.errors.InvalidInput` naming the URL and the known schemes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from truceline.core.errors import InvalidInput
from truceline.store.base import Store
from truceline.store.sqlite import SQLiteStore

__all__ = ["Backend", "backend_of", "data_dir_of", "open_store", "register", "schemes"]

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<location>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Backend:
    """A kind of store and how to open one.

    Attributes
    ----------
    scheme : str
        The URL scheme (``sqlite``), lower case.
    open : callable
        ``open(location) -> Store``: the store at ``location`` (what follows ``scheme://``), created
        and its schema brought up to date if needed.
    data_dir : callable, optional
        ``data_dir(location) -> Path``: the folder of a store kept in files, where what it publishes
        beside it (the bulletins) lives; None for a database server.
    description : str
        One line for the documentation and error messages.
    """

    scheme: str
    open: Callable[[str], Store]
    data_dir: Callable[[str], Path] | None = None
    description: str = ""


_BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    """Make ``backend`` open the URLs of its scheme (a later registration of a scheme replaces it)."""
    _BACKENDS[backend.scheme.lower()] = backend


def schemes() -> list[str]:
    """The registered schemes, sorted."""
    return sorted(_BACKENDS)


def backend_of(url: str | Path) -> tuple[Backend, str]:
    """The backend of a store URL and the location it is given (a bare path is ``sqlite``).

    Raises
    ------
    InvalidInput
        For an empty URL, or a scheme no backend registered (naming the URL and the known schemes).
    """
    text = str(url)
    if not text.strip():
        raise InvalidInput("store URL: empty (give a data directory or a URL such as sqlite:///srv/truceline)")
    m = _URL.match(text)
    scheme, location = ("sqlite", text) if m is None else (m["scheme"].lower(), m["location"])
    backend = _BACKENDS.get(scheme)
    if backend is None:
        raise InvalidInput(f"store URL {text!r}: unknown scheme {scheme!r} (known: {', '.join(schemes())})")
    if not location:
        raise InvalidInput(f"store URL {text!r}: no location after {scheme}://")
    return backend, location


def open_store(url: str | Path) -> Store:
    """Open the store a URL names (see the module docstring).

    Parameters
    ----------
    url : str or Path
        ``sqlite://DIR`` or a bare data directory; the URL of another registered backend.

    Returns
    -------
    Store
        Open; the caller closes it.

    Raises
    ------
    InvalidInput
        For an unknown scheme, or a location the backend refuses (a data directory that is a file).
    RuntimeError
        For a store whose schema is newer than this truceline.
    """
    backend, location = backend_of(url)
    return backend.open(location)


def data_dir_of(url: str | Path) -> Path | None:
    """The folder of a store kept in files (the SQLite data directory), None for one that is not.

    Raises
    ------
    InvalidInput
        As :func:`open_store`.
    """
    backend, location = backend_of(url)
    return None if backend.data_dir is None else backend.data_dir(location)


def _open_postgis(location: str) -> Store:
    """The PostGIS store at ``postgresql://LOCATION`` (psycopg is imported only when one is opened)."""
    from truceline.store.postgis import PostGISStore

    return PostGISStore(f"postgresql://{location}")


register(Backend("sqlite", SQLiteStore, Path, "the embedded SQLite store in a data directory"))
for _scheme in ("postgresql", "postgres"):
    register(Backend(_scheme, _open_postgis, None, "the PostGIS store in a PostgreSQL database"))
