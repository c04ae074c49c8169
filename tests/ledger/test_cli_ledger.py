"""``truceline ledger`` and ``truceline report`` together: a real bulletin (both editions) is logged when it
is published, verifies with ``truceline ledger verify`` and with scripts/verify_bulletin.py run by a Python
that cannot import truceline, and a sample of single-byte changes over the whole bulletin is detected."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import cryptography
import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.ledger import Log, parse_vkey, verify_bundle
from truceline.ledger.publish import PROOF_FILE
from truceline.store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "verify_bulletin.py"
DAY = "2026-09-10"
runner = CliRunner()
# Runs the script with only cryptography importable: no site-packages (-S), no environment (-I).
_BOOT = (
    "import sys, runpy, importlib.util; sys.path.insert(0, sys.argv[1]); "
    "assert importlib.util.find_spec('truceline') is None, 'truceline is importable'; "
    "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _isolated_site(root: Path) -> Path:
    """A folder holding only cryptography and the cffi backend it loads."""
    site = root / "site"
    site.mkdir(parents=True)
    packages = Path(cryptography.__file__).resolve().parent.parent
    for p in [packages / "cryptography", *packages.glob("_cffi_backend*")]:
        (site / p.name).symlink_to(p)
    return site


def _script(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-I", "-S", "-c", _BOOT, str(site), str(SCRIPT), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A data directory with a signing key, and both editions of an (empty) day's bulletin reported."""
    root = tmp_path_factory.mktemp("ledger")
    data = root / "data"
    SQLiteStore(data).close()  # an empty store: the day has no data
    keygen = runner.invoke(app, ["ledger", "keygen", "mission.example/ledger", "--data", str(data)])
    assert keygen.exit_code == 0, keygen.output
    vkey = keygen.stdout.strip()
    parse_vkey(vkey)
    (root / "keys").write_text(vkey + "\n")
    for edition in ([], ["--public"]):
        res = runner.invoke(app, ["report", "--date", DAY, "--data", str(data), "--no-pdf", "--allow-empty", *edition])
        assert res.exit_code == 0, res.output
        assert PROOF_FILE in res.stdout
    return {"root": root, "data": data, "keys": root / "keys", "internal": data / "bulletins" / DAY,
            "public": data / "bulletins" / f"{DAY}-public"}  # fmt: skip


def test_keygen_prints_the_public_key_only(published: dict[str, Path]) -> None:
    (key,) = (published["data"] / "secrets" / "ledger").glob("*.key")
    secret = key.read_text().strip().split("+", 4)[4]
    assert secret not in published["keys"].read_text()
    entries = (published["data"] / "ledger" / "entries.jsonl").read_text()
    assert secret not in entries and "bulletin-2026-09-10-public" in entries


def test_both_editions_verify_with_the_cli_and_the_isolated_script(published: dict[str, Path]) -> None:
    site = _isolated_site(published["root"] / "iso")
    for edition in ("internal", "public"):
        ok = runner.invoke(app, ["ledger", "verify", str(published[edition]), "--keys", str(published["keys"]),
                                 "--origin", "mission.example/ledger"])  # fmt: skip
        assert ok.exit_code == 0, ok.output
        assert ok.stdout.startswith(f"ok: bulletin-{DAY}-{edition}: ")
        res = _script(site, published["root"] / "iso", str(published[edition]), "--keys", str(published["keys"]))
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith(f"ok: bulletin-{DAY}-{edition}: ")
    manifest = json.loads((published["public"] / "manifest.json").read_text())
    doc = json.loads((published["public"] / PROOF_FILE).read_text())
    assert {r["path"] for r in doc["files"]} == {f["path"] for f in manifest["files"]} | {"manifest.json"}


