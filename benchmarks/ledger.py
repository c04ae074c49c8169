"""Issue 16's figures: what the transparency log (``truceline.ledger``) detects, and what it costs.

1. ``tamper``: single-byte changes of a bulletin's whole bundle (``ledger-proof.json``: checkpoint,
   signature, entries, inclusion proofs; ``manifest.json``; every file it covers), each verified with
   the verifiers the parties use: :func:`truceline.ledger.verify.verify_bundle` and
   ``scripts/verify_bulletin.py``. Each change is written into the bulletin's folder (one byte
   rewritten in place, restored after) and the whole folder verified from disk, as a party would.

   - ``small``: a bulletin of the real file list (the large bulletin's), each file cut to its first
     bytes, with a manifest of the real shape, logged through the real publish path
     (:func:`truceline.ledger.publish.log_bulletin`) into the log that holds the large bulletin:
     every position of every file, two changes each (XOR 0x01, XOR a random byte 0x02-0xFF).
   - ``large``: the internal bulletin of a simulated day (one sector, simulated, ingested, processed,
     built by :func:`truceline.report.build_bulletin` with its PDF, logged as ``truceline report``
     logs it): a random sample of positions of each file, the same two changes.

2. ``forks``: a witness (:func:`truceline.ledger.witness.cosign`) that cosigned the checkpoint of
   size N is offered, signed by the log's own key (a forking mission signs both branches): a
   checkpoint of size N with another root (split view); a larger one whose tree does not extend the
   one cosigned, with the forked log's own consistency proof (rewritten history); a smaller one
   (older). Forks at random sizes, each a random rewrite (an entry replaced, removed or inserted,
   or the tail rewritten). Control: an honest extension with its proof must be cosigned.

3. ``year``: 365 days x 2 editions logged into one log through ``log_bulletin`` (each bulletin of
   the real file list and sizes, synthetic bytes), then every bundle verified offline with the
   pinned key, in a fresh process per verifier: total time, time per bundle, peak RSS.

4. ``proofs``: a log of up to 10^6 entries built through :class:`truceline.ledger.log.Log` (what
   ``log_bulletin`` uses); inclusion and consistency proofs as the log makes them, their length and
   the median time of :func:`truceline.ledger.merkle.verify_inclusion` / ``verify_consistency``.

Writes ``benchmarks/results/ledger.json``, then renders ``.md`` and the blocks of the README and
``docs/ledger.md`` from it (``figures.py``, ``figures_ledger.py``). Exits 1 when a change goes
undetected, a fork is cosigned, an honest extension is refused or a bundle of the year fails.

Run: ``.venv/bin/python benchmarks/ledger.py`` (``--quick``: smaller sizes, for trial runs only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import cryptography  # noqa: E402
from figures import publish  # noqa: E402

from truceline.agreement import load_agreement  # noqa: E402
from truceline.ledger import merkle  # noqa: E402
from truceline.ledger.keys import active_signer, keygen  # noqa: E402
from truceline.ledger.log import Log, canonical  # noqa: E402
from truceline.ledger.note import Checkpoint, Verifier, b64encode, sign_note  # noqa: E402
from truceline.ledger.publish import PROOF_FILE, log_bulletin  # noqa: E402
from truceline.ledger.verify import verify_bundle  # noqa: E402
from truceline.ledger.witness import WitnessRefusal, compare, cosign, witness_keygen  # noqa: E402
from truceline.report import BulletinOptions, build_bulletin  # noqa: E402
from truceline.service.ingest import ingest_files  # noqa: E402
from truceline.service.process import process  # noqa: E402
from truceline.sim.run import simulate  # noqa: E402
from truceline.sim.scenario import parse_scenario  # noqa: E402
from truceline.store import SQLiteStore  # noqa: E402

SCRIPT = ROOT / "scripts" / "verify_bulletin.py"
ORIGIN = "mission.example/ledger"
DAY = "2026-09-02"
SEED = 16

#: The published run, and ``--quick`` (trial runs only).
SETTINGS: dict[str, dict[str, Any]] = {
    "full": {"hours": 24, "pdf": True, "small_prefix": 256, "large_sample": 60, "large_bundle_sample": 400,
             "fork_trials": 100, "fork_log": 4096, "year_days": 365, "proof_sizes": [1, 10, 100, 1_000, 10_000,
             100_000, 1_000_000]},
    "quick": {"hours": 4, "pdf": False, "small_prefix": 96, "large_sample": 10, "large_bundle_sample": 50,
              "fork_trials": 10, "fork_log": 256, "year_days": 10, "proof_sizes": [1, 10, 100, 1_000, 10_000]},
}  # fmt: skip

#: One sector from 19:30 Kyiv time on 1 September 2026: its first 24 hours are reporting day 2026-09-02.
#: The mix of the report tests' day (tests/report/conftest.py): artillery, outages, restrictions, UAV, claims.
SCENARIO: dict[str, Any] = {
    "scenario": 1,
    "name": "ledger-day",
    "start": "2026-09-01T19:30:00+03:00",
    "sectors": ["S3-DON-S"],
    "activity": {"rounds_per_day": 600,
                 "weapon_mix": {"mortar_120mm": 0.3, "howitzer_122mm": 0.2, "howitzer_152mm": 0.2, "mlrs_122mm": 0.3}},
    "network": {"outages": [
        {"sector": "S3-DON-S", "start_h": 1, "end_h": 2, "health": "jammed", "share": 0.3, "party": "RU"},
        {"sector": "S3-DON-S", "start_h": 3, "end_h": 4, "health": "destroyed", "share": 0.05}]},
    "observers": {"fom_restrictions_per_day": 18},
    "uav": {"sightings_per_day": 90, "in_zone_share": 0.5},
    "claims": {"per_party_per_day": 24},
}  # fmt: skip

Check = Callable[[], list[str]]


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("verify_bulletin", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


VB = _script()


def file_type(rel: str) -> str:
    """How the tables group a bulletin's files."""
    if rel == PROOF_FILE:
        return "proof bundle"
    if rel == "manifest.json":
        return "manifest"
    return rel.rsplit(".", 1)[-1]


