"""Mutation fuzz of every ingest path: no input may crash, poison or silently enter the store (issue 13).

Each input is a file or a request body holding good records of one kind (from the codebook's examples,
moved to the mission's period) and one mutated record, or a whole file mutated, sent through

- ``truceline ingest``'s service (:func:`truceline.service.ingest.ingest_files`) as ``.jsonl``,
  ``.json`` and, for detections, ``.csv`` files;
- ``POST /api/v1/ingest/{kind}`` (FastAPI ``TestClient``) as JSON, NDJSON and, for detections, CSV.

Mutations: a field set to a value invalid by construction (the real cases of issue 13 among them:
times beyond a datetime, ``Z``/``NaTZ``, years 10000 and -1, far-future times, NaN, ids with spaces,
bidi marks, quotes, ``/../``, a BOM or a NUL, lone surrogates, counts of 10**40, nesting 1,000 deep,
cells over 131,072 characters, an unknown field); byte-level damage whose validity an oracle decides
(the record parser with the same limits, on the damaged text); and whole-file damage (a duplicated
header, an unbalanced quote, a document nested too deep, bytes that are not UTF-8).

Counted: **crashes** (an exception out of ``ingest_files``, an HTTP status other than 200/422),
**silent acceptances** (more records stored than the good ones plus those the oracle finds valid),
**good records lost** (a good record beside a bad one, in a file whose structure still holds, not
stored). Writes ``benchmarks/results/fuzz.json``; exits 1 if any count is not zero.

Usage::

    python scripts/fuzz.py               # the campaign: 12,000 file inputs + 9,000 API requests
    python scripts/fuzz.py --sample 300  # a CI sample (a few hundred inputs, well under a minute)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truceline.core import InputLimits, RecordError, parse_record, to_json_dict
from truceline.core.examples import example_records
from truceline.io.records import RecordKind

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "fuzz.json"
NOW = dt.datetime(2026, 9, 3, 12, 0, tzinfo=dt.UTC)
LIMITS = InputLimits(clock=lambda: NOW)
SENSOR = "UK-AA-017"
GOOD_PER_INPUT = 4
DET_COLUMNS = ("id", "sensor_id", "arrival_time", "time_sigma_s", "bearing_deg", "bearing_sigma_deg",
               "amplitude_pa", "class_scores.launch", "class_scores.impact")  # fmt: skip

BAD_TIMES = ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "Z", "NaTZ", "2026-09-02",
             "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "2026-09-02T07:00:00",
             "2013-06-01T00:00:00Z", "",
             "2026-02-30T00:00:00Z", "yesterday", "2026-09-02T25:00:00Z"]  # fmt: skip
BAD_IDS = ["d x", "\u200fd1", 'd"1', "a/../b", "\ufeffd1", "d\x00x", "a..b", "x" * 129, "", " ", "d\n", "-d",
           "d\u202e1", "d\ud800", "d/1", "d\\1", "d'1", "<script>"]  # fmt: skip
BAD_TEXTS = ["\ud800", "a\x00b", "x\u202ey", "\ufeffx", "\x07bell", "x" * 30_000, "\udfff\ud800"]
BAD_NUMBERS: list[Any] = ["1.5", True, None, 10**40, 1e400, [], {}, -1e308 * 10]
DEEP = "[" * 1000 + "]" * 1000
BAD_CELLS = ["nan", "NaN", "inf", "-Infinity", "1e400", "abc", "1_0", "0x10", "--1", "9" * 140_000, "1,5"]
DAMAGE_CHARS = ['"', "\n", "\r", ",", "{", "}", "[", "]", "\\", "\x00", "\ufeff", "\u200f", "\ud800", "\xff", "é", " ",
                "'"]  # fmt: skip


def _shift(obj: Any) -> Any:
    """The example's times moved into the mission's period (the fuzz clock is 2026-09-03T12:00Z)."""
    text = json.dumps(obj).replace("2025-04-20", "2026-09-02").replace("2025-03-01", "2026-08-01")
    return json.loads(text)


EXAMPLES = {k.value: _shift(to_json_dict(example_records()[k.value])) for k in RecordKind}


@dataclass
class Case:
    """One input: its records' text (lines), which ids must be stored, and what the mutated line may add."""

    kind: str
    encoding: str  # jsonl | json | csv
    lines: list[str]
    good_ids: list[str]
    mutated: int | None  # index into lines of the mutated record (None: whole-file damage)
    invalid_by_construction: bool
    structure_holds: bool = True  # False: the file as a whole is unusable (its good records may be lost)
    mutation: str = ""


