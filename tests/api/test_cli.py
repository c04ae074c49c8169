"""``truceline token create|list|revoke`` and ``truceline serve`` (the GDAL tests run the server itself)."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert runner.invoke(app, ["token", "revoke", "tok-nope", "--data", data]).exit_code == 1
    bad = runner.invoke(app, ["token", "create", "--role", "liaison", "--name", "x", "--data", data])
    assert bad.exit_code == 2 and "party" in bad.output


def test_serve_help_and_bad_agreement(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output
    r = runner.invoke(app, ["serve", "--data", str(tmp_path / "d"), "--agreement", str(tmp_path / "nothing")])
    assert r.exit_code == 2
