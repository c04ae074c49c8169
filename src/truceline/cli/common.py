"""What the command groups of ``truceline`` share: the root app, errors and exit codes, dates, the data
directory, the store, the agreement option, a bar.

Exit codes, the same for every command (the table per command is in README.md, "Exit codes"):

- ``0`` (:data:`EXIT_OK`): success;
- ``1`` (:data:`EXIT_INVALID`): the input or the data is invalid, or the check failed: records refused,
  an invalid agreement or scenario, a verification that fails, an action the record's state refuses;
- ``2`` (:data:`EXIT_USAGE`, :data:`EXIT_NOT_FOUND`): a usage error (a malformed option value, a missing
  or conflicting option: Click's own code) or something named that does not exist: a store, a file or
  folder, a record id, a ledger, a checkpoint.

``ledger witness compare`` alone adds ``3``: undecided (sizes differ and no proof was given).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.core.errors import DomainError, NotFound
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


EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
#: "Not found" shares the usage code: what most commands already did (a missing store, a missing input
#: file), and Click's own answer to a path that does not exist.
EXIT_NOT_FOUND = 2


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def user_errors(code: int = EXIT_INVALID) -> Iterator[None]:
    """Turn a domain error (:class:`~truceline.core.errors.DomainError`: not found, invalid input,
    conflict, forbidden; the user's to fix) into its message on stderr and exit status ``code``, but
    :data:`EXIT_NOT_FOUND` for a :class:`~truceline.core.errors.NotFound`; anything else is a bug and
    propagates with its traceback."""
    try:
        yield
    except NotFound as exc:
        raise fail(str(exc), EXIT_NOT_FOUND) from None
    except DomainError as exc:
        raise fail(str(exc), code) from None


def require_path(path: Path, what: str) -> Path:
    """``path`` when it exists; else exit :data:`EXIT_NOT_FOUND` naming ``what`` (an option or argument)."""
    if not path.exists():
        raise fail(f"{what}: {path}: no such file or folder", EXIT_NOT_FOUND)
    return path


def resolve_agreement(path: str) -> Path:
    """A path, or the name of a shipped example (``default``, ``minsk2015``)."""
    from truceline.agreement import EXAMPLES, example_path

    if not Path(path).exists() and path in EXAMPLES:
        return example_path(path)
    return Path(path)


def agreement_path(value: str, option: str = "--agreement") -> Path:
    """The path of the agreement an option names; exit :data:`EXIT_NOT_FOUND` naming ``option`` when none."""
    from truceline.agreement import EXAMPLES

    path = resolve_agreement(value)
    if not path.exists():
        raise fail(f"{option}: {value}: no such agreement (a folder, its agreement.yaml, or an example: "
                   f"{', '.join(EXAMPLES)})", EXIT_NOT_FOUND)  # fmt: skip
    return path


def load_agreement_option(value: str, option: str = "--agreement") -> Any:
    """The agreement an option names (a folder, its ``agreement.yaml`` or an example name): exit
    :data:`EXIT_NOT_FOUND` when there is none, :data:`EXIT_INVALID` when it is invalid, naming ``option``."""
    from truceline.agreement import AgreementError, load_agreement

    path = agreement_path(value, option)
    try:
        return load_agreement(path)
    except (AgreementError, ValueError, OSError) as exc:
        raise fail(f"{option}: {exc}", EXIT_INVALID) from None


DAY_FORM = "YYYY-MM-DD"
TIME_FORM = "ISO 8601 with zone, e.g. 2026-09-02T12:00:00Z; a date YYYY-MM-DD is its 00:00 UTC"


def parse_day(value: str, option: str) -> dt.date:
    """A day (``YYYY-MM-DD``, the form of every option that means a day); exit 2 naming ``option``."""
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date in ISO form YYYY-MM-DD (e.g. 2026-09-02)", EXIT_USAGE) from None


def parse_when(value: str | None, option: str = "--date") -> dt.datetime | None:
    """A day (taken as 12:00 UTC: the line in force that day) or an ISO time with zone; exit 2 naming ``option``."""
    if value is None:
        return None
    if len(value.strip()) == 10:
        return dt.datetime.combine(parse_day(value, option), dt.time(12), tzinfo=dt.UTC)
    return parse_time(value, option)


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
        help="The store's URL, e.g. sqlite:///srv/truceline (env TRUCELINE_STORE); --data DIR is the SQLite shorthand.",
    ),
]


def parse_time(value: str | None, option: str) -> dt.datetime | None:
    """An instant: ISO 8601 with a zone (``Z`` or an offset), or a date alone for its 00:00 UTC, the forms
    the API takes (:func:`truceline.service.queries.filters.parse_time`); exit 2 naming ``option``."""
    from truceline.service.queries.filters import QueryError
    from truceline.service.queries.filters import parse_time as parse_query_time

    if value is None:
        return None
    if not value.strip():
        raise fail(f"{option}: an empty value is not a time ({TIME_FORM})", EXIT_USAGE)
    try:
        return parse_query_time(value, option)
    except QueryError as exc:
        raise fail(str(exc), EXIT_USAGE) from None


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