@dataclass
class Tally:
    inputs: int = 0
    crashes: int = 0
    silent_acceptances: int = 0
    good_lost: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def note(self, what: str, case: Case, detail: str) -> None:
        if len(self.examples) < 40:
            self.examples.append(f"{what}: {case.kind}/{case.encoding} {case.mutation}: {detail[:300]}")


# --------------------------------------------------------------------------- building inputs


def good_record(kind: str, tag: str, j: int) -> dict[str, Any]:
    obj = dict(EXAMPLES[kind])
    obj["id"] = f"f{tag}-{j}"
    if kind == "sensor_status_report" or kind == "detection":
        obj["sensor_id"] = SENSOR
    return obj


def det_row(obj: dict[str, Any]) -> list[str]:
    flat = {**obj, **{f"class_scores.{k}": v for k, v in obj.get("class_scores", {}).items()}}
    return ["" if flat.get(c) is None else str(flat[c]) for c in DET_COLUMNS]


def csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(obj, dict):
        return [leaf for k, v in obj.items() for leaf in leaves(v, (*path, k))]
    if isinstance(obj, list) and obj:
        return [leaf for i, v in enumerate(obj) for leaf in leaves(v, (*path, i))]
    return [(path, obj)]


def set_at(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value


def bad_value(rng: random.Random, path: tuple[Any, ...], value: Any) -> Any:
    """A value the field must refuse, chosen by what the field holds."""
    name = str(path[-1])
    if name == "id" or name.endswith("_id"):
        return rng.choice(BAD_IDS)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return rng.choice(BAD_TIMES)
    if name in ("low", "best", "high"):
        return rng.choice([10**40, 1e40, -1, 1.5, "1"])
    if isinstance(value, bool):
        return rng.choice(["true", 1, None]) if value is not None else "x"
    if isinstance(value, int | float):
        return rng.choice(BAD_NUMBERS[:2] + BAD_NUMBERS[3:])  # None is a valid "absent" for some
    if isinstance(value, str):
        return rng.choice([*BAD_TEXTS, 12])  # None is a valid "absent" for an optional one
    return rng.choice([{"nested": DEEP}, "x\ud800"])


def mutate_record(rng: random.Random, kind: str, obj: dict[str, Any]) -> tuple[str, str]:
    """The record as JSON text with one field invalid by construction, and what was done."""
    choice = rng.random()
    if choice < 0.08:
        return json.dumps(obj | {"colour": "red"}), "unknown field"
    if choice < 0.14:
        return json.dumps(obj)[:-1] + ', "notes": ' + DEEP + "}", "nested 1000 deep"
    if choice < 0.18:
        return json.dumps(obj).replace(":", ": NaN, \"x\":", 1) if rng.random() < 0.5 else "[]", "NaN / not an object"
    path, value = rng.choice([leaf for leaf in leaves(obj) if leaf[0]])
    if path == ("id",) and kind == "sensor":
        path = ("id",)
    bad = bad_value(rng, path, value)
    mutated = json.loads(json.dumps(obj))
    set_at(mutated, path, bad)
    text = json.dumps(mutated, allow_nan=True)
    return text, f"{'.'.join(map(str, path))}={str(bad)[:40]!r}"


def damage(rng: random.Random, text: str) -> tuple[str, str]:
    """Byte-level damage of one line: a character inserted, replaced or deleted, or the line cut."""
    i = rng.randrange(len(text) + 1)
    op = rng.choice(["insert", "replace", "delete", "cut"])
    if op == "insert":
        return text[:i] + rng.choice(DAMAGE_CHARS) + text[i:], f"insert at {i}"
    if op == "replace" and i < len(text):
        return text[:i] + rng.choice(DAMAGE_CHARS) + text[i + 1 :], f"replace at {i}"
    if op == "delete" and i < len(text):
        return text[:i] + text[i + 1 :], f"delete at {i}"
    return text[:i], f"cut at {i}"


def make_case(rng: random.Random, n: int, encoding: str, path: str) -> Case:
    # Detections in a .json *file* are refused as a whole by design (docs/formats.md); by the API they are read.
    kinds = [k.value for k in RecordKind if not (path == "files" and encoding == "json" and k is RecordKind.DETECTION)]
    kind = "detection" if encoding == "csv" else rng.choice(kinds)
    goods = [good_record(kind, f"{n}", j) for j in range(GOOD_PER_INPUT)]
    victim = good_record(kind, f"{n}", GOOD_PER_INPUT)
    as_text = (lambda o: csv_line(det_row(o))) if encoding == "csv" else json.dumps
    lines = [as_text(o) for o in goods]
    at = rng.randrange(len(lines) + 1)
    roll = rng.random()
    if roll < 0.55:  # a field invalid by construction
        if encoding == "csv":
            cells = det_row(victim)
            col = rng.randrange(len(DET_COLUMNS))
            pool = BAD_IDS if col < 2 else BAD_TIMES if col == 2 else BAD_CELLS
            cells[col] = rng.choice(pool)
            text, what = csv_line(cells), f"{DET_COLUMNS[col]}={cells[col][:40]!r}"
        else:
            text, what = mutate_record(rng, kind, victim)
        lines.insert(at, text)
        return Case(kind, encoding, lines, [o["id"] for o in goods], at, True, mutation=what)
    if roll < 0.92:  # byte-level damage: the oracle decides
        text, what = damage(rng, as_text(victim))
        if encoding == "json" and ("\n" in text or "\r" in text):
            text = text.replace("\n", " ").replace("\r", " ")
        lines.insert(at, text)
        return Case(kind, encoding, lines, [o["id"] for o in goods], at, False, mutation=what)
    return whole_file_case(rng, kind, encoding, lines, [o["id"] for o in goods])


def whole_file_case(rng: random.Random, kind: str, encoding: str, lines: list[str], ids: list[str]) -> Case:
    if encoding == "csv":
        what = rng.choice(["duplicated header", "unknown column", "quote in header", "open quote row"])
        case = Case(kind, encoding, lines, ids, None, True, structure_holds=False, mutation=what)
        if what == "open quote row":  # an unbalanced quote costs its own line only
            case.lines = [*lines[:1], '"' + lines[1], *lines[2:]]
            case.good_ids = [ids[0], *ids[2:]]
            case.structure_holds = True
        return case
    what = rng.choice(["not utf-8", "deep document", "empty", "bom inside"])
    bad = {"not utf-8": "\udcff\udcfe", "deep document": DEEP, "empty": "", "bom inside": "\ufeff{}"}[what]
    lines = [*lines, bad]
    holds = encoding == "jsonl" or what == "deep document"
    return Case(kind, encoding, lines, ids if holds else [], len(lines) - 1, True, holds, what)


def render(case: Case) -> bytes:
    if case.encoding == "csv":
        header = ",".join(DET_COLUMNS)
        if case.mutation == "duplicated header":
            header = header.replace("amplitude_pa", "id")
        elif case.mutation == "unknown column":
            header += ",colour"
        elif case.mutation == "quote in header":
            header = '"' + header
        text = "\n".join([header, *case.lines]) + "\n"
    elif case.encoding == "json":
        text = "[" + ",\n".join(line for line in case.lines) + "]"
    else:
        text = "\n".join(case.lines) + "\n"
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate as the (invalid) bytes a client could send


# --------------------------------------------------------------------------- the oracle


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("duplicate key")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(name)


STRICT = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constant)


