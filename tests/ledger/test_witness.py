"""Witnesses (issue 16, item 2): a witness cosigns a checkpoint (C2SP tlog-cosignature) only when it extends
the last one it cosigned, refuses an older or inconsistent one, detects a split view of a forked log and
keeps the evidence; a bulletin counts as published when a quorum of pinned witnesses cosigned its
checkpoint, with the CLI and with scripts/verify_bulletin.py run by a Python that cannot import truceline."""

from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import cryptography
import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.ledger import Log, check_quorum, keygen, log_bulletin, parse_vkey, read_witness_keys
from truceline.ledger.cosign import merge_lines, parse_cosign_vkey, signed_message, split_note
from truceline.ledger.keys import active_signer
from truceline.ledger.publish import PROOF_FILE, bundle_bytes

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "verify_bulletin.py"
ORIGIN = "mission.example/ledger"
runner = CliRunner()
_BOOT = (
    "import sys, runpy, importlib.util; sys.path.insert(0, sys.argv[1]); "
    "assert importlib.util.find_spec('truceline') is None, 'truceline is importable'; "
    "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _cli(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.output


def _grow(data: Path, n: int, tag: str = "x") -> str:
    """Append ``n`` entries to the log of ``data`` and return the checkpoint signed at the new size."""
    log = Log.open(data)
    with log.writing():
        signer = active_signer(data, log)
        assert signer is not None
        _, note = log.commit([{"type": "test", "n": i, "tag": tag} for i in range(n)], [signer])
    return note


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A mission's log (with a pinned key file) and three witnesses' homes with their keys."""
    data = tmp_path / "data"
    v, _ = keygen(data, ORIGIN)
    (tmp_path / "log.keys").write_text(v.vkey + "\n")
    out: dict[str, Path] = {"root": tmp_path, "data": data, "log_keys": tmp_path / "log.keys"}
    lines = []
    for name in ("ua", "ru", "osce"):
        code, text = _cli("ledger", "witness", "keygen", f"{name}.example/witness", "--home", tmp_path / name)
        assert code == 0, text
        lines.append(text.splitlines()[0])
        out[name] = tmp_path / name
    (tmp_path / "witnesses.keys").write_text("# the agreement's witnesses\n" + "\n".join(lines) + "\n")
    out["witnesses"] = tmp_path / "witnesses.keys"
    return out


def _cosign(w: dict[str, Path], who: str, note: str, proof: dict | None = None) -> tuple[int, str]:
    cp = w["root"] / f"offer-{who}.checkpoint"
    cp.write_text(note)
    args: list[str | Path] = ["ledger", "witness", "cosign", "--home", w[who], "--checkpoint", cp]
    if proof is not None:
        (w["root"] / "proof.json").write_text(json.dumps(proof))
        args += ["--proof", w["root"] / "proof.json"]
    return _cli(*args, "--log-key", w["log_keys"])


def _prove(data: Path, old: int, new: int) -> dict:
    code, text = _cli("ledger", "prove", "--consistency", str(old), str(new), "--data", data)
    assert code == 0, text
    return json.loads(text)


def test_witness_key_is_private_and_never_printed(world: dict[str, Path]) -> None:
    folder = world["ua"] / "secrets" / "witness"
    (key,) = folder.glob("*.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    seed = key.read_text().strip().split("+", 4)[4]
    pinned = read_witness_keys(world["witnesses"])
    assert len(pinned) == 3 and seed not in world["witnesses"].read_text()
    assert pinned[0].vkey.split("+")[2] != seed
    code, text = _cli("ledger", "witness", "keygen", "again", "--home", world["ua"])
    assert code == 1 and "has a key already" in text


def test_cosign_first_checkpoint(world: dict[str, Path]) -> None:
    note = Log.open(world["data"]).latest_checkpoint()
    assert note is not None
    code, out = _cosign(world, "ua", note)
    assert code == 0, out
    text, lines = split_note(out)
    assert out.startswith(note[:-1]) and len(lines) == 2 and lines[1].startswith("\u2014 ua.example/witness ")
    rep = check_quorum(out, read_witness_keys(world["witnesses"]), 1)
    assert rep.ok and [v.name for v, _ in rep.signed] == ["ua.example/witness"]
    raw = base64.b64decode(lines[1].split(" ")[2])
    v = parse_cosign_vkey(world["witnesses"].read_text().splitlines()[1])
    assert raw[:4] == v.key_id and len(raw) == 4 + 8 + 64  # key id (type 0x04), timestamp, signature
    assert signed_message(text, 7).startswith(b"cosignature/v1\ntime 7\n" + ORIGIN.encode())
    state = json.loads(next((world["ua"] / "witness" / "logs").glob("*/state.json")).read_text())
    assert state["size"] == 1 and state["checkpoint"] == note


def test_cosign_grown_log_with_consistency_proof(world: dict[str, Path]) -> None:
    first = Log.open(world["data"]).latest_checkpoint()
    assert first is not None and _cosign(world, "ua", first)[0] == 0
    grown = _grow(world["data"], 5)
    code, out = _cosign(world, "ua", grown)
    assert code == 1 and "no consistency proof from size 1 to 6" in out
    code, out = _cosign(world, "ua", grown, _prove(world["data"], 1, 6))
    assert code == 0, out
    assert split_note(out)[0] == split_note(grown)[0]
    code, out = _cosign(world, "ua", first)
    assert code == 1 and "older: size 1 is below the size 6" in out


def test_refuses_an_inconsistent_proof_and_keeps_evidence(world: dict[str, Path]) -> None:
    first = Log.open(world["data"]).latest_checkpoint()
    assert first is not None and _cosign(world, "ua", first)[0] == 0
    grown = _grow(world["data"], 4)
    proof = _prove(world["data"], 1, 5)
    bad = bytearray(base64.b64decode(proof["proof"][0]))
    bad[0] ^= 1
    proof["proof"][0] = base64.b64encode(bytes(bad)).decode()
    code, out = _cosign(world, "ua", grown, proof)
    assert code == 1 and "inconsistent: the log at size 5 does not extend the log at size 1" in out
    (ev,) = (world["ua"] / "witness" / "logs").glob("*/evidence/*-inconsistent")
    assert (ev / "seen.checkpoint").read_text() == first and (ev / "offered.checkpoint").read_text() == grown
    state = json.loads(next((world["ua"] / "witness" / "logs").glob("*/state.json")).read_text())
    assert state["size"] == 1  # unchanged


def test_split_view_of_a_forked_log_is_detected_and_kept(world: dict[str, Path]) -> None:
    base = _grow(world["data"], 2)
    fork = world["root"] / "fork"
    shutil.copytree(world["data"], fork)  # the same key signs both branches
    a, b = _grow(world["data"], 3, "honest"), _grow(fork, 3, "forked")
    assert split_note(a)[0].split("\n")[1] == split_note(b)[0].split("\n")[1] == "6" and a != b
    assert _cosign(world, "ru", a)[0] == 0
    code, out = _cosign(world, "ru", b)
    assert code == 1 and "SPLIT VIEW: log mission.example/ledger signed two different trees of size 6" in out
    (ev,) = (world["ru"] / "witness" / "logs").glob("*/evidence/*-split-view")
    assert (ev / "seen.checkpoint").read_text() == a and (ev / "offered.checkpoint").read_text() == b
    assert "SPLIT VIEW" in (ev / "what.txt").read_text()
    (world["root"] / "a").write_text(a)
    (world["root"] / "b").write_text(b)
    (world["root"] / "base").write_text(base)
    code, out = _cli("ledger", "witness", "compare", world["root"] / "a", world["root"] / "b",
                     "--log-key", world["log_keys"])  # fmt: skip
    assert code == 1 and "SPLIT VIEW" in out
    code, out = _cli("ledger", "witness", "compare", world["root"] / "a", world["root"] / "a",
                     "--log-key", world["log_keys"])  # fmt: skip
    assert code == 0 and out.startswith("consistent")
    (world["root"] / "p.json").write_text(json.dumps(_prove(world["data"], 3, 6)))
    for other, expected in (("a", 0), ("b", 1)):  # the honest proof shows the fork is not an extension of base
        code, out = _cli("ledger", "witness", "compare", world["root"] / "base", world["root"] / other,
                         "--log-key", world["log_keys"], "--proof", world["root"] / "p.json")  # fmt: skip
        assert code == expected, out
    code, out = _cli("ledger", "witness", "compare", world["root"] / "base", world["root"] / "b",
                     "--log-key", world["log_keys"])  # fmt: skip
    assert code == 3 and "unknown" in out


def test_refuses_a_checkpoint_not_signed_by_the_log(world: dict[str, Path]) -> None:
    note = Log.open(world["data"]).latest_checkpoint()
    assert note is not None
    forged = note.replace("\n1\n", "\n2\n", 1)
    code, out = _cosign(world, "osce", forged)
    assert code == 1 and "does not verify" in out
    assert not (world["osce"] / "witness" / "logs").exists()


def _isolated_site(root: Path) -> Path:
    site = root / "site"
    site.mkdir(parents=True)
    packages = Path(cryptography.__file__).resolve().parent.parent
    for p in [packages / "cryptography", *packages.glob("_cffi_backend*")]:
        (site / p.name).symlink_to(p)
    return site


def _script(site: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-I", "-S", "-c", _BOOT, str(site), str(SCRIPT), *map(str, args)]
    return subprocess.run(cmd, cwd=site.parent, capture_output=True, text=True, timeout=120)


def _bulletin(data: Path, name: str) -> Path:
    folder = data / "bulletins" / name
    folder.mkdir(parents=True)
    (folder / "findings.csv").write_text("id,party\n1,RU\n")
    (folder / "bulletin.html").write_text(f"<p>{name}</p>\n")
    assert log_bulletin(data, folder, f"bulletin-{name}", True, ["findings.csv", "bulletin.html"])
    return folder


def _tamper(bundle: Path, witness: str, byte: int) -> None:
    doc = json.loads(bundle.read_text())
    text, lines = split_note(doc["checkpoint"])
    i = next(i for i, line in enumerate(lines) if f" {witness} " in line)
    prefix, sig = lines[i].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[byte] ^= 1
    lines[i] = f"{prefix} {base64.b64encode(bytes(raw)).decode()}"
    doc["checkpoint"] = text + "\n" + "".join(f"{line}\n" for line in lines)
    bundle.write_bytes(bundle_bytes(doc))


def test_quorum_two_of_three_with_the_cli_and_the_isolated_script(world: dict[str, Path]) -> None:
    early = _bulletin(world["data"], "2026-09-01")
    late = _bulletin(world["data"], "2026-09-02")
    latest = Log.open(world["data"]).latest_checkpoint()
    assert latest is not None
    cosigned = []
    for who in ("ua", "ru"):
        code, out = _cosign(world, who, latest)
        assert code == 0, out
        (world["root"] / f"{who}.cosigned").write_text(out)
        cosigned.append(world["root"] / f"{who}.cosigned")
    one = world["root"] / "one"
    shutil.copytree(late, one)
    code, out = _cli("ledger", "cosignatures", "add", cosigned[0], "--witnesses", world["witnesses"],
                     "--bundle", one, "--data", world["data"])  # fmt: skip
    assert code == 0, out
    code, out = _cli("ledger", "cosignatures", "add", *cosigned, "--witnesses", world["witnesses"],
                     "--data", world["data"])  # fmt: skip
    assert code == 0 and f"{late / PROOF_FILE}: +2 cosignatures" in out and f"{early / PROOF_FILE}: +2" in out
    kept = Log.open(world["data"]).latest_checkpoint()
    assert kept is not None and len(split_note(kept)[1]) == 3
    two_bad = world["root"] / "two-bad"
    shutil.copytree(late, two_bad)
    _tamper(two_bad / PROOF_FILE, "ru.example/witness", 8 + 20)  # a byte of the Ed25519 signature
    stamp_bad = world["root"] / "stamp-bad"
    shutil.copytree(late, stamp_bad)
    _tamper(stamp_bad / PROOF_FILE, "ua.example/witness", 4 + 7)  # the timestamp
    site = _isolated_site(world["root"] / "iso")
    quorum = ["--keys", world["log_keys"], "--witnesses", world["witnesses"], "--quorum", "2"]
    for folder, ok in ((late, True), (early, True), (one, False), (two_bad, False), (stamp_bad, False)):
        code, out = _cli("verify", folder, *quorum)
        res = _script(site, folder, *quorum)
        assert (code == 0) is ok and (res.returncode == 0) is ok, (folder, out, res.stderr)
        plain = _cli("verify", folder, "--keys", world["log_keys"])
        assert plain[0] == 0 and _script(site, folder, "--keys", world["log_keys"]).returncode == 0
        if ok:
            assert "2 of 3 pinned witnesses cosigned (2 required): ua.example/witness+" in out
            assert "ru.example/witness+" in res.stdout
    assert "quorum not met: 1 of 3" in _cli("verify", one, *quorum)[1]
    assert "cosignature by ru.example/witness+" in _script(site, two_bad, *quorum).stderr
    assert "cosignature by ua.example/witness+" in _cli("verify", stamp_bad, *quorum)[1]
    res = _script(site, late, "--keys", world["log_keys"], "--witnesses", world["witnesses"])  # default: all 3
    assert res.returncode == 1 and "quorum not met: 2 of 3 pinned witnesses cosigned (3 required)" in res.stderr


def test_attach_refuses_another_tree_at_the_same_size(world: dict[str, Path]) -> None:
    fork = world["root"] / "fork"
    shutil.copytree(world["data"], fork)
    _grow(world["data"], 2, "honest")
    code, out = _cosign(world, "ua", _grow(fork, 2, "forked"))
    assert code == 0, out
    (world["root"] / "c").write_text(out)
    code, text = _cli("ledger", "cosignatures", "add", world["root"] / "c", "--witnesses", world["witnesses"],
                      "--data", world["data"])  # fmt: skip
    assert code == 1 and "not the one this log signed" in text
    merged = merge_lines(out, split_note(out)[1])
    assert merged == out and parse_vkey(world["log_keys"].read_text()).name == ORIGIN


def _agreement(root: Path, name: str, block: str) -> Path:
    """The shipped default agreement with a transparency block appended to its manifest."""
    from truceline.agreement import example_path

    folder = root / name
    shutil.copytree(example_path("default"), folder)
    manifest = folder / "agreement.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + block, encoding="utf-8")
    return folder


def test_the_agreement_pins_the_log_key_the_witnesses_and_the_quorum(world: dict[str, Path]) -> None:
    late = _bulletin(world["data"], "2026-09-02")
    latest = Log.open(world["data"]).latest_checkpoint()
    assert latest is not None
    for who in ("ua", "ru"):
        code, out = _cosign(world, who, latest)
        assert code == 0, out
        (world["root"] / f"{who}.cosigned").write_text(out)
    code, out = _cli("ledger", "cosignatures", "add", world["root"] / "ua.cosigned", world["root"] / "ru.cosigned",
                     "--witnesses", world["witnesses"], "--data", world["data"])  # fmt: skip
    assert code == 0, out
    log_key = world["log_keys"].read_text().strip()
    wits = [w for w in world["witnesses"].read_text().splitlines() if w and not w.startswith("#")]

    def block(quorum: int, origin: str = ORIGIN) -> str:
        items = "".join(f"  - {w}\n" for w in wits)
        head = f"transparency:\n  origin: {origin}\n  log_keys:\n  - {log_key}\n"
        return f"{head}  witnesses:\n{items}  quorum: {quorum}\n"

    two = _agreement(world["root"], "two", block(2))
    code, out = _cli("verify", late, "--agreement", two)
    assert code == 0, out
    assert "2 of 3 pinned witnesses cosigned (2 required)" in out and f"in log {ORIGIN}" in out
    code, out = _cli("verify", late, "--agreement", _agreement(world["root"], "three", block(3)))
    assert code == 1 and "quorum not met: 2 of 3 pinned witnesses cosigned (3 required)" in out
    code, out = _cli("verify", late, "--agreement", _agreement(world["root"], "other", block(2, "other.example/log")))
    assert code == 1 and "other.example/log" in out
    code, out = _cli("verify", late, "--agreement", "default")  # the shipped example pins nothing
    assert code == 2 and "no transparency block" in out
    code, out = _cli("verify", late, "--agreement", _agreement(world["root"], "four", block(4)))
    assert code == 2 and "quorum 4 is more than the 3 witnesses named" in out
    code, out = _cli("verify", late)
    assert code == 2 and "give --keys KEYS, or --agreement A" in out
