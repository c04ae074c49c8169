"""``truceline token create|list|revoke`` and ``truceline serve`` (the GDAL tests run the server itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.service.tokens import authenticate
from truceline.store import SQLiteStore


def test_token_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "data")
    made = runner.invoke(app, ["token", "create", "--role", "liaison", "--name", "ua.lo", "--party", "UA",
                               "--data", data, "--json"])  # fmt: skip
    assert made.exit_code == 0, made.output
    got = json.loads(made.stdout)
    store = SQLiteStore(data)
    try:
        who = authenticate(store, got["token"])
        assert who is not None and (who.role, who.party) == ("liaison", "UA")
    finally:
        store.close()
    plain = runner.invoke(app, ["token", "create", "--role", "analyst", "--name", "an.1", "--data", data])
    assert plain.exit_code == 0 and len(plain.stdout.strip()) >= 40
    listed = runner.invoke(app, ["token", "list", "--data", data])
    assert listed.exit_code == 0 and got["token_id"] in listed.stdout and got["token"] not in listed.stdout
    assert "active" in listed.stdout
    revoked = runner.invoke(app, ["token", "revoke", got["token_id"], "--data", data])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert "revoked" in runner.invoke(app, ["token", "list", "--data", data]).stdout
    assert runner.invoke(app, ["token", "revoke", got["token_id"], "--data", data]).exit_code == 1
    assert runner.invoke(app, ["token", "revoke", "tok-nope", "--data", data]).exit_code == 2  # not found
    bad = runner.invoke(app, ["token", "create", "--role", "liaison", "--name", "x", "--data", data])
    assert bad.exit_code == 2 and "party" in bad.output


def test_serve_help_and_bad_agreement(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output
    r = runner.invoke(app, ["serve", "--data", str(tmp_path / "d"), "--agreement", str(tmp_path / "nothing")])
    assert r.exit_code == 2


def test_store_option_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--store URL`` (or ``TRUCELINE_STORE``) names the store; ``--data DIR`` stays the SQLite shorthand."""
    runner = CliRunner()
    data = tmp_path / "data"
    made = runner.invoke(app, ["token", "create", "--role", "analyst", "--name", "by.url", "--store", f"sqlite://{data}"])
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["token", "list", "--data", str(data)])  # the same store by its directory
    assert listed.exit_code == 0 and "by.url" in listed.stdout
    monkeypatch.setenv("TRUCELINE_STORE", f"sqlite://{data}")
    assert "by.url" in runner.invoke(app, ["token", "list"]).stdout
    other = tmp_path / "other"
    both = runner.invoke(app, ["token", "list", "--data", str(other)])  # which one? refused, nothing made
    assert both.exit_code == 2 and "--data and --store: give one of them" in both.output
    assert not other.exists()
    monkeypatch.delenv("TRUCELINE_STORE")
    both = runner.invoke(app, ["token", "list", "--data", str(other), "--store", f"sqlite://{data}"])
    assert both.exit_code == 2 and "give one of them" in both.output
    here = runner.invoke(app, ["token", "list", "--data", str(other)])  # no store there: said, none made
    assert here.exit_code == 2 and f"--data: no store in {other}" in here.output and not other.exists()
    assert here.output.count("--data:") == 1  # one message, not two
    made = runner.invoke(app, ["token", "create", "--role", "observer", "--name", "o", "--data", str(other)])
    assert made.exit_code == 0 and (other / "truceline.sqlite").is_file()  # token create makes the store
    here = runner.invoke(app, ["token", "list", "--data", str(other)])
    assert here.exit_code == 0 and "by.url" not in here.stdout and "o" in here.stdout
    bad = runner.invoke(app, ["token", "list", "--store", "mysql://db/truceline"])
    assert bad.exit_code == 2 and "--store:" in bad.output and "unknown scheme 'mysql'" in bad.output
    assert "known: postgres, postgresql, sqlite" in bad.output
    # A PostGIS server that does not answer: the same exit, the URL named without its password.
    down = runner.invoke(app, ["token", "list", "--store", "postgresql://truceline:s3cret@127.0.0.1:1/truceline"])
    assert down.exit_code == 2 and "--store:" in down.output and "127.0.0.1:1/truceline" in down.output
    assert "s3cret" not in down.output
    (tmp_path / "file").write_text("x")
    afile = runner.invoke(app, ["token", "list", "--data", str(tmp_path / "file")])
    assert afile.exit_code == 2 and "--data: data directory" in afile.output


def test_review_exit_codes_come_from_the_domain_errors(tmp_path: Path) -> None:
    """Not found exits 2, invalid input and conflict 1, each with its message (README, "Exit codes")."""
    runner = CliRunner()
    data = str(tmp_path / "data")
    SQLiteStore(Path(data)).close()  # an empty store
    gone = runner.invoke(app, ["review", "confirm", "violation", "vio-nope", "--actor", "a", "--reason", "r",
                               "--data", data])  # fmt: skip
    assert gone.exit_code == 2 and "violation 'vio-nope': not found" in gone.output
    empty = runner.invoke(app, ["review", "confirm", "violation", "vio-nope", "--actor", " ", "--reason", "r",
                                "--data", data])  # fmt: skip
    assert empty.exit_code == 1 and "actor: must be a non-empty string" in empty.output
    kind = runner.invoke(app, ["review", "annotate", "claim", "c-1", "--actor", "a", "--text", "t", "--data", data])
    assert kind.exit_code == 1 and "kind: 'claim' is not one of" in kind.output
