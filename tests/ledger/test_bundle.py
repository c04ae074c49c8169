"""Proof bundles: a bulletin verifies offline, and every single-byte change of the bundle (checkpoint,
signature, entries, proofs) or of a file is detected, by the package and by scripts/verify_bulletin.py."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from truceline.ledger import Log, Verifier, keygen, log_bulletin, verify_bundle
from truceline.ledger.publish import PROOF_FILE, bundle_bytes

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "verify_bulletin.py"

Check = Callable[[Path], list[str]]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_bulletin", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


VB = _script()


def _small_bulletin(root: Path) -> tuple[Path, Verifier]:
    """A data directory with a log of a few entries, and a 3-file bulletin logged in it."""
    home = root / "data"
    v, _ = keygen(home, "mission.example/ledger")
    log = Log.open(home)
    with log.writing():
        log.append([{"type": "test", "n": i} for i in range(4)])  # so that the tree is not trivial
    folder = root / "bulletin"
    (folder / "maps").mkdir(parents=True)
    (folder / "findings.csv").write_text("id,party\nf1,RU\nf2,UA\n")
    (folder / "maps" / "overview.png").write_bytes(bytes(range(7)))
    files = {p: (folder / p).read_bytes() for p in ("findings.csv", "maps/overview.png")}
    manifest = {"files": [{"path": p, "sha256": hashlib.sha256(b).hexdigest()} for p, b in files.items()]}
    (folder / "manifest.json").write_text(json.dumps(manifest) + "\n")
    out = log_bulletin(home, folder, "bulletin-2026-09-02-public", True, ["findings.csv", "maps/overview.png",
                                                                          "manifest.json"])  # fmt: skip
    assert out == folder / PROOF_FILE
    return folder, v


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Verifier]:
    return _small_bulletin(tmp_path)


def _checks(v: Verifier, tmp_path: Path) -> dict[str, Check]:
    keys = tmp_path / "keys"
    keys.write_text(f"# the mission\n{v.vkey}\n")
    pinned = VB.read_keys(keys)
    return {
        "package": lambda folder: verify_bundle(folder, [v]).failures,
        "script": lambda folder: VB.verify(folder, pinned, None)[0],
    }


def test_a_logged_bulletin_verifies(small: tuple[Path, Verifier], tmp_path: Path) -> None:
    folder, v = small
    for name, check in _checks(v, tmp_path).items():
        assert check(folder) == [], name
        assert check(folder / PROOF_FILE) == [], name
    rep = verify_bundle(folder, [v], origin="mission.example/ledger")
    assert rep.ok and rep.files == 3 and rep.checkpoint is not None and rep.checkpoint.size == 8
    assert not verify_bundle(folder, [v], origin="another.example/log").ok


def _mutations(value: int) -> list[int]:
    """Four bit flips, and for JSON whitespace the other JSON whitespace (what a parser would not notice)."""
    spaces = [w for w in b" \t\n\r" if w != value] if value in b" \t\n\r" else []
    return [*(value ^ x for x in (0x01, 0x02, 0x20, 0x80)), *spaces]


def test_every_single_byte_change_of_the_bundle_is_detected(small: tuple[Path, Verifier], tmp_path: Path) -> None:
    """Every position of the bundle, four substitutions each (low bit, bit 1, case/space bit, high bit, and the
    other whitespace for whitespace) for the package's verifier, the low bit and whitespace for the script's."""
    folder, v = small
    bundle = folder / PROOF_FILE
    good = bundle.read_bytes()
    checks = _checks(v, tmp_path)
    missed: list[tuple[str, int, int]] = []
    for pos in range(len(good)):
        for new in _mutations(good[pos]):
            bundle.write_bytes(good[:pos] + bytes([new]) + good[pos + 1 :])
            missed += [(name, pos, new) for name, check in checks.items()
                       if (name == "package" or new == good[pos] ^ 0x01 or new in b" \t\n\r")
                       and not check(folder)]  # fmt: skip
    bundle.write_bytes(good)
    assert missed == [], f"{len(missed)} changes not detected: {missed[:10]}"
    assert all(check(folder) == [] for check in checks.values())


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("TRUCELINE_LEDGER_EXHAUSTIVE"), reason="minutes: TRUCELINE_LEDGER_EXHAUSTIVE=1")
def test_every_value_at_every_position_of_the_bundle_is_detected(small: tuple[Path, Verifier]) -> None:
    """All 255 other values of every byte of the bundle (the package's verifier; about half a million runs)."""
    folder, v = small
    bundle = folder / PROOF_FILE
    good = bundle.read_bytes()
    missed = []
    for pos in range(len(good)):
        for new in range(256):
            if new != good[pos]:
                bundle.write_bytes(good[:pos] + bytes([new]) + good[pos + 1 :])
                if verify_bundle(folder, [v]).ok:
                    missed.append((pos, new))
    assert missed == []


def test_every_single_byte_change_of_a_file_is_detected(small: tuple[Path, Verifier], tmp_path: Path) -> None:
    folder, v = small
    checks = _checks(v, tmp_path)
    for name in ("findings.csv", "maps/overview.png", "manifest.json"):
        file = folder / name
        good = file.read_bytes()
        for pos in range(len(good)):
            file.write_bytes(good[:pos] + bytes([good[pos] ^ 0x01]) + good[pos + 1 :])
            for which, check in checks.items():
                failures = check(folder)
                assert any(f.startswith(f"{name}: the file differs") for f in failures), (which, name, pos, failures)
        file.write_bytes(good)


def test_files_added_removed_or_swapped_are_named(small: tuple[Path, Verifier], tmp_path: Path) -> None:
    folder, v = small
    checks = _checks(v, tmp_path)
    (folder / "extra.txt").write_text("not published")
    for check in checks.values():
        assert check(folder) == ["extra.txt: in the folder but not in the bundle"]
    (folder / "extra.txt").unlink()
    csv = (folder / "findings.csv").read_bytes()
    (folder / "findings.csv").unlink()
    for check in checks.values():
        assert any(f.startswith("findings.csv: missing") for f in check(folder))
    (folder / "findings.csv").write_bytes(csv)
    other, _ = _small_bulletin(tmp_path / "other")  # another log, same key name, another key
    shutil.copy(other / PROOF_FILE, folder / PROOF_FILE)
    for check in checks.values():
        assert any("no signature by a pinned key" in f for f in check(folder))


def test_a_wrong_key_is_rejected(small: tuple[Path, Verifier], tmp_path: Path) -> None:
    folder, _ = small
    stranger, _ = keygen(tmp_path / "elsewhere", "mission.example/ledger")
    assert any("no signature by a pinned key" in f for f in verify_bundle(folder, [stranger]).failures)
    keys = tmp_path / "stranger"
    keys.write_text(stranger.vkey + "\n")
    failures, _ = VB.verify(folder, VB.read_keys(keys), None)
    assert any("no signature by a pinned key" in f for f in failures)


def test_the_bundle_of_a_forged_tree_is_rejected(small: tuple[Path, Verifier], tmp_path: Path) -> None:
    """A bundle re-made with a changed file and a recomputed inclusion path fails at the signed root."""
    folder, v = small
    doc = json.loads((folder / PROOF_FILE).read_text())
    row = doc["files"][0]
    entry = json.loads(row["entry"])
    (folder / row["path"]).write_text("id,party\nf1,UA\nf2,UA\n")
    entry["sha256"] = hashlib.sha256((folder / row["path"]).read_bytes()).hexdigest()
    row["entry"] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    (folder / PROOF_FILE).write_bytes(bundle_bytes(doc))
    for check in _checks(v, tmp_path).values():
        failures = check(folder)
        assert any("does not lead to the checkpoint's root" in f for f in failures), failures


def test_random_bulletins_of_many_sizes_verify(tmp_path: Path) -> None:
    """Bulletins logged after logs of 0 to 40 entries: every inclusion path shape verifies in both verifiers."""
    rng = random.Random(16)
    home = tmp_path / "data"
    v, _ = keygen(home, "m")
    keys = tmp_path / "keys"
    keys.write_text(v.vkey + "\n")
    pinned = VB.read_keys(keys)
    for b in range(12):
        folder = tmp_path / f"b{b}"
        folder.mkdir()
        names = [f"f{i}.txt" for i in range(rng.randint(1, 6))]
        for n in names:
            (folder / n).write_bytes(rng.randbytes(rng.randint(0, 50)))
        log_bulletin(home, folder, f"bulletin-{b}", bool(b % 2), names)
        assert verify_bundle(folder, [v]).ok
        assert VB.verify(folder, pinned, None)[0] == []
    for b in range(12):  # the older bundles still verify against their own checkpoints
        assert verify_bundle(tmp_path / f"b{b}", [v]).ok
