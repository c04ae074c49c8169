"""The exit codes of every command (README.md, "Exit codes"): 0 success, 1 invalid input or data or a
failed check, 2 a usage error (a malformed option value) or a thing named that does not exist (a store,
a file, a record id, a ledger), each with a message naming the missing thing or the option.

Small inputs only: an empty store, files that are not there; nothing is simulated or served.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.store.sqlite import SQLiteStore

runner = CliRunner()
NOT_FOUND = USAGE = 2
INVALID = 1
NO_STORE = "--data: no store in"
WHO = ["--actor", "anna", "--reason", "checked"]


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An empty store, a path that does not exist, two small files, an invalid agreement."""
    root = tmp_path_factory.mktemp("exit-codes")
    data = root / "data"
    SQLiteStore(data).close()
    (root / "a.geojson").write_text('{"type": "FeatureCollection", "features": []}\n')
    (root / "keys.txt").write_text("# no key\n")
    bad = root / "bad-agreement"
    bad.mkdir()
    (bad / "agreement.yaml").write_text("id: [not, a, manifest\n")
    return {"root": root, "data": data, "missing": root / "nosuch", "file": root / "a.geojson",
            "keys": root / "keys.txt", "bad_agreement": bad}  # fmt: skip


def _run(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.output)
    return res.exit_code, res.output


# (args with {missing} {data} {file} {keys} {root} placeholders, text the message must hold)
NOT_FOUND_CASES = [
    (["agreement", "validate", "{missing}"], "{missing}: no such agreement"),
    (["agreement", "show", "{missing}"], "{missing}: no such agreement"),
    (["agreement", "derive", "--control", "{missing}", "--date", "2026-09-02", "--out", "{root}/o"], "--control"),
    (["agreement", "reconcile", "{missing}", "{file}"], "{missing}: no such file or folder"),
    (["simulate", "{missing}", "--out", "{root}/sim"], "{missing}: no such file or folder"),
    (["fuse", "{missing}", "--out", "{root}/f"], "{missing}: no such file or folder"),
    (["fuse", "{root}", "--out", "{root}/f", "--agreement", "nosuch"], "--agreement: nosuch: no such agreement"),
    (["score", "--truth", "{missing}", "--result", "{root}"], "--truth: {missing}"),
    (["ingest", "{missing}", "--data", "{root}/new"], "no such file or folder: {missing}"),
    (["process", "--data", "{missing}"], NO_STORE),
    (["process", "--data", "{data}", "--agreement", "nosuch"], "--agreement: nosuch"),
    (["export", "--out", "{root}/e", "--data", "{missing}"], NO_STORE),
    (["aggregates", "--data", "{missing}"], NO_STORE),
    (["coverage", "--at", "2026-09-02", "--out", "{root}/c.geojson", "--data", "{missing}"], NO_STORE),
    (["review", "confirm", "violation", "vio-nope", *WHO, "--data", "{missing}"], NO_STORE),
    (["review", "confirm", "violation", "vio-nope", *WHO, "--data", "{data}"], "'vio-nope': not found"),
    (["review", "merge", "inc-a", "inc-b", *WHO, "--data", "{data}"], "'inc-a': not found"),
    (["review", "history", "vio-nope", "--data", "{missing}"], NO_STORE),
    (["review", "history", "vio-nope", "--data", "{data}"], "vio-nope: not found"),
    (["quarantine", "list", "--data", "{missing}"], NO_STORE),
    (["quarantine", "release", "424242", *WHO, "--data", "{data}"], "424242: not found"),
    (["quarantine", "reject", "424242", *WHO, "--data", "{data}"], "424242: not found"),
    (["store", "copy", "{missing}", "{root}/copy"], "no store there"),
    (["adjudicate", "--result", "{missing}", "--observations", "{root}"], "--result: {missing}"),
    (["report", "--date", "2026-09-02", "--data", "{missing}", "--no-pdf"], NO_STORE),
    (["ledger", "keygen", "x", "--data", "{missing}"], NO_STORE),
    (["ledger", "keys", "--data", "{data}"], "no ledger yet"),
    (["ledger", "checkpoint", "--data", "{data}"], "no ledger yet"),
    (["ledger", "check", "--data", "{data}"], "no ledger yet"),
    (["ledger", "decisions", "--data", "{data}"], "no ledger yet"),
    (["ledger", "cosignatures", "add", "{file}", "--witnesses", "{keys}", "--data", "{data}"], "no ledger yet"),
    (["verify", "{missing}", "--keys", "{keys}"], "TARGET: {missing}"),
    (["ledger", "verify", "{missing}", "--keys", "{keys}"], "TARGET: {missing}"),
    (
        ["ledger", "witness", "cosign", "--home", "{root}/w", "--checkpoint", "{file}", "--log-key", "{missing}"],
        "--log-key",
    ),
    (["ledger", "witness", "compare", "{missing}", "{file}", "--log-key", "{missing}"], "--log-key"),
    (["listen", "--mqtt", "mqtt://127.0.0.1:1", "--data", "{missing}"], NO_STORE),
    (["replay", "{missing}", "--mqtt", "mqtt://127.0.0.1:1"], "{missing}"),
    (["tak", "push", "--role", "public", "--dry-run", "--data", "{missing}"], NO_STORE),
    (["token", "list", "--data", "{missing}"], NO_STORE),
    (["token", "revoke", "tok-nope", "--data", "{missing}"], NO_STORE),
    (["token", "revoke", "tok-nope", "--data", "{data}"], "'tok-nope': not found"),
    (["serve", "--data", "{missing}"], NO_STORE),
    (["serve", "--data", "{data}", "--agreement", "nosuch"], "--agreement: nosuch"),
    (["reprocess", "--since", "2026-09-02", "--until", "2026-09-03", "--data", "{missing}"], NO_STORE),
    (["demo", "--scenario", "nosuch", "--no-serve", "--out", "{root}/demo"], "--scenario"),
]

