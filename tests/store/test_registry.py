"""Stores opened by URL: a bare path and ``sqlite://`` are the SQLite data directory, ``postgresql://`` (and
``postgres://``) the PostGIS store; other schemes register."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from truceline.core.errors import InvalidInput
from truceline.store import Backend, SQLiteStore, Store, open_store, registry
from truceline.store.sqlite import DB_NAME


def _path_of(url: str | Path) -> Path:
    store = open_store(url)
    try:
        assert isinstance(store, SQLiteStore)
        return Path(store.path)
    finally:
        store.close()


def test_bare_path_is_the_sqlite_data_directory(tmp_path: Path) -> None:
    assert _path_of(tmp_path / "a") == tmp_path / "a" / DB_NAME
    assert _path_of(str(tmp_path / "b")) == tmp_path / "b" / DB_NAME
    assert registry.data_dir_of(tmp_path / "a") == tmp_path / "a"


def test_sqlite_url_absolute_and_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _path_of(f"sqlite://{tmp_path / 'abs'}") == tmp_path / "abs" / DB_NAME  # sqlite:///tmp/...
    assert f"sqlite://{tmp_path}".startswith("sqlite:///")
    monkeypatch.chdir(tmp_path)
    assert _path_of("sqlite://rel/dir") == Path("rel/dir") / DB_NAME
    assert (tmp_path / "rel" / "dir" / DB_NAME).is_file()
    assert _path_of("SQLite://rel/dir") == Path("rel/dir") / DB_NAME  # schemes are case-insensitive
    assert registry.data_dir_of("sqlite://rel/dir") == Path("rel/dir")


def test_same_store_by_path_and_by_url(tmp_path: Path) -> None:
    a = open_store(tmp_path / "d")
    try:
        run = a.new_run("process", {}, window_s=7200)
        a.replace_scope("window:x", run, [], seen_seq=0)
    finally:
        a.close()
    b = open_store(f"sqlite://{tmp_path / 'd'}")
    try:
        assert b.scope_states()["window:x"].window_s == 7200
    finally:
        b.close()


@pytest.mark.parametrize("url", ["mysql://truceline@db/truceline", "s3://bucket/x", "FILE://x"])
def test_unknown_scheme_names_the_url_and_the_known_schemes(url: str) -> None:
    with pytest.raises(InvalidInput, match=r"unknown scheme .* \(known: postgres, postgresql, sqlite\)") as err:
        open_store(url)
    assert repr(url) in str(err.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "PostgreSQL"])
def test_postgresql_is_the_postgis_store_kept_in_no_folder(scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, location = registry.backend_of(f"{scheme}://truceline@127.0.0.1:1/truceline")
    assert backend.scheme in ("postgresql", "postgres") and location == "truceline@127.0.0.1:1/truceline"
    assert registry.data_dir_of(f"{scheme}://127.0.0.1:1/x") is None  # not kept in files: no bulletins folder
    opened: list[str] = []
    monkeypatch.setattr("truceline.store.postgis.PostGISStore", opened.append)
    open_store(f"{scheme}://u:secret@127.0.0.1:1/db?sslmode=disable")
    assert opened == ["postgresql://u:secret@127.0.0.1:1/db?sslmode=disable"]  # libpq's own URL, whatever the scheme


def test_a_server_that_does_not_answer_is_invalid_input_without_the_password() -> None:
    """Port 1 on the loopback: nothing listens there (no name to resolve, no traffic leaves the machine)."""
    with pytest.raises(InvalidInput, match=r"cannot connect") as err:
        open_store("postgresql://truceline:s3cret-pw@127.0.0.1:1/truceline?connect_timeout=2")
    assert "postgresql://truceline:***@127.0.0.1:1/truceline" in str(err.value)
    assert "s3cret-pw" not in str(err.value)


@pytest.mark.parametrize(("url", "match"), [("", "empty"), ("  ", "empty"), ("sqlite://", "no location")])
def test_empty_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        open_store(url)


def test_a_data_directory_that_is_a_file_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInput, match="is a file"):
        open_store(tmp_path / "f")


def test_a_registered_backend_opens_its_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the PostGIS backend does: register its scheme; callers open it by URL, unchanged."""
    opened: list[str] = []

    def open_memory(location: str) -> Store:
        opened.append(location)
        return SQLiteStore(":memory:")

    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    registry.register(Backend("memtest", open_memory, description="a stand-in"))
    assert registry.schemes() == ["memtest", "postgres", "postgresql", "sqlite"]
    store = open_store("memtest://truceline@db:5432/truceline")
    try:
        assert opened == ["truceline@db:5432/truceline"]
        assert store.time_span_us() is None and store.scope_states() == {}
        assert store.revoke_token("tok-none", dt.datetime.now(dt.UTC)) is False
    finally:
        store.close()
    assert registry.data_dir_of("memtest://db/x") is None  # not kept in files: no bulletins folder
    assert _path_of(tmp_path / "still") == tmp_path / "still" / DB_NAME