def valid_record(kind: str, obj: Any) -> bool:
    """Whether the codebook, within the fuzz's limits, takes ``obj`` as a ``kind`` record (a sensor
    registered for the records that name one)."""
    if not isinstance(obj, dict):
        return False
    obj = dict(obj)
    if "record_type" in obj and obj.pop("record_type") != kind:
        return False
    try:
        record = parse_record(kind, obj, limits=LIMITS)
    except (RecordError, RecursionError):
        return False
    return getattr(record, "sensor_id", SENSOR) == SENSOR


def valid_json_line(kind: str, raw: bytes, first: bool) -> bool:
    if first and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
        return bool(text.strip()) and valid_record(kind, STRICT.decode(text))
    except (ValueError, RecursionError):
        return False


def valid_csv_line(line: str) -> bool:
    try:
        cells = next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return False
    if len(cells) != len(DET_COLUMNS) or max(map(len, cells)) > LIMITS.max_cell_chars:
        return False
    row = dict(zip(DET_COLUMNS, cells, strict=True))
    obj: dict[str, Any] = {k: row[k] for k in ("id", "sensor_id", "arrival_time")}
    scores: dict[str, float] = {}
    for col in DET_COLUMNS[3:]:
        text = row[col].strip()
        if not text:
            continue
        if not set(text) <= set("0123456789+-.eE"):
            return False
        try:
            x = float(text)
        except ValueError:
            return False
        if col.startswith("class_scores."):
            scores[col.split(".", 1)[1]] = x
        else:
            obj[col] = x
    if scores:
        obj["class_scores"] = scores
    return valid_record("detection", obj)