USAGE_CASES = [
    (["agreement", "validate", "default", "--far-km", "-1"], "--far-km"),
    (["agreement", "show", "default", "--date", "2026-13-02"], "--date: '2026-13-02'"),
    (["agreement", "show", "default", "--date", "2026-09-02T10:00"], "no timezone"),
    (["agreement", "derive", "--control", "{file}", "--date", "02/09/2026", "--out", "{root}/o"], "--date"),
    (["agreement", "reconcile", "{file}", "{file}", "--step-km", "-1"], "--step-km"),
    (["simulate", "{file}", "--out", "{root}/sim", "--format", "xml"], "--format"),
    (["score", "--truth", "{root}", "--result", "{root}", "--event-time-s", "-1"], "--event-time-s"),
    (["ingest", "{file}", "--data", "{root}/new", "--not-after", "2026-13-01"], "--not-after"),
    (["ingest", "{file}", "--data", "{root}/new", "--max-problems", "-1"], "--max-problems"),
    (["process", "--data", "{data}", "--since", "2026-13-02"], "--since: '2026-13-02'"),
    (["process", "--data", "{data}", "--window-s", "-5"], "--window-s"),
    (["export", "--out", "{root}/e", "--data", "{data}", "--until", "tomorrow"], "--until: 'tomorrow'"),
    (["aggregates", "--data", "{data}", "--cutoff", "25:99"], "--cutoff"),
    (["coverage", "--at", "noon", "--out", "{root}/c.geojson", "--data", "{data}"], "--at: 'noon'"),
    (["review", "confirm", "violation", "vio-1", "--reason", "r", "--data", "{data}"], "--actor"),
    (["quarantine", "list", "--state", "lost", "--data", "{data}"], "state"),
    (["quarantine", "release", *WHO, "--data", "{data}"], "--all"),
    (["store", "copy", "{data}", "{root}/copy", "--batch", "0"], "--batch"),
    (["report", "--date", "2026-09-02T00:00Z", "--data", "{data}"], "--date: '2026-09-02T00:00Z'"),
    (["report", "--date", "2026-09-02", "--data", "{data}", "--trend-days", "0"], "--trend-days"),
    (["ledger", "checkpoint", "--size", "-1", "--data", "{data}"], "--size"),
    (["ledger", "prove", "--data", "{data}"], "--consistency"),
    (["verify", "{file}", "--keys", "{missing}"], "--keys"),
    (["verify", "{file}", "--keys", "{keys}", "--quorum", "0"], "--quorum"),
    (["listen", "--mqtt", "nope://x", "--data", "{data}"], "--mqtt"),
    (["listen", "--mqtt", "mqtt://127.0.0.1:1", "--data", "{data}", "--not-after", "2026-13-01"], "--not-after"),
    (["replay", "{root}", "--mqtt", "nope://x"], "--mqtt"),
    (["tak", "push", "--role", "public", "--dry-run", "--data", "{data}", "--since", "2026-13-01"], "--since"),
    (["tak", "push", "--role", "public", "--data", "{data}"], "--to"),
    (["token", "create", "--role", "emperor", "--name", "a", "--data", "{data}"], "role"),
    (["serve", "--data", "{data}", "--port", "http"], "--port"),
    (["reprocess", "--since", "2026-09-03", "--until", "2026-09-02", "--data", "{data}"], "--until"),
    (
        ["reprocess", "--since", "2026-09-02", "--until", "2026-09-03", "--cluster", "bogus", "--data", "{data}"],
        "--cluster",
    ),
    (["demo", "--port", "many", "--no-serve"], "--port"),
]


def _fill(items: list[str], place: dict[str, Path]) -> list[str]:
    return [s.format(**{k: str(v) for k, v in place.items()}) for s in items]


@pytest.mark.parametrize(("args", "says"), NOT_FOUND_CASES, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_not_found_exits_2_naming_what_is_missing(args: list[str], says: str, place: dict[str, Path]) -> None:
    code, output = _run(_fill(args, place))
    assert code == NOT_FOUND and _fill([says], place)[0] in output, output
    assert not place["missing"].exists(), "a command made what it did not find"


@pytest.mark.parametrize(("args", "says"), USAGE_CASES, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_a_malformed_option_exits_2_naming_it(args: list[str], says: str, place: dict[str, Path]) -> None:
    code, output = _run(_fill(args, place))
    assert code == USAGE and says in output, output


def test_an_invalid_agreement_exits_1_naming_the_option(place: dict[str, Path]) -> None:
    for args in (["process"], ["aggregates"], ["report", "--date", "2026-09-02", "--no-pdf"]):
        code, output = _run([*args, "--data", str(place["data"]), "--agreement", str(place["bad_agreement"])])
        assert code == INVALID and "--agreement:" in output, (args, output)
    code, output = _run(["agreement", "validate", str(place["bad_agreement"])])
    assert code == INVALID and "INVALID" in output


def test_every_instant_option_takes_a_plain_date_as_its_midnight_utc(place: dict[str, Path]) -> None:
    """`process --since 2026-09-02` as `report --date 2026-09-02`: the same forms everywhere."""
    data = str(place["data"])
    for args in (["process", "--since", "2026-09-02", "--until", "2026-09-02T06:00:00+03:00"],
                 ["export", "--out", str(place["root"] / "e"), "--since", "2026-09-02"],
                 ["tak", "push", "--role", "public", "--dry-run", "--since", "2026-09-02"]):  # fmt: skip
        code, output = _run([*args, "--data", data])
        assert code == 0, (args, output)