# --- the bulletins ------------------------------------------------------------------------------------------


def simulated_day(work: Path, hours: int, pdf: bool) -> dict[str, Any]:
    """A sector simulated, ingested and processed, then both editions built into a data directory with a log."""
    doc = {**SCENARIO, "duration_h": hours}
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    simulate(parse_scenario(doc), work / "sim")
    t["simulate"] = time.perf_counter() - t0
    home = work / "data"
    store = SQLiteStore(home)
    try:
        t0 = time.perf_counter()
        if not ingest_files(store, [work / "sim"]).ok:
            raise SystemExit("ledger benchmark: the simulated day did not ingest")
        agreement = load_agreement(work / "sim" / "agreement")
        process(store, agreement)
        t["ingest_process"] = time.perf_counter() - t0
        verifier, _ = keygen(home, ORIGIN)
        folders = {}
        t0 = time.perf_counter()
        for public in (False, True):
            out = home / "bulletins" / (DAY + ("-public" if public else ""))
            build_bulletin(store, agreement, DAY, out, BulletinOptions(public=public, pdf=pdf))
            folders["public" if public else "internal"] = out
        t["build_both_editions"] = time.perf_counter() - t0
    finally:
        store.close()
    files = {ed: [[rel, (f / rel).stat().st_size] for rel in folder_files(f)] for ed, f in folders.items()}
    return {
        "home": home,
        "verifier": verifier,
        "folders": folders,
        "seconds": t,
        "hours": hours,
        "pdf": pdf,
        "files": files,
    }