def test_a_tampered_bulletin_fails_naming_the_file(published: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(published["public"], folder)
    csv = folder / "findings.csv"
    csv.write_bytes(csv.read_bytes() + b"x")
    site = _isolated_site(tmp_path)
    res = _script(site, tmp_path, str(folder), "--keys", str(published["keys"]))
    assert res.returncode == 1 and "FAIL findings.csv: the file differs" in res.stderr
    cli = runner.invoke(app, ["ledger", "verify", str(folder), "--keys", str(published["keys"])])
    assert cli.exit_code == 1 and "FAIL findings.csv: the file differs" in cli.output
    top = runner.invoke(app, ["verify", str(folder), "--keys", str(published["keys"])])  # `truceline verify`
    assert top.exit_code == 1 and "FAIL findings.csv: the file differs" in top.output
    good = runner.invoke(app, ["verify", str(published["public"]), "--keys", str(published["keys"])])
    assert good.exit_code == 0 and good.output.startswith("ok: "), good.output
    bad_keys = tmp_path / "bad"
    bad_keys.write_text("not a key\n")
    assert _script(site, tmp_path, str(folder), "--keys", str(bad_keys)).returncode == 2
    assert runner.invoke(app, ["ledger", "verify", str(folder), "--keys", str(bad_keys)]).exit_code == 2


def test_a_sample_of_byte_changes_over_the_whole_bulletin_is_detected(published: dict[str, Path],
                                                                      tmp_path: Path) -> None:  # fmt: skip
    """200 random (file, position, value) changes over every file of the public edition and its bundle."""
    folder = tmp_path / "copy"
    shutil.copytree(published["public"], folder)
    key = parse_vkey(published["keys"].read_text())
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    rng = random.Random(2026)
    for _ in range(200):
        f = rng.choice(files)
        good = f.read_bytes()
        pos = rng.randrange(len(good))
        new = rng.choice([b for b in range(256) if b != good[pos]])
        f.write_bytes(good[:pos] + bytes([new]) + good[pos + 1 :])
        assert not verify_bundle(folder, [key]).ok, (f.name, pos, new)
        f.write_bytes(good)
    assert verify_bundle(folder, [key]).ok


def test_checkpoint_and_consistency_proofs(published: dict[str, Path], tmp_path: Path) -> None:
    data = ["--data", str(published["data"])]
    cp = runner.invoke(app, ["ledger", "checkpoint", *data])
    assert cp.exit_code == 0 and cp.stdout.startswith("mission.example/ledger\n")
    size = Log.open(published["data"]).size
    assert cp.stdout.split("\n")[1] == str(size)
    first = json.loads((published["internal"] / PROOF_FILE).read_text())["checkpoint"].split("\n")[1]
    proof = runner.invoke(app, ["ledger", "prove", "--consistency", first, str(size), *data])
    assert proof.exit_code == 0, proof.output
    doc = json.loads(proof.stdout)
    assert doc["old_checkpoint"] and doc["new_checkpoint"] == cp.stdout
    (tmp_path / "proof.json").write_text(proof.stdout)
    ok = runner.invoke(app, ["ledger", "verify", str(tmp_path / "proof.json"), "--keys", str(published["keys"])])
    assert ok.exit_code == 0, ok.output
    doc["proof"][0] = base64.b64encode(bytes(32)).decode()
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    bad = runner.invoke(app, ["ledger", "verify", str(tmp_path / "bad.json"), "--keys", str(published["keys"])])
    assert bad.exit_code == 1 and "consistency proof fails" in bad.output
    check = runner.invoke(app, ["ledger", "check", *data])
    assert check.exit_code == 0 and f"{size} entries" in check.stdout
    keys = runner.invoke(app, ["ledger", "keys", *data])
    assert keys.stdout.startswith("signing  mission.example/ledger+")


def test_a_data_directory_without_a_ledger_publishes_as_before(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "d").close()
    res = runner.invoke(app, ["report", "--date", DAY, "--data", str(tmp_path / "d"), "--no-pdf", "--allow-empty"])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "d" / "bulletins" / DAY / PROOF_FILE).exists()
    assert runner.invoke(app, ["ledger", "checkpoint", "--data", str(tmp_path / "d")]).exit_code == 2


def test_each_bulletin_names_the_checkpoint_it_extends(published: dict[str, Path]) -> None:
    """The bulletin cannot hold its own checkpoint (its bytes are in it), so it names the one before its
    entries; its bundle's entries come right after it and its checkpoint extends it."""
    for edition in ("internal", "public"):
        bundle = json.loads((published[edition] / PROOF_FILE).read_text())
        first = min(r["index"] for r in bundle["files"])
        html = (published[edition] / "bulletin.html").read_text()
        log = Log.open(published["data"])
        before = log.checkpoint_at(first)
        assert before is not None
        root = before.split("\n")[2]
        assert f"mission.example/ledger: the files of this bulletin are appended after checkpoint {first:,}" in html
        assert f"(root {root})" in html
