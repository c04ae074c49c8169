"""Paths and streams: what every reader and writer of :mod:`truceline.io` takes.

A reader takes a :data:`Source`: a path, or an open binary or text stream (an API request body as
``io.BytesIO``, a file opened by the caller). A writer takes a :data:`Target`: a path (its folder is
made) or an open stream. Streams are read or written where they stand and never closed here.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeGuard, cast

from truceline.core.errors import InvalidInput

__all__ = [
    "Source",
    "Target",
    "binary_lines",
    "is_stream",
    "path_of",
    "read_bytes",
    "source_name",
    "text_lines",
    "text_target",
    "write_bytes",
]

Source = str | os.PathLike[str] | IO[bytes] | IO[str]
"""A file to read: a path, or an open binary or text stream."""
Target = str | os.PathLike[str] | IO[bytes] | IO[str]
"""A file to write: a path (its folder is made), or an open binary or text stream."""


def is_stream(source: Source) -> TypeGuard[IO[Any]]:
    """True if ``source`` is an open stream (it has ``read`` or ``write``), not a path."""
    return hasattr(source, "read") or hasattr(source, "write")


def path_of(source: Source) -> Path | None:
    """The path ``source`` names, or None if it is a stream."""
    return None if is_stream(source) else Path(cast("str | os.PathLike[str]", source))


def _is_text(stream: IO[Any]) -> bool:
    if isinstance(stream, io.TextIOBase):
        return True
    if isinstance(stream, io.BufferedIOBase | io.RawIOBase):
        return False
    return "b" not in getattr(stream, "mode", "b")


def source_name(source: Source, name: str | None = None) -> str:
    """What problems call the file: ``name`` if given, else the path, else the stream's name, else
    ``"<stream>"``."""
    if name is not None:
        return name
    if not is_stream(source):
        return str(source)
    stream_name = getattr(source, "name", None)
    return stream_name if isinstance(stream_name, str) else "<stream>"


def _encoded(line: str) -> bytes:
    """A line of a text stream as the bytes it came from (undecodable bytes kept as they were)."""
    try:
        return line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return line.encode("utf-8", "surrogatepass")


@contextmanager
def binary_lines(source: Source) -> Iterator[Iterator[bytes]]:
    """The lines of ``source`` as bytes, each with its line end (a path is opened and closed here)."""
    if not is_stream(source):
        with open(cast("str | os.PathLike[str]", source), "rb") as fh:
            yield iter(fh)
    elif _is_text(source):
        yield (_encoded(line) for line in source)
    else:
        yield iter(source)


def read_bytes(source: Source) -> bytes:
    """Every byte of ``source`` (a text stream encoded as UTF-8, undecodable bytes as they were)."""
    if not is_stream(source):
        return Path(cast("str | os.PathLike[str]", source)).read_bytes()
    data = source.read()
    return _encoded(data) if isinstance(data, str) else bytes(data)


def _bom_dropped(lines: Iterable[str]) -> Iterator[str]:
    for k, line in enumerate(lines):
        yield line[1:] if k == 0 and line.startswith("\ufeff") else line


@contextmanager
def text_lines(source: Source, encoding: str = "utf-8", errors: str = "strict") -> Iterator[Iterator[str]]:
    """The lines of ``source`` as text, line ends kept as they are (``newline=""``, what ``csv`` needs).

    A path is opened and closed here; a binary stream is wrapped, and detached again afterwards so
    it stays open; a text stream is read as it is (with ``encoding="utf-8-sig"``, a byte order
    mark opening it is dropped, as decoding would).
    """
    if not is_stream(source):
        with open(cast("str | os.PathLike[str]", source), encoding=encoding, errors=errors, newline="") as fh:
            yield iter(fh)
    elif _is_text(source):
        yield _bom_dropped(source) if encoding.lower().replace("_", "-") == "utf-8-sig" else iter(source)
    else:
        wrapper = io.TextIOWrapper(source, encoding=encoding, errors=errors, newline="")
        try:
            yield iter(wrapper)
        finally:
            wrapper.detach()


@contextmanager
def text_target(target: Target, encoding: str = "utf-8", newline: str | None = None) -> Iterator[IO[str]]:
    """``target`` opened for writing text (a path's folder is made; a stream is left open)."""
    if not is_stream(target):
        p = Path(cast("str | os.PathLike[str]", target))
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w", encoding=encoding, newline=newline) as fh:
            yield fh
    elif _is_text(target):
        yield target
    else:
        wrapper = io.TextIOWrapper(target, encoding=encoding, newline=newline)
        try:
            yield wrapper
        finally:
            wrapper.flush()
            wrapper.detach()


def write_bytes(target: Target, data: bytes) -> None:
    """Write ``data`` to a path (its folder is made) or a binary stream."""
    if not is_stream(target):
        p = Path(cast("str | os.PathLike[str]", target))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    elif _is_text(target):
        raise InvalidInput("a binary format cannot be written to a text stream")
    else:
        target.write(data)