def expected_extra(case: Case, body: bytes) -> int:
    """How many records beyond the good ones the oracle finds valid in the mutated part."""
    if case.invalid_by_construction or case.mutated is None:
        return 0
    text = case.lines[case.mutated]
    if case.encoding == "csv":
        return sum(valid_csv_line(part) for part in io.StringIO(text, newline="") if part.strip("\r\n"))
    if case.encoding == "jsonl":
        raw = text.encode("utf-8", "surrogatepass")
        return sum(valid_json_line(case.kind, part, case.mutated == 0 and k == 0)
                   for k, part in enumerate(raw.split(b"\n")))  # fmt: skip
    try:
        doc = STRICT.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return 0
    return sum(valid_record(case.kind, o) for o in doc) - len(case.good_ids) if isinstance(doc, list) else 0


def structure_holds(case: Case, body: bytes) -> bool:
    """Whether the file still holds its good records apart (a JSON document must still decode)."""
    if not case.structure_holds:
        return False
    if case.encoding != "json":
        return True
    try:
        return isinstance(STRICT.decode(body.decode("utf-8")), list)
    except (ValueError, RecursionError):
        return "1000 deep" in case.mutation or case.mutation == "deep document"


# --------------------------------------------------------------------------- running


MEDIA = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}
SUFFIX = {"json": ".json", "jsonl": ".jsonl", "csv": ".csv"}


def stored_ids(store: Any) -> set[str]:
    ids = {r.id for k in RecordKind if k is not RecordKind.DETECTION for r in store.records(k.value)}
    lo, hi = (int((t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1e6)
              for t in (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), NOW + dt.timedelta(days=30)))  # fmt: skip
    return ids | set(store.detections(lo, hi).ids.tolist())


def new_store(root: Path) -> Any:
    from truceline.store import SQLiteStore

    store = SQLiteStore(root)
    sensor = parse_record("sensor", EXAMPLES["sensor"])
    store.add_records("sensor", [sensor], source="fuzz")
    return store


def judge(case: Case, body: bytes, inserted: int, stored: set[str], tally: Tally, path: str) -> None:
    """Count the good records not stored (when the file's structure holds) and the records stored
    beyond the good ones and those the oracle finds valid (``inserted``: what the store took)."""
    kept = [i for i in case.good_ids if i in stored]
    if structure_holds(case, body):
        lost = len(case.good_ids) - len(kept)
        if lost:
            tally.good_lost += lost
            tally.by_path[f"{path}:good_lost"] += lost
            tally.note("good lost", case, f"{lost} of {case.good_ids}")
    extra = inserted - len(kept)
    allowed = expected_extra(case, body)
    if extra > allowed:
        tally.silent_acceptances += extra - allowed
        tally.by_path[f"{path}:silent"] += extra - allowed
        tally.note("silent acceptance", case, case.lines[case.mutated] if case.mutated is not None else "")


def run_files(cases: list[tuple[Case, bytes]], root: Path, tally: Tally, limits: InputLimits) -> None:
    from truceline.io.kinds import FILE_STEMS
    from truceline.service.ingest import ingest_files

    store = new_store(root / "data")
    results: list[tuple[Case, bytes, int]] = []
    for n, (case, body) in enumerate(cases):
        f = root / f"in{n}_{FILE_STEMS[RecordKind(case.kind)]}{SUFFIX[case.encoding]}"
        f.write_bytes(body)
        try:
            report = ingest_files(store, [f], limits=limits)
        except Exception as exc:  # what the campaign counts
            tally.crashes += 1
            tally.by_path["files:crash"] += 1
            tally.note("crash", case, repr(exc))
            continue
        results.append((case, body, report.inserted))
    stored = stored_ids(store)
    for case, body, inserted in results:
        judge(case, body, inserted, stored, tally, "files")
    store.close()


