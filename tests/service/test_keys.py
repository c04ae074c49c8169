"""Keys of a store kept in a database server (service/keys.py): kept beside the configuration, not in memory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from truceline.service import keys


class _ServerStore:
    """What keys.py sees of a PostGIS store: its URL with the password left out."""

    def __init__(self, path: str) -> None:
        self.path = path


def test_a_server_store_s_key_outlives_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUCELINE_SECRETS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    store = _ServerStore("postgresql://truceline:***@db.mission:5432/truceline")
    monkeypatch.setattr(keys, "_KEYS", {})
    first = keys.server_key(store, "token")
    monkeypatch.setattr(keys, "_KEYS", {})  # as a new process would start
    assert keys.server_key(store, "token") == first
    home = keys.server_store_home(store)
    assert home is not None and home.is_relative_to(tmp_path / "config" / "truceline" / "stores")
    file = keys.key_file(home, "token")
    assert file.read_bytes() == first and stat.S_IMODE(file.stat().st_mode) == 0o600
    assert "***" not in str(home) and "truceline:" not in str(home)  # the URL is digested, not spelled out
    other = _ServerStore("postgresql://truceline:***@db.mission:5432/other")
    assert keys.server_key(other, "token") != first  # one key per store
    assert keys.server_key(store, "public-id") != first  # one key per purpose


def test_several_api_machines_share_the_keys_of_the_secrets_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "_KEYS", {})
    monkeypatch.setenv("TRUCELINE_SECRETS_DIR", str(tmp_path / "shared"))
    store = _ServerStore("postgresql://truceline:***@db.mission:5432/truceline")
    key = keys.server_key(store, "public-id")
    assert keys.key_file(tmp_path / "shared", "public-id").read_bytes() == key


def test_a_store_in_memory_still_gets_a_key_of_the_process_only() -> None:
    assert keys.server_store_home(_ServerStore(":memory:")) is None
    assert keys.server_store_home(_ServerStore("")) is None
