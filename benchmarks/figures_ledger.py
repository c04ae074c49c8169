"""The figures of ``ledger.py`` (``results/ledger.json``): pure, JSON in, markdown out.

Tables: ``tamper`` (single-byte changes of a bulletin's bundle and files, by file type and by part of
the proof bundle), ``forks`` (what a witness refuses), ``year`` (a year's bulletins verified offline) and
``proofs`` (proof sizes and verification times against the log's size). Verdicts are computed here from
the counts the JSON holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from figures import NOT_MEASURED, Figures, machine, num, span, table, verdict

VERIFIERS = ("verify_bundle", "script")
VERIFIER_NAMES = {"verify_bundle": "`verify_bundle`", "script": "`verify_bulletin.py`"}
TYPE_ORDER = ("proof bundle", "manifest", "html", "pdf", "csv", "geojson", "kml", "parquet", "png")


def rate(detected: int | None, tried: int | None) -> str:
    """``detected / tried (rate)``; a rate below 100 % is never rounded up to it."""
    if not tried or detected is None:
        return NOT_MEASURED
    if detected == tried:
        pct = "100 %"
    else:
        pct = f"{min(100 * detected / tried, 99.99):.2f} %"
        pct = f"**{pct}**"
    return f"{detected:,} / {tried:,} ({pct})"


def _sum(rows: Iterable[Mapping[str, Any]], key: str, verifier: str) -> int:
    return sum(int((r.get(key) or {}).get(verifier, 0)) for r in rows)


def _order(kind: str) -> tuple[int, str]:
    return (TYPE_ORDER.index(kind) if kind in TYPE_ORDER else len(TYPE_ORDER), kind)


def _by_type(files: list[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for f in files:
        out.setdefault(str(f.get("type")), []).append(f)
    return dict(sorted(out.items(), key=lambda kv: _order(kv[0])))


def _positions(rows: list[Mapping[str, Any]]) -> str:
    n, total = sum(r.get("positions", 0) for r in rows), sum(r.get("bytes", 0) for r in rows)
    return f"all {n:,}" if n == total else f"{n:,} sampled of {total:,}"


def tamper_table(t: Mapping[str, Any]) -> str:
    header = ["bulletin", "file type", "files", "positions changed", *(f"detected by {VERIFIER_NAMES[v]}"
              for v in VERIFIERS)]  # fmt: skip
    rows, parts_rows, missed = [], [], 0
    for which in ("small", "large"):
        b = t.get(which) or {}
        files = b.get("files") or []
        for kind, fs in _by_type(files).items():
            rows.append([f"`{which}`", kind, str(len(fs)), _positions(fs),
                         *(rate(_sum(fs, "detected", v), _sum(fs, "tried", v)) for v in VERIFIERS)])  # fmt: skip
        if files:
            rows.append([f"`{which}`", "**all**", str(len(files)), _positions(files),
                         *(rate(_sum(files, "detected", v), _sum(files, "tried", v)) for v in VERIFIERS)])  # fmt: skip
        for part, p in sorted((b.get("bundle_parts") or {}).items()):
            parts_rows.append([f"`{which}`", part, num(p.get("bytes"), ","),
                               *(rate((p.get("detected") or {}).get(v), (p.get("tried") or {}).get(v))
                                 for v in VERIFIERS)])  # fmt: skip
        missed += len(b.get("undetected") or [])
    changes = " and ".join(t.get("changes") or []) or NOT_MEASURED
    tried = sum(_sum((t.get(w) or {}).get("files") or [], "tried", v) for w in ("small", "large") for v in VERIFIERS)
    met = None if not tried else missed == 0
    what = [f"- `{w}`: {(t.get(w) or {}).get('what', NOT_MEASURED)}." for w in ("small", "large")]
    goal = (f"Every change detected: {verdict(met)}"
            + ("" if not missed else f" ({missed:,} undetected, listed in `results/ledger.json`)") + ".")  # fmt: skip
    return "\n".join([
        f"Each position changed twice ({changes}), one change at a time, in the bulletin's folder; the whole "
        "folder verified from disk each time. A change is detected when the verifier reports a failure.",
        "",
        *what,
        "",
        table(header, rows),
        "",
        "The proof bundle, by part (the checkpoint and its signature are in it):",
        "",
        table(["bulletin", "part of `ledger-proof.json`", "bytes", *(VERIFIER_NAMES[v] for v in VERIFIERS)],
              parts_rows),
        "",
        goal,
    ])  # fmt: skip


def forks_table(f: Mapping[str, Any]) -> str:
    kinds = f.get("kinds") or {}
    label = {
        "split view": "split view: same size, another root",
        "rewritten history": "rewritten history: larger, does not extend it (the fork's own consistency proof)",
        "older": "older: a smaller size",
    }
    expected = {"split view": "split-view", "rewritten history": "inconsistent", "older": "older"}
    rows = []
    for kind, k in kinds.items():
        refused_as = ", ".join(f"{a} {n}" for a, n in sorted((k.get("refused_as") or {}).items()))
        cmp = rate(k.get("compare_split_view"), k.get("tried")) if kind != "older" else "–"
        ev = rate(k.get("evidence_kept"), k.get("tried")) if kind != "older" else "–"
        rows.append([label.get(kind, kind), rate(k.get("refused"), k.get("tried")),
                     f"{refused_as} (expected {expected.get(kind, '?')})", cmp, ev])  # fmt: skip
    c = f.get("honest_extension") or {}
    rows.append(["control: an honest extension with its proof", f"cosigned {rate(c.get('cosigned'), c.get('tried'))}",
                 "–", "–", "–"])  # fmt: skip
    undetected = sum(len(k.get("undetected") or []) for k in kinds.values())
    met = None if not kinds else undetected == 0 and c.get("cosigned") == c.get("tried")
    sizes = f.get("cosigned_sizes") or [None, None]
    styles = ", ".join(f"{s} {n}" for s, n in (f.get("fork_styles") or {}).items())
    body = table(["offered to a witness that cosigned size N", "refused", "refused as", "`compare`: split view",
                  "evidence kept"], rows)  # fmt: skip
    return (f"A log of {num(f.get('log_size'), ',')} entries; {num(f.get('trials'), ',')} trials, each a fresh "
            f"witness (`witness.cosign`) that cosigned the checkpoint of a random size N "
            f"({num(sizes[0], ',')}-{num(sizes[1], ',')}), then offered checkpoints signed by the log's own key. "
            f"Forks: {styles or NOT_MEASURED}.\n\n{body}\n\n"
            f"Every fork refused, every honest extension cosigned: {verdict(met)}.")  # fmt: skip


def year_table(y: Mapping[str, Any], when: str) -> str:
    v = y.get("verifiers") or {}
    rows = []

    def cell(name: str, fn: Any) -> str:
        d = v.get(name)
        return NOT_MEASURED if not d else fn(d)

    def ok(d: Mapping[str, Any]) -> str:
        n, bad = d.get("bundles"), d.get("failed")
        return f"{num(n, ',')} ({num(None if n is None or bad is None else n - bad, ',')} verify)"

    mb = y.get("total_mb")

    def rate_mb(d: Mapping[str, Any]) -> str:
        return num(None if not mb or not d.get("total_s") else mb / d["total_s"], ",.0f") + " MB/s"

    def ms(d: Mapping[str, Any]) -> str:
        p = d.get("per_bundle_ms") or {}
        return f"{num(p.get('median'), '.1f')} / {num(p.get('p95'), '.1f')} / {num(p.get('max'), '.1f')} ms"

    specs = [
        ("bundles verified", ok),
        ("verification time, all bundles", lambda d: f"**{num(d.get('total_s'), '.1f')} s**"),
        ("per bundle: median / p95 / max", ms),
        ("bytes verified per second", rate_mb),
        ("peak RSS of the process (after imports)",
         lambda d: f"{num(d.get('peak_rss_mb'), '.0f')} MB ({num(d.get('rss_after_imports_mb'), '.0f')} MB)"),
        ("process wall time (start-up and imports included)", lambda d: f"{num(d.get('process_wall_s'), '.1f')} s"),
    ]  # fmt: skip
    rows = [[label, *(cell(name, fn) for name in VERIFIERS)] for label, fn in specs]
    files = y.get("files_per_bulletin") or {}
    size = y.get("mb_per_bulletin") or {}
    eds = ", ".join(f"{ed} {num(files.get(ed))} files, {num(size.get(ed), '.2f')} MB" for ed in files)
    head = (f"{num(y.get('days'), ',')} days x 2 editions: {num(y.get('bulletins'), ',')} bulletins logged by "
            f"`log_bulletin` into one log ({num(y.get('log_size'), ',')} entries at the end), each of the file list "
            f"and sizes of the simulated day's bulletin ({eds or NOT_MEASURED}; synthetic bytes), "
            f"{num(mb, ',.0f')} MB in all. Logging took {num(y.get('log_bulletin_s'), '.1f')} s "
            f"(fsync'd; writing the files {num(y.get('write_files_s'), '.1f')} s, not included).")  # fmt: skip
    lean = (v.get("script") or {}).get("modules_truceline") is False
    body = table(["figure", VERIFIER_NAMES["verify_bundle"],
                  VERIFIER_NAMES["script"] + (" (truceline not imported)" if lean else "")], rows)  # fmt: skip
    return f"{head}\n\n{body}\n\nWhat is timed: {y.get('what', NOT_MEASURED)}. {when}."


def _spans(d: Mapping[str, Any], key: str, fmt: str = "", unit: str = "") -> str:
    return span((x.get(key) for x in d.values()), fmt, unit)


def proofs_table(p: Mapping[str, Any]) -> str:
    rows = []
    for s in p.get("sizes") or []:
        inc, con = s.get("inclusion") or {}, s.get("consistency") or {}
        ms = ", ".join(f"{int(m):,}" for m in con) or "–"
        rows.append([
            f"{s.get('n'):,}",
            f"{_spans(inc, 'hashes')} ({_spans(inc, 'bytes', unit=' B')})",
            _spans(inc, "verify_us", ".1f"),
            ms,
            f"{_spans(con, 'hashes')} ({_spans(con, 'bytes', unit=' B')})" if con else "–",
            _spans(con, "verify_us", ".1f") if con else "–",
        ])  # fmt: skip
    header = ["entries n", "inclusion proof: hashes (bytes)", "verify inclusion, µs (median)",
              "consistency from m", "consistency proof: hashes (bytes)",
              "verify consistency, µs (median)"]  # fmt: skip
    head = (f"Leaves 0, n/2, n-1 and one at random; consistency from m = n/2 and one random m. The log: "
            f"{num(p.get('entries'), ',')} entries appended in {num(p.get('append_s'), '.1f')} s "
            f"({num(p.get('entries_mb'), ',')} MB of entries), root over all of them in "
            f"{num(p.get('root_s'), '.1f')} s. {p.get('built_with', '')}.")  # fmt: skip
    return f"{head}\n\n{table(header, rows)}"


def _file_rows(b: Mapping[str, Any]) -> list[list[str]]:
    out = []
    for f in sorted(b.get("files") or [], key=lambda f: (_order(str(f.get("type"))), str(f.get("path")))):
        named = f.get("named_by_verify_bundle")
        out.append([f"`{f.get('path')}`", num(f.get("bytes"), ","), num(f.get("positions"), ","),
                    *(rate((f.get("detected") or {}).get(v), (f.get("tried") or {}).get(v)) for v in VERIFIERS),
                    "–" if named is None else rate(named, (f.get("tried") or {}).get("verify_bundle"))])  # fmt: skip
    return out


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``tamper``, ``forks``, ``year`` and ``proofs`` tables of a ledger run."""
    m = res.get("machine") or {}
    when = (f"Measured on {machine(res)}, cryptography {m.get('cryptography', '?')} ({m.get('openssl', '?')}), "
            f"`{res.get('command', 'benchmarks/ledger.py')}`")  # fmt: skip
    if res.get("quick"):
        when += " (**quick trial run, not the published figures**)"
    t = res.get("tamper") or {}
    tables = {
        "tamper": tamper_table(t),
        "forks": forks_table(res.get("forks") or {}),
        "year": year_table(res.get("year") or {}, when),
        "proofs": proofs_table(res.get("proofs") or {}),
    }
    per_file = []
    for which in ("small", "large"):
        b = t.get(which) or {}
        per_file += [f"### `{which}`, file by file ({num(b.get('seconds'), '.0f')} s)", "",
                     table(["file", "bytes", "positions", *(VERIFIER_NAMES[v] for v in VERIFIERS),
                            "`verify_bundle` names the file"], _file_rows(b)), ""]  # fmt: skip
    undetected = [u for w in ("small", "large") for u in (t.get(w) or {}).get("undetected") or []]
    und = "none" if not undetected else "\n".join(f"- `{u}`" for u in undetected[:50])
    failures = res.get("failures") or []
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in (res.get("stages_s") or {}).items())
    page = "\n".join([
        "# Transparency log: tampering, forks, a year of bulletins, proof sizes",
        "",
        f"{when}; {num(res.get('wall_s'), '.0f')} s in all ({stages}).",
        "",
        "## Tampering",
        "",
        tables["tamper"],
        "",
        *per_file,
        f"Undetected changes: {und}",
        "",
        "## Forks",
        "",
        tables["forks"],
        "",
        "## A year of bulletins",
        "",
        tables["year"],
        "",
        "## Proofs and log size",
        "",
        tables["proofs"],
        "",
        "## Acceptance",
        "",
        "\n".join(f"- FAIL {f}" for f in failures) if failures else "Every check passed.",
        "",
    ])  # fmt: skip
    return Figures(page, tables)