def run_api(cases: list[tuple[Case, bytes]], root: Path, tally: Tally, limits: InputLimits) -> None:
    from fastapi.testclient import TestClient

    from truceline.api import create_app
    from truceline.service.tokens import create_token

    store = new_store(root / "data")
    token, _ = create_token(store, "observer", "fuzz")
    app = create_app(root / "data")
    app.state.input_limits = limits
    results: list[tuple[Case, bytes, int]] = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for case, body in cases:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": MEDIA[case.encoding]}
            r = client.post(f"/api/v1/ingest/{case.kind}", content=body, headers=headers)
            if r.status_code not in (200, 422):
                tally.crashes += 1
                tally.by_path["api:crash"] += 1
                tally.note("crash", case, f"HTTP {r.status_code} {r.text[:200]}")
                continue
            results.append((case, body, int(r.json()["inserted"])))
    stored = stored_ids(store)
    for case, body, inserted in results:
        judge(case, body, inserted, stored, tally, "api")
    store.close()


def hypothesis_phase(n: int, seed: int, root: Path, tally: Tally, reader_limits: InputLimits) -> None:
    """``n`` inputs whose damaged field Hypothesis draws (``fuzz_hypothesis.py``), over both paths and
    every encoding; judged like the rest."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fuzz_hypothesis

    plan = [(path, enc) for path in ("files", "api") for enc in ("jsonl", "json", "csv")]
    for i, (path, enc) in enumerate(plan):
        cases = fuzz_hypothesis.hypothesis_cases(sys.modules[__name__], n // len(plan), enc, path, seed + i)
        where = root / f"hyp-{path}-{enc}"
        where.mkdir()
        (run_files if path == "files" else run_api)([(c, render(c)) for c in cases], where, tally, reader_limits)
        tally.by_path[f"{path}:{enc} (hypothesis)"] += len(cases)
        tally.inputs += len(cases)


def campaign(
    n_files: int, n_api: int, seed: int, chunk: int = 400, reader_limits: InputLimits = LIMITS, n_hypothesis: int = 0
) -> dict[str, Any]:
    """Run ``n_files`` file inputs and ``n_api`` requests (a third per encoding), then ``n_hypothesis``
    inputs drawn by Hypothesis; the readers get ``reader_limits`` (the oracle always judges with
    :data:`LIMITS`: a test gives lenient readers to see that the campaign catches them)."""
    rng = random.Random(seed)
    tally = Tally()
    started = time.perf_counter()
    plan = [("files", enc) for enc in ("jsonl", "json", "csv") for _ in range(n_files // 3)]
    plan += [("api", enc) for enc in ("json", "jsonl", "csv") for _ in range(n_api // 3)]
    with tempfile.TemporaryDirectory(prefix="truceline-fuzz-") as tmp:
        for path in ("files", "api"):
            todo = [enc for p, enc in plan if p == path]
            for start in range(0, len(todo), chunk):
                cases = []
                for n, enc in enumerate(todo[start : start + chunk], start=start):
                    case = make_case(rng, n, enc, path)
                    cases.append((case, render(case)))
                    tally.by_path[f"{path}:{enc}"] += 1
                root = Path(tmp) / f"{path}{start}"
                root.mkdir()
                (run_files if path == "files" else run_api)(cases, root, tally, reader_limits)
                tally.inputs += len(cases)
        if n_hypothesis:
            hypothesis_phase(n_hypothesis, seed, Path(tmp), tally, reader_limits)
    return {
        "inputs": tally.inputs,
        "crashes": tally.crashes,
        "silent_acceptances": tally.silent_acceptances,
        "good_records_lost": tally.good_lost,
        "by_path": dict(sorted(tally.by_path.items())),
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "examples": tally.examples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sample", type=int, default=None, help="a sample of about N inputs (CI), not written")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help=f"results JSON (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    sample = args.sample
    n_files, n_api = (12_000, 9_000) if sample is None else (max(3, sample * 4 // 7), max(3, sample * 3 // 7))
    n_hyp = 3_000 if sample is None else max(6, sample // 4)
    result = campaign(n_files, n_api, args.seed, chunk=400 if sample is None else 200, n_hypothesis=n_hyp)
    out = args.out or (RESULTS if sample is None else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
    counts = {k: result[k] for k in ("inputs", "crashes", "silent_acceptances", "good_records_lost", "seconds")}
    print(json.dumps(counts))
    for line in result["examples"][:10]:
        print("  " + line.encode("ascii", "backslashreplace").decode())
    return 1 if result["crashes"] or result["silent_acceptances"] or result["good_records_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