def folder_files(folder: Path) -> list[str]:
    """The files of a bulletin folder, relative, sorted (the bundle included)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def small_bulletin(home: Path, real: Path, prefix: int) -> tuple[Path, str]:
    """The real bulletin's files cut to their first ``prefix`` bytes, a manifest of the real shape, logged
    through :func:`log_bulletin` into the same log (after the real bulletins)."""
    bid = "bulletin-2026-09-03-internal"
    folder = home / "bulletins" / "2026-09-03-small"
    files = [p for p in folder_files(real) if p not in (PROOF_FILE, "manifest.json")]
    for rel in files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes((real / rel).read_bytes()[:prefix])
    manifest = json.loads((real / "manifest.json").read_text(encoding="utf-8"))
    manifest["bulletin_id"], manifest["day"] = bid, "2026-09-03"
    manifest["files"] = [
        {
            "path": rel,
            "bytes": (folder / rel).stat().st_size,
            "sha256": hashlib.sha256((folder / rel).read_bytes()).hexdigest(),
        }
        for rel in files
    ]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if log_bulletin(home, folder, bid, False, [*files, "manifest.json"]) is None:
        raise SystemExit("ledger benchmark: the small bulletin was not logged")
    return folder, bid


# --- 1. tampering -------------------------------------------------------------------------------------------


def bundle_parts(raw: bytes) -> list[str]:
    """The part of the proof bundle each byte belongs to (checkpoint text, its signature line, entries,
    inclusion proofs, indices, paths; the rest: keys, brackets, indentation, bulletin id, format)."""
    doc = json.loads(raw)
    labels = ["structure, bulletin id, format"] * len(raw)

    def mark(start: int, end: int, label: str) -> None:
        labels[start:end] = [label] * (end - start)

    def find(key: bytes, value: bytes, at: int) -> int:
        return raw.index(key + value, at) + len(key)

    cp = doc["checkpoint"]
    enc = json.dumps(cp).encode()
    s = find(b'"checkpoint": ', enc, 0)
    text = len(json.dumps(cp[: cp.rfind("\n\n") + 1])) - 1  # opening quote and the escaped text
    mark(s, s + text, "checkpoint text (origin, size, root)")
    mark(s + text, s + len(enc), "checkpoint signature line")
    at = raw.index(b'"files": [')
    for row in doc["files"]:
        enc = json.dumps(row["entry"]).encode()
        s = find(b'"entry": ', enc, at)
        mark(s, s + len(enc), "entries")
        at = s + len(enc)
        for h in row["inclusion"]:
            s = raw.index(b'"' + h.encode() + b'"', at)
            mark(s, s + len(h) + 2, "inclusion proofs")
            at = s + len(h) + 2
        enc = str(row["index"]).encode()
        s = find(b'"index": ', enc, at)
        mark(s, s + len(enc), "entry indices")
        enc = json.dumps(row["path"]).encode()
        s = find(b'"path": ', enc, at)
        mark(s, s + len(enc), "paths")
        at = s + len(enc)
    return labels


def sweep(folder: Path, plan: dict[str, list[int]], checks: dict[str, Check], rng: random.Random) -> dict[str, Any]:
    """Each position of ``plan`` (file -> positions) changed twice (XOR 0x01, XOR a random 0x02-0xFF), one at a
    time, in place; every check run on the whole folder each time. Detected: the check names a failure."""
    t0 = time.perf_counter()
    for name, check in checks.items():
        if check():
            raise SystemExit(f"ledger benchmark: {folder} does not verify before tampering ({name})")
    files, parts, missed = [], {}, []
    for rel, positions in plan.items():
        path = folder / rel
        data = path.read_bytes()
        labels = bundle_parts(data) if rel == PROOF_FILE else None
        tried = dict.fromkeys(checks, 0)
        detected = dict.fromkeys(checks, 0)
        named = 0
        fd = os.open(path, os.O_RDWR)
        try:
            for pos in positions:
                old = data[pos]
                for how, x in (("xor 0x01", 0x01), ("xor random", rng.randrange(2, 256))):
                    os.pwrite(fd, bytes([old ^ x]), pos)
                    for name, check in checks.items():
                        failures = check()
                        tried[name] += 1
                        if failures:
                            detected[name] += 1
                        else:
                            missed.append({"file": rel, "position": pos, "byte": old, "changed_to": old ^ x,
                                           "change": how, "verifier": name,
                                           "part": labels[pos] if labels else None})  # fmt: skip
                        if name == "verify_bundle" and rel != PROOF_FILE:
                            named += any(f.startswith(f"{rel}: ") for f in failures)
                        if labels:
                            p = parts.setdefault(labels[pos], {"bytes": 0, "tried": dict.fromkeys(checks, 0),
                                                               "detected": dict.fromkeys(checks, 0)})  # fmt: skip
                            p["tried"][name] += 1
                            p["detected"][name] += bool(failures)
                os.pwrite(fd, bytes([old]), pos)
        finally:
            os.pwrite(fd, data, 0)
            os.close(fd)
        if labels:
            for label in set(labels):
                empty = {"bytes": 0, "tried": dict.fromkeys(checks, 0), "detected": dict.fromkeys(checks, 0)}
                parts.setdefault(label, empty)["bytes"] = labels.count(label)
        row = {"path": rel, "type": file_type(rel), "bytes": len(data), "positions": len(positions),
               "all_positions": len(positions) == len(data), "tried": tried, "detected": detected}  # fmt: skip
        if rel != PROOF_FILE:
            row["named_by_verify_bundle"] = named
        files.append(row)
    for name, check in checks.items():
        if check():
            raise SystemExit(f"ledger benchmark: {folder} does not verify after tampering ({name}): not restored")
    return {"files": files, "bundle_parts": parts, "undetected": missed, "seconds": round(time.perf_counter() - t0, 1)}


def tamper(day: dict[str, Any], small: Path, settings: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    v: Verifier = day["verifier"]
    keys_file = day["home"].parent / "mission.keys"
    keys_file.write_text(f"{v.vkey}\n", encoding="utf-8")
    pinned = VB.read_keys(keys_file)

    def checks(folder: Path) -> dict[str, Check]:
        return {"verify_bundle": lambda: verify_bundle(folder, [v], ORIGIN).failures,
                "script": lambda: VB.verify(folder, pinned, ORIGIN)[0]}  # fmt: skip

    def sample(folder: Path, rel: str, n: int) -> list[int]:
        size = (folder / rel).stat().st_size
        return sorted(rng.sample(range(size), min(n, size)))

    plan = {rel: list(range((small / rel).stat().st_size)) for rel in folder_files(small)}
    out_small = sweep(small, plan, checks(small), rng)
    out_small["what"] = (f"the large bulletin's {len(plan) - 2} files cut to their first "
                         f"{settings['small_prefix']} bytes, a manifest of the real shape, logged by log_bulletin "
                         "into the same log: every position of every file")  # fmt: skip
    large = day["folders"]["internal"]
    plan = {rel: sample(large, rel, settings["large_sample"]) for rel in folder_files(large) if rel != PROOF_FILE}
    labels = bundle_parts((large / PROOF_FILE).read_bytes())
    signed = [i for i, part in enumerate(labels) if part.startswith("checkpoint")]
    rest = [i for i, part in enumerate(labels) if not part.startswith("checkpoint")]
    plan[PROOF_FILE] = sorted(signed + rng.sample(rest, min(settings["large_bundle_sample"], len(rest))))
    out_large = sweep(large, plan, checks(large), rng)
    out_large["what"] = (f"the internal bulletin of {day['hours']} h of a simulated sector "
                         f"(build_bulletin, PDF {'on' if day['pdf'] else 'off'}): a random sample of positions "
                         "of each file (of the proof bundle: every position of the checkpoint and its signature, "
                         "a sample of the rest)")  # fmt: skip
    return {"changes": ["xor 0x01", "xor a random byte 0x02-0xFF"], "small": out_small, "large": out_large}


# --- 2. forks -----------------------------------------------------------------------------------------------


def synthetic_entry(i: int, tag: str = "") -> dict[str, Any]:
    """A bulletin-file entry of the shape log_bulletin writes (13 files a bulletin, 2 editions a day)."""
    day = dt.date(2026, 9, 1) + dt.timedelta(days=i // 26)
    ed = "public" if i // 13 % 2 else "internal"
    return {"type": "bulletin-file", "bulletin": f"bulletin-{day.isoformat()}-{ed}", "edition": ed,
            "path": f"file-{i % 13}{tag}", "sha256": hashlib.sha256(f"{i}{tag}".encode()).hexdigest(),
            "bytes": 1000 + i, "time": f"{day.isoformat()}T16:45:00Z"}  # fmt: skip


STYLES = ("an entry replaced", "an entry removed", "an entry inserted", "the tail rewritten")


def forked(honest: list[bytes], k: int, size: int, style: str, salt: int) -> list[bytes]:
    """The leaf hashes of a log of ``size`` entries that agrees with ``honest`` up to entry ``k`` only."""

    def forged(j: int) -> bytes:
        return merkle.leaf_hash(canonical(synthetic_entry(j, f"-forged-{salt}")))

    if style == "an entry replaced":
        leaves = honest[:size]
        leaves[k] = forged(k)
        return leaves
    if style == "an entry removed":
        return honest[:k] + honest[k + 1 : size + 1]
    if style == "an entry inserted":
        return [*honest[:k], forged(k), *honest[k : size - 1]]
    return honest[:k] + [forged(j) for j in range(k, size)]


def forks(work: Path, settings: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    t0 = time.perf_counter()
    home = work / "forks"
    v, _ = keygen(home, ORIGIN)
    log = Log.open(home)
    signer = active_signer(home, log)
    assert signer is not None
    with log.writing():
        log.append([synthetic_entry(i) for i in range(settings["fork_log"] - 1)])
    honest = log.leaf_hashes(0, log.size)
    size = log.size

    def note(n: int, root: bytes) -> str:
        return sign_note(Checkpoint(ORIGIN, n, root).text(), [signer])

    def proof(old: int, new: int, hashes: list[bytes]) -> dict[str, Any]:
        return {"old": old, "new": new, "proof": [b64encode(h) for h in hashes]}

    def refusal(w: Path, cp: str, prf: dict[str, Any] | None) -> str | None:
        try:
            cosign(w, cp, [v], prf)
        except WitnessRefusal as exc:
            return exc.kind
        return None

    kinds = {k: {"tried": 0, "refused": 0, "refused_as": {}, "compare_split_view": 0, "evidence_kept": 0,
                 "undetected": []} for k in ("split view", "rewritten history", "older")}  # fmt: skip
    control = {"tried": 0, "cosigned": 0}
    sizes: list[int] = []
    by_style = dict.fromkeys(STYLES, 0)
    for t in range(settings["fork_trials"]):
        w = work / "witnesses" / f"w{t}"
        w.mkdir(parents=True)
        witness_keygen(w, "witness.example")
        n1 = rng.randint(2, size - 2)
        sizes.append(n1)
        seen = note(n1, log.root(n1))
        cosign(w, seen, [v])  # the witness's first checkpoint: accepted as is

        def record(kind: str, got: str | None, want: str, cmp: str | None, detail: dict[str, Any]) -> None:
            k = kinds[kind]
            k["tried"] += 1
            k["refused"] += got is not None
            k["refused_as"][str(got)] = k["refused_as"].get(str(got), 0) + 1
            if got != want:
                k["undetected"].append({**detail, "refusal": got})
            if cmp is not None:
                k["compare_split_view"] += cmp == "split-view"

        evidence = w / "witness" / "logs" / urllib.parse.quote(ORIGIN, safe="") / "evidence"

        def kept() -> int:
            return len(list(evidence.glob("*"))) if evidence.is_dir() else 0  # noqa: B023 (this trial's folder)

        # (a) split view: same size, another root
        k, style = rng.randrange(n1), rng.choice(STYLES)
        by_style[style] += 1
        other = note(n1, merkle.root_of(forked(honest, k, n1, style, t)))
        before = kept()
        got = refusal(w, other, None)
        kinds["split view"]["evidence_kept"] += kept() > before
        record("split view", got, "split-view", compare(seen, other, [v]).status,
               {"size": n1, "fork_at": k, "style": style})  # fmt: skip
        # (b) rewritten history: larger, not extending, with the forked log's own consistency proof
        n2, k, style = rng.randint(n1 + 1, size - 1), rng.randrange(n1), rng.choice(STYLES)
        by_style[style] += 1
        leaves = forked(honest, k, n2, style, t + 10_000)
        prf = proof(n1, n2, merkle.consistency_proof(n1, n2, merkle.subtree_hasher(leaves)))
        larger = note(n2, merkle.root_of(leaves))
        before = kept()
        got = refusal(w, larger, prf)
        kinds["rewritten history"]["evidence_kept"] += kept() > before
        record("rewritten history", got, "inconsistent", compare(seen, larger, [v], prf).status,
               {"size": n1, "new_size": n2, "fork_at": k, "style": style})  # fmt: skip
        # (c) older: a smaller checkpoint of the same log
        n0 = rng.randint(1, n1 - 1)
        record("older", refusal(w, note(n0, log.root(n0)), None), "older", None, {"size": n1, "offered": n0})
        # control: an honest extension with its proof is cosigned
        n3 = rng.randint(n1 + 1, size - 1)
        control["tried"] += 1
        control["cosigned"] += refusal(w, note(n3, log.root(n3)), proof(n1, n3, log.consistency_proof(n1, n3))) is None
    return {"log_size": size, "trials": settings["fork_trials"], "cosigned_sizes": [min(sizes), max(sizes)],
            "fork_styles": by_style, "kinds": kinds, "honest_extension": control,
            "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip


# --- 3. a year ----------------------------------------------------------------------------------------------

#: Run in a fresh process: verify every bundle listed, print the figures (JSON). Imports, start-up and reading
#: the keys are outside the timed loop; the peak RSS (ru_maxrss) is the whole process's.
WORKER = r"""
import json, resource, statistics, sys, time
from pathlib import Path
verifier, keys_file, list_file, origin = sys.argv[1:5]
def rss_mb():  # this process's peak RSS (VmHWM: ru_maxrss would carry the parent's over the fork and exec)
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if verifier == "verify_bundle":
    from truceline.ledger.verify import read_keys, verify_bundle
    keys = read_keys(Path(keys_file))
    check = lambda p: verify_bundle(p, keys, origin).failures
