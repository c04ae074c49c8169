"""Benchmark figures: every number of the README and the docs is rendered from a results JSON.

A benchmark script measures, then calls :func:`publish`, which writes
``benchmarks/results/NAME.json``, renders ``benchmarks/results/NAME.md`` from it and rewrites every
generated block of that benchmark in ``benchmarks/README.md``, ``README.md`` and ``docs/*.md``::

    <!-- figures:NAME:TABLE begin -->
    (written here from results/NAME.json, never by hand)
    <!-- figures:NAME:TABLE end -->

Rendering is pure (JSON in, markdown out: one ``render`` function per benchmark, in
``figures_*.py``), so it runs without measuring anything::

    python benchmarks/figures.py --render   # re-render every block and results .md from the stored JSON
    python benchmarks/figures.py --check    # exit 1 naming every block or results .md that differs (CI)

A results JSON is what its script wrote: never edit one by hand. A figure that is not in a JSON
does not appear in a generated block; prose outside the blocks quotes no measured number.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^<!-- figures:(?P<name>[\w-]+):(?P<table>[\w-]+) begin -->$")
END = "<!-- figures:{name}:{table} end -->"


class Figures(NamedTuple):
    """What a benchmark's results JSON renders to.

    Attributes
    ----------
    page : str
        The whole of ``results/NAME.md``.
    tables : dict of str to str
        The generated blocks other documents may quote, by table id (markdown, no trailing newline).
    """

    page: str
    tables: dict[str, str]


Renderer = Callable[[dict[str, Any]], Figures]


def renderers() -> dict[str, Renderer]:
    """Each benchmark's renderer, by the name of its results JSON (``results/NAME.json``)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import figures_adjudication
    import figures_band_attribution
    import figures_fusion
    import figures_geo
    import figures_home
    import figures_integrity
    import figures_ledger
    import figures_line_sources
    import figures_live
    import figures_reprocess
    import figures_sim

    return {
        "geo_points": figures_geo.render,
        "sim_day": figures_sim.render,
        "fusion_vs_pyocto": figures_fusion.render,
        "pyocto_home": figures_home.render,
        "adjudication": lambda res: figures_adjudication.render(res, figures_adjudication.registry_families()),
        "fuzz": figures_integrity.render_fuzz,
        "reliability": figures_integrity.render_reliability,
        "ledger": figures_ledger.render,
        "line_sources": figures_line_sources.render,
        "band_attribution": figures_band_attribution.render,
        "reprocess": figures_reprocess.render,
        "live_ops": figures_live.render,
    }


# --- formatting shared by the renderers -------------------------------------------------------------

NOT_MEASURED = "not measured"
NOT_HERE = "not measured here"


def num(v: Any, fmt: str = "") -> str:
    """A figure formatted with ``fmt``; ``–`` when the JSON holds null (a ratio with no denominator)."""
    return "–" if v is None else format(v, fmt)


def span(values: Iterable[Any], fmt: str = "", unit: str = "") -> str:
    """``lo-hi`` of the values that are not null (one value when they agree), with ``unit``."""
    vs = sorted(v for v in values if v is not None)
    if not vs:
        return "–"
    lo, hi = format(vs[0], fmt), format(vs[-1], fmt)
    return f"{lo}{unit}" if lo == hi else f"{lo}-{hi}{unit}"


def verdict(met: bool | None) -> str:
    """``met``, ``**NOT met**``, or ``not measured here`` when a goal could not be evaluated."""
    return NOT_HERE if met is None else ("met" if met else "**NOT met**")


