"""What the command groups of ``truceline`` share: the root app, errors, the data directory, the store, a bar."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from truceline.core.errors import DomainError
from truceline.store import Store
from truceline.store import open_store as open_url
from truceline.store.registry import data_dir_of
from truceline.store.sqlite import DB_NAME

app = typer.Typer(
    help="truceline: the information system of a ceasefire monitoring mission.",
    no_args_is_help=True,
    add_completion=False,
)

DEFAULT_COUNTRY = Path("../shared/data/admin/ua_oblasts_minregion_2020.geojson")
DEFAULT_WORLD = Path("../shared/data/world/visionscarto_countries-50m.topojson.json")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def user_errors(code: int = 1) -> Iterator[None]:
    """Turn a domain error (:class:`~truceline.core.errors.DomainError`: not found, invalid input,
    conflict, forbidden; the user's to fix) into its message on stderr and exit status ``code``;
    anything else is a bug and propagates with its traceback."""
    try:
        yield
    except DomainError as exc:
        raise fail(str(exc), code) from None


def resolve_agreement(path: str) -> Path:
    """A path, or the name of a shipped example (``default``, ``minsk2015``)."""
    from truceline.agreement import EXAMPLES, example_path

    if not Path(path).exists() and path in EXAMPLES:
        return example_path(path)
    return Path(path)


def parse_when(value: str | None) -> dt.datetime | None:
    """A date (taken as 12:00 UTC) or an ISO time with zone."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(12), tzinfo=dt.UTC)
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--date: {value!r} is not a date (YYYY-MM-DD) or ISO time", 2) from None
    if t.tzinfo is None:
        raise fail(f"--date: {value!r} has no timezone (add Z or +03:00)", 2)
    return t


DataDir = Annotated[
    Path,
    typer.Option(
        "--data",
        envvar="TRUCELINE_DATA",
        help="Data directory of the store (env TRUCELINE_DATA; default ./truceline-data).",
    ),
]
DEFAULT_DATA = Path(os.environ.get("TRUCELINE_DATA", "truceline-data"))
StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="TRUCELINE_STORE",
        help="The store's URL, e.g. sqlite:///srv/truceline (env TRUCELINE_STORE); --data DIR is the SQLite "
        "shorthand.",
    ),
]


def parse_time(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not an ISO 8601 time", 2) from None
    if t.tzinfo is None:
        raise fail(f"{option}: {value!r} has no timezone (add Z or +03:00)", 2)
    return t


class Bar:
    """A progress bar on stderr fed with fractions."""

    def __init__(self, label: str) -> None:
        self.cm = typer.progressbar(length=100, label=label, file=sys.stderr)
        self.done = 0

    def __enter__(self) -> Bar:
        self.bar = self.cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cm.__exit__(None, None, None)

    def __call__(self, _stage: str, frac: float) -> None:
        pos = int(frac * 100)
        if pos > self.done:
            self.bar.update(pos - self.done)
            self.done = pos


def store_location(data: Path, store: str | None) -> tuple[str, str | Path]:
    """The option that names the store and what it says: ``--store`` (or ``TRUCELINE_STORE``) when given,
    else ``--data`` (or ``TRUCELINE_DATA``: the SQLite data directory). A ``--data`` other than the
    default together with a ``--store`` is refused (exit 2): which store was meant is not clear."""
    if store is None:
        return "--data", data
    if data != DEFAULT_DATA:
        raise fail(f"--data and --store: give one of them ({data} and {store}; --data DIR is --store sqlite://DIR)", 2)
    return "--store", store


def open_store(data: Path, store: str | None = None, *, create: bool = False) -> Store:
    """Open the store a command names (:func:`store_location`); a bad location exits with status 2.

    Only a command that fills a store (``create``: ``ingest``, ``token create``) makes a new one; the
    others, given a data directory that holds no store (a typo, a missing mount), exit with status 2
    saying so instead of making an empty store and reporting on nothing.
    """
    option, location = store_location(data, store)
    try:
        folder = None if create else data_dir_of(location)
    except DomainError as exc:
        raise fail(f"{option}: {exc}", 2) from None
    lost = folder is not None and str(folder) != ":memory:" and (not folder.exists() or folder.is_dir())
    if lost and folder is not None and not (folder / DB_NAME).is_file():
        raise fail(f"{option}: no store in {folder} (truceline ingest makes one; is the folder right?)", 2)
    try:
        return open_url(location)
    except (DomainError, RuntimeError) as exc:
        raise fail(f"{option}: {exc}", 2) from None