else:
    import importlib.util
    spec = importlib.util.spec_from_file_location("verify_bulletin", verifier)
    vb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vb)
    keys = vb.read_keys(Path(keys_file))
    check = lambda p: vb.verify(p, keys, origin)[0]
folders = [Path(x) for x in Path(list_file).read_text().splitlines() if x]
base = rss_mb()
times, failed = [], []
t0 = time.perf_counter()
for f in folders:
    t = time.perf_counter()
    failures = check(f)
    times.append(time.perf_counter() - t)
    if failures:
        failed.append([str(f), failures[:3]])
total = time.perf_counter() - t0
q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
print(json.dumps({"bundles": len(folders), "failed": len(failed), "failures": failed[:10], "total_s": total,
                  "per_bundle_ms": {"median": 1e3 * statistics.median(times), "p95": 1e3 * q[18],
                                    "max": 1e3 * max(times), "mean": 1e3 * total / len(times)},
                  "rss_after_imports_mb": base, "peak_rss_mb": rss_mb(),
                  "modules_truceline": any(m.startswith("truceline") for m in sys.modules)}))
"""


def year(work: Path, day: dict[str, Any], days: int) -> dict[str, Any]:
    """``days`` x 2 bulletins of the real file lists and sizes (synthetic bytes) logged, then verified."""
    home = work / "year"
    v, _ = keygen(home, ORIGIN)
    specs = {}
    for ed, folder in day["folders"].items():
        rels = [p for p in folder_files(folder) if p not in (PROOF_FILE, "manifest.json")]
        specs[ed] = ([(rel, (folder / rel).stat().st_size) for rel in rels],
                     json.loads((folder / "manifest.json").read_text(encoding="utf-8")))  # fmt: skip
    pool = random.Random(SEED).randbytes(max(n for files, _ in specs.values() for _, n in files) + 4096)
    written = logged = 0.0
    folders, total_bytes = [], 0
    first = dt.date(2026, 1, 1)
    for d in range(days):
        date = (first + dt.timedelta(days=d)).isoformat()
        for ed, (files, manifest) in specs.items():
            public = ed == "public"
            bid = f"bulletin-{date}-{ed}"
            folder = home / "bulletins" / (date + ("-public" if public else ""))
            t0 = time.perf_counter()
            rows = []
            for i, (rel, n) in enumerate(files):
                head = f"{bid} {rel}\n".encode()
                off = (d * 31 + i * 7 + public) % 4096
                data = (head + pool[off : off + n])[:n]
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(data)
                rows.append({"path": rel, "bytes": n, "sha256": hashlib.sha256(data).hexdigest()})
            doc = {**manifest, "bulletin_id": bid, "day": date, "files": rows}
            (folder / "manifest.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
            written += time.perf_counter() - t0
            t0 = time.perf_counter()
            if log_bulletin(home, folder, bid, public, [*(r["path"] for r in rows), "manifest.json"]) is None:
                raise SystemExit("ledger benchmark: a bulletin of the year was not logged")
            logged += time.perf_counter() - t0
            folders.append(folder)
            total_bytes += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    keys_file = work / "year.keys"
    keys_file.write_text(f"# the mission's key, pinned\n{v.vkey}\n", encoding="utf-8")
    list_file = work / "year.bundles"
    list_file.write_text("".join(f"{f}\n" for f in folders), encoding="utf-8")
    verifiers = {}
    for name, arg in (("verify_bundle", "verify_bundle"), ("script", str(SCRIPT))):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", WORKER, arg, str(keys_file), str(list_file), ORIGIN],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if proc.returncode:
            raise SystemExit(f"ledger benchmark: the {name} worker failed:\n{proc.stderr}")
        verifiers[name] = {**json.loads(proc.stdout), "process_wall_s": time.perf_counter() - t0}
    log = Log.open(home)
    return {
        "days": days,
        "bulletins": len(folders),
        "files_per_bulletin": {ed: len(files) + 2 for ed, (files, _) in specs.items()},
        "mb_per_bulletin": {ed: round(sum(n for _, n in files) / 1e6, 2) for ed, (files, _) in specs.items()},
        "total_mb": round(total_bytes / 1e6, 1),
        "log_size": log.size,
        "write_files_s": round(written, 1),
        "log_bulletin_s": round(logged, 1),
        "verifiers": verifiers,
        "what": "verification only: each bundle read, its checkpoint signature, every entry, inclusion proof, "
        "file (read and SHA-256 hashed) and the folder listing checked, against the pinned key and origin; "
        "in a fresh process per verifier, start-up, imports and reading the keys outside the time; files "
        "just written (in the OS page cache); peak RSS: the process's VmHWM",
    }


# --- 4. proofs ----------------------------------------------------------------------------------------------


def median_call_us(fn: Callable[[], bool], budget_s: float = 0.2, repeats: int = 21) -> float:
    """The median over ``repeats`` batches of the time of one call, in microseconds."""
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < budget_s / repeats or n < 3:
        fn()
        n += 1
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t0) / n)
    return 1e6 * statistics.median(out)


def proofs(work: Path, sizes: list[int], rng: random.Random) -> dict[str, Any]:
    log = Log.create(work / "proofs", ORIGIN)
    n_max, batch = max(sizes), 100_000
    t0 = time.perf_counter()
    for lo in range(0, n_max, batch):
        with log.writing():
            log.append([synthetic_entry(i) for i in range(lo, min(n_max, lo + batch))])
    append_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    log.root()
    root_s = time.perf_counter() - t0
    rows = []
    for n in sizes:
        root = log.root(n)
        leaves = {}
        for i in sorted({0, n // 2, n - 1, rng.randrange(n)}):
            t0 = time.perf_counter()
            path = log.inclusion_proof(i, n)
            made = time.perf_counter() - t0
            leaf = log.leaf_hashes(i, i + 1)[0]
            if not merkle.verify_inclusion(i, n, leaf, path, root):
                raise SystemExit(f"ledger benchmark: the inclusion proof of {i} in {n} does not verify")
            us = median_call_us(
                lambda i=i, n=n, leaf=leaf, path=path, r=root: merkle.verify_inclusion(i, n, leaf, path, r)
            )
            leaves[i] = {"hashes": len(path), "bytes": 32 * len(path), "make_ms": 1e3 * made, "verify_us": us}
        cons = {}
        for m in sorted({n // 2, rng.randrange(1, n)}) if n >= 2 else []:
            old = log.root(m)
            t0 = time.perf_counter()
            path = log.consistency_proof(m, n)
            made = time.perf_counter() - t0
            if not merkle.verify_consistency(m, n, old, root, path):
                raise SystemExit(f"ledger benchmark: the consistency proof {m} -> {n} does not verify")
            us = median_call_us(lambda m=m, n=n, o=old, path=path, r=root: merkle.verify_consistency(m, n, o, r, path))
            cons[m] = {"hashes": len(path), "bytes": 32 * len(path), "make_ms": 1e3 * made, "verify_us": us}
        rows.append({"n": n, "inclusion": leaves, "consistency": cons})
    return {"built_with": "truceline.ledger.log.Log (append in batches of 100,000, fsync'd; subtree hashes read "
            "from leaves.bin as log_bulletin does); verification: merkle.verify_inclusion / verify_consistency "
            "(what verify_bundle and the witness call), median of 21 batches",
            "entries": n_max, "append_s": round(append_s, 2), "root_s": round(root_s, 2),
            "entries_mb": round(log.entries_file.stat().st_size / 1e6, 1), "sizes": rows}  # fmt: skip


# --- main ---------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    ssl = None
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        ssl = backend.openssl_version_text()
    except Exception:  # pragma: no cover - informative only
        pass
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cryptography": cryptography.__version__,
        "openssl": ssl,
        "load_average_at_start": os.getloadavg(),
    }


def failures_of(result: dict[str, Any]) -> list[str]:
    """Why the run fails its acceptance (empty when it passes)."""
    out = []
    for which in ("small", "large"):
        missed = result["tamper"][which]["undetected"]
        if missed:
            out.append(f"tamper/{which}: {len(missed)} changes not detected, e.g. {missed[:3]}")
    for kind, k in result["forks"]["kinds"].items():
        if k["undetected"]:
            out.append(f"forks/{kind}: {len(k['undetected'])} not refused as expected, e.g. {k['undetected'][:3]}")
    c = result["forks"]["honest_extension"]
    if c["cosigned"] != c["tried"]:
        out.append(f"forks: {c['tried'] - c['cosigned']} honest extensions refused")
    for name, v in result["year"]["verifiers"].items():
        if v["failed"]:
            out.append(f"year/{name}: {v['failed']} bundles fail, e.g. {v['failures'][:2]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for trial runs (not for publishing)")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    settings = SETTINGS["quick" if args.quick else "full"]
    rng = random.Random(args.seed)
    t_start = time.perf_counter()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    host = machine()
    work = Path(tempfile.mkdtemp(prefix="truceline-ledger-bench-"))
    stages: dict[str, float] = {}

    def stage(name: str, fn: Callable[..., Any], *fargs: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*fargs)
        stages[name] = time.perf_counter() - t0
        print(f"ledger: {name} {stages[name]:.1f} s", file=sys.stderr, flush=True)
        return out

    try:
        day = stage("day", simulated_day, work / "day", settings["hours"], settings["pdf"])
        small, _ = stage("small", small_bulletin, day["home"], day["folders"]["internal"], settings["small_prefix"])
        tamper_res = stage("tamper", tamper, day, small, settings, rng)
        forks_res = stage("forks", forks, work, settings, rng)
        year_res = stage("year", year, work, day, settings["year_days"])
        shutil.rmtree(work / "year", ignore_errors=True)
        proofs_res = stage("proofs", proofs, work, settings["proof_sizes"], rng)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    host["load_average_at_end"] = os.getloadavg()
    result = {
        "benchmark": "ledger",
        "when": started,
        "machine": host,
        "quick": args.quick,
        "seed": args.seed,
        "command": "benchmarks/ledger.py" + (" --quick" if args.quick else ""),
        "day": {
            "hours": day["hours"],
            "pdf": day["pdf"],
            "seconds": {k: round(v, 1) for k, v in day["seconds"].items()},
            "files": day["files"],
        },
        "tamper": tamper_res,
        "forks": forks_res,
        "year": year_res,
        "proofs": proofs_res,
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "wall_s": round(time.perf_counter() - t_start, 1),
    }
    result["failures"] = failures_of(result)
    print(publish("ledger", result))
    for f in result["failures"]:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