def table(header: list[str], rows: Iterable[list[str]]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def machine(res: Mapping[str, Any]) -> str:
    """``2 CPUs, Python 3.11.7, 2026-11-24`` from a result's ``machine`` and ``when`` (what it holds)."""
    m = res.get("machine") or {}
    if not isinstance(m, Mapping):
        m = {}
    cpus = m.get("cpus", res.get("machine_cores"))
    parts = [f"{cpus} CPUs" if cpus else "", f"Python {m['python']}" if m.get("python") else ""]
    if res.get("when"):
        parts.append(str(res["when"])[:10])
    return ", ".join(p for p in parts if p) or NOT_MEASURED


# --- files --------------------------------------------------------------------------------------------


def results_dir(root: Path) -> Path:
    return root / "benchmarks" / "results"


def documents(root: Path) -> list[Path]:
    """The documents that may hold generated blocks: the two READMEs and ``docs/*.md``."""
    docs = sorted((root / "docs").glob("*.md")) if (root / "docs").is_dir() else []
    return [p for p in (root / "benchmarks" / "README.md", root / "README.md", *docs) if p.is_file()]


def load(root: Path, name: str) -> dict[str, Any] | None:
    path = results_dir(root) / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def fill_blocks(
    text: str, figures: Mapping[str, Figures], where: str, only: set[str] | None = None
) -> tuple[str, int, list[str]]:
    """``text`` with its generated blocks re-rendered; the number of blocks; problems found on the way.

    Blocks of a benchmark outside ``only`` (when given) are kept as they are. A problem is an
    unterminated block, a block of a benchmark without results, or one naming a table its
    renderer does not make.
    """
    lines = text.split("\n")
    out: list[str] = []
    problems: list[str] = []
    n = i = 0
    while i < len(lines):
        out.append(lines[i])
        m = BEGIN.match(lines[i])
        i += 1
        if not m:
            continue
        n += 1
        name, tab = m["name"], m["table"]
        end = END.format(name=name, table=tab)
        if end not in lines[i:]:
            problems.append(f"{where}: block figures:{name}:{tab} has no end marker")
            continue
        j = lines.index(end, i)
        body = lines[i:j]
        if only is not None and name not in only:
            pass
        elif name not in figures:
            problems.append(f"{where}: block figures:{name}:{tab}: no results/{name}.json or no renderer")
        elif tab not in figures[name].tables:
            problems.append(f"{where}: block figures:{name}:{tab}: the {name} renderer has no table {tab!r}")
        else:
            body = figures[name].tables[tab].split("\n")
        out += [*body, end]
        i = j + 1
    return "\n".join(out), n, problems


def expected(root: Path, names: Iterable[str] | None = None) -> tuple[dict[Path, str], list[str]]:
    """What every results .md and every document holding blocks should read, from the stored JSON.

    Parameters
    ----------
    root : Path
        The repository (or a copy of it).
    names : iterable of str, optional
        Only these benchmarks' pages and blocks (default: every benchmark with results).

    Returns
    -------
    files : dict of Path to str
        The expected text of each results .md and each document holding generated blocks.
    problems : list of str
        Results without a renderer, blocks without results or table, unterminated blocks.
    """
    render_of = renderers()
    problems = [
        f"{p.relative_to(root)}: no renderer in benchmarks/figures.py"
        for p in sorted(results_dir(root).glob("*.json"))
        if p.stem not in render_of
    ]
    only = None if names is None else set(names)
    figures: dict[str, Figures] = {}
    for name, render in render_of.items():
        res = load(root, name) if only is None or name in only else None
        if res is not None:
            figures[name] = render(res)
    files = {results_dir(root) / f"{n}.md": f.page for n, f in figures.items()}
    for doc in documents(root):
        new, n_blocks, found = fill_blocks(doc.read_text(encoding="utf-8"), figures, str(doc.relative_to(root)), only)
        problems += found
        if n_blocks:
            files[doc] = new
    return files, problems


def _blocks(text: str) -> dict[str, str]:
    """The generated blocks of a document, by ``NAME:TABLE``."""
    out, lines = {}, text.split("\n")
    for i, line in enumerate(lines):
        m = BEGIN.match(line)
        if m:
            end = END.format(name=m["name"], table=m["table"])
            j = lines.index(end, i + 1) if end in lines[i + 1 :] else len(lines)
            out[f"{m['name']}:{m['table']}"] = "\n".join(lines[i + 1 : j])
    return out


def check(root: Path = ROOT) -> list[str]:
    """Every generated block or results .md that differs from what its JSON renders to (empty: all agree)."""
    files, problems = expected(root)
    for path, text in files.items():
        where = path.relative_to(root)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if current is None:
            problems.append(f"{where}: missing (run python benchmarks/figures.py --render)")
        elif path.parent == results_dir(root):
            problems.append(f"{where}: differs from what results/{path.stem}.json renders to")
        else:
            want, have = _blocks(text), _blocks(current)
            bad = [k for k in want if want[k] != have.get(k)] or ["(outside the blocks)"]
            problems += [f"{where}: block figures:{k} differs from its results JSON" for k in bad]
    for md in sorted(results_dir(root).glob("*.md")):
        if md not in files and not (results_dir(root) / f"{md.stem}.json").is_file():
            problems.append(f"{md.relative_to(root)}: no results/{md.stem}.json wrote it")
    return problems


def write(root: Path = ROOT, names: Iterable[str] | None = None) -> list[Path]:
    """Re-render the results .md and the blocks (of ``names``, default all) from the stored JSON; files changed."""
    files, problems = expected(root, names)
    if problems:
        raise SystemExit("\n".join(problems))
    changed = []
    for path, text in files.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def publish(name: str, result: dict[str, Any], root: Path = ROOT) -> str:
    """Write ``results/NAME.json`` as measured, then render its page and blocks from it; the page."""
    out = results_dir(root)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    write(root, [name])
    return (out / f"{name}.md").read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--render", action="store_true", help="re-render every results .md and block from the JSON")
    mode.add_argument("--check", action="store_true", help="exit 1 if any block or results .md differs")
    ap.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.render:
        for path in write(args.root):
            print(f"rendered {path.relative_to(args.root)}")
        return 0
    problems = check(args.root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("figures: run `python benchmarks/figures.py --render` (never edit a generated block)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
